"""Stream mappings (Kinesis, DynamoDB Streams): one test per rule of the
reference (sections 1, 3, 4.2-4.6, 5, 6), driven through the Lab facade and
checked on invocations, checkpoints, journal, metrics and destinations."""

from __future__ import annotations

import base64
import json
import re
import sys

import pytest

from esmlab.engine import arns
from esmlab.engine.mappings.stream_poller import lane_of

S = arns.stream_arn("s")
T0 = None  # the lab's start time, set per test by setup()


# -- helpers -------------------------------------------------------------------------

def kinesis(lab, shards=1, fn="f", label="m", timeout=3, duration=None, create_stream=True,
            **params):
    if create_stream:
        lab.create_stream("s", ShardCount=shards)
    if fn not in lab.engine.functions.names():
        kw = {"duration": duration} if duration else {}
        lab.create_function(fn, Timeout=timeout, **kw)
    p = {"FunctionName": fn, "EventSourceArn": S, "StartingPosition": "TRIM_HORIZON"}
    p.update(params)
    return lab.create_mapping(label=label, **p)


def table(lab, view="NEW_AND_OLD_IMAGES", keys=("pk",)):
    info = lab.create_table("tbl", list(keys), StreamSpecification=view)
    return info["stream_arn"]


def dynamo(lab, fn="f", label="m", view="NEW_AND_OLD_IMAGES", keys=("pk",), **params):
    arn = table(lab, view, keys)
    lab.create_function(fn, Timeout=3)
    p = {"FunctionName": fn, "EventSourceArn": arn, "StartingPosition": "TRIM_HORIZON"}
    p.update(params)
    lab.create_mapping(label=label, **p)
    return arn


def put(lab, key, data, stream="s"):
    return lab.put_record(stream, key, data)


def seqs(inv) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] if "kinesis" in r else r["dynamodb"]["SequenceNumber"]
            for r in inv["event"]["Records"]]


def datas(inv) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in inv["event"]["Records"]]


def reached(lab, label="m"):
    """Invocations that reached the function (not throttled)."""
    return [i for i in lab.invocations(mapping=label, limit=10**6) if i["status"] != "throttled"]


def at(lab, inv) -> int:
    return inv["start_ms"] - lab.engine.start_ms


def kinds(lab, kind, label="m"):
    return [e for e in lab.journal(kind=kind, limit=100000) if e["resource"] == label]


def lanes(lab, label="m"):
    m = lab.mapping(label)
    return lab.engine.mappings.streams.lanes(m["uuid"])


def checkpoint(lab, label="m", shard=None) -> str | None:
    rows = lanes(lab, label)
    if shard is not None:
        rows = [r for r in rows if r[0] == shard]
    return rows[0][2]


def handler_module(tmp_path, name, body):
    """Write a user handler module into tmp_path and make it importable."""
    (tmp_path / f"{name}.py").write_text(body)
    if str(tmp_path) not in sys.path:
        sys.path.insert(0, str(tmp_path))
    sys.modules.pop(name, None)
    return f"{name}:handler"


def fixed_response_handler(tmp_path, name, response):
    return handler_module(tmp_path, name,
                          f"import json\nRESPONSE = json.loads({json.dumps(json.dumps(response))})\n"
                          "def handler(event, context):\n    return RESPONSE\n")


# -- checkpoints and polling ---------------------------------------------------------

