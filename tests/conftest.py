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


@pytest.fixture
def lab_path(tmp_path, monkeypatch):
    """A fresh starter lab for a screen test, as a first `esmlab` run makes it,
    in a folder of the test's own: no user keymap, the lesson labs and the
    state folder under tmp_path (never the user's), and the working folder
    there too (a lesson file or a snapshot named without a folder lands in it)."""
    from esmlab.cli import open_or_create

    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "lab.db"
    made, _ = open_or_create(path)
    made.close()
    return path
