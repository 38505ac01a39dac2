"""`always:` invariants, checked after every step of a lesson.

Each names a rule that holds in every lab, whatever the lesson teaches; a
violation is a failed check of the step where it was first seen, naming
the records involved (as a Maelstrom checker names the operation that broke
a model):

- `no_invented_records`: every record an invocation carried was sent to its
  queue or written to its stream; nothing appears from nowhere.
- `order_per_key`: the first delivery of each stream record comes after
  every earlier record of its partition key (item key), and the first
  delivery of each FIFO message after every earlier message of its group.
- `checkpoints_forward`: a stream lane's checkpoint never moves back.
- `receive_counts_grow`: a message's ApproximateReceiveCount never drops.
- `concurrency_within_limits`: a function never runs more invocations than
  its reserved concurrency, nor all functions more than the account's.

Changing ParallelizationFactor re-lanes a shard from its slowest
checkpoint (the lab's documented choice), so `checkpoints_forward` is
about lanes that keep their number.
"""

from __future__ import annotations

import json

from esmlab.engine import event_store
from esmlab.scenario.player import CheckResult

NAMES = ("no_invented_records", "order_per_key", "checkpoints_forward", "receive_counts_grow",
         "concurrency_within_limits")


def _violation(name: str, line: int, expected: str, actual: str, records: list[str],
               where: str) -> CheckResult:
    return CheckResult(kind=f"always {name}", line=line, ok=False, expected=expected,
                       actual=actual, records=records[:10],
                       message=f"{where}: always {name} broke: expected {expected}; "
                               f"the lab showed {actual}" + (
                                   f" (records {', '.join(records[:5])})" if records else ""))


