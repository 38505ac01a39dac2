"""Kinesis streams: hash-key routing, sequence numbers, retention, resharding.

Each test is named after the rule it checks (reference 1.1, 1.8, 1.9, 4.2).
"""

import hashlib

import pytest

from esmlab.engine.sources.stream import (
    HASH_KEY_MAX,
    Streams,
    kinesis_seq,
    seq_before,
)
from esmlab.engine.sources.table import Tables
from esmlab.engine.world import DEFAULT_START_MS, Engine
from esmlab.errors import AwsError
from esmlab.store import Store
from engine_helpers import make_engine

HOUR = 3_600_000


def _services(self):
    # Only the services these tests need (the others may not exist yet).
    self.streams = Streams(self)
    self.tables = Tables(self)




class FakeMappings:
    def __init__(self):
        self.writes = []
        self.reshards = []

    def on_stream_write(self, stream, shard_id, at_ms):
        self.writes.append((stream, shard_id, at_ms))

    def on_stream_reshard(self, stream):
        self.reshards.append(stream)


@pytest.fixture(autouse=True)
def only_sources(monkeypatch):
    monkeypatch.setattr(Engine, "_services", _services)


@pytest.fixture
def engine(tmp_path):
    return make_engine(tmp_path)


def md5_int(key: str) -> int:
    return int(hashlib.md5(key.encode()).hexdigest(), 16)


def count(engine, sql, *args):
    return engine.conn.execute(sql, args).fetchone()[0]


def events(engine, kind):
    return engine.journal.events(kind=kind)


# --- creation and hash ranges -------------------------------------------------------------


def test_shard_count_splits_the_hash_key_space_evenly(engine):
    engine.streams.create("orders", shard_count=4)
    shards = engine.streams.shards("orders")
    assert [s["shard_id"] for s in shards] == [f"shardId-00000000000{i}" for i in range(4)]
    step = 2 ** 128 // 4
    assert [(int(s["hash_start"]), int(s["hash_end"])) for s in shards] == [
        (0, step - 1), (step, 2 * step - 1), (2 * step, 3 * step - 1), (3 * step, HASH_KEY_MAX)]
    assert all(s["open"] and s["parent"] is None for s in shards)


def test_uneven_shard_count_still_covers_every_hash_key_without_gaps(engine):
    engine.streams.create("s", shard_count=7)
    shards = engine.streams.shards("s")
    assert int(shards[0]["hash_start"]) == 0
    assert int(shards[-1]["hash_end"]) == HASH_KEY_MAX
    for a, b in zip(shards, shards[1:]):
        assert int(a["hash_end"]) + 1 == int(b["hash_start"])


def test_create_existing_stream_is_resource_in_use(engine):
    engine.streams.create("s")
    with pytest.raises(AwsError) as e:
        engine.streams.create("s", shard_count=3)
    assert e.value.code == "ResourceInUseException"
    assert e.value.message == "Stream s under account 123456789012 already exists."
    assert len(engine.streams.shards("s")) == 1


@pytest.mark.parametrize("bad", [0, -1])
def test_shard_count_below_one_is_rejected_and_creates_nothing(engine, bad):
    with pytest.raises(AwsError) as e:
        engine.streams.create("s", shard_count=bad)
    assert e.value.code == "ValidationException"
    assert "shardCount" in e.value.message and "greater than or equal to 1" in e.value.message
    assert engine.streams.names() == []


def test_shard_count_beyond_the_account_shard_limit_is_limit_exceeded(engine):
    engine.streams.create("a", shard_count=400)
    with pytest.raises(AwsError) as e:
        engine.streams.create("b", shard_count=101)
    assert e.value.code == "LimitExceededException"
    assert "Current shard count for the account: 400. Limit: 500." in e.value.message
    assert engine.streams.names() == ["a"]


def test_stream_name_must_match_kinesis_pattern(engine):
    with pytest.raises(AwsError) as e:
        engine.streams.create("bad name")
    assert e.value.code == "ValidationException"
    assert "[a-zA-Z0-9_.-]+" in e.value.message


