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
        records = app.lab.store.conn.execute("SELECT max(id) FROM record_rows").fetchone()[0]
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


# -- key press to next frame --------------------------------------------------------------

WIDE_SHARDS = 500
WIDE_FACTOR = 10
WIDE_RECORDS_PER_SHARD = 250     # more than a lane page reads, on every shard
HISTORY_INVOCATIONS = 200_000
REAL_INVOCATIONS = 1000          # run for real; the rest of the history is copies of them
CASES = {
    # case: (what the lab holds, the mapping selected at the start of the tour)
    "records_1m": ("1,000,000 Kinesis records on 4 shards", BIG_STREAM),
    "lanes_500x10": ("500 shards x ParallelizationFactor 10 (5,000 lanes)", "wide"),
    "invocations_200k": ("200,000 invocations of one SQS mapping's function", "bulk"),
    # the floor: the same tour on the starter lab (2 shards, 3 messages), so
    # what a frame costs whatever the lab's size is measured beside the rest
    "starter": ("the starter lab (the floor: a frame on a small lab)", "clicks"),
}


def _cached(name: str) -> Path:
    from esmlab.store import SCHEMA
    schema = hashlib.sha256(SCHEMA.encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"esmlab-bench-{name}-{schema}.lab.db"


def _build(path: Path, fill) -> Path:
    """Build a lab with `fill(lab)` into a temporary file, then move it in
    place (so an interrupted build is never reused)."""
    from esmlab.lab import Lab
    if path.exists():
        return path
    partial = path.with_suffix(".building")
    for p in (partial, Path(str(partial) + "-wal"), Path(str(partial) + "-shm")):
        p.unlink(missing_ok=True)
    lab = Lab.create(partial)
    try:
        fill(lab)
    finally:
        lab.close()
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(partial) + suffix)
        if src.exists():
            os.replace(src, str(path) + suffix)
    return path


def _fill_wide(lab) -> None:
    from esmlab.engine import arns
    lab.create_function("wide-handler", Timeout=3)
    lab.create_stream("wide", ShardCount=WIDE_SHARDS)
    lab.create_mapping(label="wide", FunctionName="wide-handler",
                       EventSourceArn=arns.stream_arn("wide"), StartingPosition="TRIM_HORIZON",
                       BatchSize=10, ParallelizationFactor=WIDE_FACTOR)
    lab.step()
    total = WIDE_SHARDS * WIDE_RECORDS_PER_SHARD
    with lab.store.transaction():
        for i in range(0, total, CHUNK):
            lab.put_records("wide", [{"PartitionKey": f"key-{i + j}", "Data": f"r{i + j}"}
                                     for j in range(CHUNK)])


def _fill_history(lab) -> None:
    """REAL_INVOCATIONS run through the engine, then their invocation rows
    and metric samples copied forward in time up to HISTORY_INVOCATIONS: a
    long history for the read side to page through (the engine's cost of
    making it is measured elsewhere in bench/run.py)."""
    from esmlab.engine import arns
    lab.create_function("bulk-handler", Timeout=3, duration={"fixed_ms": 5, "per_record_ms": 1})
    lab.create_queue("bulk")
    lab.create_mapping(label="bulk", FunctionName="bulk-handler",
                       EventSourceArn=arns.queue_arn("bulk"), BatchSize=1)
    lab.step()
    with lab.store.transaction():
        for i in range(0, REAL_INVOCATIONS, 10):
            lab.send_message_batch("bulk", [{"Id": str(j), "MessageBody": f"m{i + j}"}
                                            for j in range(10)])
    lab.run_until_idle()
    conn = lab.store.conn
    lo, hi = conn.execute("SELECT min(start_ms), max(start_ms) FROM invocations").fetchone()
    span = max(1, hi - lo + 1)
    copies = HISTORY_INVOCATIONS // REAL_INVOCATIONS - 1
    cols = "function, mapping, source, start_ms, end_ms, status, attempt, size, records, event, " \
           "response, error, detail, event_parts"
    with lab.store.transaction():
        for k in range(1, copies + 1):
            shift = -k * span          # the copies come before the real run, so now stays now
            conn.execute(
                f"INSERT INTO invocations ({cols}) SELECT function, mapping, source, "
                f"start_ms + ?, end_ms + ?, status, attempt, size, records, event, response, "
                f"error, detail, event_parts FROM invocations WHERE id <= ?",
                (shift, shift, REAL_INVOCATIONS))
            conn.execute("INSERT INTO metrics (at_ms, resource, name, value) SELECT at_ms + ?, "
                         "resource, name, value FROM metrics WHERE at_ms BETWEEN ? AND ? AND "
                         "at_ms + ? >= ?", (shift, lo, hi, shift, lab.engine.start_ms))