def test_each_mapping_keeps_its_own_checkpoint_and_records_stay_in_the_stream(lab):
    kinesis(lab, label="fast")
    lab.create_function("g", Timeout=3, behaviour={"mode": "fail_first", "count": 2})
    lab.create_mapping(label="slow", FunctionName="g", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON")
    written = [put(lab, f"k{i}", f"r{i}")["SequenceNumber"] for i in range(3)]
    lab.advance(0.3)
    # fast is done after one poll; slow is still retrying its failed batch
    assert checkpoint(lab, "fast") == written[-1]
    assert checkpoint(lab, "slow") is None
    lab.run_until_idle()
    assert checkpoint(lab, "slow") == written[-1]
    assert [seqs(i) for i in reached(lab, "fast")] == [written]
    assert [seqs(i) for i in reached(lab, "slow")] == [written] * 3
    # processed records stay in the stream for other readers
    shard = lab.engine.streams.shards("s")[0]["shard_id"]
    assert [r["seq"] for r in lab.engine.streams.page("s", shard)] == written


def test_kinesis_is_polled_once_a_second_and_batches_follow_without_waiting(lab):
    kinesis(lab, BatchSize=2)
    lab.advance(0.3)
    for i in range(6):
        put(lab, f"k{i}", f"r{i}")
    lab.run_until_idle()
    invs = reached(lab)
    # picked up at the next 1 s poll, then each batch right after the last (100 ms each)
    assert [at(lab, i) for i in invs] == [1000, 1100, 1200]
    assert [len(seqs(i)) for i in invs] == [2, 2, 2]


def test_dynamodb_stream_is_polled_four_times_a_second(lab):
    dynamo(lab)
    lab.advance(0.1)
    lab.do("put_item", TableName="tbl", Item={"pk": {"S": "a"}})
    lab.run_until_idle()
    assert [at(lab, i) for i in reached(lab)] == [250]


# -- batches ---------------------------------------------------------------------------

def test_batch_closes_on_batch_size(lab):
    kinesis(lab, BatchSize=3)
    for i in range(4):
        put(lab, f"k{i}", f"r{i}")
    lab.run_until_idle()
    invs = reached(lab)
    assert [len(seqs(i)) for i in invs] == [3, 1]
    started = kinds(lab, "invoke.started")
    assert "BatchSize 3 was reached" in started[0]["reason"]
    assert "no batching window" in started[1]["reason"]
    assert invs[0]["detail"]["reason"] == "BatchSize 3 was reached"


def test_batch_closes_when_the_batching_window_elapses(lab):
    kinesis(lab, BatchSize=100, MaximumBatchingWindowInSeconds=5)
    lab.advance(0.3)
    put(lab, "a", "1")
    lab.advance(2)
    put(lab, "b", "2")
    lab.run_until_idle()
    invs = reached(lab)
    # the records were first seen at the 1 s poll; the window closes 5 s later
    assert [at(lab, i) for i in invs] == [6000]
    assert len(seqs(invs[0])) == 2
    assert "batching window of 5 s elapsed" in kinds(lab, "invoke.started")[0]["reason"]


def test_batch_closes_at_the_6_mb_payload_limit(lab):
    kinesis(lab, BatchSize=100)
    blob = "x" * 1_000_000  # base64 makes each record ~1.33 MB in the event
    for i in range(6):
        put(lab, f"k{i}", blob)
    lab.run_until_idle()
    invs = reached(lab)
    assert [len(seqs(i)) for i in invs] == [4, 2]
    assert len(json.dumps(invs[0]["event"], separators=(",", ":"))) <= 6 * 1024 * 1024
    assert "6 MB payload limit" in kinds(lab, "invoke.started")[0]["reason"]


def test_batch_closes_at_the_end_of_a_closed_shard(lab):
    kinesis(lab, BatchSize=100)
    put(lab, "a", "1")
    put(lab, "b", "2")
    parent = lab.engine.streams.shards("s")[0]["shard_id"]
    lab.do("split_shard", StreamName="s", ShardToSplit=parent,
           NewStartingHashKey=str(2 ** 127))
    lab.run_until_idle()
    first = reached(lab)[0]
    assert first["detail"]["shard"] == parent and len(seqs(first)) == 2
    assert "end of the shard" in kinds(lab, "invoke.started")[0]["reason"]


# -- starting position ---------------------------------------------------------------------

def test_starting_position_latest_reads_only_records_written_after_creation(lab):
    lab.create_stream("s")
    put(lab, "a", "before")
    kinesis(lab, create_stream=False, StartingPosition="LATEST")
    put(lab, "a", "after")
    lab.run_until_idle()
    assert [datas(i) for i in reached(lab)] == [["after"]]


def test_starting_position_trim_horizon_reads_from_the_oldest_record(lab):
    lab.create_stream("s")
    put(lab, "a", "before")
    kinesis(lab, create_stream=False, StartingPosition="TRIM_HORIZON")
    put(lab, "a", "after")
    lab.run_until_idle()
    assert [d for i in reached(lab) for d in datas(i)] == ["before", "after"]


def test_starting_position_at_timestamp_reads_from_that_arrival_time(lab):
    lab.create_stream("s")
    put(lab, "a", "old")
    lab.advance(10)
    put(lab, "a", "new")
    lab.advance(1)
    kinesis(lab, create_stream=False, StartingPosition="AT_TIMESTAMP",
            StartingPositionTimestamp=(lab.engine.start_ms + 5000) / 1000)
    lab.run_until_idle()
    assert [d for i in reached(lab) for d in datas(i)] == ["new"]


# -- parallelization ---------------------------------------------------------------------------

def test_parallelization_factor_lanes_by_partition_key_keep_order_per_key(lab):
    kinesis(lab, shards=2, BatchSize=2, ParallelizationFactor=3,
            duration={"fixed_ms": 500, "per_record_ms": 0})
    keys = [f"k{i}" for i in range(12)]
    by_key: dict[str, list[str]] = {}
    for rnd in range(3):
        for k in keys:
            by_key.setdefault(k, []).append(put(lab, k, f"{k}-{rnd}")["SequenceNumber"])
    lab.run_until_idle()
    invs = reached(lab)
    # every record once, each invocation from one lane of one shard
    assert sorted(s for i in invs for s in seqs(i)) == sorted(s for v in by_key.values() for s in v)
    for inv in invs:
        pks = {r["kinesis"]["partitionKey"] for r in inv["event"]["Records"]}
        assert len({lane_of(k, 3) for k in pks}) == 1
    # order per key holds across invocations
    for k, written in by_key.items():
        seen = [r["kinesis"]["sequenceNumber"] for i in invs for r in i["event"]["Records"]
                if r["kinesis"]["partitionKey"] == k]
        assert seen == written
    # at most open shards x factor = 6 invocations at once, and it gets there
    edges = sorted([(i["start_ms"], 1) for i in invs] + [(i["end_ms"], -1) for i in invs],
                   key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, d in edges:
        running += d
        peak = max(peak, running)
    lanes_used = {(i["detail"]["shard"], i["detail"]["lane"]) for i in invs}
    assert peak == len(lanes_used) <= 6 and peak >= 5


# -- resharding -----------------------------------------------------------------------------

def test_child_shard_is_read_only_after_its_parent_is_finished(lab):
    kinesis(lab, BatchSize=10)
    lab.set_behaviour("f", mode="fail_first", count=3)
    put(lab, "a", "parent-1")
    parent = lab.engine.streams.shards("s")[0]["shard_id"]
    lab.do("split_shard", StreamName="s", ShardToSplit=parent,
           NewStartingHashKey=str(2 ** 127))
    for i in range(4):
        put(lab, f"k{i}", f"child-{i}")
    lab.run_until_idle()
    invs = reached(lab)
    parent_ok = [i for i in invs if i["detail"]["shard"] == parent and i["status"] == "success"]
    children = [i for i in invs if i["detail"]["shard"] != parent]
    assert len(parent_ok) == 1 and children
    assert all(c["start_ms"] >= parent_ok[0]["end_ms"] for c in children)
    assert sorted(d for c in children for d in datas(c)) == [f"child-{i}" for i in range(4)]
    assert kinds(lab, "shard.finished") and kinds(lab, "shard.started")


# -- function errors ------------------------------------------------------------------------

def two_shard_keys(lab):
    """A partition key for each of the stream's two shards."""
    out = {}
    for i in range(50):
        shard = lab.engine.streams.shards("s")
        from esmlab.engine.sources.stream import partition_hash
        h = partition_hash(f"k{i}")
        for n, s in enumerate(shard):
            if int(s["hash_start"]) <= h <= int(s["hash_end"]):
                out.setdefault(n, f"k{i}")
    return out[0], out[1]


@pytest.mark.parametrize("failure", ["exception", "timeout", "invalid_response"])
def test_function_error_blocks_the_shard_but_not_other_shards(lab, tmp_path, failure):
    extra = {}
    if failure == "invalid_response":
        extra["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    kinesis(lab, shards=2, BatchSize=2, **extra)
    bad_key, good_key = two_shard_keys(lab)
    if failure == "exception":
        lab.set_behaviour("f", mode="poison", match={"partition_key": bad_key})
    elif failure == "timeout":
        lab.set_behaviour("f", mode="timeout", match={"partition_key": bad_key})
    else:
        spec = handler_module(tmp_path, "bad_identifier", (
            "def handler(event, context):\n"
            f"    if any(r['kinesis']['partitionKey'] == {bad_key!r} for r in event['Records']):\n"
            "        return {'batchItemFailures': [{'itemIdentifier': ''}]}\n"
            "    return None\n"))
        lab.set_behaviour("f", mode="handler", handler=spec)
    blocked = [put(lab, bad_key, f"b{i}") for i in range(4)]
    free = [put(lab, good_key, f"g{i}") for i in range(4)]
    lab.advance(60)
    invs = reached(lab)
    on_bad = [i for i in invs if i["detail"]["shard"] == blocked[0]["ShardId"]]
    on_good = [i for i in invs if i["detail"]["shard"] == free[0]["ShardId"]]
    # the failing shard retries the same first batch and never gets further
    assert len(on_bad) > 3
    assert {tuple(seqs(i)) for i in on_bad} == {tuple(r["SequenceNumber"] for r in blocked[:2])}
    assert all(i["status"] == ("timeout" if failure == "timeout" else
                               "success" if failure == "invalid_response" else "error")
               for i in on_bad)
    assert checkpoint(lab, shard=blocked[0]["ShardId"]) is None
    # the other shard went on
    assert [s for i in on_good for s in seqs(i)] == [r["SequenceNumber"] for r in free]
    assert checkpoint(lab, shard=free[0]["ShardId"]) == free[-1]["SequenceNumber"]
    assert lab.engine.mappings.streams.blocked(lab.mapping("m")) == {
        blocked[0]["ShardId"]: True, free[0]["ShardId"]: False}
    assert kinds(lab, "batch.retry")


def test_maximum_retry_attempts_gives_n_plus_1_invocations_then_discards(lab):
    kinesis(lab, BatchSize=10, MaximumRetryAttempts=2)
    lab.set_behaviour("f", mode="poison", match={"text": "bad"})
    bad = put(lab, "a", "bad")
    lab.run_until_idle()
    assert [i["status"] for i in reached(lab)] == ["error"] * 3
    after = put(lab, "a", "good")
    lab.run_until_idle()
    invs = reached(lab)
    assert len(invs) == 4 and seqs(invs[-1]) == [after["SequenceNumber"]]
    discarded = kinds(lab, "batch.discarded")
    assert len(discarded) == 1 and "MaximumRetryAttempts 2" in discarded[0]["reason"]
    assert bad["SequenceNumber"] in discarded[0]["reason"]
    # no destination: no DroppedEventCount datapoint (as recorded, reference 8.6)
    assert lab.metric_series("m", "DroppedEventCount") == []
    assert sum(v for _, v in lab.metric_series("f", "Errors")) == 3


def test_maximum_record_age_discards_old_records_before_invoking(lab):
    lab.create_stream("s")
    old = [put(lab, "a", f"old{i}") for i in range(2)]
    lab.advance(100)
    put(lab, "a", "fresh")
    kinesis(lab, create_stream=False, MaximumRecordAgeInSeconds=60)
    lab.run_until_idle()
    invs = reached(lab)
    assert [datas(i) for i in invs] == [["fresh"]]
    discarded = kinds(lab, "batch.discarded")
    assert len(discarded) == 1 and discarded[0]["data"]["condition"] == "RecordAgeExceeded"
    assert "MaximumRecordAgeInSeconds 60" in discarded[0]["reason"]
    assert old[0]["SequenceNumber"] in discarded[0]["reason"]


def test_maximum_record_age_ends_a_blocked_retry_loop(lab):
    kinesis(lab, MaximumRecordAgeInSeconds=60)
    lab.set_behaviour("f", mode="fail")
    put(lab, "a", "poison")
    lab.run_until_idle()
    invs = reached(lab)
    # retried until the record was older than 60 s, then discarded without another invoke
    assert at(lab, invs[-1]) <= 61_000
    discarded = kinds(lab, "batch.discarded")
    assert len(discarded) == 1 and discarded[0]["at_ms"] - lab.engine.start_ms > 60_000
    assert discarded[0]["data"]["condition"] == "RecordAgeExceeded"


def test_retention_expiry_while_blocked_loses_the_records_and_says_so(lab):
    kinesis(lab)
    lab.set_behaviour("f", mode="fail")
    put(lab, "a", "poison")
    lab.advance(25 * 3600)
    expired = kinds(lab, "records.expired")
    assert len(expired) == 1 and "retention" in expired[0]["reason"]
    assert "lost" in expired[0]["reason"]
    n = len(reached(lab))
    lab.set_behaviour("f", mode="succeed")
    after = put(lab, "a", "next")
    lab.run_until_idle()
    invs = reached(lab)
    # nothing more of the lost record; the shard moved on
    assert len(invs) == n + 1 and seqs(invs[-1]) == [after["SequenceNumber"]]
    assert not kinds(lab, "batch.discarded")  # no destination record, no DroppedEventCount
    assert lab.metric_series("m", "DroppedEventCount") == []


# -- bisect ------------------------------------------------------------------------------------

def test_bisect_splits_the_failed_batch_in_order_without_using_retries(lab):
    kinesis(lab, BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0)
    lab.set_behaviour("f", mode="poison", match={"text": "bad"})
    written = [put(lab, f"k{i}", "bad" if i == 2 else f"ok{i}")["SequenceNumber"]
               for i in range(4)]
    lab.run_until_idle()
    got = [seqs(i) for i in reached(lab)]
    w = written
    assert got == [w, w[:2], w[2:], [w[2]], [w[3]]]
    assert [i["status"] for i in reached(lab)] == ["error", "success", "error", "error",
                                                   "success"]
    assert len(kinds(lab, "batch.bisected")) == 2
    discarded = kinds(lab, "batch.discarded")
    assert len(discarded) == 1 and discarded[0]["data"]["count"] == 1
    assert checkpoint(lab) == w[3]


def test_bisect_lets_a_batch_that_timed_out_fit_once_split(lab):
    kinesis(lab, BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
            timeout=3, duration={"fixed_ms": 0, "per_record_ms": 1000})
    written = [put(lab, f"k{i}", f"r{i}")["SequenceNumber"] for i in range(4)]
    lab.run_until_idle()
    invs = reached(lab)
    assert [i["status"] for i in invs] == ["timeout", "success", "success"]
    assert [seqs(i) for i in invs] == [written, written[:2], written[2:]]
    assert not kinds(lab, "batch.discarded")


# -- on-failure destinations -------------------------------------------------------------------

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def destination(lab, kind):
    if kind == "sqs":
        lab.create_queue("dest")
        return arns.queue_arn("dest")
    if kind == "sns":
        lab.do("create_topic", Name="dest")
        return arns.topic_arn("dest")
    lab.do("create_bucket", Bucket="dest-bucket")
    return arns.bucket_arn("dest-bucket")


def delivered(lab, kind) -> list[dict]:
    if kind == "sqs":
        return [{"body": json.loads(m["body"]), "key": None}
                for m in lab.engine.queues.page("dest")]
    return lab.engine.sinks.items("dest" if kind == "sns" else "dest-bucket")


@pytest.mark.parametrize("kind", ["sqs", "sns", "s3"])
def test_on_failure_destination_receives_the_kinesis_failure_record(lab, kind):
    dest = destination(lab, kind)
    kinesis(lab, BatchSize=10, MaximumRetryAttempts=1, MetricsConfig={"Metrics": ["EventCount"]},
            DestinationConfig={"OnFailure": {"Destination": dest}})
    lab.set_behaviour("f", mode="fail")
    lab.advance(0.25)
    first = put(lab, "a", "r1")
    lab.advance(0.5)
    last = put(lab, "b", "r2")
    lab.run_until_idle()
    items = delivered(lab, kind)
    assert len(items) == 1
    body = items[0]["body"]
    if kind == "sns":
        # a topic delivers an SNS notification whose Message is the record (8.2)
        assert body["Type"] == "Notification" and body["TopicArn"] == dest
        assert UUID.match(body["MessageId"]) and ISO_MS.match(body["Timestamp"])
        body = json.loads(body["Message"])
    shard = first["ShardId"]
    expected_keys = ["requestContext", "responseContext", "version", "timestamp",
                     "KinesisBatchInfo"] + (["payload"] if kind == "s3" else [])
    assert list(body) == expected_keys
    rc = body["requestContext"]
    assert set(rc) == {"requestId", "functionArn", "condition", "approximateInvokeCount"}
    assert UUID.match(rc["requestId"])
    assert rc["functionArn"] == arns.function_arn("f")
    assert rc["condition"] == "RetryAttemptsExhausted"
    assert rc["approximateInvokeCount"] == 2
    assert body["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                       "functionError": "Unhandled"}
    assert body["version"] == "1.0" and ISO_MS.match(body["timestamp"])
    assert body["KinesisBatchInfo"] == {
        "shardId": shard,
        "startSequenceNumber": first["SequenceNumber"],
        "endSequenceNumber": last["SequenceNumber"],
        "approximateArrivalOfFirstRecord": "2024-01-01T00:00:00.250Z",
        "approximateArrivalOfLastRecord": "2024-01-01T00:00:00.750Z",
        "batchSize": 2,
        "streamArn": S,
    }
    if kind == "s3":
        uuid = lab.mapping("m")["uuid"]
        assert re.match(rf"^aws/lambda/{uuid}/{shard}/2024/01/01/"
                        r"2024-01-01T\d\d\.\d\d\.\d\d-[0-9a-f-]{36}$", items[0]["key"])
        payload = json.loads(body["payload"])
        assert [r["kinesis"]["sequenceNumber"] for r in payload["Records"]] == [
            first["SequenceNumber"], last["SequenceNumber"]]
    assert kinds(lab, "batch.discarded")[0]["data"]["destination"] == dest
    assert lab.metric_series("m", "DroppedEventCount") == []
    assert [v for _, v in lab.metric_series("m", "OnFailureDestinationDeliveredEventCount")] == [2]


def test_on_failure_destination_receives_the_dynamodb_failure_record(lab):
    lab.create_queue("dest")
    arn = dynamo(lab, MaximumRetryAttempts=0,
                 DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("dest")}})
    lab.set_behaviour("f", mode="fail")
    lab.do("put_item", TableName="tbl", Item={"pk": {"S": "a"}})
    lab.run_until_idle()
    [msg] = lab.engine.queues.page("dest")
    body = json.loads(msg["body"])
    info = body["DDBStreamBatchInfo"]
    assert "KinesisBatchInfo" not in body and "payload" not in body
    assert info["streamArn"] == arn and info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seqs(reached(lab)[0])[0]
    assert info["approximateArrivalOfFirstRecord"] == "2024-01-01T00:00:00Z"
    assert body["requestContext"]["approximateInvokeCount"] == 1


def test_record_age_discard_sends_record_age_exceeded_without_response_context(lab):
    lab.create_queue("dest")
    lab.create_stream("s")
    put(lab, "a", "old")
    lab.advance(120)
    kinesis(lab, create_stream=False, MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("dest")}})
    lab.run_until_idle()
    [msg] = lab.engine.queues.page("dest")
    body = json.loads(msg["body"])
    # recorded on AWS (reference 8.2): no responseContext, a count of at least 1
    assert body["requestContext"]["condition"] == "RecordAgeExceeded"
    assert body["requestContext"]["approximateInvokeCount"] == 1
    assert "responseContext" not in body
    assert reached(lab) == []