def test_missing_stream_is_resource_not_found(engine):
    with pytest.raises(AwsError) as e:
        engine.streams.put_record("nope", "k", b"x")
    assert e.value.code == "ResourceNotFoundException"
    assert e.value.message == "Stream nope under account 123456789012 not found."
    with pytest.raises(AwsError):
        engine.streams.info("nope")


def test_info_and_arn_lookup(engine):
    engine.streams.create("orders", shard_count=2, retention_hours=48)
    info = engine.streams.info("orders")
    assert info["arn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    assert info["kind"] == "kinesis"
    assert info["retention_ms"] == 48 * HOUR
    assert len(info["shards"]) == 2
    assert engine.streams.name_for_arn(info["arn"]) == "orders"
    assert engine.streams.name_for_arn("arn:aws:kinesis:us-east-1:123456789012:stream/x") is None
    assert engine.streams.names("kinesis") == ["orders"]
    assert engine.streams.names("dynamodb") == []


# --- routing ------------------------------------------------------------------------------


def test_md5_of_the_partition_key_picks_the_shard_whose_range_holds_it(engine):
    engine.streams.create("s", shard_count=8)
    ranges = {s["shard_id"]: (int(s["hash_start"]), int(s["hash_end"]))
              for s in engine.streams.shards("s")}
    seen = set()
    for n in range(200):
        key = f"user-{n}"
        out = engine.streams.put_record("s", key, b"x")
        lo, hi = ranges[out["ShardId"]]
        assert lo <= md5_int(key) <= hi
        seen.add(out["ShardId"])
    assert len(seen) == 8


def test_same_partition_key_always_goes_to_the_same_shard(engine):
    engine.streams.create("s", shard_count=16)
    shards = {engine.streams.put_record("s", "order-42", str(n))["ShardId"] for n in range(20)}
    assert len(shards) == 1


def test_explicit_hash_key_overrides_the_partition_key_hash(engine):
    engine.streams.create("s", shard_count=4)
    last = engine.streams.put_record("s", "anything", b"x", explicit_hash_key=str(HASH_KEY_MAX))
    first = engine.streams.put_record("s", "anything", b"x", explicit_hash_key="0")
    assert last["ShardId"] == "shardId-000000000003"
    assert first["ShardId"] == "shardId-000000000000"


def test_explicit_hash_key_beyond_2_pow_128_is_invalid_argument(engine):
    engine.streams.create("s")
    with pytest.raises(AwsError) as e:
        engine.streams.put_record("s", "k", b"x", explicit_hash_key=str(2 ** 128))
    assert e.value.code == "InvalidArgumentException"
    assert e.value.message.startswith("Invalid ExplicitHashKey. ExplicitHashKey must be in the "
                                      "range: [0, 2^128-1].")
    with pytest.raises(AwsError) as e:
        engine.streams.put_record("s", "k", b"x", explicit_hash_key="-1")
    assert e.value.code == "ValidationException"
    assert count(engine, "SELECT count(*) FROM records") == 0


@pytest.mark.parametrize("key, ok", [("", False), ("k" * 256, True), ("k" * 257, False)])
def test_partition_key_is_1_to_256_characters(engine, key, ok):
    engine.streams.create("s")
    if ok:
        engine.streams.put_record("s", key, b"x")
        return
    with pytest.raises(AwsError) as e:
        engine.streams.put_record("s", key, b"x")
    assert e.value.code == "ValidationException"
    assert "partitionKey" in e.value.message


def test_data_blob_is_at_most_1_mib(engine):
    engine.streams.create("s")
    engine.streams.put_record("s", "k", b"x" * (1024 * 1024))
    with pytest.raises(AwsError) as e:
        engine.streams.put_record("s", "k", b"x" * (1024 * 1024 + 1))
    assert e.value.code == "ValidationException"
    assert "1048576" in e.value.message
    assert count(engine, "SELECT count(*) FROM records") == 1


def test_text_data_is_stored_as_its_utf8_bytes(engine):
    engine.streams.create("s")
    out = engine.streams.put_record("s", "k", "héllo")
    rec, = engine.streams.read("s", out["ShardId"], None, 10)
    assert rec["data"] == "héllo".encode()
    assert rec["size"] == len("héllo".encode())


# --- sequence numbers ---------------------------------------------------------------------


def test_sequence_numbers_are_56_digits_increasing_across_the_whole_stream(engine):
    engine.streams.create("s", shard_count=5)
    seqs = [engine.streams.put_record("s", f"k{n}", b"x")["SequenceNumber"] for n in range(50)]
    assert all(len(s) == 56 and s.isdigit() for s in seqs)
    assert seqs == sorted(seqs)
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)
    assert len(set(seqs)) == 50


