"""docs/bad-inputs.md stays true: every test it names exists."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_test_named_in_the_bad_inputs_table_exists():
    doc = (ROOT / "docs" / "bad-inputs.md").read_text()
    named = set(re.findall(r"`(test_\w+)`", doc))
    defined = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(), re.MULTILINE))
    assert named and not named - defined, sorted(named - defined)
