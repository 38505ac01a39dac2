"""Headless TUI benchmark: time to first paint on a lab, and time to refresh
after a step. Used by bench/run.py (targets: < 1 s and < 50 ms on a lab
with a million Kinesis records).

`measure(lab_path)` copies the lab first, so measuring never changes the lab
passed in. `measure(None)` builds (once, cached under the temp folder) the
starter lab plus a stream `firehose` of 4 shards holding 1,000,000 records
with a TRIM_HORIZON mapping, so the whole million is the mapping's backlog.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

BIG_RECORDS = 1_000_000
BIG_STREAM = "firehose"
BIG_SHARDS = 4
BIG_KEYS = 1000
CHUNK = 500                  # PutRecords' limit
CHUNKS_PER_TRANSACTION = 200  # 100,000 records per COMMIT


def big_lab_path(records: int = BIG_RECORDS) -> Path:
    # The schema's hash is in the name, so a lab cached by an older build of
    # the schema is never reused.
    from esmlab.store import SCHEMA
    schema = hashlib.sha256(SCHEMA.encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"esmlab-bench-{records}-{schema}.lab.db"


def build_big_lab(path: str | Path | None = None, records: int = BIG_RECORDS) -> Path:
    """The starter lab plus `records` Kinesis records in `firehose` (cached:
    an existing file with the right record count is reused)."""
    from esmlab.cli import open_or_create
    from esmlab.engine import arns
    from esmlab.lab import Lab

    path = Path(path) if path else big_lab_path(records)
    if path.exists():
        try:
            lab = Lab.open(path)
            try:
                n = lab.store.conn.execute("SELECT count(*) FROM records WHERE stream=?",
                                           (BIG_STREAM,)).fetchone()[0]
            finally:
                lab.close()
            if n == records:
                return path
        except Exception:
            pass
    partial = path.with_suffix(".building")
    for p in (partial, Path(str(partial) + "-wal"), Path(str(partial) + "-shm")):
        p.unlink(missing_ok=True)
    lab, _ = open_or_create(partial)
    try:
        lab.create_stream(BIG_STREAM, ShardCount=BIG_SHARDS)
        lab.create_mapping(label=BIG_STREAM, FunctionName="clicks-handler",
                           EventSourceArn=arns.stream_arn(BIG_STREAM),
                           StartingPosition="TRIM_HORIZON", BatchSize=100)
        lab.step()          # the mapping becomes Enabled
        keys = [f"device-{k}" for k in range(BIG_KEYS)]
        done = 0
        while done < records:
            with lab.store.transaction():       # one COMMIT per many PutRecords
                for _ in range(CHUNKS_PER_TRANSACTION):
                    if done >= records:
                        break
                    n = min(CHUNK, records - done)
                    lab.put_records(BIG_STREAM, [
                        {"PartitionKey": keys[(done + i) % BIG_KEYS],
                         "Data": f"reading {done + i}"} for i in range(n)])
                    done += n
    finally:
        lab.close()
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(partial) + suffix)
        if src.exists():
            os.replace(src, str(path) + suffix)
    return path


def measure(lab_path: str | None = None, steps: int = 10,
            size: tuple[int, int] = (160, 48)) -> dict:
    """{"import_s" (importing the app and the engine, 0 if already imported),
    "first_paint_s" (App() to the first frame, imports excluded),
    "refresh_after_step_ms" (median of refresh_view() right after a
    lab.step(), the selected mapping being the biggest stream's, Ordering
    tab), "refresh_after_step_max_ms", "step_refresh_ms" (step + refresh),
    "step_refresh_max_ms", "refresh_only_ms" (median, nothing changed),
    "records", "lab"}.
    With lab_path None, the cached million-record lab is used (built if
    missing; "build_s" says how long that took)."""
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    out: dict = {}
    t = time.perf_counter()
    import esmlab.engine.function  # noqa: F401  (what Lab.open imports)
    import esmlab.engine.mappings.service  # noqa: F401
    import esmlab.engine.sinks  # noqa: F401
    import esmlab.engine.sources.queue  # noqa: F401
    import esmlab.engine.sources.stream  # noqa: F401
    import esmlab.engine.sources.table  # noqa: F401
    import esmlab.lab  # noqa: F401
    from esmlab.tui.app import EsmlabApp
    out["import_s"] = round(time.perf_counter() - t, 3)   # 0 when already imported
    if lab_path is None:
        t = time.perf_counter()
        lab_path = str(build_big_lab())
        out["build_s"] = round(time.perf_counter() - t, 2)

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "lab.db"
        shutil.copyfile(lab_path, copy)
        for suffix in ("-wal", "-shm"):
            if Path(str(lab_path) + suffix).exists():
                shutil.copyfile(str(lab_path) + suffix, str(copy) + suffix)
        out.update(asyncio.run(_measure(EsmlabApp, str(copy), steps, size)))
    out["lab"] = str(lab_path)
    return out


async def _measure(app_class, path: str, steps: int, size) -> dict:
    start = time.perf_counter()
    app = app_class(path)
    step_ms: list[float] = []
    refresh_ms: list[float] = []
    async with app.run_test(size=size) as pilot:
        while getattr(app, "first_paint_at", None) is None:
            await asyncio.sleep(0.005)
        first_paint = app.first_paint_at - start
        await pilot.pause()
        # the worst case: look at the biggest stream's mapping (Ordering tab)
        if any(m["label"] == BIG_STREAM for m in app._model["mappings"]):
            app.selected = ("mapping", BIG_STREAM)
            app.refresh_view()
            await pilot.pause()
        records = app.lab.store.conn.execute("SELECT max(rowid) FROM records").fetchone()[0]
        after_ms: list[float] = []
        for _ in range(steps):
            t = time.perf_counter()
            app.lab.step()
            t1 = time.perf_counter()
            app.refresh_view()
            t2 = time.perf_counter()
            step_ms.append((t2 - t) * 1000)
            after_ms.append((t2 - t1) * 1000)
            await pilot.pause()          # let Textual paint, as it would between keys
            t = time.perf_counter()
            app.refresh_view()
            refresh_ms.append((time.perf_counter() - t) * 1000)
        await pilot.pause()
    return {"first_paint_s": round(first_paint, 3),
            "refresh_after_step_ms": round(statistics.median(after_ms), 2),
            "refresh_after_step_max_ms": round(max(after_ms), 2),
            "step_refresh_ms": round(statistics.median(step_ms), 2),
            "step_refresh_max_ms": round(max(step_ms), 2),
            "refresh_only_ms": round(statistics.median(refresh_ms), 2),
            "records": records or 0}


if __name__ == "__main__":  # python -m esmlab.tui.bench [LAB]
    import json
    import sys
    print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else None), indent=2))