def test_sequence_number_scheme_is_counter_then_shard_ordinal(engine):
    engine.streams.create("s", shard_count=4)
    out = engine.streams.put_record("s", "k", b"x", explicit_hash_key=str(HASH_KEY_MAX))
    assert out["SequenceNumber"] == kinesis_seq(1, 3)
    assert out["SequenceNumber"] == "49" + "0" * 37 + "1" + "0" * 15 + "3"


def test_shard_start_marker_is_below_every_record_of_the_shard(engine):
    engine.streams.create("s", shard_count=2)
    for n in range(10):
        engine.streams.put_record("s", f"k{n}", b"x")
    for shard in engine.streams.shards("s"):
        recs = engine.streams.read("s", shard["shard_id"], None, 100)
        assert all(r["seq"] > shard["start_seq"] for r in recs)
        assert engine.streams.read("s", shard["shard_id"], shard["start_seq"], 100) == recs


# --- PutRecords ---------------------------------------------------------------------------


def test_put_records_answers_in_request_order_with_one_journal_event(engine):
    engine.streams.create("s", shard_count=3)
    records = [{"Data": f"d{n}".encode(), "PartitionKey": f"k{n}"} for n in range(30)]
    before = len(events(engine, "stream.put"))
    out = engine.streams.put_records("s", records)
    assert out["FailedRecordCount"] == 0
    assert len(out["Records"]) == 30
    seqs = [r["SequenceNumber"] for r in out["Records"]]
    assert seqs == sorted(seqs)
    for record, result in zip(records, out["Records"]):
        stored = engine.conn.execute(
            "SELECT partition_key, data, shard_id FROM records WHERE seq=?",
            (result["SequenceNumber"],)).fetchone()
        assert stored == (record["PartitionKey"], record["Data"], result["ShardId"])
    logged = events(engine, "stream.put")[before:]
    assert len(logged) == 1 and logged[0]["data"]["count"] == 30


def test_put_records_with_one_invalid_record_writes_nothing(engine):
    engine.streams.create("s")
    records = [{"Data": b"ok", "PartitionKey": "k"}] * 3 + [{"Data": b"bad", "PartitionKey": ""}]
    with pytest.raises(AwsError) as e:
        engine.streams.put_records("s", records)
    assert e.value.code == "ValidationException"
    assert "records.4.member.partitionKey" in e.value.message
    assert count(engine, "SELECT count(*) FROM records") == 0
    assert count(engine, "SELECT next_seq FROM streams") == 0


@pytest.mark.parametrize("n", [0, 501])
def test_put_records_takes_1_to_500_records(engine, n):
    engine.streams.create("s")
    with pytest.raises(AwsError) as e:
        engine.streams.put_records("s", [{"Data": b"x", "PartitionKey": "k"}] * n)
    assert e.value.code == "ValidationException"


# --- reading and positions ----------------------------------------------------------------