class Invariants:
    def __init__(self, player, names: list[str]):
        self.player = player
        self.names = list(NAMES) if names == ["all"] else names
        self.conn = player.lab.store.conn
        self._invocations = 0
        self._sent: set[str] = set()
        self._journal_id = 0
        self._first: dict[str, int] = {}          # record id -> first invocation id
        self._last_by_key: dict[tuple, str] = {}  # (mapping, key) -> highest first-delivered
        self._checkpoints: dict[tuple, int] = {}
        self._receives: dict[str, int] = {}

    def check(self, result, where: str) -> list[CheckResult]:
        """The invariants after one step (a failed CheckResult per violation)."""
        line = result.line
        out: list[CheckResult] = []
        self._learn_sent()
        invocations = self._new_invocations()
        for name in self.names:
            out.extend(getattr(self, "_" + name)(line, where, invocations))
        return out

    # -- what the lab did since the last step ----------------------------------------------------

    def _learn_sent(self) -> None:
        for eid, data in self.conn.execute(
                "SELECT id, data FROM journal WHERE id > ? AND kind = 'sqs.sent' ORDER BY id",
                (self._journal_id,)):
            self._journal_id = eid
            ids = json.loads(data or "[]")
            self._sent.update(ids if isinstance(ids, list) else [])
        self._journal_id = max(self._journal_id, self.conn.execute(
            "SELECT coalesce(max(id), 0) FROM journal").fetchone()[0])

    def _new_invocations(self) -> list[tuple]:
        rows = list(self.conn.execute(
            "SELECT id, mapping, records, status, detail, event, event_parts FROM invocations "
            "WHERE id > ? ORDER BY id", (self._invocations,)))
        if rows:
            self._invocations = rows[-1][0]
        out = []
        for i, m, records, st, d, ev, parts in rows:
            ids = json.loads(records)
            out.append((i, m, ids, st, _detail(d, ev, parts, ids)))
        return out

    # -- the rules ---------------------------------------------------------------------------------

    def _no_invented_records(self, line, where, invocations) -> list[CheckResult]:
        invented = []
        for _id, mapping, records, _status, detail in invocations:
            for rid in records:
                if rid not in self._sent and not self._written(rid, mapping, detail):
                    invented.append(rid)
        if not invented:
            return []
        return [_violation("no_invented_records", line, "every record invoked was sent or "
                           "written first", f"{len(invented)} record(s) never sent or written",
                           invented, where)]

    def _written(self, seq: str, mapping: str, detail: dict) -> bool:
        """A stream record still in its stream, or one its shard has since
        trimmed (retention): written either way."""
        if self.conn.execute("SELECT 1 FROM records WHERE seq = ? LIMIT 1",
                             (seq,)).fetchone():
            return True
        return self.conn.execute(
            "SELECT 1 FROM shards AS sh JOIN streams AS s ON s.name = sh.stream "
            "JOIN mappings AS m ON m.source_arn = s.arn WHERE m.uuid = ? AND sh.shard_id = ? "
            "AND length(sh.trimmed_seq) = length(?) AND sh.trimmed_seq >= ?",
            (mapping, detail.get("shard"), seq, seq)).fetchone() is not None

    def _order_per_key(self, line, where, invocations) -> list[CheckResult]:
        broken = []
        for inv_id, mapping, records, status, detail in invocations:
            if status == "throttled" or not records:
                continue
            keys = self._keys(records, detail)
            for rid in records:
                if rid in self._first:
                    continue  # a retry or a re-delivery: only first deliveries are ordered
                self._first[rid] = inv_id
                order, key = keys.get(rid, (None, None))
                if key is None or order is None:
                    continue
                last = self._last_by_key.get((mapping, key))
                if last is not None and order < last:
                    broken.append(rid)
                self._last_by_key[(mapping, key)] = max(order, last or order)
        if not broken:
            return []
        return [_violation("order_per_key", line, "each key's (or FIFO group's) records "
                           "first delivered in order", f"{len(broken)} record(s) delivered "
                           "before an earlier record of their key", broken, where)]

    def _keys(self, records: list[str], detail: dict) -> dict:
        """record id -> (its order, its key or FIFO group)."""
        msgs = detail.get("msgs")
        if msgs is not None:
            out = {}
            for m in msgs:
                if m.get("g") is None:
                    continue  # a standard queue has no order to keep
                row = self.conn.execute("SELECT seq_no FROM messages WHERE message_id = ?",
                                        (m["mid"],)).fetchone()
                if row and row[0]:
                    out[m["mid"]] = (int(row[0]), m["g"])
            return out
        out = {}
        marks = ",".join("?" * len(records))
        for seq, key in self.conn.execute(
                f"SELECT seq, partition_key FROM records WHERE seq IN ({marks})", records):
            out[seq] = (int(seq), key)
        return out

    def _checkpoints_forward(self, line, where, invocations) -> list[CheckResult]:
        back = []
        for mapping, shard, lane, checkpoint, config in self.conn.execute(
                "SELECT l.mapping, l.shard_id, l.lane, l.checkpoint, m.config FROM lanes AS l "
                "JOIN mappings AS m ON m.uuid = l.mapping WHERE l.checkpoint IS NOT NULL"):
            factor = json.loads(config).get("ParallelizationFactor", 1)
            key = (mapping, shard, lane, factor)
            value = int(checkpoint)
            if value < self._checkpoints.get(key, value):
                back.append(f"{shard} lane {lane}")
            self._checkpoints[key] = max(value, self._checkpoints.get(key, value))
        if not back:
            return []
        return [_violation("checkpoints_forward", line, "checkpoints only move forward",
                           f"a checkpoint moved back on {', '.join(back)}", [], where)]

    def _receive_counts_grow(self, line, where, invocations) -> list[CheckResult]:
        dropped = []
        for mid, count in self.conn.execute(
                "SELECT message_id, max(receive_count) FROM messages GROUP BY message_id"):
            if count < self._receives.get(mid, count):
                dropped.append(mid)
            self._receives[mid] = max(count, self._receives.get(mid, count))
        if not dropped:
            return []
        return [_violation("receive_counts_grow", line, "ApproximateReceiveCount never drops",
                           f"{len(dropped)} message(s) with a lower count", dropped, where)]

    def _concurrency_within_limits(self, line, where, invocations) -> list[CheckResult]:
        over = []
        total = 0
        for name, config, running in self.conn.execute(
                "SELECT name, config, running FROM functions"):
            total += running
            reserved = json.loads(config).get("ReservedConcurrentExecutions")
            if reserved is not None and running > reserved:
                over.append(f"{name}: {running} running, ReservedConcurrentExecutions {reserved}")
        account = int(self.conn.execute(
            "SELECT value FROM meta WHERE key = 'account_concurrency'").fetchone()[0])
        if total > account:
            over.append(f"{total} running in the account, quota {account}")
        if not over:
            return []
        return [_violation("concurrency_within_limits", line, "concurrency within its limits",
                           "; ".join(over), [], where)]


def _detail(text: str | None, event: str | None, parts: str | None, ids: list) -> dict:
    """An invocation's detail, with the SQS notes its stored event holds put back."""
    detail = json.loads(text) if text else {}
    if event_store.needs_event(detail):
        detail = event_store.unpack_detail(detail, event_store.event_of(event, parts, ids))
    return detail
