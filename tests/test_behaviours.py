"""Built-in behaviours a lesson needs no Python handler for: `respond` (a
fixed JSON response) and `match` bounds on the delivery a batch is on (a
message's ApproximateReceiveCount, a stream batch's attempt number)."""

import pytest

from esmlab.engine.function import Item, check_behaviour, decide, describe_behaviour
from esmlab.errors import AwsError
from esmlab.scenario.loader import ScenarioError, load_scenario_text
from esmlab.scenario.player import Player

QUEUE = """\
name: behaviours
title: t
see: t
resources:
  functions:
    - FunctionName: worker
      behaviour: BEHAVIOUR
  queues:
    - QueueName: jobs-dlq
    - QueueName: jobs
      Attributes:
        VisibilityTimeout: 30
        RedrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:jobs-dlq",
                        maxReceiveCount: 5}
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:jobs
      FunctionResponseTypes: [ReportBatchItemFailures]
steps:
  - send_message: {QueueName: jobs, MessageBody: job}
  - run_until_idle:
"""

STREAM = """\
name: behaviours
title: t
see: t
resources:
  functions:
    - FunctionName: reader
      behaviour: BEHAVIOUR
  streams:
    - StreamName: clicks
  mappings:
    - id: clicks
      FunctionName: reader
      EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks
      StartingPosition: TRIM_HORIZON
steps:
  - put_record: {StreamName: clicks, PartitionKey: k, Data: 'click {n}', count: 3}
  - run_until_idle: 10m
"""


def play(tmp_path, text: str, behaviour: str):
    scenario = load_scenario_text(text.replace("BEHAVIOUR", behaviour), "t.yaml")
    player = Player.new(scenario, tmp_path / "lab.db")
    result = player.run()
    assert result.error is None, str(result.error)
    return player


def outcomes(player) -> list[str]:
    return [inv["status"] for inv in player.lab.invocations()]


def test_respond_returns_its_fixed_response_and_the_mapping_judges_it(tmp_path):
    player = play(tmp_path, QUEUE, "{mode: respond, response: {batchItemFailures: "
                                   "[{itemIdentifier: ''}]}}")
    invocations = player.lab.invocations()
    assert invocations[0]["response"]["response"] == {
        "batchItemFailures": [{"itemIdentifier": ""}]}
    # an empty itemIdentifier fails the whole batch (reference 2.4): five
    # receives, then the DLQ
    assert len(invocations) == 5
    assert player.lab.engine.queues.counts("jobs-dlq")["total"] == 1


def test_respond_with_a_match_answers_only_batches_holding_a_matching_record(tmp_path):
    player = play(tmp_path, QUEUE, "{mode: respond, response: {batchItemFailures: [{}]}, "
                                   "match: {text: other}}")
    (inv,) = player.lab.invocations()
    assert inv["response"]["response"] is None  # `job` does not match: a plain success


def test_receive_count_bound_fails_a_message_until_its_third_receive(tmp_path):
    player = play(tmp_path, QUEUE, "{mode: poison, match: {receive_count: {at_most: 2}}}")
    assert outcomes(player) == ["error", "error", "success"]
    assert player.lab.engine.queues.counts("jobs")["total"] == 0
    assert player.lab.engine.queues.counts("jobs-dlq")["total"] == 0


def test_receive_count_bound_on_partial_reports_a_message_only_on_its_first_receive(tmp_path):
    player = play(tmp_path, QUEUE, "{mode: partial, match: {text: job, "
                                   "receive_count: {at_least: 1, at_most: 1}}}")
    first, second = player.lab.invocations()
    assert first["response"]["response"]["batchItemFailures"]
    assert second["response"]["response"] is None


def test_attempt_bound_fails_a_stream_batch_on_its_first_two_attempts(tmp_path):
    player = play(tmp_path, STREAM, "{mode: poison, match: {attempt: {at_most: 2}}}")
    invocations = player.lab.invocations()
    assert [inv["status"] for inv in invocations] == ["error", "error", "success"]
    assert [inv["attempt"] for inv in invocations] == [1, 2, 3]


def test_a_stream_record_has_no_receive_count_so_that_bound_never_matches(tmp_path):
    player = play(tmp_path, STREAM, "{mode: poison, match: {receive_count: {at_most: 5}}}")
    assert outcomes(player) == ["success"]


def test_timeout_on_an_attempt_bound_times_out_only_those_attempts():
    b = check_behaviour({"mode": "timeout", "match": {"attempt": {"at_least": 2}}})
    items = [Item("1", "a", "k", None)]
    assert decide(b, items, 1, None, {}, attempt=1).status == "success"
    assert decide(b, items, 2, None, {}, attempt=2).status == "timeout"


@pytest.mark.parametrize("behaviour, message", [
    ("{mode: respond}", "missing required key 'response'"),
    ("{mode: poison, match: {receive_count: 2}}", "expected a bound {at_least, at_most}"),
    ("{mode: poison, match: {attempt: {at_most: 0}}}", "expected a whole number at least 1"),
    ("{mode: poison, match: {attempt: {}}}", "at_least"),
    ("{mode: succeed, response: {}}", "response"),
])
def test_a_malformed_behaviour_is_refused_at_its_line(behaviour, message):
    with pytest.raises(ScenarioError) as raised:
        load_scenario_text(QUEUE.replace("BEHAVIOUR", behaviour), "t.yaml")
    assert raised.value.line == 7  # the behaviour line
    assert message in str(raised.value), str(raised.value)


@pytest.mark.parametrize("behaviour, message", [
    ({"mode": "respond"}, "respond needs a response"),
    ({"mode": "poison", "match": {"receive_count": 2}}, "match receive_count must be"),
    ({"mode": "poison", "match": {"attempts": {"at_most": 1}}}, "unknown match setting"),
    ({"mode": "respond", "response": {1, 2}}, "must be JSON"),
])
def test_the_engine_refuses_a_malformed_behaviour_with_a_sentence(behaviour, message):
    with pytest.raises(AwsError) as raised:
        check_behaviour(behaviour)
    assert message in raised.value.message


def test_the_new_behaviours_are_described_in_words():
    assert describe_behaviour({"mode": "respond", "response": {"batchItemFailures": []}}) == \
        'returns {"batchItemFailures": []}'
    assert describe_behaviour({"mode": "poison", "match": {
        "receive_count": {"at_most": 2}}}) == \
        "fails any batch holding a record with receive count at most 2"
    assert describe_behaviour({"mode": "poison", "match": {
        "attempt": {"at_least": 2, "at_most": 3}}}) == \
        "fails any batch holding a record with attempt 2 to 3"


def test_docs_name_every_behaviour_mode_and_match_key():
    from pathlib import Path

    from esmlab.engine.function import MATCH_KEYS, MODES

    docs = (Path(__file__).resolve().parent.parent / "docs/scenarios.md").read_text(
        encoding="utf-8")
    behaviour = docs.split("## Behaviour", 1)[1].split("\n## ", 1)[0]
    assert [m for m in MODES if f"| `{m}` |" not in behaviour] == []
    assert [k for k in MATCH_KEYS if f"`{k}`" not in behaviour] == []