def test_read_returns_records_after_the_exclusive_bound_in_order_up_to_limit(engine):
    engine.streams.create("s")
    seqs = [engine.streams.put_record("s", "k", str(n))["SequenceNumber"] for n in range(10)]
    shard = "shardId-000000000000"
    assert [r["seq"] for r in engine.streams.read("s", shard, None, 4)] == seqs[:4]
    assert [r["seq"] for r in engine.streams.read("s", shard, seqs[3], 4)] == seqs[4:8]
    assert engine.streams.read("s", shard, seqs[-1], 4) == []
    first = engine.streams.read("s", shard, None, 1)[0]
    assert set(first) == {"id", "seq", "partition_key", "data", "arrival_ms", "size", "detail"}
    assert first["data"] == b"0" and first["detail"] is None
    assert first["arrival_ms"] == DEFAULT_START_MS
    assert engine.streams.count_after("s", shard, seqs[5]) == 4
    assert engine.streams.count_after("s", shard, None) == 10
    assert [r["seq"] for r in engine.streams.page("s", shard, offset=8)] == seqs[8:]
    ids = [r["id"] for r in engine.streams.read("s", shard, None, 10)]
    assert [r["seq"] for r in engine.streams.records_by_ids(reversed(ids[2:5]))] == seqs[2:5]


def test_trim_horizon_starts_at_the_oldest_record(engine):
    engine.streams.create("s")
    engine.streams.put_record("s", "k", b"a")
    after = engine.streams.position("s", "shardId-000000000000", "TRIM_HORIZON")
    assert after is None
    assert engine.streams.read("s", "shardId-000000000000", after, 10)[0]["data"] == b"a"


def test_latest_sees_only_records_added_after_the_iterator(engine):
    engine.streams.create("s")
    shard = "shardId-000000000000"
    empty = engine.streams.position("s", shard, "LATEST")
    assert empty == engine.streams.shards("s")[0]["start_seq"]
    engine.streams.put_record("s", "k", b"old")
    after = engine.streams.position("s", shard, "LATEST")
    assert after == engine.streams.last_seq("s", shard)
    engine.streams.put_record("s", "k", b"new")
    assert [r["data"] for r in engine.streams.read("s", shard, after, 10)] == [b"new"]
    assert [r["data"] for r in engine.streams.read("s", shard, empty, 10)] == [b"old", b"new"]


def test_at_timestamp_starts_at_the_first_record_that_arrived_then_or_later(engine):
    engine.streams.create("s")
    shard = "shardId-000000000000"
    for n in range(5):
        engine.streams.put_record("s", "k", str(n))
        engine.agenda.now_ms += 1000
    after = engine.streams.position("s", shard, "AT_TIMESTAMP", DEFAULT_START_MS + 2000)
    assert [r["data"] for r in engine.streams.read("s", shard, after, 10)] == [b"2", b"3", b"4"]
    future = engine.streams.position("s", shard, "AT_TIMESTAMP", DEFAULT_START_MS + 99_000)
    assert engine.streams.read("s", shard, future, 10) == []
    with pytest.raises(AwsError) as e:
        engine.streams.position("s", shard, "AT_TIMESTAMP")
    assert e.value.code == "InvalidArgumentException"


def test_at_and_after_sequence_number(engine):
    engine.streams.create("s")
    shard = "shardId-000000000000"
    seqs = [engine.streams.put_record("s", "k", str(n))["SequenceNumber"] for n in range(4)]
    at = engine.streams.position("s", shard, "AT_SEQUENCE_NUMBER", sequence_number=seqs[1])
    after = engine.streams.position("s", shard, "AFTER_SEQUENCE_NUMBER", sequence_number=seqs[1])
    assert at == seq_before(seqs[1]) and len(at) == 56
    assert [r["seq"] for r in engine.streams.read("s", shard, at, 10)] == seqs[1:]
    assert [r["seq"] for r in engine.streams.read("s", shard, after, 10)] == seqs[2:]


def test_unknown_iterator_type_and_shard_are_rejected(engine):
    engine.streams.create("s")
    with pytest.raises(AwsError) as e:
        engine.streams.position("s", "shardId-000000000000", "OLDEST")
    assert e.value.code == "ValidationException"
    with pytest.raises(AwsError) as e:
        engine.streams.position("s", "shardId-000000000009", "LATEST")
    assert e.value.code == "ResourceNotFoundException"
    assert "Could not find shard shardId-000000000009 in stream s" in e.value.message


# --- retention ----------------------------------------------------------------------------


def test_retention_is_24_hours_by_default(engine):
    engine.streams.create("s")
    assert engine.streams.info("s")["retention_ms"] == 24 * HOUR


