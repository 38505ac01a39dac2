"""The story of one record: its life line from the journal and the
invocations, for `esmlab why ID` and the screen's X-ray panel.

An ID is an SQS message id (or its first 8 characters, as the panels show
it), a Kinesis/DynamoDB sequence number (or its last digits, `…0001`), or
an invocation number. The life line is every journal event that names it
(sent or written, received, each invocation it was in, each decision:
retry, bisect, checkpoint, visibility, throttle, filter, DLQ, destination,
expiry, delete), oldest first, with the invocations' outcomes and log
lines. Plain data, no Textual.
"""

from __future__ import annotations

import json
import re

EVENTS_CAP = 2000          # a record retried for days still reads in bounded time
BATCH_SHOWN = 50           # an invocation's story names this many of its batch's records


def resolve(lab, ref: str) -> dict | None:
    """{"kind": "message"|"record"|"invocation", "id": full id} or None."""
    conn = lab.store.conn
    ref = ref.strip()
    shortened = ref.startswith(("…", "..."))      # …0001 is a sequence number's tail
    ref = ref.lstrip("…").removeprefix("...")
    if not ref:
        return None
    if ref.isdigit() and len(ref) < 12 and not shortened:
        if conn.execute("SELECT 1 FROM invocations WHERE id=?", (int(ref),)).fetchone():
            return {"kind": "invocation", "id": int(ref)}
    if ref.isdigit():
        # a whole sequence number, or the record counter the panels show (…0001)
        row = conn.execute("SELECT seq, stream, shard_id FROM records WHERE seq=?",
                           (ref,)).fetchone()
        if row is None and int(ref) < 1 << 63:
            row = conn.execute(
                "SELECT seq, stream, shard_id FROM records WHERE substr(seq, 1, 2) = '49' AND "
                "CAST(substr(seq, 3, length(seq) - 18) AS INTEGER) = ? ORDER BY id LIMIT 1",
                (int(ref),)).fetchone()
        if row:
            return {"kind": "record", "id": row[0], "stream": row[1], "shard_id": row[2]}
        trimmed = _trimmed_record(conn, ref)
        if trimmed:
            return trimmed
    row = conn.execute("SELECT message_id, queue FROM messages WHERE message_id=? OR "
                       "message_id LIKE ? LIMIT 1", (ref, ref + "%")).fetchone()
    if row:
        return {"kind": "message", "id": row[0], "queue": row[1]}
    row = conn.execute("SELECT subject FROM journal WHERE subject=? OR subject LIKE ? LIMIT 1",
                       (ref, ref + "%")).fetchone()
    if row and row[0]:                     # a message gone from its queue (deleted)
        return {"kind": "message", "id": row[0]}
    return _gone_message(conn, ref)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _gone_message(conn, ref: str) -> dict | None:
    """A message deleted from its queue that no event names as its subject
    (processed at last, after one receive or several): found in the batch of
    an invocation it was in, or else in the send that wrote it."""
    pattern = f'%"{_like(ref)}%'
    # Only queue invocations: their poller notes each message ("msgs").
    row = conn.execute("SELECT records, source FROM invocations WHERE records LIKE ? ESCAPE '\\' "
                       "AND detail LIKE '%\"msgs\"%' ORDER BY id LIMIT 1", (pattern,)).fetchone()
    if row is None:
        row = conn.execute("SELECT data, resource FROM journal WHERE kind = 'sqs.sent' AND "
                           "data LIKE ? ESCAPE '\\' ORDER BY id LIMIT 1", (pattern,)).fetchone()
    if row is None:
        return None
    try:
        ids = json.loads(row[0])
    except ValueError:
        return None
    full = next((i for i in ids if isinstance(i, str) and i.startswith(ref)), None) \
        if isinstance(ids, list) else None
    if full is None:
        return None
    return {"kind": "message", "id": full, "queue": row[1]}