# -- throttles -----------------------------------------------------------------------------------

def test_throttles_are_retried_without_using_maximum_retry_attempts(lab):
    lab.create_function("f", Timeout=3, ReservedConcurrentExecutions=0)
    kinesis(lab, MaximumRetryAttempts=0)
    rec = put(lab, "a", "r")
    lab.advance(120)
    throttled = [i for i in lab.invocations(mapping="m") if i["status"] == "throttled"]
    assert len(throttled) >= 5 and reached(lab) == []
    assert not kinds(lab, "batch.discarded")
    assert "without using up MaximumRetryAttempts" in kinds(lab, "invoke.throttled")[0]["reason"]
    assert sum(v for _, v in lab.metric_series("f", "Throttles")) == len(throttled)
    assert lab.metric_series("f", "Errors") == []
    lab.update_function("f", ReservedConcurrentExecutions=None)
    lab.run_until_idle()
    assert [seqs(i) for i in reached(lab)] == [[rec["SequenceNumber"]]]
    assert reached(lab)[0]["status"] == "success"
    assert checkpoint(lab) == rec["SequenceNumber"]


# -- ReportBatchItemFailures ----------------------------------------------------------------------

def test_partial_batch_failure_checkpoints_at_the_lowest_failed_sequence_number(lab, tmp_path):
    spec = handler_module(tmp_path, "fail_odd", (
        "def handler(event, context):\n"
        "    failed = [r['kinesis']['sequenceNumber'] for r in event['Records']\n"
        "              if r['kinesis']['partitionKey'] in ('k2', 'k4')]\n"
        "    return {'batchItemFailures': [{'itemIdentifier': s} for s in reversed(failed)]}\n"))
    kinesis(lab, BatchSize=10, MaximumRetryAttempts=1,
            FunctionResponseTypes=["ReportBatchItemFailures"])
    lab.set_behaviour("f", mode="handler", handler=spec)
    w = [put(lab, f"k{i}", f"r{i}")["SequenceNumber"] for i in range(6)]
    lab.advance(0.15)  # first invoke at 0 s (polling starts when Enabled), done at 0.1 s
    # records before the lowest failure (k2) are done; k2 onward is a new batch
    assert checkpoint(lab) == w[1]
    lab.run_until_idle()
    got = [seqs(i) for i in reached(lab)]
    # the new batch [k2..k5] names k2 first: the checkpoint does not move, so
    # each further report uses up an attempt: 1 + MaximumRetryAttempts 1
    assert got == [w, w[2:], w[2:]]
    partial = kinds(lab, "batch.partial")
    assert len(partial) == 3 and w[2] in partial[0]["reason"]
    discarded = kinds(lab, "batch.discarded")
    assert len(discarded) == 1 and discarded[0]["data"]["count"] == 4
    assert checkpoint(lab) == w[-1]