@pytest.mark.parametrize("hours, message", [
    (23, "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) "
         "is too short."),
    (8761, "Maximum allowed retention period is 8760 hours. Requested retention period (8761 "
           "hours) is too long."),
])
def test_retention_must_be_24_to_8760_hours(engine, hours, message):
    engine.streams.create("s")
    with pytest.raises(AwsError) as e:
        engine.streams.set_retention("s", hours)
    assert (e.value.code, e.value.message) == ("InvalidArgumentException", message)
    assert engine.streams.info("s")["retention_ms"] == 24 * HOUR
    engine.streams.set_retention("s", 8760)
    assert engine.streams.info("s")["retention_ms"] == 8760 * HOUR


def test_records_older_than_retention_are_trimmed_by_the_timer_even_if_nobody_reads(engine):
    engine.streams.create("s")
    shard = "shardId-000000000000"
    old = engine.streams.put_record("s", "k", b"old")["SequenceNumber"]
    engine.agenda.run_until(DEFAULT_START_MS + HOUR)
    engine.streams.put_record("s", "k", b"new")
    engine.agenda.run_until(DEFAULT_START_MS + 24 * HOUR - 1)
    assert count(engine, "SELECT count(*) FROM records") == 2
    engine.agenda.run_until(DEFAULT_START_MS + 24 * HOUR)
    assert [r["data"] for r in engine.streams.page("s", shard)] == [b"new"]
    trimmed = events(engine, "stream.trimmed")
    assert len(trimmed) == 1
    assert trimmed[0]["data"]["count"] == 1
    assert "RetentionPeriodHours=24" in trimmed[0]["reason"]
    assert engine.streams.trimmed_seq("s", shard) == old
    assert engine.streams.last_trimmed == {shard: (1, old)}
    # The timer re-arms for the next expiry, then stops when the stream is empty.
    engine.agenda.run_until(DEFAULT_START_MS + 25 * HOUR)
    assert count(engine, "SELECT count(*) FROM records") == 0
    assert engine.agenda.pending("stream.trim:s") is None


def test_trim_is_lazy_and_names_the_records_it_removed(engine):
    engine.streams.create("s", shard_count=2)
    written = [engine.streams.put_record("s", f"k{n}", b"x") for n in range(6)]
    engine.agenda.now_ms = DEFAULT_START_MS + 24 * HOUR  # the clock moves, no timer fired
    shard = written[0]["ShardId"]
    # read() never hands out an expired record, even before anyone trimmed.
    assert engine.streams.read("s", shard, None, 10) == []
    assert engine.streams.trim("s") == 6
    expected = {}
    for w in written:
        n, top = expected.get(w["ShardId"], (0, ""))
        expected[w["ShardId"]] = (n + 1, max(top, w["SequenceNumber"]))
    assert engine.streams.last_trimmed == expected
    assert engine.streams.trim("s") == 0
    assert engine.streams.last_trimmed == {}


def test_shorter_retention_trims_older_records_at_once(engine):
    engine.streams.create("s", retention_hours=48)
    engine.streams.put_record("s", "k", b"x")
    engine.agenda.run_until(DEFAULT_START_MS + 30 * HOUR)
    assert count(engine, "SELECT count(*) FROM records") == 1
    engine.streams.set_retention("s", 24)
    assert count(engine, "SELECT count(*) FROM records") == 0
    assert len(events(engine, "stream.trimmed")) == 1


def test_longer_retention_moves_the_trim_timer_later(engine):
    engine.streams.create("s")
    engine.streams.put_record("s", "k", b"x")
    assert engine.agenda.pending("stream.trim:s") == DEFAULT_START_MS + 24 * HOUR
    engine.streams.set_retention("s", 72)
    assert engine.agenda.pending("stream.trim:s") == DEFAULT_START_MS + 72 * HOUR
    engine.agenda.run_until(DEFAULT_START_MS + 71 * HOUR)
    assert count(engine, "SELECT count(*) FROM records") == 1


# --- resharding ---------------------------------------------------------------------------


