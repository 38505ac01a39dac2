"""Kinesis enhanced fan-out consumers (RegisterStreamConsumer and friends) and
mappings that read a stream through one. Evidence: stackd's native AWS
captures testdata/aws/lambda/kinesis_source.json, kinesis_destination.json
and kinesis_reshard.json (2026-09)."""

import json

import pytest

from esmlab.engine import arns
from esmlab.errors import AwsError
from esmlab.lab import Lab

S = arns.stream_arn("s")


def register(lab, name="fast"):
    return lab.register_stream_consumer(StreamARN=S, ConsumerName=name)["Consumer"]


def efo_lab(lab, *, active=True, **params):
    lab.create_stream("s")
    consumer = register(lab)
    if active:
        lab.advance(5)
    lab.create_function("f", Timeout=3)
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=consumer["ConsumerARN"],
                       StartingPosition="TRIM_HORIZON", **params)
    return consumer["ConsumerARN"]


def events(lab):
    return [i["event"] for i in lab.invocations(mapping="m", limit=1000)]


# -- the Kinesis API ----------------------------------------------------------------------


def test_register_answers_creating_and_the_consumer_is_active_five_seconds_later(lab):
    lab.create_stream("s")
    consumer = register(lab)
    assert consumer["ConsumerStatus"] == "CREATING"
    assert set(consumer) == {"ConsumerName", "ConsumerARN", "ConsumerStatus",
                             "ConsumerCreationTimestamp"}
    lab.advance(4.9)
    assert lab.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])[
        "ConsumerDescription"]["ConsumerStatus"] == "CREATING"
    lab.advance(0.1)
    described = lab.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
    assert described["ConsumerDescription"] == {**consumer, "ConsumerStatus": "ACTIVE",
                                                "StreamARN": S}


def test_the_consumer_arn_is_the_stream_arn_consumer_name_and_creation_epoch_seconds(lab):
    lab.create_stream("s")
    lab.advance(2.5)
    consumer = register(lab, "fast.one_2")
    seconds = lab.now_ms // 1000
    assert consumer["ConsumerARN"] == f"{S}/consumer/fast.one_2:{seconds}"
    assert consumer["ConsumerCreationTimestamp"] == seconds


def test_a_consumer_registered_again_under_the_same_name_gets_another_arn(lab):
    lab.create_stream("s")
    first = register(lab)["ConsumerARN"]
    lab.deregister_stream_consumer(ConsumerARN=first)
    lab.advance(5)
    assert register(lab)["ConsumerARN"] != first


def test_a_deregistered_consumer_is_deleting_then_not_found_with_aws_message(lab):
    lab.create_stream("s")
    arn = register(lab)["ConsumerARN"]
    lab.advance(5)
    assert lab.deregister_stream_consumer(ConsumerARN=arn) == {}
    assert lab.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"][
        "ConsumerStatus"] == "DELETING"
    lab.advance(5)
    with pytest.raises(AwsError) as e:
        lab.describe_stream_consumer(ConsumerARN=arn)
    assert e.value.code == "ResourceNotFoundException"
    assert e.value.message == (f"Consumer fast with creation timestamp {arn.rsplit(':', 1)[1]} "
                               f"under stream: s, account {arns.ACCOUNT} not found.")


def test_list_stream_consumers_lists_every_status_oldest_first(lab):
    lab.create_stream("s")
    register(lab, "a")
    lab.advance(5)
    register(lab, "b")
    listed = lab.list_stream_consumers(S)["Consumers"]
    assert [(c["ConsumerName"], c["ConsumerStatus"]) for c in listed] == [
        ("a", "ACTIVE"), ("b", "CREATING")]


def test_describe_by_stream_and_name_finds_the_same_consumer(lab):
    lab.create_stream("s")
    arn = register(lab)["ConsumerARN"]
    assert lab.describe_stream_consumer(StreamARN=S, ConsumerName="fast")[
        "ConsumerDescription"]["ConsumerARN"] == arn


