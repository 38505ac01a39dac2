"""The virtual clock and its agenda of pending timers.

Time is integer milliseconds since the Unix epoch, on the lab's own clock
(it starts at the lab's start time and moves only when the agenda says so).
Timers are ordered by (due time, insertion order). Each timer has a unique
key, so "poll shard 3 of mapping X" is scheduled at most once; scheduling
it again keeps the earlier of the two due times.

A step may be given a work budget: it stops between two timers once that
much work is done and the next step resumes the same instant. Work is
counted in units, one per timer fired and one per batch handed to a
function (`charge`), never in wall time, so where a step stops is itself
deterministic. Because the budget only ever cuts *between* timers, the
order in which timers fire, and so the journal, is the same with or
without it; timers that could do a lot of work at once (an SQS poll that
fills 300 free slots) do one unit and leave the rest to a timer that fires
next, before anything else due at that instant (`schedule_first`), so the
work happens in the same order as if it had not been cut.
"""

from __future__ import annotations

import json
from typing import Any, Callable

# Work units per interactive step: small enough that a step of the largest
# benchmark labs stays far under a frame's worth of waiting (measured in
# bench/run.py), large enough that ordinary instants finish in one step.
STEP_BUDGET = 64


class Agenda:
    def __init__(self, conn, now_ms: int):
        self.conn = conn
        self.now_ms = now_ms
        self.handlers: dict[str, Callable[[str, Any], None]] = {}
        self.work = 0                 # units done by this process (only differences matter)
        self.part_at: int | None = None  # the instant the last step worked on ...
        self.part = 0                 # ... and how many steps have worked on it

    def charge(self, units: int = 1) -> None:
        """Count work done inside a timer (a batch dispatched)."""
        self.work += units

    def on(self, kind: str, handler: Callable[[str, Any], None]) -> None:
        self.handlers[kind] = handler

    def schedule(self, kind: str, key: str, due_ms: int, data: Any = None) -> None:
        """Add a timer; if `key` is already pending, keep the earlier due time."""
        due_ms = max(int(due_ms), self.now_ms)
        row = self.conn.execute("SELECT due_ms FROM agenda WHERE key=?", (key,)).fetchone()
        payload = None if data is None else json.dumps(data)
        if row is None:
            self.conn.execute(
                "INSERT INTO agenda (due_ms, kind, key, data) VALUES (?, ?, ?, ?)",
                (due_ms, kind, key, payload))
        elif due_ms < row[0]:
            self.conn.execute(
                "UPDATE agenda SET due_ms=?, data=? WHERE key=?", (due_ms, payload, key))

    def schedule_first(self, kind: str, key: str, data: Any = None) -> None:
        """Add a timer due now that fires before every other timer due now:
        the rest of a timer's work, cut into a timer of its own, then runs
        exactly where it would have run uncut."""
        self.cancel(key)
        first = self.conn.execute("SELECT min(seq) FROM agenda").fetchone()[0]
        self.conn.execute(
            "INSERT INTO agenda (seq, due_ms, kind, key, data) VALUES (?, ?, ?, ?, ?)",
            ((first or 1) - 1, self.now_ms, kind, key, None if data is None else json.dumps(data)))

    def reschedule(self, kind: str, key: str, due_ms: int, data: Any = None) -> None:
        """Set a timer to exactly `due_ms`, replacing any pending one."""
        self.cancel(key)
        self.schedule(kind, key, due_ms, data)

    def cancel(self, key: str) -> None:
        self.conn.execute("DELETE FROM agenda WHERE key=?", (key,))

    def pending(self, key: str) -> int | None:
        row = self.conn.execute("SELECT due_ms FROM agenda WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def next_due(self) -> int | None:
        row = self.conn.execute("SELECT min(due_ms) FROM agenda").fetchone()
        return row[0]

    def next_due_except(self, kinds: tuple[str, ...]) -> int | None:
        """The earliest due time among timers not of `kinds` (e.g. the
        background housekeeping that should not count as activity)."""
        row = self.conn.execute(
            f"SELECT min(due_ms) FROM agenda WHERE kind NOT IN ({','.join('?' * len(kinds))})",
            kinds).fetchone()
        return row[0]

    def size(self) -> int:
        return self.conn.execute("SELECT count(*) FROM agenda").fetchone()[0]

    def run_instant(self, budget: int | None = None) -> bool:
        """Move to the next due instant (or stay in the one in progress) and
        fire the timers due then, including timers that firing adds for the
        same instant; with a `budget`, stop between two timers once that many
        units of work are done (the instant then stays in progress)."""
        due = self.next_due()
        if due is None:
            return False
        if due > self.now_ms or self.part_at != self.now_ms:
            self.now_ms = max(self.now_ms, due)
            self.part_at, self.part = self.now_ms, 0
        self.part += 1
        self._fire_due(budget)
        return True

    def instant_done(self) -> bool:
        """True when no timer is due at the current instant any more."""
        due = self.next_due()
        return due is None or due > self.now_ms

    def due_now(self) -> int:
        return self.conn.execute("SELECT count(*) FROM agenda WHERE due_ms <= ?",
                                 (self.now_ms,)).fetchone()[0]

    def run_until(self, until_ms: int) -> int:
        """Fire everything due up to `until_ms`, then set the clock there.
        Idle stretches are skipped, not looped over. Returns instants run."""
        instants = 0
        while True:
            due = self.next_due()
            if due is None or due > until_ms:
                break
            self.run_instant()
            instants += 1
        self.now_ms = max(self.now_ms, until_ms)
        return instants

    def _fire_due(self, budget: int | None = None) -> None:
        conn = self.conn
        limit = None if budget is None else self.work + max(1, budget)
        while limit is None or self.work < limit:
            row = conn.execute(
                "SELECT seq, kind, key, data FROM agenda WHERE due_ms <= ? "
                "ORDER BY due_ms, seq LIMIT 1", (self.now_ms,)).fetchone()
            if row is None:
                return
            seq, kind, key, data = row
            conn.execute("DELETE FROM agenda WHERE seq=?", (seq,))
            self.work += 1
            self.handlers[kind](key, None if data is None else json.loads(data))