def _fill_starter(lab) -> None:
    from esmlab.starter import build_starter
    build_starter(lab)


def case_lab(case: str) -> tuple[Path, float]:
    """(path, build seconds) of a case's lab, built once and cached."""
    t = time.perf_counter()
    if case == "records_1m":
        path = build_big_lab()
    elif case == "lanes_500x10":
        path = _build(_cached("lanes-500x10"), _fill_wide)
    elif case == "invocations_200k":
        path = _build(_cached("invocations-200k"), _fill_history)
    elif case == "starter":
        path = _build(_cached("starter"), _fill_starter)
    else:
        raise ValueError(f"case must be one of {', '.join(CASES)}, not {case!r}")
    return path, round(time.perf_counter() - t, 2)


def key_to_frame(case: str, steps: int = 3, size: tuple[int, int] = (160, 48)) -> dict:
    """Key press to the next frame on screen, on a copy of a case's lab, over
    a tour of every panel: switch to it (`]`), step the clock (F5) `steps`
    times, move the tree's cursor off the mapping and back (down twice, up
    twice: the selection changes to the resource below and back) and,
    on Ordering, page the lanes (`.` then `,`).

    {"case", "lab", "key_to_frame_ms" (the worst press of the tour, wall
    time), "worst" (which panel and key), "median_ms", "key_to_frame_cpu_ms"
    and "median_cpu_ms" (the same in this process's CPU time), "presses",
    "panels": {tab: {action: worst wall ms}}, "panels_cpu" (the same in CPU
    ms), "step_engine_ms" (the worst
    Lab.step a press ran: the engine's part, not the screen's), "build_s"}. See `_Frames` for what a
    frame is and where its time is read."""
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    from esmlab.tui.app import EsmlabApp
    path, build_s = case_lab(case)
    what, mapping = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "lab.db"
        shutil.copyfile(path, copy)
        for suffix in ("-wal", "-shm"):
            if Path(str(path) + suffix).exists():
                shutil.copyfile(str(path) + suffix, str(copy) + suffix)
        presses, engine = asyncio.run(_tour(EsmlabApp, str(copy), mapping, steps, size))
    panels: dict[str, dict[str, float]] = {}
    panels_cpu: dict[str, dict[str, float]] = {}
    for tab, action, ms, cpu in presses:
        for table, value in ((panels, ms), (panels_cpu, cpu)):
            worst = table.setdefault(tab, {})
            worst[action] = round(max(value, worst.get(action, 0.0)), 1)
    tab, action, ms, _ = max(presses, key=lambda p: p[2])
    return {"case": case, "lab": what, "key_to_frame_ms": round(ms, 1),
            "worst": f"{tab}: {action}",
            "median_ms": round(statistics.median(p[2] for p in presses), 1),
            "key_to_frame_cpu_ms": round(max(p[3] for p in presses), 1),
            "median_cpu_ms": round(statistics.median(p[3] for p in presses), 1),
            "presses": len(presses), "panels": panels, "panels_cpu": panels_cpu,
            "step_engine_ms": round(max(engine, default=0.0), 1), "build_s": build_s}