def test_a_duplicate_consumer_name_on_a_stream_is_resource_in_use(lab):
    lab.create_stream("s")
    register(lab)
    with pytest.raises(AwsError) as e:
        register(lab)
    # AWS's text for this was not found recorded: the error says it is the lab's.
    assert e.value.code == "ResourceInUseException" and e.value.own


def test_the_twenty_first_consumer_of_a_stream_is_limit_exceeded(lab):
    lab.create_stream("s")
    for n in range(20):
        register(lab, f"c{n}")
        lab.advance(5)
    with pytest.raises(AwsError) as e:
        register(lab, "c20")
    assert e.value.code == "LimitExceededException" and e.value.own


def test_a_sixth_consumer_creating_at_once_is_limit_exceeded(lab):
    lab.create_stream("s")
    for n in range(5):
        register(lab, f"c{n}")
    with pytest.raises(AwsError) as e:
        register(lab, "c5")
    assert e.value.code == "LimitExceededException"
    lab.advance(5)
    assert register(lab, "c5")["ConsumerStatus"] == "CREATING"


@pytest.mark.parametrize("name", ["", "has space", "x" * 129])
def test_a_consumer_name_outside_aws_pattern_is_a_validation_error(lab, name):
    lab.create_stream("s")
    with pytest.raises(AwsError) as e:
        register(lab, name)
    assert e.value.code == "ValidationException"
    assert lab.list_stream_consumers(S)["Consumers"] == []


def test_registering_on_an_unknown_stream_is_resource_not_found(lab):
    with pytest.raises(AwsError) as e:
        lab.register_stream_consumer(StreamARN=arns.stream_arn("nope"), ConsumerName="c")
    assert e.value.code == "ResourceNotFoundException"
    assert e.value.message == f"Stream nope under account {arns.ACCOUNT} not found."


def test_deleting_the_stream_deletes_its_consumers(lab):
    lab.create_stream("s")
    arn = register(lab)["ConsumerARN"]
    lab.delete_stream("s")
    lab.create_stream("s")
    assert lab.list_stream_consumers(S)["Consumers"] == []
    with pytest.raises(AwsError):
        lab.describe_stream_consumer(ConsumerARN=arn)


# -- a mapping on a consumer ARN ---------------------------------------------------------


def test_a_mapping_on_a_consumer_arn_has_the_stream_defaults_and_keeps_the_consumer_arn(lab):
    arn = efo_lab(lab, Enabled=False)
    m = lab.engine.mappings.get("m")
    assert m["EventSourceArn"] == arn
    assert m["State"] == "Creating" and m["LastProcessingResult"] == "No records processed"
    assert (m["BatchSize"], m["ParallelizationFactor"], m["MaximumRetryAttempts"],
            m["MaximumRecordAgeInSeconds"], m["StartingPosition"]) == (100, 1, -1, -1,
                                                                       "TRIM_HORIZON")
    assert m["DestinationConfig"] == {"OnFailure": {}}


def test_records_read_through_a_consumer_carry_the_consumer_arn_as_event_source_arn(lab):
    arn = efo_lab(lab)
    lab.put_record("s", "k", "hello")
    lab.advance(2)
    [event] = events(lab)
    [record] = event["Records"]
    assert record["eventSourceARN"] == arn
    assert record["eventID"].startswith("shardId-000000000000:")


def test_records_read_from_the_stream_carry_the_stream_arn(lab):
    lab.create_stream("s")
    lab.create_function("f")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON")
    lab.put_record("s", "k", "hello")
    lab.advance(2)
    assert events(lab)[0]["Records"][0]["eventSourceARN"] == S