def test_split_closes_the_parent_and_new_writes_go_to_the_children(engine):
    engine.mappings = FakeMappings()
    engine.streams.create("s")
    before = [engine.streams.put_record("s", f"k{n}", b"x")["SequenceNumber"] for n in range(3)]
    mid = 2 ** 127
    engine.streams.split_shard("s", "shardId-000000000000", str(mid))
    parent, a, b = engine.streams.shards("s")
    assert not parent["open"] and parent["end_seq"] == before[-1]
    assert (a["shard_id"], a["parent"], a["adjacent_parent"]) == ("shardId-000000000001",
                                                                  "shardId-000000000000", None)
    assert (int(a["hash_start"]), int(a["hash_end"])) == (0, mid - 1)
    assert (b["shard_id"], b["parent"]) == ("shardId-000000000002", "shardId-000000000000")
    assert (int(b["hash_start"]), int(b["hash_end"])) == (mid, HASH_KEY_MAX)
    assert engine.mappings.reshards == ["s"]
    after = [engine.streams.put_record("s", f"k{n}", b"y") for n in range(40)]
    assert {o["ShardId"] for o in after} == {a["shard_id"], b["shard_id"]}
    # Every child record sorts after every parent record.
    assert min(o["SequenceNumber"] for o in after) > parent["end_seq"]
    assert len(engine.streams.read("s", parent["shard_id"], None, 100)) == 3
    assert events(engine, "stream.resharded")[0]["data"]["op"] == "split"


def test_split_of_an_empty_shard_ends_at_its_start_marker(engine):
    engine.streams.create("s")
    engine.streams.split_shard("s", "shardId-000000000000", "12345")
    parent = engine.streams.shards("s")[0]
    assert parent["end_seq"] == parent["start_seq"]


@pytest.mark.parametrize("key", ["0", "1", str(HASH_KEY_MAX), str(HASH_KEY_MAX + 1)])
def test_split_key_must_fall_strictly_inside_the_shard(engine, key):
    engine.streams.create("s")
    with pytest.raises(AwsError) as e:
        engine.streams.split_shard("s", "shardId-000000000000", key)
    assert e.value.code in ("InvalidArgumentException", "ValidationException")
    assert len(engine.streams.shards("s")) == 1


def test_split_key_outside_the_range_names_both_bounds(engine):
    engine.streams.create("s", shard_count=2)
    with pytest.raises(AwsError) as e:
        engine.streams.split_shard("s", "shardId-000000000001", "5")
    assert e.value.code == "InvalidArgumentException"
    assert "is not both greater than one plus the shard's StartingHashKey" in e.value.message


def test_closed_shard_cannot_be_split_or_merged_again(engine):
    engine.streams.create("s", shard_count=2)
    engine.streams.split_shard("s", "shardId-000000000000", "1000")
    for call in (lambda: engine.streams.split_shard("s", "shardId-000000000000", "500"),
                 lambda: engine.streams.merge_shards("s", "shardId-000000000000",
                                                     "shardId-000000000001")):
        with pytest.raises(AwsError) as e:
            call()
        assert e.value.code == "InvalidArgumentException"
        assert "has already been merged or split" in e.value.message
    assert len(engine.streams.shards("s")) == 4


def test_split_bad_key_syntax_and_unknown_shard(engine):
    engine.streams.create("s")
    with pytest.raises(AwsError) as e:
        engine.streams.split_shard("s", "shardId-000000000000", "12ab")
    assert e.value.code == "ValidationException"
    with pytest.raises(AwsError) as e:
        engine.streams.split_shard("s", "shardId-000000000007", "12")
    assert e.value.code == "ResourceNotFoundException"


