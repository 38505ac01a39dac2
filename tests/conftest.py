import os

import pytest

from esmlab.lab import Lab


@pytest.fixture(autouse=True, scope="session")
def _learner_config_home(tmp_path_factory):
    """The learner's progress (esmlab/progress.py) goes to a config folder of
    the test session, never the real user's."""
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old


@pytest.fixture
def lab(tmp_path):
    lab = Lab.create(tmp_path / "lab.db", name="test", seed=7)
    yield lab
    lab.close()