SUCCESS_FORMS = {"empty list": {"batchItemFailures": []},
                 "null list": {"batchItemFailures": None},
                 "empty object": {}, "null": None, "empty top-level list": []}
FAILURE_FORMS = {"empty identifier": {"batchItemFailures": [{"itemIdentifier": ""}]},
                 "null identifier": {"batchItemFailures": [{"itemIdentifier": None}]},
                 "wrong key name": {"batchItemFailures": [{"ItemIdentifier": "SEQ"}]},
                 "identifier not in batch": {"batchItemFailures": [{"itemIdentifier": "123"}]}}


@pytest.mark.parametrize("form", list(SUCCESS_FORMS))
def test_partial_batch_response_success_forms_checkpoint_the_whole_batch(lab, tmp_path, form):
    spec = fixed_response_handler(tmp_path, f"ok_{form.replace(' ', '_')}", SUCCESS_FORMS[form])
    kinesis(lab, FunctionResponseTypes=["ReportBatchItemFailures"])
    lab.set_behaviour("f", mode="handler", handler=spec)
    w = [put(lab, "a", f"r{i}")["SequenceNumber"] for i in range(3)]
    lab.run_until_idle()
    assert [seqs(i) for i in reached(lab)] == [w]
    assert checkpoint(lab) == w[-1]
    assert lab.mapping("m")["last_result"] == "OK"


