"""esmlab benchmarks: `python bench/run.py [--quick] [--only NAME]`.

Each benchmark runs the lab and, where there is one, a floor measured side by
side in the same run (machines here are noisy: compare ratios, not seconds).
Results go to bench/results.json as a list of
{name, esmlab_s, floor_s, ratio, ...}.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from esmlab.engine import arns  # noqa: E402
from esmlab.lab import Lab  # noqa: E402

HERE = Path(__file__).resolve().parent


def _settle() -> None:
    """Collect garbage and freeze what survives before a timed section, so a
    collection of an earlier benchmark's objects (moto's are many) is not
    billed to the step being timed."""
    gc.collect()
    gc.freeze()


def _tmp(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix="esmlab-bench-")) / name


def sqs_floor(n: int) -> float:
    """The floor: the same row operations on the same table, with plain
    sqlite3 and executemany. The lab's own `messages` table and indexes (from
    esmlab.store.SCHEMA) get the same rows: n messages inserted in batches of
    10, received in 10s (select + update receive count, visibility, receipt
    handle), deleted in 10s, one transaction per call, WAL mode. What the
    lab adds on top is its own work: validation, ids and md5s, the journal
    event for each call, wake-ups for pollers."""
    from esmlab.store import SCHEMA
    conn = sqlite3.connect(_tmp("floor.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    now = 1_704_067_200_000
    _settle()
    start = time.perf_counter()
    for b in range(n // 10):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO messages (queue, message_id, body, attributes, size, sent_ms, "
            "enqueued_ms, visible_ms, receive_count, first_receive_ms, group_id, dedup_id, "
            "seq_no, head) VALUES ('q', ?, ?, NULL, ?, ?, ?, ?, 0, NULL, NULL, NULL, NULL, NULL)",
            [(f"{b:08x}-0000-4000-8000-{k:012x}", f"message {b}-{k}", 14, now, now, now)
             for k in range(10)])
        conn.execute("COMMIT")
    for b in range(n // 10):
        conn.execute("BEGIN")
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM messages WHERE queue='q' AND visible_ms <= ? ORDER BY visible_ms, id "
            "LIMIT 10", (now,))]
        conn.executemany("UPDATE messages SET receive_count = receive_count + 1, "
                         "first_receive_ms = ?, received_ms = ?, visible_ms = ?, "
                         "receipt_handle = ?, holder = NULL WHERE id = ?",
                         [(now, now, now + 30_000, f"rh{b}-{i}", i) for i in ids])
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        conn.executemany("DELETE FROM messages WHERE id = ? AND queue = 'q' AND receipt_handle = ?",
                         [(i, f"rh{b}-{i}") for i in ids])
        conn.execute("COMMIT")
    return time.perf_counter() - start


def sqs_engine(n: int) -> float:
    """Send, receive and delete n messages in batches of 10 through the lab's
    SQS source, one transaction per call (as a user's command would be)."""
    lab = Lab.create(_tmp("sqs.db"))
    lab.create_queue("q")
    e, store = lab.engine, lab.store
    _settle()
    start = time.perf_counter()
    for b in range(n // 10):
        with store.transaction():
            e.queues.send_batch("q", [{"Id": str(k), "MessageBody": f"message {b}-{k}"}
                                      for k in range(10)])
    for _ in range(n // 10):
        with store.transaction():
            msgs = e.queues.receive("q", 10)
        with store.transaction():
            e.queues.delete_many("q", [m["receipt_handle"] for m in msgs])
    elapsed = time.perf_counter() - start
    assert e.queues.counts("q")["total"] == 0
    return elapsed


def drain_queue(n: int) -> dict:
    """A standard-queue mapping drains n messages through a succeeding handler."""
    lab = Lab.create(_tmp("drain.db"))
    lab.create_function("f", duration={"fixed_ms": 100, "per_record_ms": 0})
    lab.create_queue("q")
    for b in range(n // 10):
        with lab.store.transaction():
            lab.engine.queues.send_batch("q", [{"Id": str(k), "MessageBody": f"m{b}-{k}"}
                                               for k in range(10)])
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=10)
    _settle()
    start = time.perf_counter()
    lab.run_until_idle(limit_ms=24 * 3600_000)
    elapsed = time.perf_counter() - start
    assert lab.engine.queues.counts("q")["total"] == 0
    return {"esmlab_s": elapsed, "virtual_s": (lab.now_ms - lab.engine.start_ms) / 1000}


def _next_foreground(lab: Lab) -> int | None:
    from esmlab.lab import BACKGROUND_KINDS
    return lab.engine.agenda.next_due_except(BACKGROUND_KINDS)


def slowest_step(lab: Lab, limit_ms: int) -> tuple[float, int, float]:
    """Step until idle (no foreground timer: what run_until_idle means) or
    the limit; return (total wall s, steps, slowest step s). Retention
    trimming, a background timer, is timed apart by `trim_step`."""
    _settle()
    slowest, steps, total = 0.0, 0, 0.0
    end = lab.now_ms + limit_ms
    while True:
        nxt = _next_foreground(lab)
        if nxt is None or nxt > end:
            break
        t = time.perf_counter()
        lab.step()
        d = time.perf_counter() - t
        total += d
        slowest = max(slowest, d)
        steps += 1
    return total, steps, slowest


def trim_step(lab: Lab) -> float:
    """Wall time of the step at which retention deletes the stream's records."""
    lab.advance_ms(max(0, lab.engine.agenda.next_due() - lab.now_ms - 1))
    t = time.perf_counter()
    lab.step()
    return time.perf_counter() - t


def kinesis_parallel(records: int) -> dict:
    """64 shards, ParallelizationFactor 10, records through a succeeding handler."""
    lab = Lab.create(_tmp("kin.db"))
    lab.create_function("f", duration={"fixed_ms": 50, "per_record_ms": 0})
    lab.create_stream("s", ShardCount=64)
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", ParallelizationFactor=10, BatchSize=100)
    lab.step()
    for b in range(records // 500):
        lab.put_records("s", [{"PartitionKey": f"k{(b * 500 + i) % 5000}",
                               "Data": f"r{b * 500 + i}"} for i in range(500)])
    total, steps, slowest = slowest_step(lab, 24 * 3600_000)
    virtual = (lab.now_ms - lab.engine.start_ms) / 1000
    return {"esmlab_s": total, "steps": steps, "slowest_step_s": slowest,
            "virtual_s": virtual, "retention_trim_step_s": trim_step(lab)}


def poison_until_expiry() -> dict:
    """One poison record blocks a shard (24 h retention, default retries) until
    the record falls out of retention."""
    lab = Lab.create(_tmp("poison.db"))
    lab.create_function("f")
    lab.set_behaviour("f", mode="poison", match={"text": "poison"})
    lab.create_stream("s", ShardCount=1)
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON")
    lab.put_record("s", "k", "poison")
    _settle()
    start = time.perf_counter()
    lab.advance(25 * 3600)
    elapsed = time.perf_counter() - start
    virtual = 25 * 3600
    return {"esmlab_s": elapsed, "virtual_s": virtual, "sim_s_per_wall_s": virtual / elapsed,
            "invocations": len(lab.invocations())}


def scale_to_1250() -> dict:
    """A big backlog and a slow handler: the current profile scales to 1,250
    concurrent batches (the account quota raised to 5,000 so it can)."""
    lab = Lab.create(_tmp("scale.db"))
    lab.do("set_account_concurrency", ConcurrentExecutions=5000)
    lab.create_function("f", Timeout=60, duration={"fixed_ms": 60_000, "per_record_ms": 0})
    lab.create_queue("q", {"VisibilityTimeout": "400"})
    for b in range(6000):
        with lab.store.transaction():
            lab.engine.queues.send_batch("q", [{"Id": str(k), "MessageBody": f"m{b}-{k}"}
                                               for k in range(10)])
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=10)
    total, steps, slowest = slowest_step(lab, 6 * 60_000)
    m = lab.mapping("f")
    return {"esmlab_s": total, "steps": steps, "slowest_step_s": slowest,
            "target": m["runtime"]["target"], "peak": m["runtime"]["peak"]}


def moto_sample(n: int) -> float | None:
    """moto doing the same send/receive/delete loop with boto3 (n messages)."""
    try:
        import boto3
        from moto import mock_aws
    except ImportError:
        return None
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        start = time.perf_counter()
        for b in range(n // 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(k), "MessageBody": f"m{b}-{k}"} for k in range(10)])
        for _ in range(n // 10):
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if msgs:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(msgs)])
        return time.perf_counter() - start


class _Results(list):
    """Printed and written to bench/results.json as each benchmark ends, so a
    failure late in the run keeps the figures already measured."""

    def append(self, item: dict) -> None:
        super().append(item)
        print(json.dumps(item), flush=True)
        (HERE / "results.json").write_text(json.dumps(self, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--only", help="run one benchmark by name prefix")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    results = _Results()

    def want(name):
        return not args.only or name.startswith(args.only)

    if want("sqs"):
        floor = sqs_floor(n)
        eng = sqs_engine(n)
        results.append({"name": f"sqs send/receive/delete {n} (batches of 10)",
                        "esmlab_s": eng, "floor_s": floor, "ratio": eng / floor})
    if want("drain"):
        floor = sqs_floor(n)
        d = drain_queue(n)
        results.append({"name": f"drain {n} messages through a standard-queue mapping",
                        **d, "floor_s": floor, "ratio": d["esmlab_s"] / floor})
    if want("kinesis"):
        k = kinesis_parallel(20_000 if args.quick else 200_000)
        results.append({"name": "kinesis 64 shards x PF10 through a succeeding handler", **k,
                        "floor_s": None, "ratio": None})
    if want("poison"):
        p = poison_until_expiry()
        results.append({"name": "poison record blocks a shard until 24 h retention", **p,
                        "floor_s": None, "ratio": None})
    if want("scale"):
        s = scale_to_1250()
        results.append({"name": "SQS scale-up to 1,250 with a slow handler", **s,
                        "floor_s": None, "ratio": None})
    if want("moto"):
        # Last: moto leaves a great many objects behind.
        floor = sqs_floor(n)
        m = moto_sample(1000)
        if m is not None:
            results.append({"name": "moto send/receive/delete 1000 (scaled to n)",
                            "esmlab_s": None, "moto_s_sample": m, "moto_s_scaled": m * n / 1000,
                            "floor_s": floor, "ratio": m * n / 1000 / floor})
    if want("tui"):
        try:
            from esmlab.tui.bench import measure
            results.append({"name": "TUI on a lab with 1M records", **measure(None),
                            "floor_s": None, "ratio": None})
        except ImportError as exc:
            print(f"(TUI benchmark skipped: {exc})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
