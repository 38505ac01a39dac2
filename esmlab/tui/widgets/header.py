"""The header line: lab name, lab time, the instant being worked through,
autoplay state, seed, scaling profile, pending timers."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from esmlab import readmodels as rm


class LabHeader(Static):
    """show(model): model is rm.header(lab) plus the app's own state
    ("scenario", "busy", "autoplay", "running", "speed", "instant",
    "lab_error")."""

    def show(self, h: dict) -> None:
        t = Text()
        t.append(f" esmlab · {h['name']} ", style="bold")
        t.append(f" T+{rm.rel(h['elapsed_ms'])} ", style="bold reverse")
        if h.get("scenario"):     # right after the clock, so a narrow terminal never cuts it
            t.append(f" {h['scenario']} ", style="bold reverse")
        if h.get("instant"):
            t.append(f" {h['instant']} ", style="bold")
        if h.get("lab_error"):
            t.append(f" ⚠ {h['lab_error']} ", style="bold reverse")
        if h.get("busy"):
            t.append(" ⏳ working ", style="bold")
        elif h.get("running"):
            t.append(f" ⏩ {h['running']} ", style="bold")
        elif h.get("autoplay"):
            t.append(f" ▶ running ×{h['speed']} ", style="bold")
        else:
            t.append(f" ⏸ paused ×{h['speed']} ")
        t.append(f" {h['iso']} ")
        t.append(f" seed {h['seed']}  profile {h['profile']}  pending {h['pending']}")
        self.update(t, layout=False)    # one line, always: no layout pass needed


def instant_text(lab) -> str | None:
    """"instant T+1m00s, part 3 of 9" while a step is part-way through an
    instant (from Lab.instant() when the lab has it)."""
    read = getattr(lab, "instant", None)
    if read is None:
        return None
    try:
        info = read()
    except Exception:   # an older lab file or an engine without the read
        return None
    if not info or info.get("done", True):
        return None
    total = info.get("parts_estimate")
    at = info["at_ms"] - lab.engine.start_ms
    of = f" of {'~' if not info.get('done') else ''}{total}" if total else ""
    return f"instant T+{rm.rel(at)}, part {info.get('part', 1)}{of}"