@pytest.mark.parametrize("form", list(FAILURE_FORMS))
def test_partial_batch_response_failure_forms_fail_the_whole_batch(lab, tmp_path, form):
    spec = fixed_response_handler(tmp_path, f"bad_{form.replace(' ', '_')}", FAILURE_FORMS[form])
    kinesis(lab, MaximumRetryAttempts=1, FunctionResponseTypes=["ReportBatchItemFailures"])
    lab.set_behaviour("f", mode="handler", handler=spec)
    w = [put(lab, "a", f"r{i}")["SequenceNumber"] for i in range(3)]
    lab.run_until_idle()
    # the whole batch again, then discarded when the retry quota is used up
    assert [seqs(i) for i in reached(lab)] == [w, w]
    failed = kinds(lab, "batch.failed")
    assert len(failed) == 2 and "whole batch counts as failed" in failed[0]["reason"]
    assert kinds(lab, "batch.discarded")[0]["data"]["count"] == 3
    assert lab.mapping("m")["last_result"] == "PROBLEM: Function call failed"


def test_partial_batch_response_is_ignored_without_report_batch_item_failures(lab, tmp_path):
    spec = fixed_response_handler(tmp_path, "ignored", FAILURE_FORMS["empty identifier"])
    kinesis(lab)
    lab.set_behaviour("f", mode="handler", handler=spec)
    w = [put(lab, "a", f"r{i}")["SequenceNumber"] for i in range(2)]
    lab.run_until_idle()
    assert [seqs(i) for i in reached(lab)] == [w]
    assert checkpoint(lab) == w[-1]


