"""The virtual clock and its agenda of pending timers.

Time is integer milliseconds since the Unix epoch, on the lab's own clock
(it starts at the lab's start time and moves only when the agenda says so).
Timers are ordered by (due time, insertion order). Each timer has a unique
key, so "poll shard 3 of mapping X" is scheduled at most once; scheduling
it again keeps the earlier of the two due times.
"""

from __future__ import annotations

import json
from typing import Any, Callable


class Agenda:
    def __init__(self, conn, now_ms: int):
        self.conn = conn
        self.now_ms = now_ms
        self.handlers: dict[str, Callable[[str, Any], None]] = {}

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

    def run_instant(self) -> bool:
        """Move to the next due instant and fire every timer due then,
        including timers that firing adds for the same instant."""
        due = self.next_due()
        if due is None:
            return False
        self.now_ms = max(self.now_ms, due)
        self._fire_due()
        return True

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

    def _fire_due(self) -> None:
        conn = self.conn
        while True:
            row = conn.execute(
                "SELECT seq, kind, key, data FROM agenda WHERE due_ms <= ? "
                "ORDER BY due_ms, seq LIMIT 1", (self.now_ms,)).fetchone()
            if row is None:
                return
            seq, kind, key, data = row
            conn.execute("DELETE FROM agenda WHERE seq=?", (seq,))
            self.handlers[kind](key, None if data is None else json.loads(data))