def _trimmed_record(conn, seq: str) -> dict | None:
    """A whole sequence number retention trimmed: the shard whose trimmed
    range holds it (a Kinesis number ends with its shard's ordinal; a
    DynamoDB stream has one shard), or None."""
    if len(seq) not in (21, 56):
        return None
    ordinal = int(seq[-16:]) if len(seq) == 56 else 0
    row = conn.execute(
        "SELECT stream, shard_id, trimmed_seq FROM shards WHERE ordinal = ? AND "
        "trimmed_seq IS NOT NULL AND length(trimmed_seq) = ? AND start_seq < ? AND "
        "trimmed_seq >= ? ORDER BY stream LIMIT 1", (ordinal, len(seq), seq, seq)).fetchone()
    if row is None:
        return None
    return {"kind": "record", "id": seq, "stream": row[0], "shard_id": row[1],
            "trimmed": row[2]}


def _trim_of(conn, found: dict, events: dict) -> None:
    """The retention trim that took a trimmed record (the first of its
    stream's trims to reach its sequence number), when the journal still
    has it (a compaction may have dropped it)."""
    seq, shard = found["id"], found["shard_id"]
    for row in conn.execute(
            "SELECT id, at_ms, kind, resource, reason, data FROM journal WHERE resource = ? AND "
            "kind = 'stream.trimmed' ORDER BY id", (found["stream"],)):
        top = (json.loads(row[5]).get("shards", {}).get(shard) or {}).get("up_to_seq")
        if top and len(top) == len(seq) and top >= seq:
            events[row[0]] = row
            return


def _invocations_holding(conn, ident: str) -> list[dict]:
    """The invocations whose batch held the record or message."""
    rows = conn.execute(
        "SELECT id, function, mapping, status, attempt, size, start_ms, end_ms, error, "
        "records FROM invocations WHERE records LIKE ? ORDER BY id LIMIT ?",
        (f'%"{ident}"%', EVENTS_CAP)).fetchall()
    out = []
    for i, fn, mapping, status, attempt, size, start, end, error, records in rows:
        if ident in json.loads(records):
            out.append({"id": i, "function": fn, "mapping": mapping, "status": status,
                        "attempt": attempt, "size": size, "start_ms": start, "end_ms": end,
                        "error": _error_text(error)})
    return out


def _receive_counts(conn, invs: list[dict], ident: str | None) -> None:
    """Give each SQS invocation the ApproximateReceiveCount its messages had
    (`receive_counts`, in batch order; with `ident`, that message's own as
    `receive_count`). A queue retries by receiving a message again, so that
    is the number AWS shows for it; the invocation's `attempt` counts only
    the invoke tries of one receive (a throttled batch is retried, reference
    2.3). Stream invocations are left as they are: their attempt is the
    batch's invoke count."""
    from esmlab.engine.function import INVOCATION_COLUMNS, invocation_dict

    by_id = {inv["id"]: inv for inv in invs}
    ids = list(by_id)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for row in conn.execute(
                f"SELECT {', '.join(INVOCATION_COLUMNS)} FROM invocations WHERE id IN "
                f"({','.join('?' * len(chunk))}) AND detail LIKE '%\"msgs\"%'", chunk):
            full = invocation_dict(row)
            msgs = (full.get("detail") or {}).get("msgs")
            if not isinstance(msgs, list):
                continue
            inv = by_id[full["id"]]
            inv["receive_counts"] = [m.get("rc") for m in msgs]
            if ident is not None:
                inv["receive_count"] = next((m.get("rc") for m in msgs if m.get("mid") == ident),
                                            None)


def _delivery_text(inv: dict) -> str:
    """How many times this was delivered, in AWS's words: the receive count
    for a queue (ApproximateReceiveCount), the attempt for a stream."""
    counts = inv.get("receive_counts")
    if counts is None:
        return f"attempt {inv['attempt']}"
    if inv.get("receive_count") is not None:
        text = f"receive count {inv['receive_count']}"
    else:
        distinct = sorted({c for c in counts if c is not None})
        text = ("receive count " if len(distinct) == 1 else "receive counts ") + \
            ", ".join(map(str, distinct))
    if (inv.get("attempt") or 1) > 1:
        # A throttled batch is invoked again under the same receive.
        text += f", invoke try {inv['attempt']} of this receive after a throttle"
    return text