# -- tumbling windows --------------------------------------------------------------------------------

def test_tumbling_windows_carry_state_and_end_with_a_final_invoke(lab):
    kinesis(lab, TumblingWindowInSeconds=60)
    lab.advance(0.5)
    put(lab, "a", "1")
    put(lab, "a", "2")
    lab.advance(10)
    put(lab, "a", "3")
    lab.advance(55)  # now past 60 s: the next record belongs to the next window
    put(lab, "a", "4")
    lab.run_until_idle()
    events = [i["event"] for i in reached(lab)]
    shape = [(e["window"]["start"], len(e["Records"]), e["state"], e["isFinalInvokeForWindow"])
             for e in events]
    assert shape == [
        ("2024-01-01T00:00:00Z", 2, {}, False),
        ("2024-01-01T00:00:00Z", 1, {"count": 2}, False),
        ("2024-01-01T00:00:00Z", 0, {"count": 3}, True),   # the next window's record closed it
        ("2024-01-01T00:01:00Z", 1, {}, False),
        ("2024-01-01T00:01:00Z", 0, {"count": 1}, True),   # 2 minutes without records
    ]
    assert events[0]["window"]["end"] == "2024-01-01T00:01:00Z"
    assert events[0]["shardId"] == "shardId-000000000000" and events[0]["eventSourceARN"] == S
    assert events[0]["isWindowTerminatedEarly"] is False
    closed = kinds(lab, "window.closed")
    assert len(closed) == 2 and '"count": 3' in closed[0]["reason"]
    assert at(lab, reached(lab)[-1]) >= 120_000 + 120_000


