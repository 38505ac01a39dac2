"""An invocation stores what it needs to rebuild its event, not the event:
the rebuilt event is byte for byte the JSON the function got, for every
source kind, and labs that stored whole events still read and replay."""

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from esmlab.engine import arns, event_store, function as fn
from esmlab.engine.payloads import (dynamodb_record, kinesis_record, sqs_event, sqs_record,
                                    window_event)
from esmlab.lab import Lab
from esmlab.store import SCHEMA_VERSION
from esmlab.scenario.loader import load_scenario
from esmlab.scenario.player import Player
from tests.old_schema import UNDO_VERSION_8

ROOT = Path(__file__).resolve().parent.parent
# Every lesson and conformance case: SQS standard and FIFO, message
# attributes, DLQ sources, trace headers, Kinesis, DynamoDB, tumbling windows,
# filters, bisected halves, retries after a partial response, throttles,
# destinations. The three scaling lessons are left out only for time: their
# thousands of events have the shapes the SQS lessons already cover.
BIG = {"sqs-provisioned-mode", "sqs-scaling-classic", "sqs-scaling-current"}
SCENARIOS = [p for p in sorted(ROOT.glob("scenarios/*.yaml")) if p.stem not in BIG] + \
    sorted(ROOT.glob("scenarios/conformance/*.yaml"))


@pytest.fixture
def handed_over(monkeypatch):
    """invocation id -> (the event's JSON text as the function got it, the
    detail the poller gave), for every invocation that reached a function."""
    seen = {}
    invoke = fn.Functions.invoke

    def spy(self, name, event, items, **kw):
        text = fn.event_text(event)   # what a handler is given (see _decide)
        detail = json.loads(json.dumps(kw.get("detail")))
        inv_id, throttled = invoke(self, name, event, items, **kw)
        if not throttled:
            if kw.get("request_id") is not None:
                detail = dict(detail or {}, request_id=kw["request_id"])
            seen[inv_id] = (text, detail)
        return inv_id, throttled

    monkeypatch.setattr(fn.Functions, "invoke", spy)
    return seen


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_rebuilt_event_is_byte_identical_to_the_event_the_function_got_and_packed(
        path, tmp_path, handed_over):
    player = Player.new(load_scenario(path), tmp_path / "lab.db")
    try:
        player.run()
        lab = player.lab
        listed = {i["id"]: i for i in lab.invocations()}
        for inv_id, (text, detail) in handed_over.items():
            inv = lab.engine.functions.invocation(inv_id)
            assert fn.event_text(inv["event"]) == text, f"invocation {inv_id}"
            assert json.dumps(inv["detail"]) == json.dumps(detail), f"invocation {inv_id}"
            assert fn.event_text(listed[inv_id]["event"]) == text
        # and every record the lab builds is stored packed, never whole
        rows = lab.store.conn.execute(
            "SELECT id, event, event_parts FROM invocations WHERE status != 'throttled'")
        for inv_id, whole, parts in rows:
            assert whole is None, f"invocation {inv_id} kept its whole event"
            packed = json.loads(parts)
            assert packed[0] == event_store.FORMAT
            assert all(isinstance(r, list) for r in packed[2]), f"invocation {inv_id}"
    finally:
        player.lab.close()


# -- shapes the lessons may not reach ------------------------------------------------------

def _same_after_packing(event: dict) -> None:
    text = fn.event_text(event)
    assert fn.event_text(event_store.unpack(event_store.pack(event))) == text


def _msg(**kw):
    return {"message_id": "m-1", "receipt_handle": "rh-1", "body": "héllo \u2028 \"x\"",
            "sent_ms": 1_704_067_200_123, "receive_count": 3,
            "first_receive_ms": 1_704_067_201_000, **kw}


def test_sqs_records_with_every_optional_attribute_rebuild_exactly():
    fifo = sqs_record(_msg(group_id="g", dedup_id="d", sequence_number="18850", sender_id="AIDX",
                           trace_header="Root=1-x;Lineage=1:abc:2", dlq_source_arn="arn:src",
                           message_attributes={"n": {"DataType": "Number", "StringValue": "1"},
                                               "b": {"DataType": "Binary",
                                                     "BinaryValue": "AAE="}}),
                      "q.fifo", True)
    plain = sqs_record(_msg(), "q", False)
    _same_after_packing(sqs_event([fifo, plain]))
    assert all(isinstance(r, list) for r in json.loads(event_store.pack(sqs_event([fifo])))[2])


