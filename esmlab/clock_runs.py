"""Clock runs in pieces: an advance or a run until idle that a screen drives
one budgeted step at a time, drawing between them.

`Lab.advance_ms(ms, budget=...)` and `Lab.run_until_idle(limit, budget=...)`
loop over these same objects, so the property tests that compare those with
the one-command runs (tests/test_step_budget.py) cover the screen's path too.
Each `piece()` is at most one command (a budgeted `step`, or the `advance_to`
that lands the clock), never a wait on a whole instant.
"""

from __future__ import annotations

from esmlab.engine.clock import STEP_BUDGET

BACKGROUND_KINDS = ("stream.trim", "queue.expire", "esm.minute")


class AdvanceRun:
    """Fire everything due up to `until_ms` and land there, in pieces."""

    def __init__(self, lab, until_ms: int, budget: int = STEP_BUDGET):
        self.lab, self.until_ms, self.budget = lab, until_ms, budget
        self.done = False

    def piece(self) -> bool:
        """One budgeted step (or the clock set to `until_ms`); True once there."""
        if not self.done:
            self.done = self.lab.step_toward(self.until_ms, self.budget)
        return self.done


class IdleRun:
    """Lab.run_until_idle's loop in pieces: to the next foreground timer,
    that instant whole, again, until none is pending ("idle") or the next one
    lies past `until_ms` (the clock lands there: "limit")."""

    def __init__(self, lab, until_ms: int, budget: int = STEP_BUDGET):
        self.lab, self.until_ms, self.budget = lab, until_ms, budget
        self.outcome: str | None = None
        self._next: int | None = None     # the foreground instant being advanced to

    def piece(self) -> str | None:
        """One budgeted step at most; the outcome once the run is over."""
        if self.outcome is not None:
            return self.outcome
        if self._next is None:
            # the next foreground instant is taken once per leg, as the
            # one-command run does: the leg runs everything due by then,
            # background timers at that instant included
            self._next = self.lab.engine.agenda.next_due_except(BACKGROUND_KINDS)
            if self._next is None:
                self.outcome = "idle"
                return self.outcome
        if self.lab.step_toward(min(self._next, self.until_ms), self.budget):
            if self._next > self.until_ms:
                self.outcome = "limit"
            self._next = None
        return self.outcome

    def run(self) -> str:
        while self.piece() is None:
            pass
        return self.outcome
