"""The clock's actions: step, advance, autoplay and its speed, run until idle."""

from __future__ import annotations

from esmlab import readmodels as rm
from esmlab.tui.screens.forms import AskScreen

JUMP_NOTICE_MS = 3_600_000       # a step that moves the clock this far says so
SPEEDS = (1, 10, 60, 600)        # virtual seconds per real second
TICK_S = 0.2                      # autoplay timer period (real seconds)


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
                self._call(self.lab.advance, seconds)
                self.refresh_view()

        self.push_screen(AskScreen("Advance the virtual clock", [
            ("seconds", "by how long (seconds, or 90s, 2m, 1h30m)",
             self._push_last.get("advance", "10"))], validate=check), done)

    def action_autoplay(self) -> None:
        if not self._guard():
            return
        self.autoplay = not self.autoplay

    def action_speed(self) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[(i + 1) % len(SPEEDS)]
        self.notify(f"autoplay speed ×{self.speed} (virtual seconds per second)")
        self.show_header()

    def _tick(self) -> None:
        if self.busy or len(self.screen_stack) > 1:
            return
        ms = int(self.speed * TICK_S * 1000)
        if self._call(self.lab.advance_ms, ms) is None:
            self.autoplay = False
        self.refresh_view()

    def action_run_until_idle(self) -> None:
        if self._guard():
            def run():
                outcome = self.lab.run_until_idle()
                if outcome == "limit":
                    return ("stopped after 1 h of virtual time with work still pending "
                            "(a blocked shard retries until its records expire)")
                return "nothing is pending now"
            self._long(run, "run until idle")

