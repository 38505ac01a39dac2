"""The Lab: the one API the faces (CLI, TUI, scenarios) use.

Every public call that changes the lab is a *command*: it runs in one
transaction, and is recorded (name, arguments, virtual time) in the lab's
command log. Replaying the log onto the lab's initial state (name, seed,
profile, start time) rebuilds the identical lab, event for event; that one
mechanism gives snapshots, rewind and "export my session as a scenario".
"""

from __future__ import annotations

import glob
import json
import math
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Callable

from esmlab import compaction
from esmlab.clock_runs import BACKGROUND_KINDS, AdvanceRun, IdleRun
from esmlab.engine.clock import STEP_BUDGET
from esmlab.engine.world import (DEFAULT_START_MS, SQS_MAX_MESSAGE_SIZE, SQS_MAX_MESSAGE_SIZE_BEFORE,
                                 Engine)
from esmlab.errors import LabDamaged, LabDiskFull, LabError, LabFileError
from esmlab.store import Store, file_error, inspect_lab_file, process_alive, session_name

# Timers that keep running while nothing a user would wait for is pending.
# esm.minute: the per-minute PolledEventCount datapoint (engine/mappings/event_metrics.py)
DEFAULT_IDLE_LIMIT_MS = 3_600_000
# The clock's range ends where ISO-8601 times (4-digit years) do, far inside
# SQLite's 64-bit integers: 9999-12-31T23:59:59.999Z.
MAX_CLOCK_MS = 253_402_300_799_999


# -- commands: name -> how to apply it to an engine ---------------------------------

def _create_function(e: Engine, a: dict):
    return e.functions.create(a["FunctionName"], timeout=a.get("Timeout", 3),
                              reserved=a.get("ReservedConcurrentExecutions"),
                              memory=a.get("MemorySize", 128), duration=a.get("duration"),
                              behaviour=a.get("behaviour"), environment=a.get("Environment"))


def _update_function(e: Engine, a: dict):
    changes = {}
    if "Timeout" in a:
        changes["timeout"] = a["Timeout"]
    if "ReservedConcurrentExecutions" in a:
        changes["reserved"] = a["ReservedConcurrentExecutions"]
    if "duration" in a:
        changes["duration"] = a["duration"]
    if "Environment" in a:
        changes["environment"] = a["Environment"]
    return e.functions.update(a["FunctionName"], **changes)


def _send(e: Engine, a: dict):
    return e.queues.send(a["QueueName"], a["MessageBody"], delay_seconds=a.get("DelaySeconds"),
                         message_attributes=a.get("MessageAttributes"),
                         group_id=a.get("MessageGroupId"),
                         dedup_id=a.get("MessageDeduplicationId"))


def _advance_to(e: Engine, a: dict):
    return e.agenda.run_until(a["until_ms"])


def _step(e: Engine, a: dict):
    """`count` steps. Without a budget (commands recorded before budgets
    existed) each runs one whole instant; with one, each finishes the instant
    in progress or starts the next, stopping after `budget` units of work."""
    ran = 0
    budget = a.get("budget")
    for _ in range(a.get("count", 1)):
        if not e.agenda.run_instant(budget):
            break
        ran += 1
    return ran


def _run_until_idle(e: Engine, a: dict):
    """Run until no foreground timer is pending, or until `until_ms`."""
    until = a["until_ms"]
    while True:
        nxt = e.agenda.next_due_except(BACKGROUND_KINDS)
        if nxt is None:
            return "idle"
        if nxt > until:
            e.agenda.run_until(until)
            return "limit"
        e.agenda.run_until(nxt)


def _receive(e: Engine, a: dict) -> dict:
    """ReceiveMessage as the user's own consumer, answered in AWS's shape."""
    from esmlab.engine.payloads import md5_of_body
    msgs = e.queues.receive(a["QueueName"], a.get("MaxNumberOfMessages", 1),
                            a.get("VisibilityTimeout"))
    return {"Messages": [{
        "MessageId": m["message_id"], "ReceiptHandle": m["receipt_handle"],
        "MD5OfBody": md5_of_body(m["body"]), "Body": m["body"],
        "Attributes": {**({"DeadLetterQueueSourceArn": m["dlq_source_arn"]}
                          if m.get("dlq_source_arn") else {}),
                       "ApproximateReceiveCount": str(m["receive_count"]),
                       "SentTimestamp": str(m["sent_ms"]),
                       "ApproximateFirstReceiveTimestamp": str(m["first_receive_ms"])},
        **({"MessageAttributes": m["message_attributes"]} if m["message_attributes"] else {}),
    } for m in msgs]}


def _set_account_concurrency(e: Engine, a: dict):
    value = a["ConcurrentExecutions"]
    if not isinstance(value, int) or value < 100:
        raise LabError("account concurrency must be a whole number of at least 100")
    e.account_concurrency = value
    e.log("lab.account_concurrency", "lab",
          f"account concurrency quota is now {value} (AWS's default is 1,000 per Region)")


