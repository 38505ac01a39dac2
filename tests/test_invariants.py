"""`always:` invariants after every step and `sometimes:` checks that must hold once."""

import json

import pytest

from esmlab.scenario.invariants import Invariants
from esmlab.scenario.loader import ScenarioError, load_scenario_text
from esmlab.scenario.player import StepResult
from esmlab.scenario.report import play_one

STREAM = """
name: inv
title: t
see: s
always: [all]
sometimes:
  - journal: {kind: batch.bisected}
resources:
  streams: [{StreamName: s}]
  functions: [{FunctionName: f, ReservedConcurrentExecutions: 1,
               behaviour: {mode: poison, match: {text: bad}}}]
  mappings: [{FunctionName: f, EventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
              StartingPosition: TRIM_HORIZON, BisectBatchOnFunctionError: true,
              MaximumRetryAttempts: 0}]
steps:
  - put_records: {StreamName: s, Records: [{PartitionKey: a, Data: x1}, {PartitionKey: a, Data: bad},
                                           {PartitionKey: a, Data: x3}]}
  - advance: 30s
"""

QUEUE = """
name: invq
title: t
see: s
always: [receive_counts_grow, no_invented_records]
resources:
  queues: [{QueueName: q, Attributes: {VisibilityTimeout: 5}}]
  functions: [{FunctionName: f, behaviour: {mode: fail}}]
  mappings: [{FunctionName: f, EventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:q'}]
steps:
  - send_message: {QueueName: q, MessageBody: m}
  - advance: 20s
"""


def _played(tmp_path, text):
    return play_one(load_scenario_text(text, "inv.yaml"), tmp_path / "lab.db")


def _check_again(player, names):
    """The invariants on the lab as it is now, after a checker saw it as it was."""
    inv = Invariants(player, names)
    inv.check(StepResult(index=1, line=1, kind="advance"), "before")
    return inv


def test_invariants_hold_and_a_sometimes_that_happened_passes(tmp_path):
    _, play = _played(tmp_path, STREAM)
    assert play.ok
    assert not [c for s in play.steps for c in s.checks if not c.ok]


def test_a_sometimes_that_never_held_fails_the_lesson(tmp_path):
    _, play = _played(tmp_path, STREAM.replace("batch.bisected", "never.happens"))
    (failed,) = [c for _, c in play.failed_checks]
    assert failed.kind == "sometimes" and "never held after any step" in failed.message
    assert "inv.yaml:7" in failed.message


def test_receive_counts_grow_names_the_message_whose_count_dropped(tmp_path):
    player, _ = _played(tmp_path, QUEUE)
    inv = _check_again(player, ["receive_counts_grow"])
    player.lab.store.conn.execute("UPDATE messages SET receive_count = 0")
    (v,) = inv.check(StepResult(index=2, line=9, kind="advance"), "invq, step 2")
    assert not v.ok and v.kind == "always receive_counts_grow" and len(v.records) == 1


def test_no_invented_records_names_a_record_nobody_sent(tmp_path):
    player, _ = _played(tmp_path, QUEUE)
    inv = _check_again(player, ["no_invented_records"])
    player.lab.store.conn.execute(
        "INSERT INTO invocations (function, mapping, start_ms, status, size, records) "
        "VALUES ('f', NULL, 0, 'success', 1, ?)", (json.dumps(["not-a-sent-message"]),))
    (v,) = inv.check(StepResult(index=2, line=9, kind="advance"), "invq, step 2")
    assert v.records == ["not-a-sent-message"]


def test_checkpoints_forward_catches_a_checkpoint_moving_back(tmp_path):
    player, _ = _played(tmp_path, STREAM)
    inv = _check_again(player, ["checkpoints_forward"])
    player.lab.store.conn.execute("UPDATE lanes SET checkpoint = '1'")
    (v,) = inv.check(StepResult(index=3, line=9, kind="advance"), "inv, step 3")
    assert "moved back on shardId-000000000000 lane 0" in v.actual


def test_concurrency_within_limits_catches_a_function_over_its_reserve(tmp_path):
    player, _ = _played(tmp_path, STREAM)
    player.lab.store.conn.execute("UPDATE functions SET running = 2")
    inv = Invariants(player, ["concurrency_within_limits"])
    (v,) = inv.check(StepResult(index=3, line=9, kind="advance"), "inv, step 3")
    assert "ReservedConcurrentExecutions 1" in v.actual


def test_order_per_key_catches_a_later_record_delivered_first(tmp_path):
    player, _ = _played(tmp_path, STREAM)
    conn = player.lab.store.conn
    seqs = [s for (s,) in conn.execute("SELECT seq FROM records ORDER BY seq")]
    inv = Invariants(player, ["order_per_key"])
    conn.execute("DELETE FROM invocations")
    for seq in (seqs[2], seqs[0]):
        conn.execute("INSERT INTO invocations (function, mapping, start_ms, status, size, "
                     "records, detail) VALUES ('f', 'm', 0, 'success', 1, ?, '{}')",
                     (json.dumps([seq]),))
    (v,) = inv.check(StepResult(index=1, line=1, kind="advance"), "inv, step 1")
    assert v.records == [seqs[0]]


def test_an_unknown_invariant_is_refused_when_the_file_is_read():
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(STREAM.replace("always: [all]", "always: [no_lost_records]"))
    assert "no_lost_records" in str(error.value)