def test_tumbling_window_response_without_state_is_a_failure(lab, tmp_path):
    spec = fixed_response_handler(tmp_path, "no_state", {"batchItemFailures": []})
    kinesis(lab, TumblingWindowInSeconds=30, MaximumRetryAttempts=1)
    lab.set_behaviour("f", mode="handler", handler=spec)
    w = put(lab, "a", "1")["SequenceNumber"]
    lab.advance(5)
    invs = reached(lab)
    assert [seqs(i) for i in invs] == [[w], [w]]
    failed = kinds(lab, "batch.failed")
    assert failed and "no state" in failed[0]["reason"]
    assert kinds(lab, "batch.discarded")


# -- filters -----------------------------------------------------------------------------------------

def test_kinesis_filter_matches_base64_decoded_json_data_and_skips_the_rest(lab):
    kinesis(lab, MetricsConfig={"Metrics": ["EventCount"]},
            FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]})
    put(lab, "a", json.dumps({"kind": "keep", "n": 1}))
    put(lab, "a", json.dumps({"kind": "drop"}))
    put(lab, "a", "not json")
    last = put(lab, "a", json.dumps({"kind": "keep", "n": 2}))
    put(lab, "a", json.dumps({"kind": "drop"}))
    tail = put(lab, "a", "plain")
    lab.run_until_idle()
    assert [json.loads(d)["n"] for i in reached(lab) for d in datas(i)] == [1, 2]
    assert sum(v for _, v in lab.metric_series("m", "FilteredOutEventCount")) == 4
    assert checkpoint(lab) == tail["SequenceNumber"] > last["SequenceNumber"]
    assert kinds(lab, "batch.filtered")


def test_dynamodb_filter_matches_typed_images(lab):
    dynamo(lab, MetricsConfig={"Metrics": ["EventCount"]},
           FilterCriteria={"Filters": [{"Pattern": json.dumps(
        {"dynamodb": {"NewImage": {"color": {"S": ["red"]}}}})}]})
    for pk, color in (("a", "red"), ("b", "blue"), ("c", "red")):
        lab.do("put_item", TableName="tbl", Item={"pk": {"S": pk}, "color": {"S": color}})
    lab.run_until_idle()
    got = [r["dynamodb"]["Keys"]["pk"]["S"] for i in reached(lab) for r in i["event"]["Records"]]
    assert got == ["a", "c"]
    assert sum(v for _, v in lab.metric_series("m", "FilteredOutEventCount")) == 1


# -- DynamoDB ----------------------------------------------------------------------------------------

