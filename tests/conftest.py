import pytest

from esmlab.lab import Lab


@pytest.fixture
def lab(tmp_path):
    lab = Lab.create(tmp_path / "lab.db", name="test", seed=7)
    yield lab
    lab.close()
