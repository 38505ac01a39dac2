"""Playing scenarios: the player, the expect checks and the `esmlab play` report."""

import json
import re
from pathlib import Path

import pytest

from esmlab.scenario.loader import load_scenario_text
from esmlab.scenario.player import Player, sorted_queues, start_ms_of
from esmlab.scenario.report import play_files

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs/scenarios.md"

DLQ = """\
name: dlq
title: Failing messages reach the DLQ
see: three receives, then the dead-letter queue.
resources:
  functions:
    - FunctionName: worker
      duration: {fixed: 200ms}
      behaviour: {mode: fail, error: boom}
  queues:
    - QueueName: orders            # declared before its DLQ: the player sorts
      Attributes:
        VisibilityTimeout: 60
        RedrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:orders-dlq",
                        maxReceiveCount: 3}
    - QueueName: orders-dlq
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders
steps:
  - say: Five orders arrive.
  - send_message: {QueueName: orders, MessageBody: 'order {n}', count: 5}
  - advance: 5s
  - expect:
      invocations: {function: worker, outcome: error, count: 1}
      queue: {QueueName: orders, in_flight: 5, visible: 0}
      invocation: {nth: 1, size: 5, receive_counts: [1, 1, 1, 1, 1]}
  - run_until_idle:
  - expect:
      queue: {QueueName: orders-dlq, total: 5}
      message: {QueueName: orders-dlq, body: order 3, receive_count: 3}
      invocations: {mapping: worker, outcome: error, count: 3}
      journal: {kind: sqs.moved_to_dlq, count: 5}
      processed: {count: 0}
      concurrency: {mapping: worker, of: peak, value: 1}
      mapping_state: {mapping: worker, State: Enabled}
"""

KINESIS = """\
name: poison
title: A poison record blocks its shard
see: the shard waits, then the batch goes to the topic.
resources:
  functions:
    - FunctionName: reader
      behaviour: {mode: poison, match: {text: "click 3"}}
  streams:
    - {StreamName: clicks, ShardCount: 2}
  topics:
    - Name: failures
  mappings:
    - id: clicks
      FunctionName: reader
      EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks
      StartingPosition: TRIM_HORIZON
      MaximumRetryAttempts: 2
      DestinationConfig: {OnFailure: {Destination: "arn:aws:sns:us-east-1:123456789012:failures"}}
steps:
  - put_record: {StreamName: clicks, PartitionKey: user-1, Data: 'click {n}', count: 5}
  - put_record: {StreamName: clicks, PartitionKey: user-2, Data: 'other {n}', count: 3}
  - advance: 0.5s
  - expect:
      blocked: {mapping: clicks, value: true}
  - run_until_idle:
  - expect:
      blocked: {mapping: clicks, value: false}
      destination: {name: failures, count: 1, condition: RetryAttemptsExhausted}
      in_order: {mapping: clicks, by: partition_key}
      processed: {mapping: clicks, count: 3}
      invocations: {mapping: clicks, outcome: success, count: 1}
      journal: {kind: 'batch.*', contains: MAXIMUMRETRYATTEMPTS, at_least: 1}
      concurrency: {mapping: clicks, of: target, value: 2}
  - put_record: {StreamName: clicks, PartitionKey: user-1, Data: 'late {n}', count: 2}
  - run_until_idle:
  - expect:
      invocation: {nth: 5, mapping: clicks, outcome: success, records: [late 1, late 2]}
"""


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def load(text: str, path="t.yaml"):
    return load_scenario_text(text, path)


def play(tmp_path, text: str, path="t.yaml"):
    player = Player.new(load(text, path), tmp_path / "lab.db")
    return player, player.run()


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


# --- playing -------------------------------------------------------------------------


def test_sqs_scenario_plays_and_every_expect_holds(tmp_path):
    player, result = play(tmp_path, DLQ)
    assert result.error is None
    assert [c.message for s in result.steps for c in s.checks if not c.ok] == []
    assert result.ok and len(result.steps) == 6