def test_dynamodb_insert_modify_remove_reach_the_handler_in_order(lab):
    dynamo(lab, BatchSize=10)
    key = {"pk": {"S": "a"}}
    lab.do("put_item", TableName="tbl", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    lab.do("put_item", TableName="tbl", Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    lab.do("delete_item", TableName="tbl", Key=key)
    lab.run_until_idle()
    records = [r for i in reached(lab) for r in i["event"]["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    ins, mod, rem = (r["dynamodb"] for r in records)
    assert "OldImage" not in ins and ins["NewImage"]["n"] == {"N": "1"}
    assert mod["OldImage"]["n"] == {"N": "1"} and mod["NewImage"]["n"] == {"N": "2"}
    assert "NewImage" not in rem and rem["OldImage"]["n"] == {"N": "2"}
    assert all(r["dynamodb"]["Keys"] == key for r in records)


def test_dynamodb_lanes_follow_the_item_key_and_keep_order_per_item(lab):
    lab.create_table("tbl", ["pk", "sk"], StreamSpecification="NEW_IMAGE")
    arn = lab.engine.tables.info("tbl")["stream_arn"]
    lab.create_function("f", Timeout=3, duration={"fixed_ms": 300, "per_record_ms": 0})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arn,
                       StartingPosition="TRIM_HORIZON", BatchSize=2, ParallelizationFactor=4)
    for n in range(3):
        for pk in ("a", "b"):
            for sk in ("1", "3", "8"):
                lab.do("put_item", TableName="tbl",
                       Item={"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": str(n)}})
    lab.run_until_idle()
    invs = reached(lab)
    per_item: dict[tuple, list] = {}
    lane_of_item: dict[tuple, set] = {}
    for inv in invs:
        for r in inv["event"]["Records"]:
            k = (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["Keys"]["sk"]["S"])
            per_item.setdefault(k, []).append(r["dynamodb"]["NewImage"]["n"]["N"])
            lane_of_item.setdefault(k, set()).add(inv["detail"]["lane"])
    # each item (partition + sort key) always in one lane, its changes in order
    assert len(per_item) == 6 and all(v == ["0", "1", "2"] for v in per_item.values())
    assert all(len(v) == 1 for v in lane_of_item.values())
    # items of one partition key are spread over lanes: the lane follows the whole item key
    assert len({next(iter(v)) for k, v in lane_of_item.items() if k[0] == "a"}) > 1


# -- event shapes ----------------------------------------------------------------------------------

def test_kinesis_event_matches_aws_shape_field_for_field(lab):
    kinesis(lab)
    lab.advance(0.5)
    rec = put(lab, "user-1", '{"hello":"world"}')
    lab.run_until_idle()
    seq = rec["SequenceNumber"]
    assert reached(lab)[0]["event"] == {"Records": [{
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "user-1",
            "sequenceNumber": seq,
            "data": "eyJoZWxsbyI6IndvcmxkIn0=",
            "approximateArrivalTimestamp": 1704067200.5,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/esmlab-role",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    }]}


def test_dynamodb_event_matches_aws_shape_field_for_field(lab):
    arn = dynamo(lab, view="NEW_AND_OLD_IMAGES")
    lab.advance(2)
    lab.do("put_item", TableName="tbl", Item={"pk": {"S": "a"}, "n": {"N": "5"}})
    lab.run_until_idle()
    [record] = reached(lab)[0]["event"]["Records"]
    assert re.match(r"^[0-9a-f]{32}$", record["eventID"])
    seq = record["dynamodb"]["SequenceNumber"]
    assert re.match(r"^\d{21,40}$", seq)
    assert record == {
        "eventID": record["eventID"],
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1704067202,
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "n": {"N": "5"}},
            "SequenceNumber": seq,
            "SizeBytes": 9,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": arn,
    }
    assert arn.startswith("arn:aws:dynamodb:us-east-1:123456789012:table/tbl/stream/")


# -- states, enable/disable, LastProcessingResult ---------------------------------------------------

def test_disabling_keeps_checkpoints_and_enabling_resumes_from_them(lab):
    out = kinesis(lab)
    assert out["State"] == "Creating"
    lab.step()
    assert lab.engine.mappings.get("m")["State"] == "Enabled"
    first = put(lab, "a", "1")
    lab.run_until_idle()
    assert checkpoint(lab) == first["SequenceNumber"]
    assert lab.update_mapping("m", Enabled=False)["State"] == "Disabling"
    lab.step()
    assert lab.engine.mappings.get("m")["State"] == "Disabled"
    second = put(lab, "a", "2")
    lab.advance(30)
    assert len(reached(lab)) == 1 and checkpoint(lab) == first["SequenceNumber"]
    assert lab.update_mapping("m", Enabled=True)["State"] == "Enabling"
    lab.run_until_idle()
    assert lab.engine.mappings.get("m")["State"] == "Enabled"
    # resumes after the checkpoint: record 2 once, record 1 not again
    assert [seqs(i) for i in reached(lab)] == [[first["SequenceNumber"]],
                                              [second["SequenceNumber"]]]
    assert lab.update_mapping("m", BatchSize=5)["State"] == "Updating"
    lab.step()
    assert lab.engine.mappings.get("m")["State"] == "Enabled"


def test_last_processing_result_says_ok_or_function_call_failed(lab):
    kinesis(lab)
    assert lab.engine.mappings.get("m")["LastProcessingResult"] == "No records processed"
    put(lab, "a", "1")
    lab.run_until_idle()
    assert lab.engine.mappings.get("m")["LastProcessingResult"] == "OK"
    lab.set_behaviour("f", mode="fail")
    put(lab, "a", "2")
    lab.advance(2)
    assert lab.engine.mappings.get("m")["LastProcessingResult"] == "PROBLEM: Function call failed"


# -- metrics ---------------------------------------------------------------------------------------

def test_metrics_iterator_age_errors_dropped_and_concurrency(lab):
    kinesis(lab, shards=2, MaximumRetryAttempts=1)
    bad_key, good_key = two_shard_keys(lab)
    lab.set_behaviour("f", mode="poison", match={"partition_key": bad_key})
    lab.advance(0.3)
    put(lab, bad_key, "x")
    put(lab, good_key, "y")
    lab.run_until_idle()
    ages = lab.metric_series("m", "IteratorAge")
    # one point per invoke: the age of the batch's last record when it is sent
    assert len(ages) == len(reached(lab)) == 3
    assert ages[0] == (lab.engine.start_ms + 1000, 700)
    assert ages[-1][1] > 700  # the retry is later, its record older
    assert sum(v for _, v in lab.metric_series("f", "Errors")) == 2
    conc = lab.metric_series("m", "ConcurrentExecutions")
    assert conc and max(v for _, v in conc) == 2


def test_replaying_the_commands_gives_the_same_journal(lab):
    kinesis(lab, shards=3, ParallelizationFactor=2, BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=1)
    lab.set_behaviour("f", mode="flaky", probability=0.5)
    for i in range(30):
        put(lab, f"k{i}", f"r{i}")
    lab.run_until_idle()
    before = lab.journal_signature()
    lab.rebuild()
    assert lab.journal_signature() == before


def test_6_mb_limit_is_exact_for_many_small_records(lab):
    from esmlab.engine import payloads
    kinesis(lab, BatchSize=10000)
    for _ in range(8):
        lab.put_records("s", [{"PartitionKey": f"k{i}", "Data": "y" * 1200} for i in range(500)])
    lab.run_until_idle()
    invs = reached(lab)
    assert len(invs) == 2 and sum(len(seqs(i)) for i in invs) == 4000
    first, second = invs[0]["event"], invs[1]["event"]
    assert payloads.event_size(first) <= payloads.MAX_PAYLOAD_BYTES
    grown = {"Records": first["Records"] + second["Records"][:1]}
    assert payloads.event_size(grown) > payloads.MAX_PAYLOAD_BYTES
