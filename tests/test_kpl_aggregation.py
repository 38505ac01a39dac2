"""KPL aggregation: one Kinesis record holding many user records, delivered
as one record on the shared iterator and de-aggregated through an enhanced
fan-out consumer. Evidence: stackd's native AWS captures
testdata/aws/lambda/kinesis_reshard.json (phases kpl_standard, kpl_consumer)
and kinesis_source.json (2026-09)."""

import base64
import json

import pytest

from esmlab.engine import arns
from esmlab.engine.sources import kpl
from esmlab.engine.sources.stream import HASH_KEY_MAX
from esmlab.errors import AwsError
from esmlab.lab import Lab

S = arns.stream_arn("s")
# The aggregate AWS delivered on the shared iterator in the recorded run
# (kinesis_reshard.json, kpl_standard): three user records, key owned-key.
RECORDED = ("84mawgoJb3duZWQta2V5GisIABoneyJwaGFzZSI6ICJrcGxfc3RhbmRhcmQiLCAib3JkaW5hbCI6IDF9GisI"
            "ABoneyJwaGFzZSI6ICJrcGxfc3RhbmRhcmQiLCAib3JkaW5hbCI6IDJ9GisIABoneyJwaGFzZSI6ICJrcGxf"
            "c3RhbmRhcmQiLCAib3JkaW5hbCI6IDN9F5YQUJXmUfVfIEJYkTTgOw==")
RECORDED_USERS = [{"PartitionKey": "owned-key",
                   "Data": json.dumps({"phase": "kpl_standard", "ordinal": n})} for n in (1, 2, 3)]


def both(lab, *, shards=1, **params):
    """A stream with a mapping on it (`shared`) and one through a consumer (`efo`)."""
    lab.create_stream("s", shards)
    arn = lab.register_stream_consumer(StreamARN=S, ConsumerName="c")["Consumer"]["ConsumerARN"]
    lab.advance(5)
    lab.create_function("f", Timeout=3)
    lab.create_mapping(label="shared", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON", **params)
    lab.create_mapping(label="efo", FunctionName="f", EventSourceArn=arn,
                       StartingPosition="TRIM_HORIZON", **params)
    return arn


def records(lab, mapping):
    return [r for i in lab.invocations(mapping=mapping, limit=1000)
            if i["status"] != "throttled" for r in i["event"]["Records"]]


def texts(recs):
    return [base64.b64decode(r["kinesis"]["data"]).decode("utf-8", "replace") for r in recs]


# -- the format ---------------------------------------------------------------------------


def test_the_kpl_codec_reproduces_the_recorded_aggregate_byte_for_byte():
    users = [kpl.UserRecord(u["PartitionKey"], u["Data"].encode()) for u in RECORDED_USERS]
    assert base64.b64encode(kpl.aggregate(users)).decode() == RECORDED
    assert kpl.deaggregate(base64.b64decode(RECORDED)) == users


def test_deaggregation_reads_explicit_hash_keys_and_several_partition_keys():
    users = [kpl.UserRecord("a", b"1"), kpl.UserRecord("b", b"2", "17"), kpl.UserRecord("a", b"3")]
    assert kpl.deaggregate(kpl.aggregate(users)) == users


@pytest.mark.parametrize("data", [b"plain text", b"", kpl.MAGIC + b"\x00" * 20,
                                  kpl.aggregate([kpl.UserRecord("k", b"x")])[:-1] + b"\x00"])
def test_data_that_is_not_a_valid_aggregate_is_not_deaggregated(data):
    assert kpl.deaggregate(data) is None


# -- the two paths ------------------------------------------------------------------------


def test_a_shared_mapping_gets_an_aggregate_as_one_record_whose_data_is_the_aggregate(lab):
    both(lab)
    put = lab.put_aggregated_record("s", RECORDED_USERS)
    lab.advance(3)
    [record] = records(lab, "shared")
    assert record["kinesis"]["data"] == RECORDED
    assert record["kinesis"]["sequenceNumber"] == put["SequenceNumber"]
    assert record["kinesis"]["partitionKey"] == "owned-key"


def test_a_consumer_mapping_gets_each_user_record_with_the_aggregates_sequence_number(lab):
    arn = both(lab)
    put = lab.put_aggregated_record("s", RECORDED_USERS)
    lab.advance(3)
    got = records(lab, "efo")
    assert texts(got) == [u["Data"] for u in RECORDED_USERS]
    assert {r["kinesis"]["sequenceNumber"] for r in got} == {put["SequenceNumber"]}
    assert {r["eventID"] for r in got} == {f"{put['ShardId']}:{put['SequenceNumber']}"}
    assert len({r["kinesis"]["approximateArrivalTimestamp"] for r in got}) == 1
    assert {r["eventSourceARN"] for r in got} == {arn}
    assert all(set(r["kinesis"]) == {"kinesisSchemaVersion", "partitionKey", "sequenceNumber",
                                     "data", "approximateArrivalTimestamp"} for r in got)


def test_each_deaggregated_record_carries_its_own_user_partition_key(lab):
    both(lab)
    lab.put_aggregated_record("s", [{"PartitionKey": "a", "Data": "1"},
                                    {"PartitionKey": "b", "Data": "2"}], PartitionKey="outer")
    lab.advance(3)
    assert [r["kinesis"]["partitionKey"] for r in records(lab, "efo")] == ["a", "b"]
    assert [r["kinesis"]["partitionKey"] for r in records(lab, "shared")] == ["outer"]


def test_a_consumer_mapping_delivers_a_record_that_is_not_an_aggregate_unchanged(lab):
    both(lab)
    lab.put_record("s", "k", "plain")
    lab.advance(3)
    assert texts(records(lab, "efo")) == texts(records(lab, "shared")) == ["plain"]


def test_a_user_record_whose_hash_key_is_outside_the_shard_is_dropped_on_a_consumer(lab):
    both(lab, shards=2)
    # The aggregate goes to shard 0 (hash key 0); one user record's explicit
    # hash key belongs to shard 1's range, so the consumer drops it.
    lab.put_aggregated_record("s", [{"Data": "in", "ExplicitHashKey": "1"},
                                    {"Data": "out", "ExplicitHashKey": str(HASH_KEY_MAX)},
                                    {"Data": "in too", "ExplicitHashKey": "2"}],
                              PartitionKey="k", ExplicitHashKey="0")
    lab.advance(3)
    assert texts(records(lab, "efo")) == ["in", "in too"]
    assert len(records(lab, "shared")) == 1


def test_a_json_filter_drops_an_aggregate_on_the_shared_path_and_keeps_matching_user_records(lab):
    both(lab, FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"keep": [True]}})}]})
    lab.put_aggregated_record("s", [{"PartitionKey": "k", "Data": json.dumps({"keep": True})},
                                    {"PartitionKey": "k", "Data": json.dumps({"keep": False})},
                                    {"PartitionKey": "k", "Data": json.dumps({"keep": True})}])
    lab.advance(3)
    assert records(lab, "shared") == []
    assert texts(records(lab, "efo")) == [json.dumps({"keep": True})] * 2


