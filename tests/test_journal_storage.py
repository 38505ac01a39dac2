"""The compact journal (lab schema 7, esmlab/engine/journal.py): every reader
gets the text that was logged, byte for byte, while the file keeps a kind as
a number, a reason as a template kept once and an invocation's message ids
only in its row; a lab of schema 6 moves over with its journal unchanged."""

import json
import sqlite3
from pathlib import Path

from esmlab.engine import arns
from esmlab.engine.journal import template
from esmlab.lab import Lab
from esmlab.store import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "labs"


def _schema6_lab(tmp_path) -> Path:
    """A lab written by esmlab at lab schema 6 (fixtures/labs/make_schema6_lab.py)."""
    path = tmp_path / "schema6.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "schema6.sql").read_text())
    conn.close()
    return path


def _stored_journal() -> list[list]:
    return json.loads((FIXTURES / "schema6_journal.json").read_text())


def _drained(tmp_path, messages: int = 40) -> Lab:
    lab = Lab.create(tmp_path / "drain.db", seed=3)
    lab.create_function("f", duration={"fixed_ms": 100, "per_record_ms": 0})
    lab.create_queue("q")
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=10)
    for b in range(messages // 10):
        lab.send_message_batch("q", [{"Id": str(k), "MessageBody": f"m{b}-{k}"}
                                     for k in range(10)])
    lab.run_until_idle()
    return lab


def test_a_schema6_lab_opens_migrated_with_every_journal_event_as_it_was(tmp_path):
    lab = Lab.open(_schema6_lab(tmp_path))
    assert lab.store.get_meta("schema_version") == str(SCHEMA_VERSION)
    kinds = dict(lab.store.conn.execute(
        "SELECT name, type FROM sqlite_master WHERE name LIKE 'journal%'"))
    assert kinds["journal"] == "view" and kinds["journal_rows"] == "table"
    assert [list(r) for r in lab.journal_signature()] == _stored_journal()
    lab.close()


def test_a_schema6_lab_replays_to_the_same_journal_after_the_move(tmp_path):
    lab = Lab.open(_schema6_lab(tmp_path))
    lab.rebuild()
    assert [list(r) for r in lab.journal_signature()] == _stored_journal()
    lab.advance(5)   # and goes on writing compact rows beside the moved ones
    assert [list(r) for r in lab.journal_signature()][:len(_stored_journal())] == \
        _stored_journal()
    lab.close()


def test_a_schema6_lab_read_only_is_read_as_it_is(tmp_path):
    path = _schema6_lab(tmp_path)
    path.chmod(0o444)
    lab = Lab.open(path, readonly=True)
    assert [list(r) for r in lab.journal_signature()] == _stored_journal()
    lab.close()


def test_a_template_gives_back_its_reason_exactly():
    for reason in ["invocation 252 succeeded; Lambda deletes the 10 message(s)",
                   "shardId-000000000007 blocked", "007 and 1.50 s", "0 left",
                   "no number here", "1234567890123456789 is too big, 42 is not",
                   "a \x1f mark already, 5", ""]:
        text, n = template(reason)
        back = text if n is None else text.replace("\x1f", str(n))
        assert back == reason
    assert template("invocation 252: 10 message(s)") == ("invocation \x1f: 10 message(s)", 252)
    assert template("shardId-000000000007 and 3") == ("shardId-000000000007 and \x1f", 3)


def test_the_journal_view_gives_back_each_event_byte_for_byte(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    e = lab.engine
    events = [
        ("x.one", "r", "invocation 9 of 09 ok é", None, {"message_ids": ["a", "b"], "n": 1.5e-7}),
        ("x.two", "r", "mark \x1f and 3", "sub", ["plain", "list", 1e300]),
        ("x.three", "r", "nothing", None, {"deep": {"message_ids": ["a"]}, "message_ids": ["a"]}),
        ("x.four", "ü", "", None, {"message_ids": ["é"], "x": None}),
        ("x.five", "r", "99999999999999999999", None, None),
    ]
    with lab.store.transaction():
        for ids in (["a", "b"], ["a"], ["é"]):
            e.journal.note_batch(e.conn.execute(
                "INSERT INTO invocations (function, start_ms, end_ms, status, size, records) "
                "VALUES ('f', ?, ?, 'success', 1, ?)",
                (e.now_ms, e.now_ms, json.dumps(ids))).lastrowid, ids)
        for kind, resource, reason, subject, data in events:
            e.log(kind, resource, reason, subject, data)
        e.flush()
    rows = lab.journal(after_id=max(r["id"] for r in lab.journal(limit=10**6)) - len(events))
    assert [(r["kind"], r["resource"], r["reason"], r["subject"], r["data"]) for r in rows] == \
        [(k, res, reason, sub, None if d is None else json.loads(json.dumps(d)))
         for k, res, reason, sub, d in events]
    texts = [r[0] for r in lab.store.conn.execute(
        "SELECT data FROM journal ORDER BY id DESC LIMIT ?", (len(events),))][::-1]
    assert texts == [None if d is None else json.dumps(d, separators=(",", ":"))
                     for *_, d in events]
    linked = lab.store.conn.execute("SELECT count(ids_of) FROM journal_rows").fetchone()[0]
    assert linked == 1   # only the first: the others are nested, or not plain ASCII


def test_a_drained_batch_names_its_message_ids_only_in_the_invocation_row(tmp_path):
    lab = _drained(tmp_path, messages=200)
    conn = lab.store.conn
    for kind in ("sqs.received", "invoke.started"):
        rows = list(conn.execute(
            "SELECT r.ids_of, r.data, j.data FROM journal_rows AS r "
            "JOIN journal AS j ON j.id = r.id WHERE j.kind = ?", (kind,)))
        assert rows and all(ids_of is not None for ids_of, _, _ in rows)
        for ids_of, stored, full in rows:
            records = json.loads(conn.execute("SELECT records FROM invocations WHERE id=?",
                                              (ids_of,)).fetchone()[0])
            assert json.loads(full)["message_ids"] == records
            assert not any(mid in stored for mid in records)
    # one template per sentence: the invocation's number is cut out of it
    started = [t for (t,) in conn.execute(
        "SELECT text FROM journal_texts WHERE text LIKE 'invocation %: f gets%'")]
    assert started and all(t.startswith("invocation \x1f:") for t in started)
    assert len(started) < conn.execute("SELECT count(*) FROM invocations").fetchone()[0]
    lab.close()


def test_the_journal_of_a_drain_is_the_same_after_replay_and_rewind(tmp_path):
    lab = _drained(tmp_path)
    before = lab.journal_signature()
    lab.rebuild()
    assert lab.journal_signature() == before
    lab.rewind(lab.now_ms)
    after = lab.journal_signature()
    assert after[:-1] == before and after[-1][1] == "lab.rewound"
    lab.close()


def test_compaction_keeps_the_message_ids_of_a_kept_event_whose_invocation_goes(tmp_path):
    lab = _drained(tmp_path)
    conn = lab.store.conn
    first = conn.execute("SELECT min(id) FROM journal_rows WHERE ids_of IS NOT NULL").fetchone()[0]
    with lab.store.transaction():   # make it the newest event, which compaction keeps
        conn.execute("DELETE FROM journal_rows WHERE id > ?", (first,))
    kept = conn.execute("SELECT * FROM journal WHERE id = ?", (first,)).fetchone()
    target = conn.execute("SELECT ids_of FROM journal_rows WHERE id=?", (first,)).fetchone()[0]
    lab.compact()
    assert conn.execute("SELECT 1 FROM invocations WHERE id=?", (target,)).fetchone() is None
    assert conn.execute("SELECT * FROM journal WHERE id = ?", (first,)).fetchone() == kept
    lab.close()


def test_a_long_command_writes_its_events_as_it_goes(tmp_path):
    lab = Lab.create(tmp_path / "l.db")
    e = lab.engine
    with lab.store.transaction():
        before = e.conn.execute("SELECT count(*) FROM journal_rows").fetchone()[0]
        for i in range(4500):
            e.log("x.tick", "r", f"tick {i}")
        written = e.conn.execute("SELECT count(*) FROM journal_rows").fetchone()[0] - before
        assert written == 4000 and len(e.journal._rows) == 500   # never more than 2,000 held
        e.flush()
    assert [r["reason"] for r in lab.journal(kind="x.tick", limit=10**6)] == \
        [f"tick {i}" for i in range(4500)]
