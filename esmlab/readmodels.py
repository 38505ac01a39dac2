"""Read models for the faces: small, paged views of a Lab as plain data.

Every function takes an open `Lab` and returns dicts/lists of plain values
(no Textual, no Rich), so the TUI renders them and tests assert on them.
Queries are bounded (LIMIT/OFFSET, capped counts) so a lab with a million
records costs the same to look at as a small one.
"""

from __future__ import annotations

import json
import re
import zlib
from datetime import datetime, timezone

from esmlab.engine import event_store

# Counting a shard's backlog stops here: a badge says "10000+" rather than
# walking a million index entries on every refresh.
BACKLOG_CAP = 10_000
STREAM_BACKLOG_BUDGET = 40_000
# Only a stream's first shards get a backlog badge in the tree (a 500-shard
# stream's other shards show blocked / in flight; Ordering counts each lane).
SHARD_BADGES = 64
SERIES_POINTS = 120
# A lane's backlog count stops here (a lane's rows are every factor-th row of
# the shard's index, so the cap bounds the index entries read per lane).
LANE_BACKLOG_CAP = 1000


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


def shard_backlog_cap(shards: int) -> int:
    """Where a shard's backlog badge stops counting: 10,000, but a stream's
    shards share 40,000 index entries (at least 100 each), so the tree of a
    500-shard stream costs what a 4-shard one costs."""
    return min(BACKLOG_CAP, max(100, STREAM_BACKLOG_BUDGET // max(1, shards)))


_LANE_BLOCKED = "coalesce(json_extract(state, '$.pending[0].attempts'), 0) > 0"


def _shard_lanes(conn, uuid: str) -> dict[str, tuple]:
    """Per shard of one mapping: (lowest checkpoint, lanes in flight, any lane
    blocked), aggregated in SQL (JSON1), so 5,000 lanes cost one query."""
    return {shard: (low, flying, blocked) for shard, low, flying, blocked in conn.execute(
        f"SELECT shard_id, min(coalesce(checkpoint, '')), count(inflight), sum({_LANE_BLOCKED}) "
        "FROM lanes WHERE mapping=? GROUP BY shard_id", (uuid,))}


def resources(lab) -> dict:
    """Everything for the tree, with live badges."""
    e = lab.engine
    conn = lab.store.conn
    by_stream = _stream_mappings(lab)
    per_mapping = {m["uuid"]: _shard_lanes(conn, m["uuid"])
                   for rows in by_stream.values() for m in rows}
    streams = []
    for name in e.streams.names():
        lanes_by_shard: dict[str, list] = {}
        for m in by_stream.get(name, []):
            for shard, agg in per_mapping[m["uuid"]].items():
                lanes_by_shard.setdefault(shard, []).append(agg)
        shards = []
        all_shards = e.streams.shards(name)
        cap = shard_backlog_cap(len(all_shards))
        for i, s in enumerate(all_shards):
            sid = s["shard_id"]
            lanes = lanes_by_shard.get(sid, [])
            if i >= SHARD_BADGES:
                backlog = None        # not counted: the Ordering panel counts each lane's
            elif lanes:
                low = min(low for low, _, _ in lanes)
                backlog = _capped_count(conn, "SELECT 1 FROM records WHERE stream=? AND "
                                        "shard_id=? AND seq>?", (name, sid, low or ""), cap)
            else:
                backlog = 0
            shards.append({"shard_id": sid, "open": s.get("open", True), "backlog": backlog,
                           "backlog_cap": cap,
                           "in_flight": sum(f for _, f, _ in lanes),
                           "blocked": any(b for _, _, b in lanes)})
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
            aggs = per_mapping.get(m["uuid"]) or _shard_lanes(conn, m["uuid"])
            item["source"] = m["runtime"].get("stream")
            item["blocked"] = sum(b for _, _, b in aggs.values())
            item["in_flight"] = sum(f for _, f, _ in aggs.values())
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


def lane_count(lab, stream: str) -> int:
    """How many lanes (shard x ParallelizationFactor lane) the stream's
    mappings have, for the Ordering panel's pager."""
    uuids = [m["uuid"] for m in _stream_mappings(lab).get(stream, [])]
    if not uuids:
        return 0
    return lab.store.conn.execute(
        f"SELECT count(*) FROM lanes WHERE mapping IN ({','.join('?' * len(uuids))})",
        uuids).fetchone()[0]


def _lane_page(conn, uuid: str, offset: int, limit: int) -> list[tuple]:
    return [(s, n, c, json.loads(st)) for s, n, c, st in conn.execute(
        "SELECT shard_id, lane, checkpoint, state FROM lanes WHERE mapping=? "
        "ORDER BY shard_id, lane LIMIT ? OFFSET ?", (uuid, limit, offset))]


def _lane_records(conn, stream: str, shard: str, lane: int, factor: int, where: str,
                  order: str, args: tuple, limit: int) -> list[dict]:
    """A lane's records in SQL: khash % factor is the lane, read from the
    records_shard index, so a ParallelizationFactor 10 lane costs what a
    shard costs."""
    lane_sql, lane_args = ("AND khash % ? = ? ", (factor, lane)) if factor > 1 else ("", ())
    return [_rec(r) for r in conn.execute(
        f"SELECT id, seq, partition_key, arrival_ms FROM records WHERE stream=? AND "
        f"shard_id=? AND {where} {lane_sql}ORDER BY seq {order} LIMIT ?",
        (stream, shard, *args, *lane_args, limit))]


def stream_ordering(lab, stream: str, per_lane: int = 24, done: int = 4,
                    lane_offset: int = 0, lane_limit: int = 16) -> dict:
    """Per mapping, per shard and lane: the last few processed records, the
    batch being (re)tried, the records waiting behind it, the checkpoint.
    Only a page of lanes is read (`lane_offset`, `lane_limit`), each with
    its own bounded queries: a 500-shard x ParallelizationFactor 10 stream
    costs what its page costs."""
    e = lab.engine
    conn = lab.store.conn
    now = e.now_ms
    out_mappings = []
    total = 0
    for m in _stream_mappings(lab).get(stream, []):
        pf = m["config"].get("ParallelizationFactor", 1)
        n_lanes = conn.execute("SELECT count(*) FROM lanes WHERE mapping=?",
                               (m["uuid"],)).fetchone()[0]
        total += n_lanes
        rows = []
        for shard, n, ckpt, st in _lane_page(conn, m["uuid"], lane_offset, lane_limit):
            ckpt_arg = (ckpt or "",)
            prev = _lane_records(conn, stream, shard, n, pf, "seq<=?", "DESC", ckpt_arg,
                                 done)[::-1]
            waiting = _lane_records(conn, stream, shard, n, pf, "seq>?", "", ckpt_arg,
                                    per_lane)
            pending = st.get("pending") or []
            batch_ids = set(pending[0]["ids"]) if pending else set()
            for r in waiting:
                r["in_batch"] = r["id"] in batch_ids
            attempts = pending[0].get("attempts", 0) if pending else 0
            retry_at = st.get("retry_at")
            lane_sql = " AND khash % ? = ?" if pf > 1 else ""
            rows.append({
                "shard_id": shard, "lane": n, "checkpoint": ckpt, "done": prev,
                "waiting": waiting, "batch_size": len(batch_ids),
                "in_flight": st.get("inflight"), "attempts": attempts,
                "blocked": _lane_blocked(st), "status": st.get("status"),
                "retry_in_ms": (retry_at - now) if retry_at and retry_at > now else None,
                "blocked_for_ms": (now - st["blocked_since"]) if st.get("blocked_since") else None,
                "backlog": _capped_count(conn, "SELECT 1 FROM records WHERE stream=? AND "
                                         "shard_id=? AND seq>?" + lane_sql,
                                         (stream, shard, ckpt or "",
                                          *((pf, n) if pf > 1 else ())), LANE_BACKLOG_CAP),
            })
        out_mappings.append({"label": m["label"], "function": m["function"],
                             "state": m["state"], "factor": pf, "lanes": rows,
                             "lane_total": n_lanes})
    return {"stream": stream, "mappings": out_mappings, "lane_offset": lane_offset,
            "lane_limit": lane_limit, "lane_total": total}


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
    events = _batch_events(conn, m["label"], limit)
    inv_ids = [ev["data"]["invocation"] for ev in events if "invocation" in ev["data"]]
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
        if not kind.startswith(BATCH_KINDS):
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


BATCH_KINDS = ("batch.", "invoke.", "poll.", "window.", "shard.", "records.")


def _batch_events(conn, label: str, limit: int) -> list[dict]:
    """The mapping's newest `limit` events about batches, oldest first, each
    with only the invocation its data names: the kinds are chosen and the
    number read from the data by SQLite (JSON1), so a mapping whose events
    carry large data (5,000 lanes' state) costs what a small one costs."""
    kinds = " OR ".join("kind GLOB ?" for _ in BATCH_KINDS)
    rows = conn.execute(
        f"SELECT id, at_ms, kind, subject, reason, json_extract(data, '$.invocation') "
        f"FROM journal WHERE resource=? AND ({kinds}) ORDER BY id DESC LIMIT ?",
        (label, *(k + "*" for k in BATCH_KINDS), limit)).fetchall()
    return [{"id": i, "at_ms": at, "kind": kind, "subject": subject, "reason": reason,
             "data": {} if inv is None else {"invocation": inv}}
            for i, at, kind, subject, reason, inv in reversed(rows)]


def _batch_title(m: dict, records: tuple) -> str:
    if not records:
        return "empty batch (window end)"
    if m["source_kind"] in ("kinesis", "dynamodb"):
        first, last = records[0], records[-1]
        return f"{len(records)} record(s) seq {short_seq(first)}..{short_seq(last)}"
    return f"{len(records)} message(s) {', '.join(r[:8] for r in records[:3])}" + (
        "…" if len(records) > 3 else "")


# -- scaling and metrics --------------------------------------------------------------------

# How a sample row becomes a chart point: a gauge keeps its last value per
# bucket (and holds between samples), a counter is summed per bucket.
GAUGES = ("ConcurrentExecutions", "ConcurrencyTarget", "IteratorAge",
          "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible")
EVENT_COUNTS = ("PolledEventCount", "FilteredOutEventCount", "InvokedEventCount",
                "FailedInvokeEventCount", "DeletedEventCount", "DroppedEventCount",
                "OnFailureDestinationDeliveredEventCount")
SAMPLE_CAP = 5000          # rows read per series for one chart, newest first
CHART_BUCKETS = 60
MARK_KINDS = {"mapping.scaled_up": "scale-up", "mapping.scaled_down": "scale-down",
              "batch.retry": "back-off after an error", "invoke.throttled": "throttle",
              "batch.failed": "error"}


def series(lab, resource: str, name: str, points: int = SERIES_POINTS) -> list[tuple[int, float]]:
    rows = lab.store.conn.execute(
        "SELECT at_ms, value FROM metrics WHERE resource=? AND name=? ORDER BY at_ms DESC "
        "LIMIT ?", (resource, name, points)).fetchall()
    return rows[::-1]


def _window(lab, resources: list[tuple[str, str]], now: int) -> tuple[int, int]:
    """The charts' time window: from the oldest of the last SERIES_POINTS
    samples of the main series to now (at least a minute), in lab ms."""
    conn = lab.store.conn
    first = now
    for res, name in resources:
        row = conn.execute(
            "SELECT min(at_ms) FROM (SELECT at_ms FROM metrics WHERE resource=? AND name=? "
            "ORDER BY at_ms DESC LIMIT ?)", (res, name, SERIES_POINTS)).fetchone()
        if row[0] is not None:
            first = min(first, row[0])
    return max(lab.engine.start_ms, min(first, now - 60_000)), max(now, lab.engine.start_ms + 1)


def bucketed(lab, resource: str, name: str, window: tuple[int, int],
             buckets: int = CHART_BUCKETS) -> dict:
    """One series over the window as `buckets` points (x = bucket start, lab ms).
    Gauges hold their last value; counters are summed per bucket, so a quiet
    bucket is a real 0. {"x", "y", "last", "peak", "total", "samples"}; samples
    0 means nothing was ever published in the window."""
    lo, hi = window
    width = max(1, (hi - lo) // buckets + 1)
    gauge = name in GAUGES
    conn = lab.store.conn
    rows = conn.execute(
        "SELECT at_ms, value FROM (SELECT at_ms, value FROM metrics WHERE resource=? AND "
        "name=? AND at_ms>=? ORDER BY at_ms DESC LIMIT ?) ORDER BY at_ms",
        (resource, name, lo, SAMPLE_CAP)).fetchall()
    ys: list[float] = [0.0] * buckets
    seen = [False] * buckets
    for at, value in rows:
        b = min(buckets - 1, (at - lo) // width)
        if gauge:
            ys[b] = value
        else:
            ys[b] += value
        seen[b] = True
    if gauge:
        before = conn.execute(
            "SELECT value FROM metrics WHERE resource=? AND name=? AND at_ms<? ORDER BY at_ms "
            "DESC LIMIT 1", (resource, name, lo)).fetchone()
        held = before[0] if before else 0.0
        for i in range(buckets):
            if seen[i]:
                held = ys[i]
            ys[i] = held
    return {"x": [lo + i * width for i in range(buckets)], "y": ys,
            "last": ys[-1] if rows or gauge else 0.0, "peak": max(ys, default=0.0),
            "total": sum(v for _, v in rows), "samples": len(rows),
            "capped": len(rows) >= SAMPLE_CAP}


def chart_marks(lab, mapping: str, function: str, window: tuple[int, int],
                limit: int = 200) -> list[dict]:
    """Events worth a mark on the charts (scale-up, back-off after an error,
    throttle, shard blocked), newest `limit` in the window, oldest first."""
    kinds = list(MARK_KINDS)
    rows = lab.store.conn.execute(
        f"SELECT at_ms, kind, resource, subject FROM journal WHERE resource IN (?, ?) AND "
        f"kind IN ({','.join('?' * len(kinds))}) AND at_ms>=? ORDER BY id DESC LIMIT ?",
        (mapping, function, *kinds, window[0], limit)).fetchall()
    out = []
    for at, kind, _, subject in rows[::-1]:
        what = MARK_KINDS[kind]
        if kind == "batch.retry" and subject and subject.startswith("shardId-"):
            what = "shard blocked"
        out.append({"at_ms": at, "kind": kind, "what": what, "subject": subject})
    return out


def scaling(lab, mapping: str, buckets: int = CHART_BUCKETS) -> dict:
    """What the Scaling panel draws for one mapping: the scaling profile in
    force and its numbers, the limits, and bucketed series over one window.
    Every query is bounded (indexed ranges, LIMITs), never a scan of the
    invocations."""
    from esmlab.engine.mappings.queue_poller import PROFILES, SCALE_PERIOD_MS
    e = lab.engine
    m = lab.mapping(mapping)
    label, fn, kind = m["label"], m["function"], m["source_kind"]
    conn = lab.store.conn
    fconf = e.functions.config(fn)
    out = {"label": label, "kind": kind, "function": fn, "profile": e.profile,
           "now_ms": e.now_ms, "start_ms": e.start_ms, "charts": []}
    limits: dict[str, float] = {}
    reserved = fconf.get("ReservedConcurrentExecutions")
    if reserved is not None:
        limits["ReservedConcurrentExecutions"] = reserved
    if kind.startswith("sqs"):
        q = m["runtime"].get("queue")
        p = PROFILES[e.profile]
        out["profile_numbers"] = (f"starts at {p['start']} concurrent invokes, adds up to "
                                  f"{p['step']} per {SCALE_PERIOD_MS // 60_000} min, caps at "
                                  f"{p['cap']}")
        maximum = (m["config"].get("ScalingConfig") or {}).get("MaximumConcurrency")
        if maximum:
            limits["MaximumConcurrency"] = maximum
        out["target"], out["busy"] = m["runtime"].get("target"), m["runtime"].get("busy")
        window = _window(lab, [(label, "ConcurrentExecutions"), (label, "ConcurrencyTarget")],
                         e.now_ms)
        out["charts"].append({
            "title": "concurrency (invokes at once)", "unit": "count",
            "series": {"ConcurrentExecutions": bucketed(lab, label, "ConcurrentExecutions",
                                                        window, buckets),
                       "ConcurrencyTarget": bucketed(lab, label, "ConcurrencyTarget", window,
                                                     buckets)},
            "limits": dict(limits)})
        out["charts"].append({
            "title": f"queue {q}", "unit": "ms",
            "series": {"ApproximateAgeOfOldestMessage": bucketed(
                lab, q, "ApproximateAgeOfOldestMessage", window, buckets)}, "limits": {}})
        out["charts"].append({
            "title": f"queue {q} backlog", "unit": "count",
            "series": {"ApproximateNumberOfMessagesVisible": bucketed(
                lab, q, "ApproximateNumberOfMessagesVisible", window, buckets)},
            "limits": {}})
    else:
        pf = m["config"].get("ParallelizationFactor", 1)
        stream = m["runtime"].get("stream")
        open_shards = sum(1 for s in e.streams.shards(stream) if s.get("open", True)) \
            if stream else 0
        out["profile_numbers"] = (f"one concurrent batch per shard and lane: {open_shards} "
                                  f"open shard(s) x ParallelizationFactor {pf} = "
                                  f"{open_shards * pf} at most")
        limits["shards x ParallelizationFactor"] = open_shards * pf
        window = _window(lab, [(label, "ConcurrentExecutions"), (label, "IteratorAge")],
                         e.now_ms)
        out["charts"].append({
            "title": "concurrency (batches at once)", "unit": "count",
            "series": {"ConcurrentExecutions": bucketed(lab, label, "ConcurrentExecutions",
                                                        window, buckets)},
            "limits": dict(limits)})
        age_limits = {}
        max_age = m["config"].get("MaximumRecordAgeInSeconds")
        if max_age and max_age > 0:
            age_limits["MaximumRecordAgeInSeconds"] = max_age * 1000
        out["charts"].append({
            "title": "IteratorAge (age of the last record read)", "unit": "ms",
            "series": {"IteratorAge": bucketed(lab, label, "IteratorAge", window, buckets)},
            "limits": age_limits})
    out["charts"].append({
        "title": f"function {fn} per bucket", "unit": "count",
        "series": {"Errors": bucketed(lab, fn, "Errors", window, buckets),
                   "Throttles": bucketed(lab, fn, "Throttles", window, buckets)},
        "limits": {}})
    out["window"] = window
    # every charted series by its metric name, as (x, y) points
    out["series"] = {name: list(zip(s["x"], s["y"])) for chart in out["charts"]
                     for name, s in chart["series"].items()}
    out["marks"] = chart_marks(lab, label, fn, window)
    out["throttles_total"] = _capped_count(
        conn, "SELECT 1 FROM metrics WHERE resource=? AND name='Throttles'", (fn,))
    return out


def event_counts(lab, mapping: str, buckets: int = 30) -> dict:
    """AWS's EventCount metrics of one mapping (published only when its
    MetricsConfig asks for EventCount), per-bucket sums over a window."""
    e = lab.engine
    m = lab.mapping(mapping)
    label = m["label"]
    metrics = ((m["config"].get("MetricsConfig") or {}).get("Metrics") or [])
    sqs = m["source_kind"].startswith("sqs")
    names = [n for n in EVENT_COUNTS
             if not (n == "DeletedEventCount" and not sqs)
             and not (n in ("OnFailureDestinationDeliveredEventCount", "DroppedEventCount")
                      and sqs)]
    window = _window(lab, [(label, n) for n in names[:1]], e.now_ms)
    return {"label": label, "uuid": m["uuid"], "configured": "EventCount" in metrics,
            "metrics": metrics, "window": window, "start_ms": e.start_ms,
            "series": {n: bucketed(lab, label, n, window, buckets) for n in names}}


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


# An invocation that reached its function has an event (stored whole before
# lab schema 6, packed since); a throttled one has neither.
_REACHED = "(event_parts IS NOT NULL OR event IS NOT NULL)"


def last_invocation_id(lab, function: str | None = None) -> int | None:
    conn = lab.store.conn
    if function:
        row = conn.execute(f"SELECT max(id) FROM invocations WHERE function=? AND {_REACHED}",
                           (function,)).fetchone()
    else:
        row = conn.execute(f"SELECT max(id) FROM invocations WHERE {_REACHED}").fetchone()
    return row[0] if row else None


def invocation_event(lab, inv_id: int) -> dict | None:
    """The exact event an invocation received (for `sam local invoke -e`)."""
    row = lab.store.conn.execute("SELECT event, event_parts, records FROM invocations WHERE id=?",
                                 (inv_id,)).fetchone()
    return event_store.event_of(*row) if row else None


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


# -- the Why-log ----------------------------------------------------------------------------

_LONG_NUMBER = re.compile(r"\b(\d{20,})\b")


def short_number(seq: str) -> str:
    """A long sequence number as its record counter, four digits at least:
    …0001 (the lab's numbers carry the counter before their last 16 digits;
    other long numbers show their last four)."""
    if len(seq) > 18 and seq[:2] == "49":
        counter = seq[2:-16].lstrip("0") or "0"
        return "…" + counter.rjust(4, "0")
    return "…" + seq[-4:]


def shorten_numbers(text: str) -> str:
    return _LONG_NUMBER.sub(lambda m: short_number(m.group(1)), text)


def _record_text(conn, stream: str, shard: str, seq: str) -> str | None:
    row = conn.execute("SELECT data FROM records WHERE stream=? AND shard_id=? AND seq=?",
                       (stream, shard, seq)).fetchone()
    if row is None or row[0] is None:
        return None
    data = row[0]
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return text if len(text) <= 40 else text[:39] + "…"


def latest_events(lab, resource: str | None = None, limit: int = 200) -> list[dict]:
    """The newest journal events, newest first. Only a written record's data
    is decoded (the Why-log names the record by its text): other events'
    data can be large (a mapping's lanes) and the log shows only reasons."""
    where, args = ("WHERE resource=? ", (resource,)) if resource else ("", ())
    return [{"id": i, "at_ms": at, "kind": kind, "resource": res, "subject": subject,
             "reason": reason, "data": {"seq": seq, "shard_id": shard} if seq else None}
            for i, at, kind, res, subject, reason, seq, shard in lab.store.conn.execute(
                "SELECT id, at_ms, kind, resource, subject, reason, CASE WHEN kind='stream.put' "
                "THEN json_extract(data, '$.seq') END, CASE WHEN kind='stream.put' THEN "
                f"json_extract(data, '$.shard_id') END FROM journal {where}ORDER BY id DESC "
                "LIMIT ?", (*args, limit))]


def why_log(lab, resource: str | None = None, limit: int = 200, full: bool = False) -> dict:
    """The newest `limit` journal events, newest first, as the Why-log shows
    them: sequence numbers cut to …NNNN (whole with `full`), a written
    record named by its text."""
    events = latest_events(lab, resource, limit)
    conn = lab.store.conn
    rows = []
    for ev in events:
        reason = ev["reason"]
        data = ev["data"] if isinstance(ev["data"], dict) else {}
        if ev["kind"] == "stream.put" and data.get("seq"):
            text = _record_text(conn, ev["resource"], data.get("shard_id") or ev["subject"],
                                data["seq"])
            if text is not None:
                reason = f"{text!r} " + reason
        rows.append({"id": ev["id"], "at_ms": ev["at_ms"], "kind": ev["kind"],
                     "resource": ev["resource"], "subject": ev["subject"],
                     "text": reason if full else shorten_numbers(reason)})
    return {"events": rows, "resource": resource, "full": full,
            "newest_id": events[0]["id"] if events else 0}


def newest_story_id(lab) -> str | None:
    """The id worth an x-ray first: the newest DLQ'd message, else the last
    invocation."""
    row = lab.store.conn.execute(
        "SELECT subject FROM journal WHERE kind='sqs.moved_to_dlq' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row and row[0]:
        return row[0][:8]
    row = lab.store.conn.execute("SELECT max(id) FROM invocations").fetchone()
    return str(row[0]) if row and row[0] else None