def _error_text(error) -> str | None:
    if not error:
        return None
    try:
        e = json.loads(error)
    except ValueError:
        return str(error)
    if isinstance(e, dict):
        return ": ".join(str(e[k]) for k in ("errorType", "errorMessage") if e.get(k))
    return str(e)


def story(lab, ref: str) -> dict | None:
    """The life line of the record, message or invocation `ref` names:
    {"ref", "kind", "id", "start_ms", "events": [{"at_ms", "kind", "resource",
    "reason", "invocation"}], "invocations": [...], "logs": {invocation: [lines]}},
    or None when nothing in the lab has that id."""
    found = resolve(lab, ref)
    if found is None:
        return None
    conn = lab.store.conn
    ident = found["id"]
    batch: list[str] = []
    if found["kind"] == "invocation":
        invs = [dict(zip(("id", "function", "mapping", "status", "attempt", "size",
                          "start_ms", "end_ms", "error", "records"), row)) for row in conn.execute(
            "SELECT id, function, mapping, status, attempt, size, start_ms, end_ms, error, "
            "records FROM invocations WHERE id=?", (ident,))]
        for inv in invs:
            inv["error"] = _error_text(inv["error"])
            batch = json.loads(inv.pop("records") or "[]")
    else:
        invs = _invocations_holding(conn, str(ident))
    inv_ids = [i["id"] for i in invs]
    _receive_counts(conn, invs, None if found["kind"] == "invocation" else str(ident))
    events: dict[int, tuple] = {}
    if found["kind"] != "invocation":
        # events that name the record or message itself
        for row in conn.execute(
                "SELECT id, at_ms, kind, resource, reason, data FROM journal WHERE subject=? "
                "OR (data LIKE ? AND kind NOT LIKE 'invoke.%') ORDER BY id LIMIT ?",
                (str(ident), f"%{ident}%", EVENTS_CAP)):
            events[row[0]] = row
    for i in range(0, len(inv_ids), 500):
        chunk = inv_ids[i:i + 500]
        for row in conn.execute(
                "SELECT id, at_ms, kind, resource, reason, data FROM journal WHERE "
                f"json_extract(data, '$.invocation') IN ({','.join('?' * len(chunk))}) "
                "ORDER BY id LIMIT ?", (*chunk, EVENTS_CAP)):
            events[row[0]] = row
    if found["kind"] == "record":
        _shard_decisions(conn, found, invs, events)
    if found.get("trimmed"):
        _trim_of(conn, found, events)
    lines = []
    for _, at, kind, resource, reason, data in sorted(events.values()):
        d = json.loads(data) if data else None
        inv = d.get("invocation") if isinstance(d, dict) else None
        lines.append({"at_ms": at, "kind": kind, "resource": resource, "reason": reason,
                      "invocation": inv})
    logs = {}
    read_logs = getattr(lab, "invocation_logs", None)
    if read_logs is not None:
        for inv in invs[-20:]:           # the last attempts' logs; each is bounded
            logs[inv["id"]] = [e["message"].rstrip("\n") for e in read_logs(inv["id"])]
    blocked = None
    if found["kind"] == "record" and invs and invs[-1]["status"] in ("error", "timeout",
                                                                      "throttled"):
        label = lab.engine.mappings.get_row(invs[-1]["mapping"])["label"]
        blocked = next((b["text"] for b in blocked_lanes(lab, label)
                        if b["shard"] == found["shard_id"]), None)
    return {"ref": ref, **found, "start_ms": lab.engine.start_ms, "events": lines,
            "invocations": invs, "logs": logs, "blocked": blocked,
            "batch": batch[:BATCH_SHOWN], "batch_size": len(batch)}


