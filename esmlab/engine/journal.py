"""The journal: every decision the engine makes, in plain words.

An event has the virtual time, a kind (a short stable id such as
`batch.failed`), the resource it concerns (a mapping label, a queue name,
a function name), an optional subject (a shard, a message id, a batch),
the reason (what happened and which rule made it happen) and structured
data. Metric samples go to their own table so charts read one series fast.
"""

from __future__ import annotations

import json
from typing import Any


class Journal:
    def __init__(self, conn, clock):
        self.conn = conn
        self.clock = clock
        # Metric samples are many (several per invocation) and only read
        # after a command, so they are written in one executemany per command
        # (Engine.flush) or before anything reads the metrics table.
        self._metrics: list[tuple] = []
        # (resource, name) -> time of its latest sample: read from the table
        # once, then kept by metric() (time only moves forward, so the latest
        # sample written is the latest there is).
        self._last: dict[tuple[str, str], int | None] = {}

    def log(self, kind: str, resource: str, reason: str, subject: str | None = None,
            data: Any = None) -> None:
        self.conn.execute(
            "INSERT INTO journal (at_ms, kind, resource, subject, reason, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self.clock.now_ms, kind, resource, subject, reason,
             None if data is None else json.dumps(data, separators=(",", ":"))))

    def metric(self, resource: str, name: str, value: float) -> None:
        now = self.clock.now_ms
        self._metrics.append((now, resource, name, value))
        self._last[(resource, name)] = now

    def last_sample_ms(self, resource: str, name: str) -> int | None:
        """When the series was last sampled (None: never), without a query
        after the first."""
        key = (resource, name)
        if key not in self._last:
            self.flush_metrics()
            self._last[key] = self.conn.execute(
                "SELECT max(at_ms) FROM metrics WHERE resource=? AND name=?", key).fetchone()[0]
        return self._last[key]

    def flush_metrics(self) -> None:
        if self._metrics:
            self.conn.executemany(
                "INSERT INTO metrics (at_ms, resource, name, value) VALUES (?, ?, ?, ?)",
                self._metrics)
            self._metrics = []

    def events(self, resource: str | None = None, kind: str | None = None,
               after_id: int = 0, limit: int = 200, newest_first: bool = False) -> list[dict]:
        where, args = ["id > ?"], [after_id]
        if resource:
            where.append("resource = ?")
            args.append(resource)
        if kind:
            where.append("kind = ?")
            args.append(kind)
        order = "DESC" if newest_first else "ASC"
        rows = self.conn.execute(
            f"SELECT id, at_ms, kind, resource, subject, reason, data FROM journal "
            f"WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?", (*args, limit))
        return [_event(r) for r in rows]


def _event(row) -> dict:
    id_, at_ms, kind, resource, subject, reason, data = row
    return {"id": id_, "at_ms": at_ms, "kind": kind, "resource": resource,
            "subject": subject, "reason": reason,
            "data": None if data is None else json.loads(data)}
