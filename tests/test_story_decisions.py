"""A record's life line includes the decisions that name its shard and range
(retries, discards), and a blocked shard says until when."""

from esmlab.lab import Lab
from esmlab.story import blocked_lanes, story, story_lines


def _failing_stream(tmp_path, **params):
    lab = Lab.create(tmp_path / "lab.db")
    lab.create_stream("s")
    lab.create_function("f", behaviour={"mode": "fail"})
    lab.create_mapping(FunctionName="f", StartingPosition="TRIM_HORIZON",
                       EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/s", **params)
    lab.put_record("s", "k", "old news")
    return lab


def test_an_expired_records_story_ends_with_its_discard_for_age(tmp_path):
    lab = _failing_stream(tmp_path, MaximumRecordAgeInSeconds=60)
    lab.advance(300)
    seq = lab.invocations()[0]["records"][0]
    s = story(lab, seq)
    kinds = [e["kind"] for e in s["events"]]
    assert "batch.retry" in kinds
    (discard,) = [e for e in s["events"] if e["kind"] == "batch.discarded"]
    assert "MaximumRecordAgeInSeconds" in discard["reason"]
    assert kinds.index("batch.discarded") > kinds.index("batch.retry")


def test_a_blocked_shard_says_until_when(tmp_path):
    lab = _failing_stream(tmp_path, MaximumRecordAgeInSeconds=3600, MaximumRetryAttempts=100)
    lab.advance(120)
    (b,) = blocked_lanes(lab, "f")
    arrival = lab.store.conn.execute("SELECT arrival_ms FROM records").fetchone()[0]
    assert b["until_ms"] == arrival + 3_600_000        # the age limit comes before retention
    failed = sum(1 for i in lab.invocations() if i["status"] == "error")
    assert b["attempts_left"] == 101 - failed
    assert "MaximumRecordAgeInSeconds 3600" in b["text"] and "in 58m" in b["text"]
    s = story(lab, lab.invocations()[0]["records"][0])
    assert s["blocked"] == b["text"]
    assert story_lines(s, str)[-1] == f"now: {b['text']}"


def test_a_healthy_shard_is_not_blocked(tmp_path):
    lab = _failing_stream(tmp_path)
    lab.set_behaviour("f", mode="succeed")
    lab.advance(10)
    assert blocked_lanes(lab, "f") == []
