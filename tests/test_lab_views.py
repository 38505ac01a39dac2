"""The lab file's views (docs/lab-file.md), each with a query whose answer is known."""

import json
import re
from pathlib import Path

from esmlab.cli import main
from esmlab.engine.mappings.stream_poller import lane_of
from esmlab.lab import Lab
from esmlab.lessons import resolve
from esmlab.scenario.loader import load_scenario
from esmlab.scenario.report import play_one
from esmlab.views import VIEW_NAMES, datasette_metadata

DOC = Path(__file__).parent.parent / "docs" / "lab-file.md"


def _played(tmp_path, lesson):
    player, _ = play_one(load_scenario(resolve(lesson)), tmp_path / f"{lesson}.db")
    return player.lab


def _query(lab, sql, *args):
    return list(lab.store.conn.execute(sql, args))


def _doc_query(heading_words: str) -> str:
    """The SQL of the example under the question starting with these words."""
    text = DOC.read_text()
    after = text[text.index(heading_words):]
    return re.search(r"```sql\n(.*?)```", after, re.S).group(1)


def test_partial_invocations_and_their_failed_ids(tmp_path):
    lab = _played(tmp_path, "sqs-partial-batch-response")
    rows = _query(lab, _doc_query("Which invocations were partial"))
    corrupt = lab.store.conn.execute(
        "SELECT message_id FROM messages WHERE body = 'file 3 corrupt'").fetchone()[0]
    assert [(r[0], json.loads(r[3])) for r in rows] == [(1, [corrupt]), (3, [corrupt])]


def test_a_partial_response_ignored_without_report_batch_item_failures_is_a_success(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    lab.create_queue("q")
    lab.create_function("f", behaviour={"mode": "partial", "match": {"text": "bad"}})
    lab.create_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q")
    lab.send_message("q", "bad one")
    lab.advance(5)
    assert _query(lab, "SELECT outcome, failed_ids FROM v_invocations") == [("success", "[]")]


def test_how_long_shard_0_was_blocked(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    lab.create_stream("s")
    lab.create_function("f", behaviour={"mode": "fail_first", "count": 3})
    lab.create_mapping(FunctionName="f", StartingPosition="TRIM_HORIZON",
                       EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/s")
    lab.put_record("s", "k", "r1")
    lab.advance(120)
    invs = lab.invocations()
    first_failure = min(i["start_ms"] for i in invs if i["status"] == "error")
    success_end = min(i["end_ms"] for i in invs if i["status"] == "success")
    assert _query(lab, _doc_query("How long was shard 0 blocked")) == [
        (success_end - first_failure,)]


def test_what_reached_the_dlq_and_why(tmp_path):
    lab = _played(tmp_path, "sqs-partial-batch-response")
    rows = _query(lab, _doc_query("What reached the DLQ"))
    assert len(rows) == 1
    dlq, source, body, receives, why = rows[0]
    assert (dlq, source, body, receives) == ("uploads-dlq", "uploads", "file 3 corrupt", 2)
    assert "maxReceiveCount 2" in why


def test_failure_records_from_queue_topic_and_bucket_destinations(tmp_path):
    lab = _played(tmp_path, "kinesis-on-failure-destination")
    rows = _query(lab, "SELECT via, destination, condition, batch_size, shard FROM "
                       "v_failure_records ORDER BY destination")
    assert {r[1] for r in rows} == {"order-alerts", "order-failure-archive", "order-failures"}
    assert {r[0] for r in rows} == {"queue", "topic or bucket"}
    assert all(r[2] == "RetryAttemptsExhausted" and r[4] == "shardId-000000000000" for r in rows)
    assert _query(lab, _doc_query("Which batches went to the on-failure destination"))


def test_payloads_per_message_count_every_receive(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    lab.create_queue("dlq")
    lab.create_queue("q", {"VisibilityTimeout": 10, "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq", "maxReceiveCount": 3})})
    lab.create_function("f", behaviour={"mode": "fail"})
    lab.create_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q")
    sent = lab.send_message("q", "poison")
    lab.advance(120)
    assert _query(lab, _doc_query("How many times did the function see each message")) == [
        (sent["MessageId"], 3)]
    assert _query(lab, "SELECT dlq, source_queue, receive_count FROM v_dead_letters") == [
        ("dlq", "q", 3)]


def test_records_carry_the_lane_each_mapping_reads_them_in(tmp_path):
    lab = _played(tmp_path, "kinesis-parallelization-factor")
    rows = _query(lab, "SELECT r.partition_key, r.lane, json_extract(m.config, "
                       "'$.ParallelizationFactor') FROM v_records r JOIN mappings m "
                       "ON m.uuid = r.mapping_uuid")
    assert rows and any(pf > 1 for _, _, pf in rows)
    assert all(lane == lane_of(key, pf) for key, lane, pf in rows)


def test_messages_state_follows_the_lab_clock(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    lab.create_queue("q")
    lab.send_message("q", "now")
    lab.send_message("q", "later", DelaySeconds=60)
    lab.do("receive_message", QueueName="q")
    states = dict(_query(lab, "SELECT body, state FROM v_messages"))
    assert states == {"now": "in flight", "later": "delayed"}
    lab.advance(61)
    assert dict(_query(lab, "SELECT body, state FROM v_messages")) == {"now": "visible",
                                                                       "later": "visible"}


def test_journal_and_mappings_give_label_and_uuid_side_by_side(tmp_path):
    lab = _played(tmp_path, "sqs-partial-batch-response")
    pairs = _query(lab, "SELECT mapping_uuid, mapping_label FROM v_mappings")
    assert {u for u, _ in pairs} == {m["uuid"] for m in lab.engine.mappings.all_rows()}
    for uuid, label in pairs:
        assert _query(lab, "SELECT DISTINCT mapping_uuid FROM v_journal WHERE resource = ?",
                      label) == [(uuid,)]
    assert {label for (label,) in _query(lab, "SELECT DISTINCT mapping_label FROM "
                                              "v_invocations")} <= {lb for _, lb in pairs}


def test_every_table_and_view_of_a_lab_is_documented(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    names = {n for (n,) in lab.store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite_%'")}
    doc = DOC.read_text()
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert missing == [], f"add these to docs/lab-file.md: {missing}"
    assert set(VIEW_NAMES) <= names


def test_datasette_metadata_describes_every_view(tmp_path, capsys):
    meta = datasette_metadata("lab")
    assert set(meta["databases"]["lab"]["tables"]) == set(VIEW_NAMES)
    lab = Lab.create(tmp_path / "mine.db")
    lab.close()
    assert main(["datasette", "--lab", str(tmp_path / "mine.db"), "--metadata-only"]) == 0
    written = json.loads((tmp_path / "mine.metadata.json").read_text())
    assert set(written["databases"]["mine"]["tables"]) == set(VIEW_NAMES)
    assert "datasette" in capsys.readouterr().out
