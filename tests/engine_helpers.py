"""A bare engine over a new lab file, for the source modules' unit tests
(the Lab facade is not needed to test a source on its own)."""

from esmlab.engine.world import DEFAULT_START_MS, Engine
from esmlab.store import Store


def make_engine(tmp_path, seed=1):
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = Store(tmp_path / "lab.db")
    with store.transaction():
        Engine.initialise(store, name="t", seed=seed, profile="current", start_ms=DEFAULT_START_MS)
    return Engine(store)
