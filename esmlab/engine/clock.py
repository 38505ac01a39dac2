"""The virtual clock and its agenda of pending timers.

Time is integer milliseconds since the Unix epoch, on the lab's own clock
(it starts at the lab's start time and moves only when the agenda says so).
Timers are ordered by (due time, insertion order). Each timer has a unique
key, so "poll shard 3 of mapping X" is scheduled at most once; scheduling
it again keeps the earlier of the two due times.

The agenda is the hottest state of a lab (a few timers are scheduled,
looked up and fired per invocation), so it is kept in memory, read from the
`agenda` table when the engine loads and written back once per command
(`flush`, called by Engine.flush before COMMIT). A rolled-back command
reloads the engine, so the memory never outlives a failed transaction;
between commands the table holds exactly the pending timers.

A step may be given a work budget: it stops between two timers once that
much work is done and the next step resumes the same instant. Work is
counted in units, one per timer fired and, for each batch handed to a
function, one plus one per 10 records (`charge`), never in wall time, so where a step stops is itself
deterministic. Because the budget only ever cuts *between* timers, the
order in which timers fire, and so the journal, is the same with or
without it; timers that could do a lot of work at once (an SQS poll that
fills 300 free slots) do one unit and leave the rest to a timer that fires
next, before anything else due at that instant (`schedule_first`), so the
work happens in the same order as if it had not been cut.
"""

from __future__ import annotations

import heapq
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
        self._limit: int | None = None  # the work count the step in progress stops at
        # key -> [due_ms, seq, kind, data as JSON text]; one heap of
        # (due_ms, seq, key) per kind, with stale entries skipped on the way
        # out (a timer moved earlier or cancelled leaves its old entry).
        self._timers: dict[str, list] = {}
        self._heaps: dict[str, list] = {}
        self._dirty: set[str] = set()
        for seq, due, kind, key, data in conn.execute(
                "SELECT seq, due_ms, kind, key, data FROM agenda"):
            self._timers[key] = [due, seq, kind, data]
            self._heaps.setdefault(kind, []).append((due, seq, key))
        for heap in self._heaps.values():
            heapq.heapify(heap)
        seqs = [t[1] for t in self._timers.values()]
        self._next_seq = max(seqs, default=0) + 1
        self._first_seq = min(seqs, default=1)

    def charge(self, units: int = 1) -> None:
        """Count work done inside a timer (a batch dispatched)."""
        self.work += units

    def on(self, kind: str, handler: Callable[[str, Any], None]) -> None:
        self.handlers[kind] = handler

    # -- the timers ------------------------------------------------------------------

    def _add(self, kind: str, key: str, due_ms: int, seq: int, payload: str | None) -> None:
        self._timers[key] = [due_ms, seq, kind, payload]
        heapq.heappush(self._heaps.setdefault(kind, []), (due_ms, seq, key))
        self._dirty.add(key)

    def schedule(self, kind: str, key: str, due_ms: int, data: Any = None) -> None:
        """Add a timer; if `key` is already pending, keep the earlier due time."""
        due_ms = max(int(due_ms), self.now_ms)
        payload = None if data is None else json.dumps(data)
        timer = self._timers.get(key)
        if timer is None:
            self._add(kind, key, due_ms, self._next_seq, payload)
            self._next_seq += 1
        elif due_ms < timer[0]:
            self._add(timer[2], key, due_ms, timer[1], payload)

    def schedule_first(self, kind: str, key: str, data: Any = None) -> None:
        """Add a timer due now that fires before every other timer due now:
        the rest of a timer's work, cut into a timer of its own, then runs
        exactly where it would have run uncut."""
        self.cancel(key)
        self._first_seq -= 1
        self._add(kind, key, self.now_ms, self._first_seq,
                  None if data is None else json.dumps(data))

    def reschedule(self, kind: str, key: str, due_ms: int, data: Any = None) -> None:
        """Set a timer to exactly `due_ms`, replacing any pending one."""
        self.cancel(key)
        self.schedule(kind, key, due_ms, data)

    def cancel(self, key: str) -> None:
        if self._timers.pop(key, None) is not None:
            self._dirty.add(key)

    def pending(self, key: str) -> int | None:
        timer = self._timers.get(key)
        return timer[0] if timer else None

    def _top(self, kind: str) -> tuple | None:
        """The live (due_ms, seq, key) at the head of one kind's heap."""
        heap = self._heaps.get(kind)
        while heap:
            due, seq, key = heap[0]
            timer = self._timers.get(key)
            if timer is not None and timer[0] == due and timer[1] == seq:
                return heap[0]
            heapq.heappop(heap)
        return None

    def _first(self, skip: tuple[str, ...] = ()) -> tuple | None:
        tops = [t for kind in self._heaps if kind not in skip
                for t in (self._top(kind),) if t is not None]
        return min(tops) if tops else None

    def next_due(self) -> int | None:
        first = self._first()
        return first[0] if first else None

    def next_due_except(self, kinds: tuple[str, ...]) -> int | None:
        """The earliest due time among timers not of `kinds` (e.g. the
        background housekeeping that should not count as activity)."""
        first = self._first(kinds)
        return first[0] if first else None

    def data(self, key: str) -> Any:
        """The data of a pending timer (None if none is pending)."""
        timer = self._timers.get(key)
        return None if timer is None or timer[3] is None else json.loads(timer[3])

    def size(self) -> int:
        return len(self._timers)

    def due_now(self) -> int:
        return sum(1 for t in self._timers.values() if t[0] <= self.now_ms)

    def parts_left_now(self) -> int:
        """Parts still announced by timers due now that carry on a big piece
        of work (a retention trim says how many chunks it has left)."""
        return sum(json.loads(t[3]).get("parts_left", 0) for t in self._timers.values()
                   if t[0] <= self.now_ms and t[3] is not None and '"parts_left"' in t[3])

    def flush(self) -> None:
        """Write the timers changed since the last flush (or load)."""
        if not self._dirty:
            return
        gone = [(k,) for k in self._dirty if k not in self._timers]
        live = [(t[1], t[0], t[2], k, t[3]) for k in self._dirty
                for t in (self._timers.get(k),) if t is not None]
        if gone:
            self.conn.executemany("DELETE FROM agenda WHERE key=?", gone)
        if live:
            self.conn.executemany(
                "INSERT OR REPLACE INTO agenda (seq, due_ms, kind, key, data) "
                "VALUES (?, ?, ?, ?, ?)", live)
        self._dirty.clear()

    # -- running -----------------------------------------------------------------------

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

    def spent(self) -> bool:
        """True once the budget of the step in progress is used up: a timer
        that does several pieces of work (a shard's poll starting its lanes)
        asks between two pieces and leaves the rest to `schedule_first`.
        Never true without a budget, so an uncut run adds no timers."""
        return self._limit is not None and self.work >= self._limit

    def _fire_due(self, budget: int | None = None) -> None:
        limit = None if budget is None else self.work + max(1, budget)
        self._limit = limit
        try:
            while limit is None or self.work < limit:
                first = self._first()
                if first is None or first[0] > self.now_ms:
                    return
                key = first[2]
                _, _, kind, data = self._timers.pop(key)
                self._dirty.add(key)
                self.work += 1
                self.handlers[kind](key, None if data is None else json.loads(data))
        finally:
            self._limit = None