_RANGE = re.compile(r"(\d{20,})\.\.(\d{20,})")


def _shard_decisions(conn, found: dict, invs: list[dict], events: dict) -> None:
    """Retries and discards name the shard and a sequence range, not the
    record: add those whose range holds it (retries only while it was being
    invoked), so its life line says when it was retried and given up."""
    seq, shard = found["id"], found["shard_id"]
    first = min((i["start_ms"] for i in invs), default=None)
    for row in conn.execute(
            "SELECT id, at_ms, kind, resource, reason, data FROM journal WHERE subject = ? AND "
            "kind IN ('batch.retry', 'batch.discarded', 'batch.throttled') ORDER BY id LIMIT ?",
            (shard, EVENTS_CAP)):
        ranges = _RANGE.findall(row[4])
        if any(len(a) == len(seq) == len(b) and a <= seq <= b for a, b in ranges):
            events[row[0]] = row
        elif row[2] == "batch.retry" and first is not None and row[1] >= first and any(
                i["start_ms"] <= row[1] <= (i["end_ms"] or row[1]) + 1 for i in invs):
            events[row[0]] = row


def story_lines(s: dict, rel) -> list[str]:
    """The story as text lines (`esmlab why` prints them)."""
    return [text for text, _ in story_rows(s, rel)]


def story_rows(s: dict, rel) -> list[tuple[str, str | None]]:
    """The story's lines, each with the id it names (an invocation number,
    a record's sequence number or a message id) or None: the X-ray jumps
    from a line to the invocation or record it names."""
    what = {"message": "message", "record": "record", "invocation": "invocation"}[s["kind"]]
    head = f"{what} {s['id']}"
    if s.get("queue"):
        head += f" in queue {s['queue']}"
    if s.get("stream"):
        head += f" in stream {s['stream']} ({s['shard_id']})"
    out: list[tuple[str, str | None]] = [(head, None)]
    for ev in s["events"]:
        inv = ev.get("invocation")
        out.append((f"T+{rel(ev['at_ms'] - s['start_ms'])}  {ev['kind']}  {ev['resource']}: "
                    f"{ev['reason']}", None if inv is None else str(inv)))
    if s["invocations"]:
        out.append(("invocations:", None))
        for inv in s["invocations"]:
            line = (f"  #{inv['id']} {inv['function']} T+{rel(inv['start_ms'] - s['start_ms'])}"
                    f" {inv['status']} ({_delivery_text(inv)}, {inv['size']} in the batch)")
            if inv.get("error"):
                line += f": {inv['error']}"
            out.append((line, str(inv["id"])))
            out += [(f"    | {log}", str(inv["id"])) for log in s["logs"].get(inv["id"], [])]
    if s.get("batch"):
        out.append((f"the batch ({s['batch_size']} record(s)):", None))
        out += [(f"  {short_id(r)}", r) for r in s["batch"]]
        if s["batch_size"] > len(s["batch"]):
            out.append((f"  and {s['batch_size'] - len(s['batch'])} more", None))
    if s.get("trimmed"):
        out.append((f"now: trimmed, it expired: the retention of {s['stream']} took every "
                    f"record of {s['shard_id']} up to {s['trimmed']}", None))
    elif s.get("blocked"):
        out.append((f"now: {s['blocked']}", None))
    return out


def short_id(ident: str) -> str:
    """A record's sequence number as the panels show it (…0001, which the
    x-ray also accepts); any other id whole."""
    from esmlab.readmodels import short_number
    return short_number(ident) if ident.isdigit() and len(ident) > 18 else ident


def short_ref(ref: str) -> str:
    """An id as a link names it: an invocation as `invocation N`, a message
    id by its first 8 characters and a long sequence number by its tail
    (both of which `resolve` accepts back)."""
    if ref.isdigit() and len(ref) < 12:
        return f"invocation {ref}"
    return ref[:8] if "-" in ref else short_id(ref)