def _set_profile(e: Engine, a: dict):
    if a["profile"] not in ("current", "classic"):
        raise LabError("profile must be 'current' or 'classic'")
    e.profile = a["profile"]
    e.log("lab.profile", "lab", f"SQS scaling profile is now {a['profile']}")


COMMANDS: dict[str, Any] = {
    "create_function": _create_function,
    "update_function": _update_function,
    "set_behaviour": lambda e, a: e.functions.set_behaviour(a["FunctionName"], a["behaviour"]),
    "create_queue": lambda e, a: e.queues.create(a["QueueName"], a.get("Attributes"),
                                                 a.get("duplicate_rate", 0.0)),
    "set_queue_attributes": lambda e, a: e.queues.set_attributes(a["QueueName"], a["Attributes"]),
    "set_duplicate_rate": lambda e, a: e.queues.set_duplicate_rate(a["QueueName"], a["rate"]),
    "send_message": _send,
    "send_message_batch": lambda e, a: e.queues.send_batch(a["QueueName"], a["Entries"]),
    "put_function_recursion_config": lambda e, a: e.functions.put_recursion_config(
        e.functions.name_for(a["FunctionName"]), a["RecursiveLoop"]),
    "start_message_move_task": lambda e, a: e.message_moves.start(**a),
    "cancel_message_move_task": lambda e, a: e.message_moves.cancel(**a),
    "receive_message": _receive,
    "delete_message": lambda e, a: e.queues.delete(a["QueueName"], a["ReceiptHandle"]),
    "change_message_visibility": lambda e, a: e.queues.change_visibility(
        a["QueueName"], a["ReceiptHandle"], a["VisibilityTimeout"]),
    "create_stream": lambda e, a: e.streams.create(a["StreamName"], a.get("ShardCount", 1),
                                                   a.get("RetentionPeriodHours", 24)),
    "update_max_record_size": lambda e, a: e.streams.set_max_record_size(
        a["StreamName"], a["MaxRecordSizeInKiB"]),
    "set_retention": lambda e, a: e.streams.set_retention(a["StreamName"],
                                                          a["RetentionPeriodHours"]),
    "put_record": lambda e, a: e.streams.put_record(a["StreamName"], a["PartitionKey"],
                                                    a["Data"], a.get("ExplicitHashKey")),
    "put_records": lambda e, a: e.streams.put_records(a["StreamName"], a["Records"]),
    "put_aggregated_record": lambda e, a: e.streams.put_aggregated_record(
        a["StreamName"], a["Records"], a.get("PartitionKey"), a.get("ExplicitHashKey")),
    # Enhanced fan-out consumers (engine/sources/consumers.py).
    "register_stream_consumer": lambda e, a: e.consumers.register(a["StreamARN"],
                                                                  a["ConsumerName"]),
    "deregister_stream_consumer": lambda e, a: e.consumers.deregister(**a),
    "split_shard": lambda e, a: e.streams.split_shard(a["StreamName"], a["ShardToSplit"],
                                                      a["NewStartingHashKey"]),
    "merge_shards": lambda e, a: e.streams.merge_shards(a["StreamName"], a["ShardToMerge"],
                                                        a["AdjacentShardToMerge"]),
    "create_table": lambda e, a: e.tables.create(a["TableName"], a["KeySchema"],
                                                 a.get("AttributeDefinitions"),
                                                 a.get("StreamSpecification")),
    "put_item": lambda e, a: e.tables.put_item(a["TableName"], a["Item"]),
    "update_item": lambda e, a: e.tables.update_item(
        a["TableName"], a["Key"], a["UpdateExpression"], a.get("ExpressionAttributeNames"),
        a.get("ExpressionAttributeValues")),
    "delete_item": lambda e, a: e.tables.delete_item(a["TableName"], a["Key"]),
    "create_topic": lambda e, a: e.sinks.create_topic(a["Name"]),
    "create_bucket": lambda e, a: e.sinks.create_bucket(a["Bucket"]),
    "create_mapping": lambda e, a: e.mappings.create(a["params"], a.get("label")),
    "update_mapping": lambda e, a: e.mappings.update(a["ref"], a["params"]),
    "delete_mapping": lambda e, a: e.mappings.delete(a["ref"]),
    # The control plane (issue 10): deletes leave mappings in place, as on AWS.
    "delete_function": lambda e, a: e.functions.delete(a["FunctionName"]),
    "delete_queue": lambda e, a: e.queues.delete_queue(a["QueueName"]),
    "delete_stream": lambda e, a: e.streams.delete_stream(a["StreamName"]),
    "delete_table": lambda e, a: e.tables.delete_table(a["TableName"]),
    "update_role": lambda e, a: e.functions.update_role(a["FunctionName"], a.get("grant"),
                                                        a.get("revoke")),
    "publish_version": lambda e, a: e.functions.publish_version(a["FunctionName"],
                                                                a.get("Description", "")),
    "create_alias": lambda e, a: e.functions.create_alias(
        a["FunctionName"], a["Name"], a["FunctionVersion"], a.get("Description", "")),
    "update_alias": lambda e, a: e.functions.update_alias(
        a["FunctionName"], a["Name"], a.get("FunctionVersion"), a.get("Description")),
    # Drops history from before a time (esmlab/compaction.py); in the log so
    # that a replay drops the same rows at the same point.
    "compact": lambda e, a: compaction.compact(
        e, compaction.check_point(a["before_ms"], e.start_ms, e.now_ms)),
    "set_profile": _set_profile,
    "set_account_concurrency": _set_account_concurrency,
    "advance_to": _advance_to,
    "step": _step,
    "run_until_idle": _run_until_idle,
}


