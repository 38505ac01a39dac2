"""Exporting a lab as a scenario (replays to the same journal) and an event as JSON."""

import json

import pytest

from esmlab.engine import arns
from esmlab.errors import LabError
from esmlab.lab import Lab
from esmlab.scenario.export import export_event, export_scenario
from esmlab.scenario.loader import load_scenario_text
from esmlab.scenario.player import Player


def build_lab(path) -> Lab:
    """A lab built by hand with lab.do calls, touching most commands."""
    lab = Lab.create(path, name="hand built", seed=11, start_ms=1_714_554_000_000)
    do = lab.do
    do("create_topic", Name="failures")
    do("create_queue", QueueName="orders-dlq", Attributes={})
    do("create_queue", QueueName="orders", Attributes={
        "VisibilityTimeout": "20", "RedrivePolicy": {
            "deadLetterTargetArn": arns.queue_arn("orders-dlq"), "maxReceiveCount": 2}})
    do("create_stream", StreamName="clicks", ShardCount=2, RetentionPeriodHours=24)
    do("create_function", FunctionName="worker", Timeout=3,
       duration={"fixed_ms": 150, "per_record_ms": 5}, behaviour={"mode": "fail_first",
                                                                  "count": 1})
    do("create_function", FunctionName="reader", behaviour={"mode": "poison",
                                                            "match": {"text": "click 2"}})
    do("create_mapping", params={"FunctionName": "worker", "BatchSize": 5,
                                 "EventSourceArn": arns.queue_arn("orders")}, label=None)
    do("create_mapping", params={
        "FunctionName": "reader", "EventSourceArn": arns.stream_arn("clicks"),
        "StartingPosition": "TRIM_HORIZON", "MaximumRetryAttempts": 1,
        "DestinationConfig": {"OnFailure": {"Destination": arns.topic_arn("failures")}}},
        label="clicks")
    # from here on, everything is a step
    do("create_table", TableName="carts", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
       StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    do("create_queue", QueueName="jobs.fifo", Attributes={"FifoQueue": "true",
                                                          "ContentBasedDeduplication": "true"})
    lab.step()
    for n in range(1, 7):
        do("send_message", QueueName="orders", MessageBody=f"order {n}")
    do("send_message", QueueName="orders", MessageBody="literal {n} text")
    do("send_message_batch", QueueName="jobs.fifo", Entries=[
        {"Id": "a", "MessageBody": "job 1", "MessageGroupId": "g"},
        {"Id": "b", "MessageBody": "job 2", "MessageGroupId": "g"}])
    for n in range(1, 4):
        do("put_record", StreamName="clicks", PartitionKey="user-1", Data=f"click {n}")
    do("put_records", StreamName="clicks", Records=[{"PartitionKey": "user-2", "Data": "x"}])
    do("put_item", TableName="carts", Item={"id": {"S": "c1"}, "n": {"N": "1"}})
    do("update_item", TableName="carts", Key={"id": {"S": "c1"}},
       UpdateExpression="SET n = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    lab.advance(2)
    got = do("receive_message", QueueName="jobs.fifo", MaxNumberOfMessages=1)
    do("delete_message", QueueName="jobs.fifo", ReceiptHandle=got["Messages"][0]["ReceiptHandle"])
    do("set_behaviour", FunctionName="worker", behaviour={"mode": "succeed"})
    do("update_function", FunctionName="worker", Timeout=5, duration={"per_record_ms": 2})
    do("update_mapping", ref="worker", params={"BatchSize": 3})
    do("set_queue_attributes", QueueName="orders", Attributes={"VisibilityTimeout": "25"})
    do("set_duplicate_rate", QueueName="orders", rate=0.5)
    lab.step(3)
    do("update_mapping", ref="clicks", params={"Enabled": False})
    lab.run_until_idle(60_000)
    do("update_mapping", ref="clicks", params={"Enabled": True})
    do("set_profile", profile="classic")
    do("split_shard", StreamName="clicks", ShardToSplit="shardId-000000000000",
       NewStartingHashKey="85070591730234615865843651857942052864")
    do("delete_mapping", ref="worker")
    lab.run_until_idle()
    return lab


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    lab = build_lab(tmp_path_factory.mktemp("export") / "lab.db")
    yield lab
    lab.close()


def test_export_then_replay_gives_an_identical_journal_signature(built, tmp_path):
    text = export_scenario(built, "hand built")
    scenario = load_scenario_text(text, "exported.yaml")
    player = Player.new(scenario, tmp_path / "replayed.db")
    result = player.run()
    assert result.error is None and result.ok
    assert player.lab.journal_signature() == built.journal_signature()
    assert player.lab.now_ms == built.now_ms


def test_export_keeps_the_initial_lab_and_puts_leading_creations_in_resources(built):
    scenario = load_scenario_text(export_scenario(built, "Hand Built!"), "x.yaml")
    assert (scenario.name, scenario.seed, scenario.start) == \
        ("hand-built", 11, "2024-05-01T09:00:00.000Z")
    r = scenario.resources
    assert [t["Name"] for t in r["topics"]] == ["failures"]
    assert [q["QueueName"] for q in r["queues"]] == ["orders-dlq", "orders"]
    assert [m["id"] for m in r["mappings"]] == ["worker", "clicks"]
    assert r["functions"][0]["duration"] == {"fixed": 150, "per_record": 5}
    kinds = [s.kind for s in scenario.steps]
    assert kinds[:3] == ["create_table", "create_queue", "step"]


def test_export_joins_numbered_sends_into_one_count_step_and_keeps_literal_braces(built):
    scenario = load_scenario_text(export_scenario(built, "x"), "x.yaml")
    sends = [s.args for s in scenario.steps if s.kind == "send_message"]
    assert sends[0] == {"QueueName": "orders", "MessageBody": "order {n}", "count": 6}
    assert sends[1] == {"QueueName": "orders", "MessageBody": "literal {n} text"}  # no count
    puts = [s.args for s in scenario.steps if s.kind == "put_record"]
    assert puts == [{"StreamName": "clicks", "PartitionKey": "user-1", "Data": "click {n}",
                     "count": 3}]


def test_export_writes_clock_commands_as_advance_step_and_run_until_idle(built):
    scenario = load_scenario_text(export_scenario(built, "x"), "x.yaml")
    clock = [(s.kind, s.args) for s in scenario.steps
             if s.kind in ("advance", "step", "run_until_idle")]
    assert clock == [("step", 1), ("advance", 2000), ("step", 3), ("run_until_idle", 60_000),
                     ("run_until_idle", 3_600_000)]
    toggles = [(s.kind, s.args) for s in scenario.steps if s.kind.endswith("_mapping")]
    assert toggles == [("update_mapping", {"id": "worker", "BatchSize": 3}),
                       ("disable_mapping", "clicks"), ("enable_mapping", "clicks"),
                       ("delete_mapping", "worker")]


def test_export_of_an_empty_lab_is_a_valid_scenario(tmp_path):
    lab = Lab.create(tmp_path / "empty.db")
    scenario = load_scenario_text(export_scenario(lab, "empty"), "x.yaml")
    assert [s.kind for s in scenario.steps] == ["say"]
    lab.close()


def test_export_event_is_the_stored_event_as_sam_local_invoke_takes_it(built):
    inv = built.invocations(limit=1)[0]
    text = export_event(built, inv["id"])
    assert json.loads(text) == inv["event"]
    assert text.startswith('{\n  "Records": [') and text.endswith("}\n")
    record = json.loads(text)["Records"][0]
    assert record["eventSource"] in ("aws:sqs", "aws:kinesis", "aws:dynamodb")


def test_export_event_of_an_unknown_invocation_is_an_error(built):
    with pytest.raises(LabError, match="no invocation 99999"):
        export_event(built, 99999)


def test_cli_export_prints_the_scenario_and_the_event(built, capsys):
    from esmlab.cli import main

    assert main(["--lab", built.path, "export", "scenario", "--name", "mine"]) == 0
    out = capsys.readouterr().out
    assert load_scenario_text(out, "cli.yaml").name == "mine"
    assert main(["--lab", built.path, "export", "event", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == built.invocations(limit=1)[0]["event"]