def event_ref(lab, event_id: int) -> str | None:
    """The id a journal event is about, for an x-ray from a Why-log line:
    the invocation it names, the record it wrote, or the message (the first
    one of several); None when it names none (a mapping's state change)."""
    row = lab.store.conn.execute("SELECT subject, reason, data FROM journal WHERE id=?",
                                 (event_id,)).fetchone()
    if row is None:
        return None
    subject, reason, data = row
    try:
        d = json.loads(data) if data else None
    except ValueError:
        d = None
    if isinstance(d, dict):
        if d.get("invocation") is not None:
            return str(d["invocation"])
        if d.get("seq"):
            return str(d["seq"])
        ids = d.get("message_ids")
        if isinstance(ids, list) and ids:
            return str(ids[0])
    ranges = _RANGE.findall(reason or "")
    if ranges:                       # a shard's retry or discard names a sequence range
        return ranges[0][0]
    if subject and not subject.startswith("shardId-") and resolve(lab, subject) is not None:
        return subject
    if isinstance(d, list) and d and isinstance(d[0], str):
        return d[0]
    return None


# -- when will a blocked shard unblock? -------------------------------------------------------

def blocked_lanes(lab, mapping: str) -> list[dict]:
    """Each blocked lane of a stream mapping, with until when it can stay so:
    the moment its oldest waiting record is discarded for age
    (MaximumRecordAgeInSeconds) or trimmed by the stream's retention, and how
    many failed attempts MaximumRetryAttempts still allows."""
    m = lab.engine.mappings.get_row(mapping)
    if m["source_kind"] not in ("kinesis", "dynamodb"):
        return []
    c = m["config"]
    conn = lab.store.conn
    # A mapping through an enhanced fan-out consumer names the consumer ARN;
    # its poller keeps the stream's name.
    stream = m["runtime"].get("stream") or lab.engine.streams.name_for_arn(m["source_arn"])
    retention_ms = conn.execute("SELECT retention_ms FROM streams WHERE name = ?",
                                (stream,)).fetchone()[0]
    out = []
    for shard, lane, state in conn.execute(
            "SELECT shard_id, lane, state FROM lanes WHERE mapping = ? ORDER BY shard_id, lane",
            (m["uuid"],)):
        st = json.loads(state)
        pending = st.get("pending") or []
        if not pending or not pending[0].get("attempts"):
            continue
        seg = pending[0]
        rows = lab.engine.streams.records_by_ids(seg["ids"][:1]) if seg.get("ids") else []
        limits = []
        if rows:
            oldest = rows[0]["arrival_ms"]
            limits.append((oldest + retention_ms, "its oldest record leaves the stream "
                           f"(retention {retention_ms // 3_600_000} h)"))
            age = c.get("MaximumRecordAgeInSeconds", -1)
            if age not in (-1, None):
                limits.append((oldest + age * 1000, "its oldest record is older than "
                               f"MaximumRecordAgeInSeconds {age}"))
        until_ms, why = min(limits) if limits else (None, None)
        retries = c.get("MaximumRetryAttempts", -1)
        left = None if retries in (-1, None) else max(0, retries + 1 - seg["attempts"])
        out.append({"shard": shard, "lane": lane, "since_ms": st.get("blocked_since"),
                    "until_ms": until_ms, "why": why, "attempts_left": left,
                    "text": _blocked_text(lab, shard, until_ms, why, left, retries)})
    return out


def _blocked_text(lab, shard, until_ms, why, left, retries) -> str:
    from esmlab.scenario.durations import format_duration

    parts = []
    if left is not None:
        parts.append(f"after {left} more failed attempt(s) (MaximumRetryAttempts {retries})")
    if until_ms is not None:
        wait = until_ms - lab.now_ms
        parts.append(f"at T+{format_duration(until_ms - lab.engine.start_ms)}, "
                     f"in {format_duration(wait) if wait > 0 else '0s'}, when {why}")
    if not parts:
        return f"{shard} is blocked"
    return f"{shard} stays blocked until the function succeeds, or at the latest " + \
        " or ".join(parts)
