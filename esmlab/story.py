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

EVENTS_CAP = 2000          # a record retried for days still reads in bounded time


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
                           (ref,)).fetchone() or conn.execute(
            "SELECT seq, stream, shard_id FROM records WHERE substr(seq, 1, 2) = '49' AND "
            "CAST(substr(seq, 3, length(seq) - 18) AS INTEGER) = ? ORDER BY id LIMIT 1",
            (int(ref),)).fetchone()
        if row:
            return {"kind": "record", "id": row[0], "stream": row[1], "shard_id": row[2]}
    row = conn.execute("SELECT message_id, queue FROM messages WHERE message_id=? OR "
                       "message_id LIKE ? LIMIT 1", (ref, ref + "%")).fetchone()
    if row:
        return {"kind": "message", "id": row[0], "queue": row[1]}
    row = conn.execute("SELECT subject FROM journal WHERE subject=? OR subject LIKE ? LIMIT 1",
                       (ref, ref + "%")).fetchone()
    if row and row[0]:                     # a message gone from its queue (deleted)
        return {"kind": "message", "id": row[0]}
    return None


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
    if found["kind"] == "invocation":
        invs = [dict(zip(("id", "function", "mapping", "status", "attempt", "size",
                          "start_ms", "end_ms", "error"), row)) for row in conn.execute(
            "SELECT id, function, mapping, status, attempt, size, start_ms, end_ms, error "
            "FROM invocations WHERE id=?", (ident,))]
        for inv in invs:
            inv["error"] = _error_text(inv["error"])
    else:
        invs = _invocations_holding(conn, str(ident))
    inv_ids = [i["id"] for i in invs]
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
    return {"ref": ref, **found, "start_ms": lab.engine.start_ms, "events": lines,
            "invocations": invs, "logs": logs}


def story_lines(s: dict, rel) -> list[str]:
    """The story as text lines (`esmlab why` prints them; the X-ray shows them)."""
    what = {"message": "message", "record": "record", "invocation": "invocation"}[s["kind"]]
    out = [f"{what} {s['id']}"]
    if s.get("queue"):
        out[0] += f" in queue {s['queue']}"
    if s.get("stream"):
        out[0] += f" in stream {s['stream']} ({s['shard_id']})"
    for ev in s["events"]:
        out.append(f"T+{rel(ev['at_ms'] - s['start_ms'])}  {ev['kind']}  {ev['resource']}: "
                   f"{ev['reason']}")
    if s["invocations"]:
        out.append("invocations:")
        for inv in s["invocations"]:
            line = (f"  #{inv['id']} {inv['function']} T+{rel(inv['start_ms'] - s['start_ms'])}"
                    f" {inv['status']} (attempt {inv['attempt']}, {inv['size']} in the batch)")
            if inv.get("error"):
                line += f": {inv['error']}"
            out.append(line)
            out += [f"    | {log}" for log in s["logs"].get(inv["id"], [])]
    return out
