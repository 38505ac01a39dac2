"""The journal: every decision the engine makes, in plain words.

An event has the virtual time, a kind (a short stable id such as
`batch.failed`), the resource it concerns (a mapping label, a queue name,
a function name), an optional subject (a shard, a message id, a batch),
the reason (what happened and which rule made it happen) and structured
data. Metric samples go to their own table so charts read one series fast.

The file keeps an event compact (lab schema 7; the view `journal` gives
every reader the text as it was logged, byte for byte). A busy lab logs the
same few sentences over and over with a different number in them, and names
the same message ids in the receive, the invoke and the invocation's row:
- the kind is a number (`journal_kinds`);
- the reason is a template kept once in `journal_texts` under a hash of its
  text, its first number (the invocation's, mostly) cut out into `n` and a
  char(31) left in its place;
- a `message_ids` list equal to the record ids of an invocation made in the
  same command, at or after the event, is a char(31) in `data` and `ids_of`
  names that invocation (compaction drops such an invocation only with the
  events that point at it).
Events are written in one executemany when the command ends (Engine.flush),
every 2,000 events of a long command, or before anything reads the journal.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

_SEP = (",", ":")
_MARK = "\x1f"
# A number the template can give back exactly: a whole run of digits
# without a leading zero, small enough for an SQLite integer.
_NUMBER = re.compile(r"(?<![0-9])(?:0|[1-9][0-9]{0,14})(?![0-9])")
_TEXT_CACHE = 4096
# Events held before they are written: a long command (a drain of a million
# messages, a replay) writes as it goes, so memory stays flat.
_FLUSH_ROWS = 2000


def template(reason: str) -> tuple[str, int | None]:
    """(template, n): the reason with its first number replaced by char(31)
    (n = that number), or the reason itself (n = None) when it has no number
    or already holds a char(31)."""
    if _MARK in reason:
        return reason, None
    match = _NUMBER.search(reason)
    if match is None:
        return reason, None
    return reason[:match.start()] + _MARK + reason[match.end():], int(match.group())


def text_id(text: str) -> int:
    """A template's key in journal_texts: 47 bits of its BLAKE2b hash (six
    bytes in a row, no index beside the table). Ids under 0 are the reasons
    of a journal moved from lab schema 6."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return (int.from_bytes(digest, "big") >> 1) + 1


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
        # Events logged in this command, not yet written: (at_ms, kind,
        # resource, subject, reason, data text, message ids or None).
        self._rows: list[tuple] = []
        # The invocations made in this command: their record ids -> (the
        # latest invocation with exactly those, its start).
        self._batches: dict[tuple, tuple[int, int]] = {}
        self._kinds: dict[str, int] | None = None   # read at the first write
        self._texts: dict[str, int] = {}            # templates known to be in the file

    def log(self, kind: str, resource: str, reason: str, subject: str | None = None,
            data: Any = None) -> None:
        ids = None
        if type(data) is dict:
            listed = data.get("message_ids")
            if type(listed) is list and listed:
                ids = tuple(listed)
        self._rows.append((self.clock.now_ms, kind, resource, subject, reason,
                           None if data is None else json.dumps(data, separators=_SEP), ids))
        if len(self._rows) >= _FLUSH_ROWS:
            self.flush()

    def note_batch(self, invocation: int, ids: list[str]) -> None:
        """Functions.invoke: invocation `invocation` was given these record ids
        (its row holds them), so an event naming the same ids can point at it."""
        self._batches[tuple(ids)] = (invocation, self.clock.now_ms)

    def flush(self) -> None:
        """Write the buffered events and metric samples."""
        self.flush_metrics()
        if not self._rows:
            self._batches.clear()
            return
        rows, self._rows = self._rows, []
        out = []
        for at_ms, kind, resource, subject, reason, data, ids in rows:
            ids_of = None
            if ids is not None:
                data, ids_of = self._link(at_ms, data, ids)
            text, n = template(reason)
            out.append((at_ms, self._kind(kind), resource, subject, self._text(text), n, data,
                        ids_of))
        self._batches.clear()
        self.conn.executemany(
            "INSERT INTO journal_rows (at_ms, kind, resource, subject, reason, n, data, ids_of) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", out)

    def _link(self, at_ms: int, data: str, ids: tuple) -> tuple[str, int | None]:
        """The data with its message_ids cut out and the invocation that holds
        them, or the data whole. Only an invocation started at or after the
        event: compaction keeps it as long as the event."""
        batch = self._batches.get(ids)
        if batch is None or batch[1] < at_ms:
            return data, None
        listed = json.dumps(list(ids), separators=_SEP)
        # json() of the row's records gives back this very text only when it
        # has nothing to escape (message ids are UUIDs).
        if not listed.isascii() or "\\" in listed:
            return data, None
        key = '"message_ids":' + listed
        if data.count('"message_ids":') != 1 or key not in data:
            return data, None
        return data.replace(key, '"message_ids":' + _MARK), batch[0]

    def _kind(self, kind: str) -> int:
        if self._kinds is None:
            self._kinds = dict(self.conn.execute("SELECT kind, id FROM journal_kinds"))
        code = self._kinds.get(kind)
        if code is None:
            code = self.conn.execute("INSERT INTO journal_kinds (kind) VALUES (?)",
                                     (kind,)).lastrowid
            self._kinds[kind] = code
        return code

    def _text(self, text: str) -> int:
        code = self._texts.get(text)
        if code is not None:
            return code
        code = text_id(text)
        while True:   # a hash taken by another text (never seen yet): the next free key
            row = self.conn.execute("SELECT text FROM journal_texts WHERE id=?", (code,)).fetchone()
            if row is None:
                self.conn.execute("INSERT INTO journal_texts (id, text) VALUES (?, ?)",
                                  (code, text))
                break
            if row[0] == text:
                break
            code += 1
        if len(self._texts) >= _TEXT_CACHE:
            self._texts.clear()
        self._texts[text] = code
        return code

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
        self.flush()
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