def test_merge_of_adjacent_shards_makes_one_child_with_both_parents(engine):
    engine.mappings = FakeMappings()
    engine.streams.create("s", shard_count=3)
    engine.streams.put_record("s", "k", b"x", explicit_hash_key="0")
    engine.streams.merge_shards("s", "shardId-000000000001", "shardId-000000000000")
    shards = engine.streams.shards("s")
    child = shards[-1]
    assert child["shard_id"] == "shardId-000000000003"
    assert (child["parent"], child["adjacent_parent"]) == ("shardId-000000000001",
                                                           "shardId-000000000000")
    assert int(child["hash_start"]) == 0
    assert int(child["hash_end"]) == int(shards[1]["hash_end"])
    assert [s["open"] for s in shards] == [False, False, True, True]
    out = engine.streams.put_record("s", "k", b"x", explicit_hash_key="0")
    assert out["ShardId"] == child["shard_id"]
    assert engine.mappings.reshards == ["s"]


def test_merge_of_non_adjacent_shards_is_invalid_argument(engine):
    engine.streams.create("s", shard_count=3)
    with pytest.raises(AwsError) as e:
        engine.streams.merge_shards("s", "shardId-000000000000", "shardId-000000000002")
    assert e.value.code == "InvalidArgumentException"
    assert "are not an adjacent pair of shards eligible for merging" in e.value.message
    assert all(s["open"] for s in engine.streams.shards("s"))


# --- notifications, persistence, determinism ----------------------------------------------


def test_each_write_notifies_the_mappings_once_per_shard(engine):
    engine.mappings = FakeMappings()
    engine.streams.create("s", shard_count=2)
    engine.streams.put_record("s", "k", b"x", explicit_hash_key="0")
    assert engine.mappings.writes == [("s", "shardId-000000000000", DEFAULT_START_MS)]
    engine.streams.put_records("s", [{"Data": b"x", "PartitionKey": f"k{n}"} for n in range(20)])
    assert sorted(w[1] for w in engine.mappings.writes[1:]) == ["shardId-000000000000",
                                                                "shardId-000000000001"]


def test_writes_work_without_any_mappings_service(engine):
    assert not hasattr(engine, "mappings")
    engine.streams.create("s")
    engine.streams.put_record("s", "k", b"x")


def test_stream_state_survives_reopening_the_lab(tmp_path):
    engine = make_engine(tmp_path)
    with engine.store.transaction():
        engine.streams.create("s", shard_count=2)
        engine.streams.put_record("s", "k", b"x")
        engine.streams.split_shard("s", "shardId-000000000000", "99")
        engine.flush()
    engine.store.close()
    again = Engine(Store(tmp_path / "lab.db"))
    assert len(again.streams.shards("s")) == 4
    out = again.streams.put_record("s", "k2", b"y", explicit_hash_key="5")
    assert out["ShardId"] == "shardId-000000000002"
    assert again.agenda.pending("stream.trim:s") == DEFAULT_START_MS + 24 * HOUR


def test_a_rolled_back_split_leaves_routing_as_it_was(engine):
    engine.streams.create("s")
    engine.streams.put_record("s", "k", b"x")  # warm the routing cache
    with pytest.raises(RuntimeError):
        with engine.store.transaction():
            engine.streams.split_shard("s", "shardId-000000000000", "99")
            raise RuntimeError("the Lab call failed")
    assert len(engine.streams.shards("s")) == 1
    assert engine.streams.put_record("s", "k", b"x")["ShardId"] == "shardId-000000000000"
    engine.streams.split_shard("s", "shardId-000000000000", str(2 ** 127))
    out = engine.streams.put_record("s", "k", b"x", explicit_hash_key="99")
    assert out["ShardId"] == "shardId-000000000001"


def test_same_calls_on_the_same_seed_give_the_same_stream(tmp_path):
    def run(path):
        path.mkdir()
        e = make_engine(path)
        e.streams.create("s", shard_count=3)
        e.streams.put_records("s", [{"Data": b"d", "PartitionKey": f"p{n}"} for n in range(30)])
        e.streams.split_shard("s", "shardId-000000000001", str(2 ** 127))
        e.agenda.run_until(DEFAULT_START_MS + 25 * HOUR)
        recs = e.conn.execute("SELECT * FROM records").fetchall()
        journal = [(ev["kind"], ev["reason"]) for ev in e.journal.events(limit=1000)]
        return recs, journal, e.streams.shards("s")
    assert run(tmp_path / "a") == run(tmp_path / "b")