def test_a_record_of_a_shape_the_packer_does_not_know_is_kept_whole_and_rebuilt_as_it_was():
    odd = dict(sqs_record(_msg(), "q", False), extra="field")
    leading_zero = sqs_record(_msg(), "q", False)
    leading_zero["attributes"]["ApproximateReceiveCount"] = "03"
    no_sender = sqs_record(_msg(sender_id=""), "q", False)
    no_sender["attributes"]["SenderId"] = ""
    event = {"Records": [odd, leading_zero, no_sender, "text", ["a", 1], {"": 2}]}
    _same_after_packing(event)
    _same_after_packing({"Records": [], "other": 1})
    _same_after_packing({"not": "a records event", "Records": []})
    _same_after_packing({})


def test_kinesis_and_dynamodb_records_rebuild_exactly():
    kinesis = [kinesis_record("s", "shardId-000000000001", "4959" + "0" * 52, "pk é", b"\x00\xff",
                              1_704_067_200_987),
               kinesis_record("s", "shardId-000000000001", "4960", "k", b"",
                              1_704_067_201_001, invoke_identity_arn="arn:aws:iam::1:role/x")]
    _same_after_packing({"Records": kinesis})
    keys = {"id": {"N": "1"}}
    image = {"id": {"N": "1"}, "tags": {"SS": ["a", "b"]}, "m": {"M": {"x": {"BOOL": True}}}}
    stream = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024"
    dynamo = [dynamodb_record(stream, "e1", "INSERT", keys, image, None, "100", "NEW_AND_OLD_IMAGES",
                              1_704_067_200_500),
              dynamodb_record(stream, "e2", "REMOVE", keys, None, image, "101", "OLD_IMAGE",
                              1_704_067_200_500, ttl_delete=True),
              dynamodb_record(stream, "e3", "MODIFY", keys, image, image, "102", "KEYS_ONLY",
                              1_704_067_200_500)]
    _same_after_packing({"Records": dynamo})
    window = window_event(kinesis, shard_id="shardId-000000000001", stream_arn="arn:s",
                          window_start_ms=1_704_067_200_000, window_end_ms=1_704_067_230_000,
                          state={"total": 1.5}, final=False, terminated_early=False)
    _same_after_packing(window)
    assert all(isinstance(r, list) for r in json.loads(event_store.pack(window))[2])


# -- a user's handler sees the rebuilt event ------------------------------------------------