class _Frames:
    """When frames reach the terminal.

    Textual paints from a screen timer (at most 60 a second) once the event
    loop is idle and something is dirty: the compositor renders the changed
    regions and `App._display` turns them into the escape sequences written
    to the terminal. Headless, `_display` skips the write, so this hook does
    that conversion itself (the cost a real terminal pays) and notes the
    time each frame was ready.

    A press is timed from the moment the key event is handed to the driver
    (as a terminal's key would be) until the frame that shows all it did:
    the app and every widget have handled the key and the messages it
    caused (a tab switch answers in a second message, a widget's refresh is
    a message to the screen), nothing is left to paint, and the last frame
    painted since the key ends the press. A key that changes nothing on
    screen ends when everything is handled."""

    def __init__(self, app):
        self.app = app
        self.times: list[float] = []
        display = app._display

        def hooked(screen, renderable):
            if renderable is not None and not app._batch_count:
                render = getattr(renderable, "render_segments", None)
                if render is not None:
                    render(app.console)
                self.times.append(time.perf_counter())
            display(screen, renderable)
        app._display = hooked

    def settled(self) -> bool:
        """Nothing left to handle or paint: no widget has a message waiting
        or a refresh not yet passed to the screen, and the screen has no
        dirty region."""
        screen = self.app.screen
        if screen._layout_required or screen._scroll_required or screen._repaint_required \
                or screen._dirty_widgets:
            return False
        return not self.app.message_queue_size and not any(
            w.message_queue_size or w._repaint_required or w._layout_required
            for w in screen.walk_children(with_self=True))

    async def press(self, pilot, key: str) -> tuple[float, float]:
        """(wall ms, CPU ms) from pressing `key` to its frame. The CPU time
        is this process's: what the press costs on a core of its own, where
        the wall time also holds other programs' turns on a shared machine
        (and up to one screen-timer period, 1/60 s, of waiting to paint)."""
        painted = len(self.times)
        t0, c0 = time.perf_counter(), time.process_time()
        await pilot.press(key)             # handled, with the messages it posted
        while not self.settled():
            # the screen timer paints the next frame; the press ends at that
            # frame's time, so looking every 5 ms loses no precision
            await asyncio.sleep(0.005)
        cpu = (time.process_time() - c0) * 1000
        if len(self.times) > painted:
            # the last frame painted: the one that shows everything the key did
            return (self.times[-1] - t0) * 1000, cpu
        return (time.perf_counter() - t0) * 1000, cpu   # nothing on screen changed


async def _tour(app_class, path, mapping, steps, size):
    from esmlab.tui.app import TABS
    app = app_class(path)
    presses: list[tuple[str, str, float, float]] = []
    engine: list[float] = []
    async with app.run_test(size=size) as pilot:
        step = app.lab.step

        def timed_step(*a, **kw):
            t0 = time.perf_counter()
            try:
                return step(*a, **kw)
            finally:
                engine.append((time.perf_counter() - t0) * 1000)
        app.lab.step = timed_step
        frames = _Frames(app)
        await pilot.pause()
        # start-up settled first (any background work it started):
        # this measures keys, not start-up (measure() times the first paint)
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.query_one("#tree")
        tree.show(("mapping", mapping))
        app.selected = ("mapping", mapping)
        app.query_one("#tabs").active = TABS[-1]      # the first `]` goes to the first tab
        app.refresh_view()
        await pilot.pause()
        for tab in TABS:
            presses.append((tab, "switch to it",
                            *await frames.press(pilot, "right_square_bracket")))
            for _ in range(steps):
                presses.append((tab, "step", *await frames.press(pilot, "f5")))
            # off the mapping (a section heading, then the next resource) and back
            for key in ("down", "down", "up", "up"):
                presses.append((tab, f"cursor {key}", *await frames.press(pilot, key)))
            if tab == "ordering":
                for key, what in (("full_stop", "next page"), ("comma", "previous page")):
                    presses.append((tab, what, *await frames.press(pilot, key)))
    return presses, engine


def key_to_frame_all(steps: int = 3) -> dict:
    return {case: key_to_frame(case, steps) for case in CASES}


if __name__ == "__main__":  # python -m esmlab.tui.bench [LAB | --keys]
    import json
    import sys
    if sys.argv[1:] == ["--keys"]:
        print(json.dumps(key_to_frame_all(), indent=2))
    else:
        print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else None), indent=2))