def test_kinesis_scenario_blocks_the_shard_then_moves_on(tmp_path):
    player, result = play(tmp_path, KINESIS)
    assert [c.message for s in result.steps for c in s.checks if not c.ok] == []
    assert result.ok


def test_dlq_is_created_before_the_queue_whose_redrive_policy_names_it():
    queues = [{"QueueName": "a", "Attributes": {"RedrivePolicy": {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:b", "maxReceiveCount": 1}}},
        {"QueueName": "c"}, {"QueueName": "b"}]
    assert [q["QueueName"] for q in sorted_queues(queues)] == ["b", "a", "c"]


def test_start_sets_the_lab_clock(tmp_path):
    text = DLQ.replace("see: three", "start: 2024-05-01T09:00:00.123Z\nsee: three")
    scenario = load(text)
    assert start_ms_of(scenario) == 1714554000123
    player = Player.new(scenario, tmp_path / "lab.db")
    assert player.lab.now_ms == 1714554000123


def test_step_by_step_playing_equals_run(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = Player.new(load(KINESIS), tmp_path / "a" / "lab.db")
    played = whole.run()
    stepper = Player.new(load(KINESIS), tmp_path / "b" / "lab.db")
    setup = stepper.setup()
    results = []
    while not stepper.done:
        results.append(stepper.play_next())
    assert setup.summary == played.setup.summary
    assert [(r.index, r.kind, r.ok, r.clock, r.summary, len(r.events)) for r in results] == \
        [(r.index, r.kind, r.ok, r.clock, r.summary, len(r.events)) for r in played.steps]
    assert stepper.lab.journal_signature() == whole.lab.journal_signature()


def test_count_templates_n_but_a_single_send_keeps_it_literal(tmp_path):
    text = DLQ.split("steps:")[0] + """steps:
  - send_message: {QueueName: orders-dlq, MessageBody: 'n={n}', count: 2}
  - send_message: {QueueName: orders-dlq, MessageBody: 'literal {n}'}
  - expect:
      message: {QueueName: orders-dlq, body: 'literal {n}'}
  - expect:
      message: {QueueName: orders-dlq, body: 'n=2'}
"""
    player, result = play(tmp_path, text)
    assert result.ok, [c.message for s in result.steps for c in s.checks]


def test_each_step_is_one_transaction_and_a_refused_step_changes_nothing(tmp_path):
    text = DLQ.split("steps:")[0] + """steps:
  - send_message_batch:
      QueueName: orders-dlq
      Entries: [{Id: a, MessageBody: one}, {Id: a, MessageBody: two}]
  - say: never played
"""
    player, result = play(tmp_path, text)
    step = result.steps[0]
    assert not step.ok and step.error.code == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    assert step.error.where == f"t.yaml:{line_of(text, 'send_message_batch')}"
    assert len(result.steps) == 1 and not result.ok  # playing stopped there
    assert player.lab.engine.queues.counts("orders-dlq")["total"] == 0


def test_fails_with_turns_the_expected_aws_error_into_a_passing_step(tmp_path):
    text = DLQ.split("steps:")[0] + """steps:
  - step:
  - update_mapping: {id: worker, BatchSize: 20000}
    fails_with: ValidationException
  - update_mapping: {id: worker, BatchSize: 5}
    fails_with: ValidationException
"""
    player, result = play(tmp_path, text)
    _, first, second = result.steps
    assert first.ok and first.raised.code == "ValidationException"
    # the refused step changed nothing: only the second update is in the journal
    assert len(player.lab.journal(kind="mapping.updated")) == 1
    assert not second.ok and second.error.code == "NoError"
    assert "expected to fail with ValidationException" in second.error.message


def test_a_resource_the_lab_refuses_fails_the_setup_at_its_line(tmp_path):
    text = DLQ.replace("      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders\n",
                       "      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders\n"
                       "      BatchSize: 0\n")
    player, result = play(tmp_path, text)
    assert result.steps == [] and not result.ok
    assert result.setup.error.code == "ValidationException"
    assert result.setup.error.where == f"t.yaml:{line_of(text, 'EventSourceArn') - 1}"
    assert player.lab.engine.functions.names() == []  # the whole setup rolled back


def test_dynamodb_mapping_may_name_the_table_and_checks_use_item_keys(tmp_path):
    text = """\
name: ddb
title: DynamoDB
see: records in order per item
resources:
  functions: [{FunctionName: f}]
  tables:
    - TableName: carts
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamEnabled: true, StreamViewType: NEW_AND_OLD_IMAGES}
  mappings:
    - FunctionName: f
      EventSourceArn: arn:aws:dynamodb:us-east-1:123456789012:table/carts
      StartingPosition: TRIM_HORIZON
steps:
  - put_item: {TableName: carts, Item: {id: {S: a}, n: {N: "1"}}}
  - put_item: {TableName: carts, Item: {id: {S: b}}}
  - update_item: {TableName: carts, Key: {id: {S: a}}, UpdateExpression: 'SET n = :v',
                  ExpressionAttributeValues: {":v": {N: "2"}}}
  - run_until_idle:
  - expect:
      in_order: {mapping: f, by: item_key}
      processed: {count: 3}
      invocation:
        nth: 1
        records: ['{"id":{"S":"a"}}', '{"id": {"S": "b"}}', '{"id": {"S": "a"}}']
"""
    player, result = play(tmp_path, text)
    assert result.ok, [c.message for s in result.steps for c in s.checks]


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_scenario_in_scenarios_plays_and_its_expectations_hold(tmp_path, path):
    player = Player.new(load(path.read_text(encoding="utf-8"), str(path)), tmp_path / "lab.db")
    result = player.run()
    assert result.error is None, str(result.error)
    assert [c.message for s in result.steps for c in s.checks if not c.ok] == []


def test_the_docs_example_plays_and_passes(tmp_path):
    docs = DOCS.read_text(encoding="utf-8")
    example = docs.split("## Example", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    player, result = play(tmp_path, example)
    assert result.ok, [c.message for s in result.steps for c in s.checks]


# --- failing checks name the step, the line, expected, actual and the records ------------


def test_a_failed_check_names_scenario_step_line_expected_actual_and_records(tmp_path):
    text = DLQ.replace("invocations: {mapping: worker, outcome: error, count: 3}",
                       "invocations: {mapping: worker, outcome: error, count: 2}")
    player, result = play(tmp_path, text)
    failed = [(s, c) for s in result.steps for c in s.checks if not c.ok]
    assert len(failed) == 1
    step, check = failed[0]
    line = line_of(text, "outcome: error, count: 2")
    assert check.line == line and (check.expected, check.actual) == ("exactly 2", 3)
    assert f"scenario dlq, step 6 (t.yaml:{line})" in check.message
    assert "expected exactly 2, actual 3" in check.message
    assert re.search(r"records involved: invocation 1 \(worker, error: 'order \d'", check.message)
    assert len(check.records) == 3
    assert not result.ok


@pytest.fixture(scope="module")
def played_dlq(tmp_path_factory):
    """The DLQ scenario's lab after its messages reached the DLQ (shared: checks only read)."""
    text = DLQ.split("steps:")[0] + """steps:
  - send_message: {QueueName: orders, MessageBody: 'order {n}', count: 5}
  - run_until_idle:
"""
    player = Player.new(load(text), tmp_path_factory.mktemp("dlq") / "lab.db")
    player.run()
    return player


@pytest.mark.parametrize("check, expected_in_message", [
    ("queue: {QueueName: orders-dlq, visible: 4}",
     "expected orders-dlq: visible 4, actual visible 5"),
    ("message: {QueueName: orders-dlq, body: order 3, present: false}",
     "expected no 'order 3' in orders-dlq, actual 1 such message(s)"),
    ("message: {QueueName: orders-dlq, body: order 3, receive_count: 2}", "receive count(s) 3"),
    ("invocation: {nth: 4}", "only 3 matching invocation(s)"),
    ("invocation: {nth: 2, receive_counts: [1, 1, 1, 1, 1]}",
     "actual receive_counts [2, 2, 2, 2, 2]"),
    ("journal: {kind: sqs.moved_to_dlq, contains: order, at_most: 4}", "expected at most 4"),
    ("processed: {at_least: 1}", "expected at least 1 records processed, actual 0"),
    ("concurrency: {mapping: worker, of: peak, at_least: 2}",
     "peak concurrency at least 2, actual 1"),
    ("mapping_state: {mapping: worker, State: Disabled}", "actual State 'Enabled'"),
    ("destination: {name: orders-dlq, count: 1}", "expected exactly 1 on-failure record(s)"),
    ("blocked: {mapping: worker, value: false}", "`blocked` checks stream mappings"),
])
def test_each_check_kind_fails_with_expected_and_actual(played_dlq, check,
                                                       expected_in_message):
    from esmlab.scenario.checks import evaluate_all

    text = DLQ.split("steps:")[0] + f"""steps:
  - send_message: {{QueueName: orders, MessageBody: 'order {{n}}', count: 5}}
  - run_until_idle:
  - expect:
      {check}
"""
    step = load(text).steps[-1]
    (failed,) = evaluate_all(played_dlq, step)
    assert not failed.ok
    assert f"(t.yaml:{line_of(text, '      ' + check)})" in failed.message
    assert expected_in_message in failed.message, failed.message


def test_invocation_records_are_compared_in_the_order_the_function_got_them(tmp_path):
    # A standard queue does not keep order: with this seed the batch arrives shuffled.
    text = DLQ.split("steps:")[0].replace("behaviour: {mode: fail, error: boom}",
                                          "behaviour: {mode: succeed}") + """steps:
  - send_message: {QueueName: orders, MessageBody: 'order {n}', count: 5}
  - run_until_idle:
  - expect:
      invocation: {nth: 1, records: [order 1, order 2, order 3, order 4, order 5]}
"""
    player, result = play(tmp_path, text)
    (check,) = result.steps[-1].checks
    assert not check.ok and "actual records ['order" in check.message


def _fifo_invocation(inv_id, bodies_and_seqs, group="g1"):
    return {"id": inv_id, "function": "f", "mapping": None, "status": "success",
            "response": {"status": "success", "response": None}, "records": [],
            "event": {"Records": [
                {"messageId": f"m{seq}", "body": body,
                 "attributes": {"SequenceNumber": str(seq), "MessageGroupId": group,
                                "ApproximateReceiveCount": "1"}}
                for body, seq in bodies_and_seqs]}}


class _StubContext:
    """Just enough of checks.Context for in_order over hand-made invocations."""

    def __init__(self, invocations):
        from esmlab.scenario import checks
        self.invs = invocations
        self.scenario = type("S", (), {"name": "demo"})()
        self.step = type("St", (), {"index": 4})()
        self.where = lambda line: f"t.yaml:{line}"
        self.processed = lambda inv: checks.Context.processed(self, inv)
        self.reports_failures = lambda uuid: True

    def matching(self, args):
        return self.invs


def test_in_order_fails_when_a_key_s_records_are_processed_out_of_written_order():
    from esmlab.scenario.checks import check_in_order
    from esmlab.scenario.loader import Check

    ctx = _StubContext([_fifo_invocation(1, [("a1", 1), ("a3", 3)]),
                        _fifo_invocation(2, [("a2", 2)])])
    result = check_in_order(ctx, Check("in_order", {"by": "group_id"}, 9))
    assert not result.ok
    assert "scenario demo, step 4 (t.yaml:9)" in result.message
    assert "group_id g1: 'a2' (m2) was processed after 'a3' (m3)" in result.message
    in_order = _StubContext([_fifo_invocation(1, [("a1", 1), ("a2", 2)]),
                             _fifo_invocation(2, [("a1", 1), ("a3", 3)])])  # a redelivery
    assert check_in_order(in_order, Check("in_order", {"by": "group_id"}, 9)).ok


def test_in_order_with_no_record_carrying_the_key_fails_rather_than_pass_vacuously():
    from esmlab.scenario.checks import check_in_order
    from esmlab.scenario.loader import Check

    ctx = _StubContext([_fifo_invocation(1, [("a1", 1)], group=None)])
    result = check_in_order(ctx, Check("in_order", {"by": "group_id"}, 9))
    assert not result.ok and "no processed records with a group_id" in result.message


# --- esmlab play: the report and its exit code -------------------------------------------


def test_play_exits_0_and_prints_title_timeline_and_verdict_when_every_expect_holds(
        tmp_path, capsys):
    path = write(tmp_path, "dlq.yaml", DLQ)
    assert play_files([path]) == 0
    out = capsys.readouterr().out
    assert "Failing messages reach the DLQ" in out and "What you will see:" in out
    assert "💬 Five orders arrive." in out
    assert "T+3m" in out and "sqs.moved_to_dlq" in out  # key journal events, on virtual time
    assert "sqs.sent" not in out                           # routine ones are left out
    assert "✓ expect queue" in out
    assert "✓ dlq: all 10 expect checks hold" in out


def test_play_exits_1_and_the_failure_names_step_line_expected_and_actual(tmp_path, capsys):
    text = DLQ.replace("total: 5}", "total: 4}")
    path = write(tmp_path, "dlq.yaml", text)
    assert play_files([path]) == 1
    out = capsys.readouterr().out
    line = line_of(text, "total: 4}")
    assert f"✗ scenario dlq, step 6 ({path}:{line}): expect queue" in out
    assert "expected orders-dlq: total 4, actual visible 5, in_flight 0, delayed 0, total 5" in out
    assert "✗ dlq: 1 of 10 expect checks failed" in out


def test_play_quiet_prints_only_verdicts_and_failures(tmp_path, capsys):
    good = write(tmp_path, "good.yaml", DLQ)
    bad = write(tmp_path, "bad.yaml", DLQ.replace("name: dlq", "name: bad").replace(
        "total: 5}", "total: 4}"))
    assert play_files([good, bad], quiet=True) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "✓ dlq: all 10 expect checks hold (6 steps, T+3m)"
    assert lines[1].startswith("✗ bad: 1 of 10 expect checks failed")
    assert "expected orders-dlq: total 4" in lines[2] and len(lines) == 4
    assert lines[3] == "total: 2 scenario(s), 1 passed, 1 failed"


def test_play_quiet_ends_with_a_total_line_of_every_scenario_played(tmp_path, capsys):
    good = write(tmp_path, "good.yaml", DLQ)
    assert play_files([good], quiet=True) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "total: 1 scenario(s), 1 passed, 0 failed"


def test_an_invalid_file_exits_2_and_nothing_is_played(tmp_path, capsys):
    good = write(tmp_path, "good.yaml", DLQ)
    broken = DLQ.replace("BatchSize", "Batchsize").replace(
        "      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders\n",
        "      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders\n      Batchsize: 3\n")
    bad = write(tmp_path, "bad.yaml", broken)
    kept = tmp_path / "kept.db"
    assert play_files([good, bad], lab=None) == 2
    captured = capsys.readouterr()
    line = line_of(broken, "Batchsize")
    assert f"{bad}:{line}: unknown key 'Batchsize'" in captured.err
    assert "did you mean 'BatchSize'?" in captured.err
    assert captured.out == ""  # not even the valid file was played
    assert play_files([bad], lab=str(kept)) == 2 and not kept.exists()


def test_lab_option_keeps_the_played_lab_and_refuses_an_existing_file(tmp_path, capsys):
    from esmlab.lab import Lab

    path = write(tmp_path, "dlq.yaml", DLQ)
    kept = tmp_path / "kept.db"
    assert play_files([path], lab=str(kept), quiet=True) == 0
    lab = Lab.open(kept)
    assert lab.engine.queues.counts("orders-dlq")["total"] == 5
    lab.close()
    capsys.readouterr()
    assert play_files([path], lab=str(kept)) == 2
    assert "already exists" in capsys.readouterr().err
    assert play_files([path, path], lab=str(tmp_path / "new.db")) == 2


def test_json_report_has_steps_invocations_queues_destinations_and_journal(tmp_path, capsys):
    path = write(tmp_path, "k.yaml", KINESIS)
    assert play_files([path], report="json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"scenario", "ok", "error", "setup", "steps", "invocations", "queues",
                        "destinations", "journal", "predictions"}
    assert doc["ok"] is True and doc["error"] is None
    assert doc["scenario"]["name"] == "poison" and doc["scenario"]["file"] == path
    assert len(doc["steps"]) == 9
    expect = doc["steps"][5]
    expect_lines = [n for n, line in enumerate(KINESIS.splitlines(), 1) if "- expect:" in line]
    assert (expect["kind"], expect["index"], expect["line"]) == ("expect", 6, expect_lines[1])
    assert [c["kind"] for c in expect["checks"]] == ["blocked", "destination", "in_order",
                                                     "processed", "invocations", "journal",
                                                     "concurrency"]
    assert all(c["ok"] for c in expect["checks"])
    first = doc["invocations"][0]
    assert {"id", "time", "at_ms", "t", "mapping", "function", "records", "keys",
            "outcome"} <= set(first)
    assert first["time"] == "2024-01-01T00:00:00.000Z" and first["t"] == "T+0s"
    assert first["mapping"] == "clicks" and first["function"] == "reader"
    assert len(first["records"]) == len(first["keys"]) == first["size"]
    assert doc["destinations"]["failures"][0]["reason"] == "RetryAttemptsExhausted"
    assert doc["queues"] == {}
    ids = [e["id"] for e in doc["journal"]]
    assert ids == sorted(ids) and set(expect["events"]) <= set(ids)


def test_json_report_of_several_files_is_a_list_and_invalid_files_are_listed(tmp_path,
                                                                            capsys):
    a = write(tmp_path, "a.yaml", DLQ)
    b = write(tmp_path, "b.yaml", KINESIS)
    assert play_files([a, b], report="json") == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["scenario"]["name"] for d in docs] == ["dlq", "poison"]
    bad = write(tmp_path, "bad.yaml", "name: x\n")
    assert play_files([bad], report="json") == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["errors"][0]["file"] == bad


def test_cli_play_uses_the_report(tmp_path, capsys):
    from esmlab.cli import main

    path = write(tmp_path, "dlq.yaml", DLQ.replace("total: 5}", "total: 4}"))
    assert main(["play", "--quiet", path]) == 1
    assert "✗ dlq: 1 of 10 expect checks failed" in capsys.readouterr().out


def test_partial_batch_counts_only_unreported_messages_as_processed(tmp_path):
    text = """\
name: fifo-partial
title: FIFO with partial batch responses
see: the first failure and everything after it come back
resources:
  functions:
    - FunctionName: worker
      behaviour: {mode: partial, match: {text: "a 2"}}
  queues:
    - QueueName: jobs.fifo                 # the player adds FifoQueue: true
      Attributes: {ContentBasedDeduplication: true, VisibilityTimeout: 10}
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:jobs.fifo
      FunctionResponseTypes: [ReportBatchItemFailures]
steps:
  - send_message: {QueueName: jobs.fifo, MessageBody: 'a {n}', MessageGroupId: ga, count: 3}
  - send_message: {QueueName: jobs.fifo, MessageBody: 'b {n}', MessageGroupId: gb, count: 2}
  - advance: 1s
  - expect:
      invocation: {nth: 1, outcome: partial, groups: [ga, gb], records: [a 1, a 2, a 3, b 1, b 2]}
      processed: {count: 1}
  - behaviour: {function: worker, mode: succeed}
  - run_until_idle:
  - expect:
      in_order: {by: group_id}
      processed: {count: 5, distinct: true}
      invocations: {outcome: partial, count: 1}
"""
    player, result = play(tmp_path, text)
    assert result.ok, [c.message for s in result.steps for c in s.checks if not c.ok]
