"""Headless TUI benchmark: time to first paint on a lab, and time to refresh
after a step. Used by bench/run.py (targets: < 1 s and < 50 ms).

The lab file is copied first, so measuring never changes the lab passed in.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def measure(lab_path: str, steps: int = 10, size: tuple[int, int] = (160, 48)) -> dict:
    """{"first_paint_s", "step_refresh_ms" (median), "step_refresh_max_ms",
    "refresh_only_ms" (median)}."""
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    from esmlab.tui.app import EsmlabApp

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "lab.db"
        shutil.copyfile(lab_path, copy)
        for suffix in ("-wal", "-shm"):
            if Path(str(lab_path) + suffix).exists():
                shutil.copyfile(str(lab_path) + suffix, str(copy) + suffix)
        return asyncio.run(_measure(EsmlabApp, str(copy), steps, size))


async def _measure(app_class, path: str, steps: int, size) -> dict:
    start = time.perf_counter()
    app = app_class(path)
    step_ms: list[float] = []
    refresh_ms: list[float] = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        first_paint = time.perf_counter() - start
        for _ in range(steps):
            t = time.perf_counter()
            app.lab.step()
            app.refresh_view()
            step_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            app.refresh_view()
            refresh_ms.append((time.perf_counter() - t) * 1000)
        await pilot.pause()
    return {"first_paint_s": round(first_paint, 3),
            "step_refresh_ms": round(statistics.median(step_ms), 2),
            "step_refresh_max_ms": round(max(step_ms), 2),
            "refresh_only_ms": round(statistics.median(refresh_ms), 2)}


if __name__ == "__main__":  # python -m esmlab.tui.bench LAB
    import json
    import sys
    print(json.dumps(measure(sys.argv[1]), indent=2))