def test_a_user_handler_gets_exactly_the_event_the_lab_rebuilds(tmp_path, monkeypatch):
    (tmp_path / "echo_handlers.py").write_text(textwrap.dedent("""
        import json
        from pathlib import Path

        def echo(event, context):
            with Path(__file__).with_name("seen.jsonl").open("a") as f:
                f.write(json.dumps(event, separators=(",", ":")) + "\\n")
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    lab = Lab.create(tmp_path / "lab.db", seed=5)
    lab.create_function("f")
    lab.set_behaviour("f", mode="handler", handler="echo_handlers:echo")
    lab.create_queue("q", {"VisibilityTimeout": "5"})
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=3,
                       FunctionResponseTypes=["ReportBatchItemFailures"])
    for n in range(3):
        lab.send_message("q", f"order {n}", MessageAttributes={
            "n": {"DataType": "String", "StringValue": str(n)}})
    lab.advance(20)
    seen = (tmp_path / "seen.jsonl").read_text().splitlines()
    invs = [i for i in lab.invocations() if i["status"] != "throttled"]
    assert len(seen) == len(invs) >= 2   # the reported failure came back, received again
    assert [fn.event_text(i["event"]) for i in invs] == seen
    lab.close()


# -- labs that stored whole events ------------------------------------------------------------

def _as_schema_5(path: Path) -> None:
    """Turn a lab into one written before schema 6: whole events in `event`."""
    lab = Lab.open(path)
    events = [(fn.event_text(i["event"]), i["id"]) for i in lab.invocations()
              if i["event"] is not None]
    details = [(json.dumps(i["detail"]), i["id"]) for i in lab.invocations() if i["detail"]]
    lab.close()
    conn = sqlite3.connect(path)
    conn.executemany("UPDATE invocations SET event=? WHERE id=?", events)
    conn.executemany("UPDATE invocations SET detail=? WHERE id=?", details)
    conn.executescript("ALTER TABLE invocations DROP COLUMN event_parts; "
                       + UNDO_VERSION_8 +
                       "UPDATE meta SET value='5' WHERE key='schema_version';")
    conn.close()


def _sqs_lab(path: Path) -> Lab:
    lab = Lab.create(path, seed=11)
    lab.create_function("f")
    lab.set_behaviour("f", mode="fail_first", count=1)
    lab.create_queue("q", {"VisibilityTimeout": "5"})
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=2)
    lab.send_message("q", "a")
    lab.send_message("q", "b")
    lab.advance(30)
    return lab


def test_a_lab_with_whole_events_opens_migrated_and_reads_them_as_stored(tmp_path):
    path = tmp_path / "old.db"
    lab = _sqs_lab(path)
    before = [(fn.event_text(i["event"]), i["detail"]) for i in lab.invocations()]
    journal = lab.journal_signature()
    lab.close()
    _as_schema_5(path)
    lab = Lab.open(path)
    assert lab.store.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert [(fn.event_text(i["event"]), i["detail"]) for i in lab.invocations()] == before
    lab.rebuild()   # a replay stores the events packed, and they are the same
    assert lab.journal_signature() == journal
    assert [(fn.event_text(i["event"]), i["detail"]) for i in lab.invocations()] == before
    assert lab.store.conn.execute("SELECT count(*) FROM invocations WHERE event IS NOT NULL"
                                  ).fetchone()[0] == 0
    lab.close()


def test_export_event_gives_the_same_text_from_a_whole_or_a_packed_event(tmp_path):
    from esmlab.scenario.export import export_event
    path = tmp_path / "lab.db"
    lab = _sqs_lab(path)
    packed = [export_event(lab, i["id"]) for i in lab.invocations()]
    lab.close()
    _as_schema_5(path)
    lab = Lab.open(path)
    assert [export_event(lab, i["id"]) for i in lab.invocations()] == packed
    lab.close()


def test_the_sqs_notes_come_back_the_same_from_the_packed_event_or_the_rebuilt_one():
    fifo = sqs_record(_msg(group_id="g", dedup_id="d", sequence_number="1"), "q.fifo", True)
    odd = sqs_record(_msg(message_id="m-2"), "q", False)
    odd["attributes"]["ApproximateReceiveCount"] = "03"
    plain = sqs_record(_msg(message_id="m-3", body="x" * 200), "q", False)
    event = sqs_event([fifo, odd, plain])
    notes = [{"mid": r["messageId"], "rh": r["receiptHandle"],
              "rc": int(r["attributes"]["ApproximateReceiveCount"]),
              "g": r["attributes"].get("MessageGroupId"), "body": r["body"][:80], "vis": v}
             for r, v in zip(event["Records"], (5, 5, 7))]
    detail = {"msgs": notes, "reason": "BatchSize 3 was reached"}
    stored = event_store.pack_detail(detail, event)
    assert stored["msgs"] == {"vis": [5, 5, 7]} and list(stored) == ["msgs", "reason"]
    parts = event_store.pack(event)
    assert event_store.unpack_detail_from_parts(stored, parts) == \
        event_store.unpack_detail(stored, event_store.unpack(parts)) == detail
    same = event_store.pack_detail(dict(detail, msgs=[dict(n, vis=5) for n in notes]), event)
    assert same["msgs"] == {"vis": 5}
    changed = dict(detail, msgs=[dict(notes[0], rh="other"), *notes[1:]])
    assert event_store.pack_detail(changed, event) == changed   # kept whole: it differs


def test_a_record_id_the_records_column_holds_is_not_stored_again():
    event = sqs_event([sqs_record(_msg(message_id=f"m-{n}"), "q", False) for n in range(3)])
    ids = ["m-0", "other", "m-2"]
    parts = event_store.pack(event, ids)
    assert parts.count('"m-0"') == 0 and parts.count('"m-1"') == 1
    assert fn.event_text(event_store.unpack(parts, ids)) == fn.event_text(event)
    with pytest.raises(ValueError, match="record ids"):
        event_store.unpack(parts)
