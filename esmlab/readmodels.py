"""Read models for the faces: small, paged views of a Lab as plain data.

Every function takes an open `Lab` and returns dicts/lists of plain values
(no Textual, no Rich), so the TUI renders them and tests assert on them.
Queries are bounded (LIMIT/OFFSET, capped counts) so a lab with a million
records costs the same to look at as a small one.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timezone

# Counting a shard's backlog stops here: a badge says "10000+" rather than
# walking a million index entries on every refresh.
BACKLOG_CAP = 10_000
SERIES_POINTS = 120


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def rel(ms: int) -> str:
    """A duration in ms as a short human string: 950ms, 12.3s, 4m05s, 2h03m."""
    neg = ms < 0
    ms = abs(int(ms))
    if ms < 1000:
        out = f"{ms}ms"
    elif ms < 60_000:
        out = f"{ms / 1000:.1f}s"
    elif ms < 3_600_000:
        out = f"{ms // 60_000}m{(ms // 1000) % 60:02d}s"
    else:
        out = f"{ms // 3_600_000}h{(ms // 60_000) % 60:02d}m"
    return ("-" if neg else "") + out


def short_seq(seq: str | None) -> str:
    """A Kinesis-style sequence number as its record counter (…0003 -> 3)."""
    if not seq:
        return "-"
    try:
        return str(int(seq[2:-16] or "0"))
    except ValueError:
        return seq[-8:]


def short_shard(shard_id: str | None) -> str:
    """shardId-000000000001 -> "shard 1" (other ids unchanged but for the prefix)."""
    if not shard_id:
        return ""
    tail = shard_id.rsplit("-", 1)[-1]
    return f"shard {int(tail)}" if tail.isdigit() else shard_id.replace("shardId-", "shard ")


def key_colour_index(key: str | None, n: int = 12) -> int:
    """A stable colour slot for a partition key / group id (crc32, not hash())."""
    return zlib.crc32((key or "").encode()) % n


_COUNTS: dict[tuple, int] = {}
_COUNTS_VERSION: list = [None]


def _capped_count(conn, sql: str, args: tuple, cap: int = BACKLOG_CAP) -> int:
    """count(*) of a query, stopping at cap + 1 rows. Memoised while the
    connection has written nothing (`total_changes` unchanged), so one
    refresh that asks twice, or a refresh after a tab switch, counts once."""
    version = (id(conn), conn.total_changes, conn.in_transaction)
    if _COUNTS_VERSION[0] != version:
        _COUNTS.clear()
        _COUNTS_VERSION[0] = version
    key = (sql, args, cap)
    n = _COUNTS.get(key)
    if n is None:
        n = conn.execute(f"SELECT count(*) FROM ({sql} LIMIT {cap + 1})", args).fetchone()[0]
        _COUNTS[key] = n
    return n


def header(lab) -> dict:
    e = lab.engine
    return {"name": e.name, "seed": e.seed, "profile": e.profile, "now_ms": e.now_ms,
            "start_ms": e.start_ms, "elapsed_ms": e.now_ms - e.start_ms, "iso": iso(e.now_ms),
            "pending": e.agenda.size(), "next_due_ms": e.agenda.next_due()}


# -- the resource tree ---------------------------------------------------------------------

def _stream_mappings(lab) -> dict[str, list[dict]]:
    e = lab.engine
    out: dict[str, list[dict]] = {}
    for m in e.mappings.all_rows():
        if m["source_kind"] in ("kinesis", "dynamodb"):
            out.setdefault(m["runtime"].get("stream") or "", []).append(m)
    return out


def _lanes(lab, m: dict) -> list[tuple]:
    return lab.engine.mappings.streams.lanes(m["uuid"])


def _lane_blocked(st: dict) -> bool:
    return bool(st.get("pending")) and st["pending"][0].get("attempts", 0) > 0


def resources(lab) -> dict:
    """Everything for the tree, with live badges."""
    e = lab.engine
    conn = lab.store.conn
    by_stream = _stream_mappings(lab)
    streams = []
    for name in e.streams.names():
        lanes_by_shard: dict[str, list] = {}
        for m in by_stream.get(name, []):
            for shard, n, ckpt, st in _lanes(lab, m):
                lanes_by_shard.setdefault(shard, []).append((m, n, ckpt, st))
        shards = []
        for s in e.streams.shards(name):
            sid = s["shard_id"]
            lanes = lanes_by_shard.get(sid, [])
            ckpts = [c for _, _, c, _ in lanes]
            low = min((c or "") for c in ckpts) if ckpts else None
            if lanes:
                backlog = _capped_count(conn, "SELECT 1 FROM records WHERE stream=? AND "
                                        "shard_id=? AND seq>?", (name, sid, low or ""))
            else:
                backlog = 0
            shards.append({"shard_id": sid, "open": s.get("open", True), "backlog": backlog,
                           "in_flight": sum(1 for *_, st in lanes if st.get("inflight")),
                           "blocked": any(_lane_blocked(st) for *_, st in lanes)})
        info_kind = conn.execute("SELECT kind FROM streams WHERE name=?", (name,)).fetchone()
        streams.append({"name": name, "kind": info_kind[0] if info_kind else "kinesis",
                        "shards": shards})
    queues = []
    names = e.queues.names()
    dlq_of: dict[str, str] = {}
    for q in names:
        info = e.queues.info(q)
        if info.dlq_name:
            dlq_of[q] = info.dlq_name
    dlq_set = set(dlq_of.values())
    for q in names:
        c = e.queues.counts(q)
        queues.append({"name": q, "fifo": q.endswith(".fifo"), "counts": c,
                       "dlq": dlq_of.get(q), "is_dlq": q in dlq_set,
                       "dlq_count": e.queues.counts(dlq_of[q])["total"] if q in dlq_of else 0})
    functions = []
    for f in e.functions.names():
        s = e.functions.summary(f)
        functions.append({"name": f, "running": s["running"], "mode": s["behaviour"]["mode"],
                          "reserved": s["config"].get("ReservedConcurrentExecutions")})
    mappings = []
    for m in e.mappings.all_rows():
        item = {"label": m["label"], "uuid": m["uuid"], "kind": m["source_kind"],
                "state": m["state"], "function": m["function"], "source_arn": m["source_arn"]}
        if m["source_kind"] in ("kinesis", "dynamodb"):
            lanes = _lanes(lab, m)
            item["source"] = m["runtime"].get("stream")
            item["blocked"] = sum(1 for *_, st in lanes if _lane_blocked(st))
            item["in_flight"] = sum(1 for *_, st in lanes if st.get("inflight"))
        else:
            item["source"] = m["runtime"].get("queue")
            item["blocked"] = 0
            item["in_flight"] = m["runtime"].get("busy", 0)
            item["target"] = m["runtime"].get("target")
        mappings.append(item)
    return {"streams": streams, "queues": queues, "tables": e.tables.names(),
            "functions": functions, "mappings": mappings,
            "sinks": [n for n, _ in e.sinks.names()]}


# -- ordering -------------------------------------------------------------------------------

def _rec(r) -> dict:
    rid, seq, pk, arrival = r
    return {"id": rid, "seq": seq, "key": pk, "arrival_ms": arrival}


def stream_ordering(lab, stream: str, per_lane: int = 24, done: int = 4) -> dict:
    """Per mapping, per shard and lane: the last few processed records, the
    batch being (re)tried, the records waiting behind it, the checkpoint."""
    e = lab.engine
    conn = lab.store.conn
    now = e.now_ms
    shards = e.streams.shards(stream)
    out_mappings = []
    for m in _stream_mappings(lab).get(stream, []):
        pf = m["config"].get("ParallelizationFactor", 1)
        rows = []
        for shard, n, ckpt, st in _lanes(lab, m):
            prev = [_rec(r) for r in conn.execute(
                "SELECT id, seq, partition_key, arrival_ms FROM records WHERE stream=? AND "
                "shard_id=? AND seq<=? ORDER BY seq DESC LIMIT ?",
                (stream, shard, ckpt or "", done))][::-1]
            waiting = [_rec(r) for r in conn.execute(
                "SELECT id, seq, partition_key, arrival_ms FROM records WHERE stream=? AND "
                "shard_id=? AND seq>? ORDER BY seq LIMIT ?",
                (stream, shard, ckpt or "", per_lane * max(pf, 1)))]
            if pf > 1:
                from esmlab.engine.mappings.stream_poller import lane_of
                prev = [r for r in prev if lane_of(r["key"], pf) == n]
                waiting = [r for r in waiting if lane_of(r["key"], pf) == n]
            waiting = waiting[:per_lane]
            pending = st.get("pending") or []
            batch_ids = set(pending[0]["ids"]) if pending else set()
            for r in waiting:
                r["in_batch"] = r["id"] in batch_ids
            attempts = pending[0].get("attempts", 0) if pending else 0
            retry_at = st.get("retry_at")
            rows.append({
                "shard_id": shard, "lane": n, "checkpoint": ckpt, "done": prev,
                "waiting": waiting, "batch_size": len(batch_ids),
                "in_flight": st.get("inflight"), "attempts": attempts,
                "blocked": _lane_blocked(st), "status": st.get("status"),
                "retry_in_ms": (retry_at - now) if retry_at and retry_at > now else None,
                "blocked_for_ms": (now - st["blocked_since"]) if st.get("blocked_since") else None,
                "backlog": _capped_count(conn, "SELECT 1 FROM records WHERE stream=? AND "
                                         "shard_id=? AND seq>?", (stream, shard, ckpt or "")),
            })
        out_mappings.append({"label": m["label"], "function": m["function"],
                             "state": m["state"], "factor": pf, "lanes": rows})
    return {"stream": stream, "shards": [s["shard_id"] for s in shards],
            "mappings": out_mappings}


def queue_ordering(lab, queue: str, offset: int = 0, limit: int = 50) -> dict:
    e = lab.engine
    counts = e.queues.counts(queue)
    rows = e.queues.page(queue, offset=offset, limit=limit)
    return {"queue": queue, "fifo": queue.endswith(".fifo"), "counts": counts,
            "offset": offset, "limit": limit, "rows": rows}


# -- reprocessing ---------------------------------------------------------------------------

def reprocessing(lab, mapping: str, limit: int = 400) -> list[dict]:
    """Batches of one mapping and what happened to them, oldest first.

    Built from the journal (the mapping's last `limit` events) and the
    invocations they name. Each batch: {"title", "subject", "records",
    "events": [{"at_ms", "kind", "reason", "invocation"}], "children": [...]}.
    A batch whose records are a subset of the previous batch on the same
    shard (a bisect half) is nested under it.
    """
    m = lab.mapping(mapping)
    conn = lab.store.conn
    events = lab.journal(resource=m["label"], newest_first=True, limit=limit)[::-1]
    inv_ids = [ev["data"]["invocation"] for ev in events
               if isinstance(ev.get("data"), dict) and "invocation" in ev["data"]]
    invs: dict[int, tuple] = {}
    for i in range(0, len(inv_ids), 500):
        chunk = inv_ids[i:i + 500]
        for rid, records, status, attempt, source in conn.execute(
                f"SELECT id, records, status, attempt, source FROM invocations WHERE id IN "
                f"({','.join('?' * len(chunk))})", chunk):
            invs[rid] = (tuple(json.loads(records)), status, attempt, source)
    roots: list[dict] = []
    current: dict[str, dict] = {}
    by_key: dict[tuple, dict] = {}
    for ev in events:
        kind = ev["kind"]
        if not (kind.startswith(("batch.", "invoke.", "poll.", "window.", "shard.", "records."))):
            continue
        subject = ev["subject"] or ""
        data = ev["data"] if isinstance(ev["data"], dict) else {}
        inv = data.get("invocation")
        node_ev = {"at_ms": ev["at_ms"], "kind": kind, "reason": ev["reason"],
                   "invocation": inv}
        if kind in ("invoke.started", "invoke.throttled") and inv in invs:
            records, status, attempt, source = invs[inv]
            key = (source.split("#")[0] if m["source_kind"] in ("kinesis", "dynamodb")
                   else "queue", records)
            batch = by_key.get(key)
            if batch is None:
                batch = {"subject": subject, "records": records, "events": [], "children": [],
                         "title": _batch_title(m, records)}
                parent = current.get(subject)
                if parent is not None and set(records) < set(parent["records"]):
                    parent["children"].append(batch)
                else:
                    roots.append(batch)
                by_key[key] = batch
            if m["source_kind"] == "sqs":
                # SQS batches are independent: a key per invocation's messages.
                pass
            current[subject] = batch
            batch["events"].append(node_ev)
            continue
        batch = current.get(subject)
        if batch is None and inv is not None:
            for b in by_key.values():
                if any(e2["invocation"] == inv for e2 in b["events"]):
                    batch = b
                    break
        if batch is None:
            roots.append({"subject": subject, "records": (), "events": [node_ev],
                          "children": [], "title": kind})
        else:
            batch["events"].append(node_ev)
    return roots


def _batch_title(m: dict, records: tuple) -> str:
    if not records:
        return "empty batch (window end)"
    if m["source_kind"] in ("kinesis", "dynamodb"):
        first, last = records[0], records[-1]
        return f"{len(records)} record(s) seq {short_seq(first)}..{short_seq(last)}"
    return f"{len(records)} message(s) {', '.join(r[:8] for r in records[:3])}" + (
        "…" if len(records) > 3 else "")


# -- scaling --------------------------------------------------------------------------------

def series(lab, resource: str, name: str, points: int = SERIES_POINTS) -> list[tuple[int, float]]:
    rows = lab.store.conn.execute(
        "SELECT at_ms, value FROM metrics WHERE resource=? AND name=? ORDER BY at_ms DESC "
        "LIMIT ?", (resource, name, points)).fetchall()
    return rows[::-1]


def scaling(lab, mapping: str) -> dict:
    m = lab.mapping(mapping)
    label = m["label"]
    out = {"label": label, "kind": m["source_kind"], "function": m["function"],
           "series": {}}
    names = ["ConcurrentExecutions"]
    if m["source_kind"].startswith("sqs"):
        names = ["ConcurrencyTarget", "ConcurrentExecutions"]
        q = m["runtime"].get("queue")
        out["series"]["ApproximateAgeOfOldestMessage"] = series(
            lab, q, "ApproximateAgeOfOldestMessage")
        out["series"]["ApproximateNumberOfMessagesVisible"] = series(
            lab, q, "ApproximateNumberOfMessagesVisible")
        out["target"] = m["runtime"].get("target")
        out["busy"] = m["runtime"].get("busy")
    else:
        out["series"]["IteratorAge"] = series(lab, label, "IteratorAge")
    for n in names:
        out["series"][n] = series(lab, label, n)
    out["series"]["Errors"] = series(lab, m["function"], "Errors")
    out["series"]["Throttles"] = series(lab, m["function"], "Throttles")
    out["throttles_total"] = lab.store.conn.execute(
        "SELECT count(*) FROM invocations WHERE function=? AND status='throttled'",
        (m["function"],)).fetchone()[0]
    return out


# -- DLQ and destinations -------------------------------------------------------------------

def dead_letters(lab, offset: int = 0, limit: int = 30) -> dict:
    """DLQs (queues named by a RedrivePolicy) with a page of their messages and
    why each one moved; OnFailure destinations (queues and SNS/S3 sinks)."""
    e = lab.engine
    conn = lab.store.conn
    dlqs: dict[str, list[str]] = {}
    for q in e.queues.names():
        info = e.queues.info(q)
        if info.dlq_name:
            dlqs.setdefault(info.dlq_name, []).append(q)
    destinations: set[str] = set()
    for m in e.mappings.all_rows():
        arn = ((m["config"].get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination")
        if arn:
            destinations.add(arn)
    queues_out = []
    dest_queues = {e.queues.name_for_arn(a) for a in destinations} - {None}
    for q in sorted(set(dlqs) | dest_queues):
        rows = e.queues.page(q, offset=offset, limit=limit)
        mids = [r["message_id"] for r in rows]
        why: dict[str, dict] = {}
        if mids:
            for subject, at, reason in conn.execute(
                    f"SELECT subject, at_ms, reason FROM journal WHERE kind='sqs.moved_to_dlq' "
                    f"AND subject IN ({','.join('?' * len(mids))})", mids):
                why[subject] = {"at_ms": at, "reason": reason}
        for r in rows:
            w = why.get(r["message_id"])
            r["moved_at_ms"] = w["at_ms"] if w else r["enqueued_ms"]
            r["why"] = w["reason"] if w else (
                "an on-failure destination record (DestinationConfig.OnFailure)"
                if q in dest_queues else "")
            if q in dest_queues and r["body"].startswith("{"):
                try:
                    r["record"] = json.loads(r["body"])
                except ValueError:
                    pass
        queues_out.append({"name": q, "sources": dlqs.get(q, []), "destination": q in dest_queues,
                           "counts": e.queues.counts(q), "rows": rows})
    sinks_out = []
    for name, kind in e.sinks.names():
        sinks_out.append({"name": name, "kind": kind, "count": e.sinks.count(name),
                          "items": e.sinks.items(name, offset=offset, limit=limit)})
    return {"queues": queues_out, "sinks": sinks_out}


# -- functions and invocations --------------------------------------------------------------

def function_card(lab, name: str) -> dict:
    from esmlab.engine.function import describe_behaviour
    e = lab.engine
    s = e.functions.summary(name)
    conn = lab.store.conn
    recent = [{"id": i, "status": st, "size": sz, "start_ms": t} for i, st, sz, t in conn.execute(
        "SELECT id, status, size, start_ms FROM invocations WHERE function=? ORDER BY id DESC "
        "LIMIT 8", (name,))]
    return {"name": name, "behaviour": s["behaviour"], "mode": s["behaviour"]["mode"],
            "describe": describe_behaviour(s["behaviour"]),
            "reserved": s["config"].get("ReservedConcurrentExecutions"),
            "timeout": s["config"].get("Timeout"), "running": s["running"],
            "invocations": s["invocations"], "recent": recent}


def last_invocation_id(lab, function: str | None = None) -> int | None:
    conn = lab.store.conn
    if function:
        row = conn.execute("SELECT max(id) FROM invocations WHERE function=? AND event IS NOT NULL",
                           (function,)).fetchone()
    else:
        row = conn.execute("SELECT max(id) FROM invocations WHERE event IS NOT NULL").fetchone()
    return row[0] if row else None


def invocation_event(lab, inv_id: int) -> dict | None:
    """The exact event an invocation received (for `sam local invoke -e`)."""
    row = lab.store.conn.execute("SELECT event FROM invocations WHERE id=?", (inv_id,)).fetchone()
    if row is None or row[0] is None:
        return None
    return json.loads(row[0])


def journal_since(lab, after_id: int = 0, resource: str | None = None,
                  limit: int = 200) -> list[dict]:
    """Events after `after_id`, oldest first (at most the newest `limit`)."""
    rows = lab.journal(resource=resource, after_id=after_id, newest_first=True, limit=limit)
    return rows[::-1]


# -- settings for the create / edit forms ---------------------------------------------------

def form_choices(lab) -> dict:
    """What the create/edit forms offer: functions, mapping sources (Kinesis
    streams, queues, DynamoDB table streams) and OnFailure destinations
    (standard queues, SNS topics, S3 buckets), each as (text, ARN)."""
    from esmlab.engine import arns
    e = lab.engine
    sources = [(f"Kinesis stream {s}", arns.stream_arn(s)) for s in e.streams.names("kinesis")]
    queues = e.queues.names()
    sources += [(f"SQS queue {q}", arns.queue_arn(q)) for q in queues]
    for t in e.tables.names():
        arn = e.tables.info(t)["stream_arn"]
        if arn:
            sources.append((f"DynamoDB table {t} (stream)", arn))
    destinations = [(f"SQS queue {q}", arns.queue_arn(q)) for q in queues
                    if not q.endswith(".fifo")]
    destinations += [(f"{kind.upper()} {name}", arn) for name, kind, arn in lab.store.conn.execute(
        "SELECT name, kind, arn FROM sinks ORDER BY name")]
    return {"functions": e.functions.names(), "sources": sources,
            "destinations": destinations, "queues": queues}


def queue_settings(lab, name: str) -> dict:
    """A queue's editable attributes as strings, plus its DLQ and duplicate rate."""
    info = lab.engine.queues.info(name)
    a = info.attributes
    return {"QueueName": name, "fifo": info.fifo,
            "VisibilityTimeout": a.get("VisibilityTimeout", ""),
            "DelaySeconds": a.get("DelaySeconds", ""),
            "MessageRetentionPeriod": a.get("MessageRetentionPeriod", ""),
            "dlq": info.dlq_name or "",
            "maxReceiveCount": "" if info.max_receive_count is None
            else str(info.max_receive_count),
            "duplicate_rate": info.duplicate_rate,
            "content_dedup": a.get("ContentBasedDeduplication") == "true"}


def function_settings(lab, name: str) -> dict:
    c = lab.engine.functions.config(name)
    d = c.get("duration") or {}
    return {"FunctionName": name, "Timeout": c.get("Timeout"),
            "ReservedConcurrentExecutions": c.get("ReservedConcurrentExecutions"),
            "fixed_ms": d.get("fixed_ms"), "per_record_ms": d.get("per_record_ms")}


def mapping_settings(lab, ref: str) -> dict:
    """A mapping's label, state, source kind and stored configuration (AWS names)."""
    m = lab.mapping(ref)
    return {"label": m["label"], "uuid": m["uuid"], "state": m["state"],
            "kind": m["source_kind"], "config": m["config"],
            "describe": lab.engine.mappings.describe(m)}


def stream_settings(lab, name: str) -> dict:
    info = lab.engine.streams.info(name)
    return {"name": name, "kind": info["kind"], "retention_hours": info["retention_hours"]}
