"""Retention trims logically (engine/sources/stream.py, lab schema 8): the
stream's horizon moves, every reader stops seeing the records behind it, and
their rows are freed later (a chunk at the trim, FREE_PER_RECORD per record a
write adds, the rest by compaction)."""

import sqlite3

from esmlab.engine import arns
from esmlab.engine.sources.stream import FREE_PER_RECORD, TRIM_CHUNK
from esmlab.lab import Lab
from esmlab.story import story, story_lines
from esmlab.store import SCHEMA_VERSION
from tests.old_schema import UNDO_VERSION_8

DAY_MS = 24 * 3_600_000


def _stream_lab(path, records: int, shards: int = 4) -> Lab:
    lab = Lab.create(path)
    lab.create_stream("s", ShardCount=shards)
    for b in range(0, records, 500):
        lab.put_records("s", [{"PartitionKey": f"k{i % 97}", "Data": f"r{i}"}
                              for i in range(b, min(b + 500, records))])
    return lab


def _count(lab, sql: str, *args) -> int:
    return lab.store.conn.execute(sql, args).fetchone()[0]


def test_records_behind_the_retention_horizon_are_invisible_to_every_reader(tmp_path):
    total = 2 * TRIM_CHUNK + 11
    lab = _stream_lab(tmp_path / "l.db", total)
    streams = lab.engine.streams
    ids = [i for (i,) in lab.store.conn.execute("SELECT id FROM records ORDER BY id")]
    lab.advance_ms(DAY_MS)
    assert _count(lab, "SELECT count(*) FROM record_rows") == total - TRIM_CHUNK  # not freed yet
    assert _count(lab, "SELECT count(*) FROM records") == 0
    assert _count(lab, "SELECT count(*) FROM v_records") == 0
    assert streams.records_by_ids(ids) == []
    for shard in streams.shards("s"):
        sid = shard["shard_id"]
        assert streams.read("s", sid, None, 10_000) == []
        assert streams.page("s", sid) == []
        assert streams.count_after("s", sid, None) == 0
        latest = streams.position("s", sid, "LATEST")
        assert streams.position("s", sid, "AT_TIMESTAMP", timestamp_ms=0) == latest
    assert sum(s["trimmed"] for s in streams.shards("s")) == total


def test_a_longer_retention_does_not_bring_trimmed_records_back(tmp_path):
    lab = _stream_lab(tmp_path / "l.db", 2 * TRIM_CHUNK)
    lab.advance_ms(DAY_MS)
    lab.do("set_retention", StreamName="s", RetentionPeriodHours=48)
    assert _count(lab, "SELECT count(*) FROM record_rows") > 0
    assert _count(lab, "SELECT count(*) FROM records") == 0
    assert all(lab.engine.streams.read("s", s["shard_id"], None, 10_000) == []
               for s in lab.engine.streams.shards("s"))


def test_later_writes_free_the_rows_of_trimmed_records_oldest_first(tmp_path):
    total = 3 * TRIM_CHUNK
    lab = _stream_lab(tmp_path / "l.db", total)
    lab.advance_ms(DAY_MS)
    left = total - TRIM_CHUNK
    assert _count(lab, "SELECT count(*) FROM record_rows") == left
    oldest = _count(lab, "SELECT min(id) FROM record_rows")
    lab.put_records("s", [{"PartitionKey": f"n{i}", "Data": "new"} for i in range(100)])
    assert _count(lab, "SELECT count(*) FROM record_rows") == left - FREE_PER_RECORD * 100 + 100
    assert _count(lab, "SELECT min(id) FROM record_rows") == oldest + FREE_PER_RECORD * 100
    assert _count(lab, "SELECT count(*) FROM records") == 100


def test_compact_frees_every_row_of_a_trimmed_record_and_keeps_the_live_ones(tmp_path):
    lab = _stream_lab(tmp_path / "l.db", 2 * TRIM_CHUNK + 5)
    lab.advance_ms(DAY_MS)
    lab.put_record("s", "k", "live")
    journal = [e["kind"] for e in lab.journal()]
    lab.compact()
    assert _count(lab, "SELECT count(*) FROM record_rows") == 1
    assert _count(lab, "SELECT count(*) FROM records") == 1
    assert [e["kind"] for e in lab.journal()][-1] == "lab.compacted"
    assert "stream.trimmed" in journal


def test_a_trim_runs_the_same_statements_for_ten_times_the_records(tmp_path):
    def statements(records: int) -> int:
        lab = _stream_lab(tmp_path / f"l{records}.db", records)
        lab.advance_ms(DAY_MS - 1)
        seen: list[str] = []
        lab.store.conn.set_trace_callback(seen.append)
        lab.advance_ms(1)
        lab.store.conn.set_trace_callback(None)
        assert _count(lab, "SELECT count(*) FROM records") == 0
        return len(seen)

    assert statements(TRIM_CHUNK + 500) == statements(10 * (TRIM_CHUNK + 500))


def test_a_trimmed_records_story_says_it_expired_and_names_its_trim(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    lab.create_stream("s")
    lab.create_function("f", behaviour={"mode": "fail"})
    lab.create_mapping(FunctionName="f", StartingPosition="TRIM_HORIZON",
                       EventSourceArn=arns.stream_arn("s"), MaximumRetryAttempts=-1)
    lab.put_records("s", [{"PartitionKey": f"k{i}", "Data": f"r{i}"} for i in range(5)])
    lab.advance(25 * 3600)
    seq = lab.invocations()[0]["records"][0]
    s = story(lab, seq)
    assert s["kind"] == "record" and s["shard_id"] == "shardId-000000000000"
    assert "stream.trimmed" in [e["kind"] for e in s["events"]]
    assert story_lines(s, str)[-1].startswith("now: trimmed, it expired")


def _as_schema_7(path) -> None:
    """A lab file as lab schema 7 wrote it: one `records` table."""
    conn = sqlite3.connect(path)
    conn.executescript(UNDO_VERSION_8 + "UPDATE meta SET value='7' WHERE key='schema_version';")
    conn.close()


def test_a_schema_7_lab_opens_migrated_and_trims_as_a_lab_made_now(tmp_path):
    made_now = _stream_lab(tmp_path / "now.db", TRIM_CHUNK + 300)
    old = _stream_lab(tmp_path / "old.db", TRIM_CHUNK + 300)
    instants = old.store.conn.execute("SELECT * FROM record_instants ORDER BY 1, 2, 3").fetchall()
    old.close()
    _as_schema_7(tmp_path / "old.db")
    old = Lab.open(tmp_path / "old.db")
    assert old.store.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert old.store.conn.execute("SELECT * FROM record_instants ORDER BY 1, 2, 3").fetchall() \
        == instants
    assert _count(old, "SELECT count(*) FROM v_records") == TRIM_CHUNK + 300
    for lab in (made_now, old):
        lab.advance_ms(DAY_MS)
    assert old.journal_signature() == made_now.journal_signature()
    old.rebuild()
    assert old.journal_signature() == made_now.journal_signature()
    assert _count(old, "SELECT count(*) FROM records") == 0