def test_an_aggregate_whose_user_records_all_fail_the_filter_moves_the_consumer_checkpoint(lab):
    both(lab, FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"keep": [True]}})}]})
    lab.put_aggregated_record("s", [{"PartitionKey": "k", "Data": json.dumps({"keep": False})}])
    lab.put_record("s", "k", json.dumps({"keep": True}))
    lab.advance(3)
    assert texts(records(lab, "efo")) == [json.dumps({"keep": True})]


def test_a_partial_response_naming_the_aggregate_retries_all_its_user_records(lab):
    both(lab, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1)
    lab.set_behaviour("f", mode="partial", match={"text": "bad"})
    lab.put_record("s", "k", "first")
    lab.put_aggregated_record("s", [{"PartitionKey": "k", "Data": "ok"},
                                    {"PartitionKey": "k", "Data": "bad"}])
    lab.run_until_idle()
    payloads = [texts(i["event"]["Records"]) for i in lab.invocations(mapping="efo", limit=100)]
    # first + both user records; then the suffix from the aggregate (its
    # sequence number is the lowest failed one) twice: a fresh budget of 1 retry.
    assert payloads == [["first", "ok", "bad"], ["ok", "bad"], ["ok", "bad"]]


def test_a_failure_record_of_a_deaggregated_batch_counts_the_user_records(lab):
    lab.create_queue("dest")
    both(lab, MaximumRetryAttempts=0,
         DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("dest")}})
    lab.set_behaviour("f", mode="fail")
    put = lab.put_aggregated_record("s", RECORDED_USERS)
    lab.run_until_idle()
    infos = {json.loads(m["body"])["KinesisBatchInfo"]["streamArn"]:
             json.loads(m["body"])["KinesisBatchInfo"] for m in lab.engine.queues.page("dest")}
    efo = next(v for k, v in infos.items() if "/consumer/" in k)
    assert efo["batchSize"] == 3
    assert efo["startSequenceNumber"] == efo["endSequenceNumber"] == put["SequenceNumber"]
    assert infos[S]["batchSize"] == 1


def test_put_aggregated_record_routes_by_its_partition_key_and_refuses_no_records(lab):
    lab.create_stream("s", 2)
    put = lab.put_aggregated_record("s", [{"Data": "x"}], PartitionKey="k")
    assert put["UserRecords"] == 1 and put["ShardId"] == lab.put_record("s", "k", "y")["ShardId"]
    with pytest.raises(AwsError) as e:
        lab.put_aggregated_record("s", [])
    assert e.value.code == "ValidationException"
    with pytest.raises(AwsError):
        lab.put_aggregated_record("s", [{"Data": "no key"}])


def test_a_lab_with_aggregated_records_replays_to_the_same_journal(tmp_path):
    lab = Lab.create(tmp_path / "a.db", seed=5)
    both(lab)
    lab.put_aggregated_record("s", RECORDED_USERS)
    lab.advance(5)
    before = lab.journal_signature()
    lab.rebuild()
    assert lab.journal_signature() == before
    lab.close()
