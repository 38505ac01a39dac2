"""The conformance suite: every case plays and holds, names its evidence, and
`esmlab conformance` lists rule, evidence and result, apart from the lessons."""

import json
from pathlib import Path

import pytest

from esmlab.cli import main
from esmlab.conformance import list_cases, run_case
from esmlab.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "scenarios/conformance").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_conformance_case_plays_and_holds(path):
    row = run_case(path)
    assert row["result"] == "pass", row["detail"]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_conformance_case_names_its_rule_and_evidence(path):
    evidence = load_scenario(path).evidence
    assert evidence and evidence["rule"] and evidence["where"]
    where = evidence["where"]
    assert where.startswith("https://docs.aws.amazon.com/") or ":" in where
    assert path.stem == load_scenario(path).name


def test_the_library_finds_the_conformance_cases():
    assert {p.stem for p in list_cases()} >= {p.stem for p in CASES}


def test_esmlab_conformance_json_lists_rule_evidence_and_result(capsys):
    assert main(["conformance", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    row = next(r for r in doc["cases"] if r["case"] == "control-unknown-uuid")
    assert row["source"] == "REC-LS" and "test_lambda_api.snapshot.json" in row["where"]
    assert row["result"] == "pass" and "404" in row["rule"]


def test_esmlab_conformance_prints_a_table(capsys):
    assert main(["conformance"]) == 0
    out = capsys.readouterr().out
    assert "control-unknown-uuid" in out and "REC-LS" in out and "pass" in out


def test_esmlab_lessons_does_not_list_conformance_cases(capsys):
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert "control-unknown-uuid" not in out


def test_a_failing_case_is_reported_as_fail_with_why(tmp_path):
    text = (ROOT / "scenarios/conformance/control-unknown-uuid.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("status: 404", "status: 400"))
    row = run_case(broken)
    assert row["result"] == "fail" and "status 404" in row["detail"]