class Lab:
    """An open lab file."""

    def __init__(self, store: Store):
        self.store = store
        self.engine = Engine(store)
        # Another process committed: catch up before acting (see Store.transaction).
        store.on_external_change = lambda: self.engine.load()

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, *, name: str = "lab", seed: int = 1,
               profile: str = "current", start_ms: int = DEFAULT_START_MS,
               setup: Callable[["Lab"], None] | None = None) -> "Lab":
        """Make a new lab at `path`, which must hold nothing yet (no file, or an
        empty one), run `setup` on it (e.g. the starter lab) and open it. The lab
        is built in a hidden file beside `path` and renamed into place only when
        complete, so a crash or a full disk never leaves a half-made lab there."""
        path = Path(path)
        if inspect_lab_file(str(path), must_exist=False) is not None:
            raise LabFileError(f"{path} already exists")
        _remove_abandoned_builds(path)
        tmp = str(path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.new"))
        try:
            open(tmp, "x").close()      # the user's umask applies, as for any file they make
        except OSError as exc:
            raise LabFileError(f"cannot make a lab at {path}: {exc.strerror or exc}") from None
        try:
            store = Store(tmp)
            with store.transaction():
                Engine.initialise(store, name=name, seed=seed, profile=profile,
                                  start_ms=start_ms)
                store.set_meta("initial", json.dumps({
                    "name": name, "seed": seed, "profile": profile, "start_ms": start_ms,
                    "sqs_max_message_size": SQS_MAX_MESSAGE_SIZE}))
            lab = cls(store)
            try:
                if setup is not None:
                    setup(lab)
                store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all in the main file
            finally:
                lab.close()
            _check_complete(tmp)
            _move_into_place(Path(tmp), path)
        except sqlite3.Error as exc:
            raise _about(file_error(tmp, exc) or LabFileError(f"cannot make a lab at {tmp}: {exc}"),
                         tmp, path) from None
        except LabFileError as exc:
            raise _about(exc, tmp, path) from None
        finally:
            for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
                Path(leftover).unlink(missing_ok=True)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False, session: str | None = None) -> "Lab":
        """Open an existing lab. `readonly=True` (info, export, viewers) never
        takes the write lock and cannot change the file. `session` says who
        has it open (default: this process's command line), for the message a
        process it blocks gets."""
        path = Path(path)
        store = Store(path, readonly=readonly, create=False,
                      session=None if readonly else session or session_name())
        try:
            initial = store.get_meta("initial")
        except BaseException:
            store.close()
            raise
        if initial is None:
            store.close()
            raise LabFileError(f"{path} is an unfinished lab: the run that made it stopped before "
                               "the lab was complete, so it holds nothing; delete it and run "
                               "esmlab again")
        return cls(store)

    def sync(self) -> bool:
        """Catch up with another process's commits (a screen calls this before
        it draws); True if there were any."""
        if self.store._depth or not self.store.changed_elsewhere():
            return False
        self.engine.load()
        return True

    def copy(self, target: str | Path) -> None:
        """Write this lab (its -wal included) as one self-contained file."""
        self.store.copy_to(target)

    def unsaved_commands(self) -> list[dict]:
        """The lab's latest commands that no snapshot holds (what a restore
        would lose): those after the longest prefix it shares with a snapshot."""
        current = self.commands()
        kept = 0
        for (text,) in self.store.conn.execute("SELECT commands FROM snapshots"):
            saved = json.loads(text)
            n = 0
            while n < min(len(saved), len(current)) and saved[n] == current[n]:
                n += 1
            kept = max(kept, n)
        return current[kept:]

    def close(self) -> None:
        self.store.close()

    @property
    def path(self) -> str:
        return self.store.path

    @property
    def now_ms(self) -> int:
        return self.engine.now_ms

    @property
    def initial(self) -> dict:
        return json.loads(self.store.get_meta("initial"))

    # -- running commands ----------------------------------------------------------------

    def do(self, name: str, **args) -> Any:
        """Apply one command in one transaction and record it. An error
        (AwsError, LabError) rolls everything back: the lab is unchanged."""
        if name not in COMMANDS:
            raise LabError(f"unknown command {name!r}")
        try:
            with self.store.transaction():  # first catches up with other processes' commits
                at = self.engine.now_ms
                self._truncate_future()
                result = COMMANDS[name](self.engine, args)
                # The clock when the command ended is what it did to time; a
                # rewind cuts the command exactly where that passes its target.
                self.store.conn.execute(
                    "INSERT INTO commands (at_ms, name, args, end_ms) VALUES (?, ?, ?, ?)",
                    (at, name, json.dumps(args), self.engine.now_ms))
                self.engine.flush()
        except BaseException:
            self.engine.load()  # the in-memory clock and generator follow the rollback
            raise
        return result

    def _truncate_future(self) -> None:
        """After a rewind, the old future is dropped only when the user acts
        anew, and with it what the user's handlers returned in it."""
        head = self.store.get_meta("rewind_head")
        if head is None:
            return
        self._write_commands(json.loads(head))
        self.store.conn.execute("DELETE FROM meta WHERE key='rewind_head'")
        self._drop_future_results()

    def _write_commands(self, commands: list[dict]) -> None:
        conn = self.store.conn
        conn.execute("DELETE FROM commands")
        conn.executemany(
            "INSERT INTO commands (seq, at_ms, name, args, end_ms) VALUES (?, ?, ?, ?, ?)",
            [(i + 1, c["at_ms"], c["name"], json.dumps(c["args"]),
              c.get("end_ms")) for i, c in enumerate(commands)])

    def _drop_future_results(self) -> None:
        """Forget handler results of invocations the lab's state no longer
        holds (they belong to a future that was dropped)."""
        self.store.conn.execute(
            "DELETE FROM handler_results WHERE ordinal > "
            "(SELECT coalesce(max(id), 0) FROM invocations)")

    def commands(self) -> list[dict]:
        """The command log: at_ms (the clock when issued), name, args and
        end_ms (the clock when it ended)."""
        head = self.store.get_meta("rewind_head")
        if head is not None:
            return _with_ends(json.loads(head))
        return _with_ends([
            {"at_ms": at, "name": n, "args": json.loads(a), "end_ms": end} for at, n, a, end in
            self.store.conn.execute("SELECT at_ms, name, args, end_ms FROM commands ORDER BY seq")])

    # the clock
    def step(self, count: int = 1, budget: int | None = STEP_BUDGET) -> int:
        """Run `count` steps; each does at most `budget` units of work
        (None: each runs one whole instant). Returns the steps that ran."""
        if budget is None:
            return self.do("step", count=count)
        return self.do("step", count=count, budget=budget)

    def instant(self) -> dict:
        """Where stepping stands in the current instant, for "instant
        T+1m00s, part 3 of 9": `part` steps have worked on it; `done` when
        nothing is due at it any more (then `parts` is exact; before that it
        is an estimate from the timers still due now)."""
        agenda = self.engine.agenda
        at = agenda.now_ms
        part = agenda.part if agenda.part_at == at else 0
        pending = agenda.due_now()
        done = pending == 0
        estimate = part + (0 if done else -(-pending // STEP_BUDGET) + agenda.parts_left_now())
        return {"at_ms": at, "part": part, "done": done, "pending_now": pending,
                "parts_estimate": max(estimate, part)}

    def advance(self, seconds: float) -> int:
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) \
                or not math.isfinite(seconds):
            raise LabError(f"advance needs a number of seconds, not {seconds!r}")
        return self.advance_ms(int(round(seconds * 1000)))

    # The clock commands are relative to the clock as it stands when they run:
    # the outer transaction first catches up with another process's commits.
    def advance_ms(self, ms: int, budget: int | None = None) -> int:
        """Fire everything due in the next `ms` and land there. With a
        `budget`, as budgeted steps (each its own command, committed, at most
        `budget` units of work) and then an `advance_to` that only sets the
        clock: the same history, in pieces another reader can watch."""
        if budget is None:
            with self.store.transaction():
                return self.do("advance_to", until_ms=self._later(ms, "advance"))
        run = AdvanceRun(self, self._later(ms, "advance"), budget)
        while not run.piece():
            pass
        return 0

    def run_until_idle(self, limit_ms: int = DEFAULT_IDLE_LIMIT_MS,
                       budget: int | None = None) -> str:
        """Run until no foreground timer is pending ("idle") or for at most
        `limit_ms` ("limit"). With a `budget`, as budgeted steps (see
        advance_ms): the same history."""
        if budget is None:
            with self.store.transaction():
                return self.do("run_until_idle", until_ms=self._later(limit_ms, "run_until_idle"))
        return IdleRun(self, self._later(limit_ms, "run_until_idle"), budget).run()

    def step_toward(self, until_ms: int, budget: int = STEP_BUDGET) -> bool:
        """One piece of an advance to `until_ms`: a budgeted step while
        something is due by then (or an instant is part-way), else the clock
        set to `until_ms`. True once the clock is there with nothing due
        (a screen's autoplay can call this once per tick and never wait on
        more than one step)."""
        due = self.engine.agenda.next_due()
        if due is not None and due <= until_ms:   # (an instant part-way is due now)
            self.step(budget=budget)
            return False
        if self.engine.now_ms < until_ms:
            with self.store.transaction():
                self.do("advance_to", until_ms=until_ms)
        return True

    def _later(self, ms: int, what: str) -> int:
        """now + ms, within the clock's range (ISO-8601 times end in year 9999)."""
        ms = int(ms)
        if ms < 0:
            raise LabError(f"{what} needs a duration of 0 or more, not {ms} ms: the clock only "
                           "moves forward (rewind goes back)")
        if self.engine.now_ms + ms > MAX_CLOCK_MS:
            from esmlab.engine.payloads import iso
            raise LabError(f"{what} of {ms:,} ms would take the clock past {iso(MAX_CLOCK_MS)}, "
                           f"the last time the lab can show; the clock stays at "
                           f"{iso(self.engine.now_ms)}")
        return self.engine.now_ms + ms

    # resources and traffic (AWS's names)
    def create_function(self, FunctionName: str, **kw) -> dict:
        return self.do("create_function", FunctionName=FunctionName, **kw)

    def update_function(self, FunctionName: str, **kw) -> dict:
        return self.do("update_function", FunctionName=FunctionName, **kw)

    def set_behaviour(self, FunctionName: str, **behaviour) -> dict:
        return self.do("set_behaviour", FunctionName=FunctionName, behaviour=behaviour)

    def create_queue(self, QueueName: str, Attributes: dict | None = None,
                     duplicate_rate: float = 0.0) -> dict:
        return self.do("create_queue", QueueName=QueueName, Attributes=Attributes or {},
                       duplicate_rate=duplicate_rate)

    def send_message(self, QueueName: str, MessageBody: str, **kw) -> dict:
        return self.do("send_message", QueueName=QueueName, MessageBody=MessageBody, **kw)

    def send_message_batch(self, QueueName: str, Entries: list[dict]) -> dict:
        return self.do("send_message_batch", QueueName=QueueName, Entries=Entries)

    def put_function_recursion_config(self, FunctionName: str, RecursiveLoop: str) -> dict:
        """Lambda PutFunctionRecursionConfig: Allow lets a recursive loop run,
        Terminate (the default) stops it after about 16 invocations."""
        return self.do("put_function_recursion_config", FunctionName=FunctionName,
                       RecursiveLoop=RecursiveLoop)

    def get_function_recursion_config(self, FunctionName: str) -> dict:
        return self.engine.functions.recursion_config(
            self.engine.functions.name_for(FunctionName))

    def start_message_move_task(self, SourceArn: str, **kw) -> dict:
        """SQS StartMessageMoveTask (DLQ redrive): DestinationArn and
        MaxNumberOfMessagesPerSecond are optional."""
        return self.do("start_message_move_task", SourceArn=SourceArn, **kw)

    def cancel_message_move_task(self, TaskHandle: str) -> dict:
        return self.do("cancel_message_move_task", TaskHandle=TaskHandle)

    def list_message_move_tasks(self, SourceArn: str, MaxResults: int | None = None) -> dict:
        """SQS ListMessageMoveTasks: a read, not a command."""
        return self.engine.message_moves.list(SourceArn, MaxResults)

    def create_stream(self, StreamName: str, ShardCount: int = 1,
                      RetentionPeriodHours: int = 24) -> None:
        return self.do("create_stream", StreamName=StreamName, ShardCount=ShardCount,
                       RetentionPeriodHours=RetentionPeriodHours)

    def update_max_record_size(self, StreamName: str, MaxRecordSizeInKiB: int) -> None:
        """Kinesis UpdateMaxRecordSize (by stream name)."""
        return self.do("update_max_record_size", StreamName=StreamName,
                       MaxRecordSizeInKiB=MaxRecordSizeInKiB)

    def put_record(self, StreamName: str, PartitionKey: str, Data: str, **kw) -> dict:
        return self.do("put_record", StreamName=StreamName, PartitionKey=PartitionKey,
                       Data=Data, **kw)

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        return self.do("put_records", StreamName=StreamName, Records=Records)

    def put_aggregated_record(self, StreamName: str, Records: list[dict], **kw) -> dict:
        """One Kinesis record holding Records (KPL aggregation); PartitionKey
        (the record's, default the first user record's) and ExplicitHashKey
        are optional."""
        return self.do("put_aggregated_record", StreamName=StreamName, Records=Records, **kw)

    def register_stream_consumer(self, StreamARN: str, ConsumerName: str) -> dict:
        """Kinesis RegisterStreamConsumer (enhanced fan-out): CREATING, then ACTIVE."""
        return self.do("register_stream_consumer", StreamARN=StreamARN,
                       ConsumerName=ConsumerName)

    def deregister_stream_consumer(self, **kw) -> dict:
        """Kinesis DeregisterStreamConsumer: ConsumerARN, or StreamARN and ConsumerName."""
        return self.do("deregister_stream_consumer", **kw)

    def describe_stream_consumer(self, **kw) -> dict:
        """Kinesis DescribeStreamConsumer (a read): ConsumerARN, or StreamARN and
        ConsumerName."""
        return self.engine.consumers.describe(**kw)

    def list_stream_consumers(self, StreamARN: str) -> dict:
        """Kinesis ListStreamConsumers (a read)."""
        return self.engine.consumers.list(StreamARN)

    def create_table(self, TableName: str, KeySchema: list, **kw) -> dict:
        return self.do("create_table", TableName=TableName, KeySchema=KeySchema, **kw)

    def create_mapping(self, label: str | None = None, **params) -> dict:
        return self.do("create_mapping", params=params, label=label)

    def update_mapping(self, ref: str, **params) -> dict:
        return self.do("update_mapping", ref=ref, params=params)

    def delete_mapping(self, ref: str) -> dict:
        return self.do("delete_mapping", ref=ref)

    def delete_function(self, FunctionName: str) -> None:
        return self.do("delete_function", FunctionName=FunctionName)

    def delete_queue(self, QueueName: str) -> None:
        return self.do("delete_queue", QueueName=QueueName)

    def delete_stream(self, StreamName: str) -> None:
        return self.do("delete_stream", StreamName=StreamName)

    def delete_table(self, TableName: str) -> dict:
        return self.do("delete_table", TableName=TableName)

    def update_role(self, FunctionName: str, grant: list | None = None,
                    revoke: list | None = None) -> dict:
        """Widen (grant) or narrow (revoke) the function's execution role."""
        return self.do("update_role", FunctionName=FunctionName, grant=grant or [],
                       revoke=revoke or [])

    def publish_version(self, FunctionName: str, Description: str = "") -> dict:
        return self.do("publish_version", FunctionName=FunctionName, Description=Description)

    def create_alias(self, FunctionName: str, Name: str, FunctionVersion: str,
                     Description: str = "") -> dict:
        return self.do("create_alias", FunctionName=FunctionName, Name=Name,
                       FunctionVersion=FunctionVersion, Description=Description)

    def update_alias(self, FunctionName: str, Name: str, **kw) -> dict:
        return self.do("update_alias", FunctionName=FunctionName, Name=Name, **kw)

    # -- replay, snapshots, rewind ------------------------------------------------------------

    def _reset(self, initial: dict) -> None:
        store = self.store
        store.clear_state()
        Engine.initialise(store, name=initial["name"], seed=initial["seed"],
                          profile=initial["profile"], start_ms=initial["start_ms"],
                          sqs_max_message_size=initial.get("sqs_max_message_size",
                                                           SQS_MAX_MESSAGE_SIZE_BEFORE))
        store.set_meta("initial", json.dumps(initial))
        self.engine.load()

    def _replay(self, commands: list[dict], stop_ms: int | None = None) -> list[dict]:
        """Apply commands to the freshly reset engine. With `stop_ms`, build
        the lab only up to that time: the commands issued at or before it,
        and a clock command that ran past it cut there (everything due up to
        `stop_ms` fires and the clock stops at it). Whether a command ran
        past is what it recorded (its end_ms), not a guess from its args, so
        the cut does not depend on how a clock command decides how far to go.
        Returns the commands as applied (a cut one as `advance_to stop_ms`)."""
        applied = []
        for c in commands:
            if stop_ms is not None and c["at_ms"] > stop_ms:
                break
            if stop_ms is not None and _ended_after(c, stop_ms):
                applied.append(self._advance_to(stop_ms))
                break
            COMMANDS[c["name"]](self.engine, dict(c["args"]))
            applied.append(c)
        return applied

    def _advance_to(self, until_ms: int) -> dict:
        """Run the clock to `until_ms` (firing everything due by then) and
        return the command that does it, as the log records it."""
        at = self.engine.now_ms
        self.engine.agenda.run_until(until_ms)
        return {"at_ms": at, "name": "advance_to", "args": {"until_ms": until_ms},
                "end_ms": self.engine.now_ms}

    def rebuild(self) -> None:
        """Replay the whole command log from the initial state (a check that
        the lab is deterministic, and the way a restore is made)."""
        # The log is read inside the transaction: read before it, a command
        # another process commits in between would be lost by the rebuild.
        with self.store.transaction():
            commands = self.commands()
            self._reset(self.initial)
            self._replay(commands)
            self.engine.flush()

    def rewind(self, to_ms: int) -> None:
        """Return the lab to the lab built only up to virtual time `to_ms`
        (docs/architecture.md, "Snapshots, rewind, export"): the commands
        issued at or before it, clock commands cut at it, and everything
        due at or before it fired. The later commands are kept (and dropped
        only when the user issues a new command)."""
        try:
            with self.store.transaction():
                commands = self.commands()  # inside: see rebuild
                self._reset(self.initial)
                applied = self._replay(commands, stop_ms=to_ms)
                due = self.engine.agenda.next_due()
                if self.engine.now_ms < to_ms or (due is not None and due <= to_ms):
                    applied.append(self._advance_to(to_ms))
                self.store.set_meta("rewind_head", json.dumps(applied))
                from esmlab.engine.payloads import iso
                since = (to_ms - self.engine.start_ms) / 1000
                self.engine.log("lab.rewound", "lab",
                                f"rewound to T+{since:g} s ({iso(to_ms)}) by replaying the "
                                "commands up to then; later commands are dropped when you act")
                self.engine.flush()
        except BaseException:
            self.engine.load()
            raise

    def compact(self, before_ms: int | None = None) -> dict:
        """Drop the journal, metric and invocation history from before
        `before_ms` (default: now), keeping the lab replayable
        (esmlab/compaction.py). Returns how many rows of each went."""
        with self.store.transaction():
            before = self.engine.now_ms if before_ms is None else before_ms
            return self.do("compact", before_ms=before)

    def vacuum(self) -> bool:
        """Give the space compaction freed back to the file system (SQLite's
        VACUUM, then the WAL folded in); False when another process is
        writing and it could not be done (the space is then reused)."""
        return self.store.vacuum()

    def save_snapshot(self, name: str) -> None:
        with self.store.transaction():
            # Only the results of the lab's own past (not of a future a
            # pending rewind has set aside).
            results = list(self.store.conn.execute(
                "SELECT ordinal, result, digest FROM handler_results WHERE ordinal <= "
                "(SELECT coalesce(max(id), 0) FROM invocations)"))
            self.store.conn.execute(
                "INSERT OR REPLACE INTO snapshots (name, saved_at_ms, meta, commands, "
                "handler_results) VALUES (?, ?, ?, ?, ?)",
                (name, self.engine.now_ms, json.dumps(self.initial), json.dumps(self.commands()),
                 json.dumps(results)))

    def snapshots(self) -> list[dict]:
        return [{"name": n, "saved_at_ms": at, "commands": len(json.loads(c))} for n, at, c in
                self.store.conn.execute(
                    "SELECT name, saved_at_ms, commands FROM snapshots ORDER BY name")]

    def delete_snapshot(self, name: str) -> None:
        with self.store.transaction():
            cur = self.store.conn.execute("DELETE FROM snapshots WHERE name=?", (name,))
            if cur.rowcount == 0:
                raise LabError(f"no snapshot named {name!r}")

    def restore_snapshot(self, name: str) -> None:
        try:
            with self.store.transaction():
                conn = self.store.conn
                # Read inside the transaction (see rebuild): another process
                # may have replaced or deleted the snapshot a moment ago.
                row = conn.execute(
                    "SELECT meta, commands, handler_results FROM snapshots WHERE name=?",
                    (name,)).fetchone()
                if row is None:
                    raise LabError(f"no snapshot named {name!r}")
                initial, commands, results = (json.loads(x) for x in row)
                conn.execute("DELETE FROM meta WHERE key='rewind_head'")
                conn.execute("DELETE FROM handler_results")
                # A snapshot saved before lab schema 3 has (ordinal, result) rows.
                conn.executemany(
                    "INSERT INTO handler_results (ordinal, result, digest) VALUES (?, ?, ?)",
                    [(r[0], r[1], r[2] if len(r) > 2 else None) for r in results])
                commands = _with_ends(commands)
                self._reset(initial)
                self._replay(commands)
                self._drop_future_results()
                self._write_commands(commands)
                self.engine.log("lab.restored", "lab", f"snapshot {name} restored")
                self.engine.flush()
        except BaseException:
            self.engine.load()
            raise

    # -- read models ------------------------------------------------------------------------

    def journal(self, **kw) -> list[dict]:
        return self.engine.journal.events(**kw)

    def journal_signature(self) -> list[tuple]:
        """The journal as plain tuples (time, kind, resource, reason): two labs
        with the same signature behaved identically."""
        self.engine.journal.flush()
        return list(self.store.conn.execute(
            "SELECT at_ms, kind, resource, subject, reason, data FROM journal ORDER BY id"))

    def invocations(self, function: str | None = None, mapping: str | None = None,
                    status: str | None = None, offset: int = 0,
                    limit: int | None = None) -> list[dict]:
        from esmlab.engine.function import INVOCATION_COLUMNS, invocation_dict
        where, args = [], []
        if function:
            where.append("function=?")
            args.append(function)
        if mapping:
            where.append("mapping=?")
            args.append(self.engine.mappings.get_row(mapping)["uuid"])
        if status:
            where.append("status=?")
            args.append(status)
        sql = f"SELECT {', '.join(INVOCATION_COLUMNS)} FROM invocations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.store.conn.execute(sql + " ORDER BY id LIMIT ? OFFSET ?",
                                       (*args, -1 if limit is None else limit, offset))
        return [invocation_dict(r) for r in rows]

    def invocation_logs(self, inv_id: int) -> list[dict]:
        """One invocation's log as CloudWatch Logs would hold it:
        [{"at_ms", "message"}, ...] with START, the handler's own output,
        the timeout line, END and REPORT (each message ends in a newline);
        [] for a throttled or unknown invocation."""
        return self.engine.functions.logs(inv_id)

    def metric_series(self, resource: str, name: str) -> list[tuple[int, float]]:
        return list(self.store.conn.execute(
            "SELECT at_ms, value FROM metrics WHERE resource=? AND name=? ORDER BY at_ms",
            (resource, name)))

    def mapping(self, ref: str) -> dict:
        return self.engine.mappings.get_row(ref)

    def summary(self) -> dict:
        e = self.engine
        conn = self.store.conn

        def count(table: str) -> int:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

        return {
            "path": self.path, "name": e.name, "seed": e.seed, "profile": e.profile,
            "now_ms": e.now_ms, "start_ms": e.start_ms,
            "functions": e.functions.names(),
            "queues": [(q, e.queues.counts(q)) for q in e.queues.names()],
            "streams": e.streams.names(),
            "tables": e.tables.names(),
            "mappings": [(m["label"], m["state"], m["source_kind"]) for m in
                         e.mappings.all_rows()],
            "sinks": e.sinks.names(),
            "commands": count("commands"), "journal": count("journal"),
            "invocations": count("invocations"), "pending_timers": e.agenda.size(),
        }


