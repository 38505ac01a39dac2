"""The clock's actions: step, advance, autoplay and its speed, run until idle.

Autoplay, run until idle and the advance form (up to an hour) move the
clock in budgeted steps (esmlab.clock_runs), a slice of them per timer tick,
so no tick waits on a whole big instant and the header can say "instant
T+1m00s, part 3 of 9" between them; the history is the one a single advance
or run_until_idle command makes.
"""

from __future__ import annotations

import time

from esmlab import readmodels as rm
from esmlab.clock_runs import AdvanceRun, IdleRun
from esmlab.tui.screens.forms import AskScreen

JUMP_NOTICE_MS = 3_600_000       # a step that moves the clock this far says so
SPEEDS = (1, 10, 60, 600)        # virtual seconds per real second
TICK_S = 0.2                      # autoplay timer period (real seconds)
RUN_TICK_S = 0.05                 # timer period of run until idle and advance (real seconds)
# Real time a tick spends on steps before it lets the screen draw and read
# keys (at least one step runs). Wall time only decides how many steps go
# in one frame, never what a step does: the history does not depend on it.
SLICE_S = 0.04
RUN_VIEW_S = 0.5                  # while they run, the panels redraw this often


class ClockActions:
    """Mixed into EsmlabApp; uses its lab, selection and refresh_view()."""

    def action_step(self) -> None:
        if not self._guard():
            return
        before = self.lab.engine.now_ms
        ran = self._call(self.lab.step)
        jumped = self.lab.engine.now_ms - before
        if ran == 0:
            self.notify("nothing is pending: push something first (F2)")
        elif jumped >= JUMP_NOTICE_MS:
            self.notify(f"the clock jumped {rm.rel(jumped)} to the next thing on the agenda "
                        f"(now T+{rm.rel(self.lab.engine.now_ms - self.lab.engine.start_ms)}): "
                        "nothing was due in between", severity="warning")
        self.refresh_view()

    def action_advance(self) -> None:
        if not self._guard():
            return

        from esmlab.scenario.durations import DurationError, parse_duration

        def check(values):
            try:
                parse_duration(values["seconds"].strip())
            except DurationError as exc:
                return str(exc)
            return None

        def done(values):
            if not values:
                return
            seconds = parse_duration(values["seconds"].strip()) / 1000
            self._push_last["advance"] = values["seconds"].strip()
            if seconds > 3600:
                self._long(lambda: self.lab.advance(seconds), f"advance {rm.rel(seconds * 1000)}")
            else:
                ms = int(round(seconds * 1000))
                run = self._call(lambda: AdvanceRun(self.lab, self.lab._later(ms, "advance")))
                if run is not None:
                    self.start_clock_run(run, f"advance {rm.rel(ms)}",
                                         lambda: f"advance {rm.rel(ms)}: done")

        self.push_screen(AskScreen("Advance the virtual clock", [
            ("seconds", "by how long (seconds, or 90s, 2m, 1h30m)",
             self._push_last.get("advance", "10"))], validate=check), done)

    def action_autoplay(self) -> None:
        if not self._guard():
            return
        if not self.autoplay:
            self.stop_clock_run()       # one thing moves the clock at a time
        self.autoplay = not self.autoplay

    def action_speed(self) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[(i + 1) % len(SPEEDS)]
        self.notify(f"autoplay speed ×{self.speed} (virtual seconds per second)")
        self.show_header()

    def _tick(self) -> None:
        """An autoplay tick: continue the advance in progress (or start the
        next one, speed × tick of virtual time) for one slice of steps."""
        if self.busy or len(self.screen_stack) > 1:
            return
        run = getattr(self, "_autoplay_run", None)
        if run is None or run.done or run.lab is not self.lab:
            ms = int(self.speed * TICK_S * 1000)
            run = self._call(lambda: AdvanceRun(self.lab, self.lab._later(ms, "autoplay")))
            self._autoplay_run = run
            if run is None:
                self.autoplay = False
                return
        if self._pieces(run.piece) is None:
            self.autoplay = False
        self.refresh_view()

    def _pieces(self, piece):
        """Budgeted steps for one slice of real time; (result of the last
        piece,) or None when the lab refused one (already notified)."""
        end = time.perf_counter() + SLICE_S
        while True:
            out = self._call(lambda: (piece(),))
            if out is None or out[0] or time.perf_counter() >= end:
                return out

    def action_run_until_idle(self) -> None:
        """Run until nothing in the foreground is pending (at most 1 h of
        virtual time); pressed again, stops."""
        if getattr(self, "_clock_run", None) is not None:
            self.stop_clock_run(f"{self._clock_run_label}: stopped")
            return
        if not self._guard():
            return
        from esmlab.lab import DEFAULT_IDLE_LIMIT_MS
        run = self._call(lambda: IdleRun(self.lab, self.lab._later(DEFAULT_IDLE_LIMIT_MS,
                                                                   "run until idle")))
        if run is not None:
            self.start_clock_run(run, "until idle", lambda: (
                "run until idle: stopped after 1 h of virtual time with work still pending "
                "(a blocked shard retries until its records expire)" if run.outcome == "limit"
                else "run until idle: nothing is pending now"))

    def start_clock_run(self, run, label: str, said) -> None:
        """Drive `run` (a clock_runs object) on a timer, a slice of budgeted
        steps per tick; `said()` is the notice when it ends."""
        self.autoplay = False
        self._clock_run, self._clock_run_label, self._clock_run_said = run, label, said
        self._clock_drawn = time.perf_counter()
        if getattr(self, "_clock_timer", None) is None:
            self._clock_timer = self.set_interval(RUN_TICK_S, self._clock_tick)
        else:
            self._clock_timer.resume()
        self.show_header()

    def stop_clock_run(self, said: str | None = None) -> None:
        """End the run where it is (a part-way instant stays part-way: F5 or
        autoplay finishes it)."""
        if getattr(self, "_clock_run", None) is None:
            return
        self._clock_run = None
        self._clock_timer.pause()
        if said:
            self.notify(said)
        self.refresh_view()

    def _clock_tick(self) -> None:
        run = getattr(self, "_clock_run", None)
        if run is None or self.busy or len(self.screen_stack) > 1:
            return
        if run.lab is not self.lab:
            self.stop_clock_run()
            return
        out = self._pieces(lambda: run.piece() not in (None, False))
        if out is None:
            self.stop_clock_run()
        elif out[0]:
            self.stop_clock_run(self._clock_run_said())
        elif time.perf_counter() - self._clock_drawn >= RUN_VIEW_S:
            self._clock_drawn = time.perf_counter()
            self.refresh_view()
        else:
            self.show_header()