def test_a_consumer_mappings_failure_record_names_the_consumer_arn_as_stream_arn(lab):
    lab.create_queue("dest")
    arn = efo_lab(lab, MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": arns.queue_arn("dest")}})
    lab.set_behaviour("f", mode="fail")
    lab.put_record("s", "k", "bad")
    lab.run_until_idle()
    [message] = lab.engine.queues.page("dest")
    info = json.loads(message["body"])["KinesisBatchInfo"]
    assert info["streamArn"] == arn and info["batchSize"] == 1


def test_a_stream_and_a_consumer_mapping_of_one_function_both_get_every_record(lab):
    arn = efo_lab(lab)
    lab.create_mapping(label="shared", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON")
    lab.put_record("s", "k", "x")
    lab.advance(2)
    sources = sorted(i["event"]["Records"][0]["eventSourceARN"]
                     for i in lab.invocations(limit=100))
    assert sources == sorted([S, arn])


def test_a_role_without_subscribe_to_shard_cannot_map_a_consumer_with_aws_message(lab):
    lab.create_stream("s")
    arn = register(lab)["ConsumerARN"]
    lab.advance(5)
    lab.create_function("f")
    lab.update_role("f", revoke=["kinesis:SubscribeToShard"])
    with pytest.raises(AwsError) as e:
        lab.create_mapping(FunctionName="f", EventSourceArn=arn, StartingPosition="LATEST")
    assert e.value.code == "InvalidParameterValueException"
    assert e.value.message == (
        f"Cannot access event source {arn}. Please ensure the role can perform the "
        "DescribeStreamSummary, ListShards, GetShardIterator and GetRecords actions on your "
        "stream and SubscribeToShard on your consumer.")
    # The stream itself needs no SubscribeToShard (recorded: deny_SubscribeToShard_stream).
    lab.create_mapping(FunctionName="f", EventSourceArn=S, StartingPosition="LATEST")


@pytest.mark.parametrize("action", ["kinesis:DescribeStream", "kinesis:ListStreams"])
def test_a_consumer_mapping_needs_neither_describe_stream_nor_list_streams(lab, action):
    lab.create_stream("s")
    arn = register(lab)["ConsumerARN"]
    lab.create_function("f")
    lab.update_role("f", revoke=[action])
    assert lab.create_mapping(FunctionName="f", EventSourceArn=arn,
                              StartingPosition="LATEST")["State"] == "Creating"


def test_a_consumer_arn_that_names_no_consumer_is_stream_not_found(lab):
    lab.create_stream("s")
    lab.create_function("f")
    missing = f"{S}/consumer/ghost:1704067200"
    with pytest.raises(AwsError) as e:
        lab.create_mapping(FunctionName="f", EventSourceArn=missing, StartingPosition="LATEST")
    assert e.value.message == f"Stream not found: {missing}"


def test_a_mapping_waits_while_its_consumer_is_creating_and_reads_once_it_is_active(lab):
    efo_lab(lab, active=False)
    lab.put_record("s", "k", "early")
    lab.advance(4)
    assert events(lab) == []
    assert "not in ACTIVE status" in lab.engine.mappings.get("m")["LastProcessingResult"]
    lab.advance(3)
    assert len(events(lab)) == 1
    assert lab.engine.mappings.get("m")["LastProcessingResult"] == "OK"


def test_a_deregistered_consumer_leaves_its_mapping_enabled_and_unable_to_read(lab):
    arn = efo_lab(lab)
    lab.deregister_stream_consumer(ConsumerARN=arn)
    lab.advance(6)
    lab.put_record("s", "k", "late")
    lab.advance(3)
    m = lab.engine.mappings.get("m")
    assert m["State"] == "Enabled" and events(lab) == []
    assert m["LastProcessingResult"] == f"PROBLEM: Stream not found: {arn}"


def test_a_lab_with_consumers_replays_to_the_same_journal(tmp_path):
    lab = Lab.create(tmp_path / "a.db", seed=3)
    efo_lab(lab)
    lab.put_record("s", "k", "x")
    lab.advance(10)
    lab.deregister_stream_consumer(StreamARN=S, ConsumerName="fast")
    lab.advance(10)
    before = lab.journal_signature()
    lab.rebuild()
    assert lab.journal_signature() == before
    lab.close()


def test_records_are_pushed_to_a_consumer_mapping_at_once_and_polled_on_the_shared_path(lab):
    arn = efo_lab(lab)
    lab.create_mapping(label="shared", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON")
    lab.advance(0.3)
    written = lab.now_ms
    lab.put_record("s", "k", "x")
    lab.advance(2)
    started = {i["event"]["Records"][0]["eventSourceARN"]: i["start_ms"] - written
               for i in lab.invocations(limit=100)}
    assert started[arn] == 0            # SubscribeToShard pushes the record
    assert started[S] > 0               # the shared iterator waits for its next poll


# -- declared in a lesson, imported from a template ----------------------------------------


def test_a_lessons_stream_may_declare_consumers_and_a_mapping_may_name_one(tmp_path):
    from esmlab.scenario.loader import load_scenario_text
    from esmlab.scenario.player import Player
    text = """
name: t
title: t
see: a consumer declared with its stream
resources:
  functions: [{FunctionName: f}]
  streams: [{StreamName: s, Consumers: [fast]}]
  mappings:
    - {id: m, FunctionName: f, StartingPosition: TRIM_HORIZON,
       EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/fast"}
steps:
  - advance: 5s
  - put_record: {StreamName: s, PartitionKey: k, Data: x}
  - advance: 1s
  - expect:
      invocations: {mapping: m, count: 1}
"""
    lab = Lab.create(tmp_path / "l.db")
    player = Player(load_scenario_text(text, "t.yaml"), lab)
    assert all(r.ok for r in player.steps())
    [consumer] = lab.list_stream_consumers(S)["Consumers"]
    assert lab.engine.mappings.get("m")["EventSourceArn"] == consumer["ConsumerARN"]
    lab.close()


def test_a_cloudformation_stream_consumer_becomes_a_consumer_its_mapping_reads(tmp_path):
    from esmlab.imports import build_lab, read_plan
    (tmp_path / "t.yaml").write_text("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Consumer:
    Type: AWS::Kinesis::StreamConsumer
    Properties: {StreamARN: !GetAtt Clicks.Arn, ConsumerName: fast}
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Kinesis, Properties: {Stream: !GetAtt Consumer.ConsumerARN,
                                        StartingPosition: LATEST}}
""")
    lab = build_lab(read_plan(str(tmp_path / "t.yaml")), str(tmp_path / "i.db"))
    [consumer] = lab.list_stream_consumers(arns.stream_arn("Clicks"))["Consumers"]
    [m] = lab.engine.mappings.list()
    assert consumer["ConsumerName"] == "fast" and m["EventSourceArn"] == consumer["ConsumerARN"]
    lab.close()


def test_a_terraform_stream_consumer_becomes_a_consumer_its_mapping_reads(tmp_path):
    from esmlab.imports import build_lab, read_plan
    (tmp_path / "main.tf").write_text("""
resource "aws_kinesis_stream" "s" {
  name        = "clicks"
  shard_count = 1
}
resource "aws_kinesis_stream_consumer" "c" {
  name       = "fast"
  stream_arn = aws_kinesis_stream.s.arn
}
resource "aws_lambda_function" "f" {
  function_name = "reader"
}
resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn  = aws_kinesis_stream_consumer.c.arn
  function_name     = aws_lambda_function.f.arn
  starting_position = "LATEST"
}
""")
    lab = build_lab(read_plan(str(tmp_path / "main.tf")), str(tmp_path / "i.db"))
    [consumer] = lab.list_stream_consumers(arns.stream_arn("clicks"))["Consumers"]
    assert lab.engine.mappings.get("m")["EventSourceArn"] == consumer["ConsumerARN"]
    lab.close()