def _move_into_place(built: Path, path: Path) -> None:
    """Rename the finished lab to `path` without replacing a lab another
    process made there meanwhile (an empty file there is replaced)."""
    if path.exists():
        if path.stat().st_size:
            raise LabFileError(f"{path} already exists")
        os.replace(built, path)
        return
    try:
        os.link(built, path)            # fails if `path` appeared: never overwrites
    except FileExistsError:
        raise LabFileError(f"{path} already exists") from None
    except OSError:
        os.replace(built, path)         # a file system without hard links


def _remove_abandoned_builds(path: Path) -> None:
    """Hidden half-built labs left beside `path` by a process that died."""
    for built in path.parent.glob(f".{glob.escape(path.name)}.*-*.new"):
        pid = built.name[len(path.name) + 2:].split("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            for leftover in (built, Path(f"{built}-wal"), Path(f"{built}-shm")):
                leftover.unlink(missing_ok=True)


def _check_complete(built: str) -> None:
    """The built lab is whole before it is renamed: its WAL was folded in
    (a full disk can stop that silently at close) and it is as long as its
    header says."""
    wal = Path(built + "-wal")
    if wal.exists() and wal.stat().st_size:
        raise LabDiskFull(f"the disk holding {built} is full")
    inspect_lab_file(built, must_exist=True)


def _about(exc: LabFileError, built: str, path: Path) -> LabFileError:
    """A failure while building a new lab, told about the path the user gave."""
    if isinstance(exc, (LabDiskFull, LabDamaged)):
        return LabDiskFull(f"the disk holding {path} is full: the new lab was not made and "
                           "nothing was left behind; free some space and try again")
    return type(exc)(str(exc).replace(built, str(path)))


CLOCK_COMMANDS = ("advance_to", "step", "run_until_idle")


def _ended_after(command: dict, t: int) -> bool:
    """Did this command leave the clock past `t`? A command without a
    recorded end is the last of a log from before lab schema 3: cutting it
    at `t` is exact then, since nothing was issued after it."""
    end = command.get("end_ms")
    if end is None:
        return command["name"] in CLOCK_COMMANDS
    return end > t


def _with_ends(commands: list[dict]) -> list[dict]:
    """Fill in end_ms where a command does not record it (before lab schema 3): the
    clock moves only inside commands, so a command ended where the next one
    began. The last one's end stays unknown (None)."""
    for c, nxt in zip(commands, commands[1:] + [None]):
        if c.get("end_ms") is None:
            c["end_ms"] = nxt["at_ms"] if nxt is not None else None
    return commands
