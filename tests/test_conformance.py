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


def test_esmlab_conformance_prints_a_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")          # a wide terminal; 80 columns: the test below
    assert main(["conformance"]) == 0
    out = capsys.readouterr().out
    assert "control-unknown-uuid" in out and "REC-LS" in out and "pass" in out
    assert "evidence" in out.splitlines()[2]      # the table's heading row


def test_esmlab_lessons_lists_conformance_cases_apart_from_the_lessons(capsys):
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    lessons, cases = out.split("\nconformance cases", 1)
    assert "control-unknown-uuid" not in lessons and "control-unknown-uuid" in cases


def test_a_failing_case_is_reported_as_fail_with_why(tmp_path):
    text = (ROOT / "scenarios/conformance/control-unknown-uuid.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("status: 404", "status: 400"))
    row = run_case(broken)
    assert row["result"] == "fail" and "status 404" in row["detail"]


# Every rule of issue 10 and of reference section 8 that the lab models has
# its case (Kinesis enhanced fan-out and KPL aggregation have theirs with the
# consumer work). A rule without a case would be a silent gap in the table.
RULE_CASES = {
    "8.1 a partial response that moves the checkpoint starts a fresh batch":
        "stream-partial-response-moves-checkpoint",
    "8.1 a partial response that does not move it uses up an attempt":
        "stream-partial-response-first-record-uses-an-attempt",
    "8.1 the suffix is sent at once": "stream-partial-suffix-sent-at-once",
    "8.1 a failing suffix is bisected, halves start fresh budgets":
        "stream-partial-suffix-is-bisected",
    "8.1 success form null": "stream-success-response-null",
    "8.1 success form {}": "stream-success-response-empty-object",
    "8.1 success form []": "stream-success-response-empty-list",
    "8.1 success form batchItemFailures []": "stream-success-response-empty-failure-list",
    "8.1 success form batchItemFailures null": "stream-success-response-null-failure-list",
    "1.6 malformed stream identifiers fail the batch":
        "stream-partial-response-invalid-identifiers",
    "8.1 request ids per batch": "stream-request-id-per-batch",
    "8.1 8 invocations within a 60 s record age": "stream-record-age-exceeded",
    "8.1 a record over the 6 MB invoke cap": "stream-oversized-kinesis-record",
    "8.2 functionError always present": "stream-failure-record-function-error",
    "8.2 RecordAgeExceeded without responseContext": "stream-record-age-exceeded",
    "8.2 a failed final window invoke": "stream-failed-final-window-invoke",
    "8.2 the SNS envelope": "stream-sns-destination-envelope",
    "8.3 tumbling window admission": "stream-tumbling-window-admission",
    "8.3 the 1 MB state limit": "stream-window-terminated-early",
    "8.4 SQS Enabled false answers Disabled": "sqs-create-disabled",
    "8.4 SQS mappings omit LastProcessingResult": "sqs-no-last-processing-result",
    "8.4 an SQS entry without itemIdentifier": "sqs-partial-response-entry-without-identifier",
    "2.4 malformed SQS identifiers fail the batch": "sqs-partial-response-invalid-identifiers",
    "8.4 md5OfMessageAttributes null": "sqs-md5-of-message-attributes",
    "8.4 a qualified FunctionArn": "control-qualified-function-arn",
    "8.4 SQS EventCount metrics and throttles": "sqs-event-count-metrics",
    "8.5 Create's order of checks and texts": "control-create-check-order",
    "8.5 unknown UUID": "control-unknown-uuid",
    "8.5 unknown queue or stream": "control-unknown-source",
    "8.5 List filters": "control-list-filters",
    "8.5 deleting the function keeps the mapping": "control-delete-function-keeps-mapping",
    "8.5 deleting the source keeps the mapping": "control-delete-source-keeps-mapping",
    "8.5 stream LastProcessingResult": "stream-last-processing-result",
    "8.5 an Update without FunctionName skips the timeout check":
        "sqs-update-without-function-name-keeps-timeout-check-off",
    "8.5 every configured field is echoed": "control-echo-configured-fields",
    "issue 10 the execution role": "control-role-cannot-read-source",
    "issue 10 the execution role on Kinesis": "control-kinesis-role-refusal",
    "issue 10 one request model": "control-model-ranges",
    "8.6 SQS provisioned mode": "sqs-provisioned-mode",
    "8.6 stream EventCount metrics": "stream-event-count-metrics",
    "8.6 recursive loop detection": "sqs-recursive-loop",
    "issue 10 a user handler's loop through context.send_message":
        "sqs-recursive-loop-user-handler",
    "8.6 DLQ redrive": "sqs-message-move-task",
    "8.6 SQS messages up to 1 MiB": "sqs-message-size-1-mib",
    "8.6 DeadLetterQueueSourceArn": "sqs-dead-letter-queue-source-arn",
}


def test_every_recorded_rule_has_a_conformance_case():
    names = {p.stem for p in CASES}
    missing = {rule: case for rule, case in RULE_CASES.items() if case not in names}
    assert not missing


def test_a_context_field_reference_reads_the_request_id_the_function_got(tmp_path):
    from esmlab.scenario.player import Player
    scenario = load_scenario(ROOT / "scenarios/conformance/stream-request-id-per-batch.yaml")
    player = Player.new(scenario, tmp_path / "lab.db")
    try:
        assert player.run().ok
        from esmlab.scenario.checks import Context, _field_value
        ctx = Context(player, None)
        got, _ = _field_value(ctx, {"of": "context", "nth": 2, "mapping": "fails",
                                    "path": "aws_request_id"})
        uuid = ctx.mapping_uuid("fails")
        reached = [i for i in player.lab.invocations(limit=100) if i["mapping"] == uuid]
        assert got == reached[1]["request_id"]
    finally:
        player.lab.close()


def test_at_80_columns_each_case_reads_whole_rule_name_and_evidence(capsys, monkeypatch):
    """At 80 columns the three-column table cut names, paths and URLs in the
    middle; there each case is a block: its name whole on one line, the rule
    wrapped only at spaces, the evidence's location whole on a line of its own."""
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["conformance", "--json"]) == 0
    cases = json.loads(capsys.readouterr().out)["cases"]
    assert main(["conformance"]) == 0
    lines = capsys.readouterr().out.splitlines()
    flowing = " ".join(" ".join(lines).split())
    stripped = {line.strip() for line in lines}
    for case in cases:
        assert f"pass  {case['case']}" in stripped, case["case"]
        assert " ".join(case["rule"].split()) in flowing, case["case"]
        assert case["where"] in stripped, case["where"]
    wider = [line for line in lines if len(line) > 80]
    assert all(line.strip() in {c["where"] for c in cases} for line in wider), wider
