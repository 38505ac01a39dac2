"""The conformance suite: one scenario per recorded AWS rule.

A conformance case is an ordinary scenario file in `scenarios/conformance/`
with a top-level `evidence:` block naming the rule and where the evidence is
(a recording of real AWS by project and file, or an AWS documentation page).
`esmlab conformance` plays every case and lists rule, evidence and result;
`esmlab lessons` lists only the lessons (the folder's top level).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from esmlab.lessons import lesson_dir


def conformance_dir() -> Path | None:
    folder = lesson_dir()
    if folder is None or not (folder / "conformance").is_dir():
        return None
    return folder / "conformance"


def list_cases() -> list[Path]:
    folder = conformance_dir()
    return sorted(folder.glob("*.yaml")) if folder else []


def run_case(path: Path) -> dict:
    """Play one case on a temporary lab; its row of the table (plain data)."""
    from esmlab.scenario.loader import ScenarioError, load_scenario
    from esmlab.scenario.player import Player

    row = {"case": path.stem, "file": str(path), "rule": None, "source": None, "where": None,
           "follows": None, "result": "invalid", "detail": None}
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        row["detail"] = str(error)
        return row
    evidence = scenario.evidence or {}
    row.update({k: evidence.get(k) for k in ("rule", "source", "where", "follows")})
    if not evidence:
        row["detail"] = "the case has no evidence block"
        return row
    with tempfile.TemporaryDirectory(prefix="esmlab-conformance-") as tmp:
        player = Player.new(scenario, Path(tmp) / "lab.db")
        try:
            play = player.run()
        finally:
            player.lab.close()
    failed = [c.message for _, c in play.failed_checks]
    if play.error is not None:
        failed.insert(0, str(play.error))
    row["result"] = "pass" if play.ok else "fail"
    row["detail"] = "; ".join(failed) or None
    return row


def run_all() -> list[dict]:
    return [run_case(path) for path in list_cases()]
