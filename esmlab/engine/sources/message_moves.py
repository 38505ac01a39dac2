"""DLQ redrive: SQS message move tasks (StartMessageMoveTask,
ListMessageMoveTasks, CancelMessageMoveTask), reference 8.6, on the lab's
clock.

A task moves the messages of a dead-letter queue back to the queues they
came from (each message's DeadLetterQueueSourceArn), or to one
DestinationArn, at most MaxNumberOfMessagesPerSecond (1-500) a second. One
task per source queue may be active; statuses RUNNING, CANCELLING,
CANCELLED, COMPLETED and FAILED. AWS's messages and response shapes are the
ones recorded against AWS in LocalStack's test_sqs_move_task snapshots
(a RUNNING entry carries its TaskHandle, a finished one does not;
DestinationArn and MaxNumberOfMessagesPerSecond appear only when given; a
task whose destination disappears FAILS with FailureReason
AWS.SimpleQueueService.NonExistentQueue).

The lab's choices where AWS is silent: without MaxNumberOfMessagesPerSecond
the task moves 500 a second (AWS picks a "system-optimized" rate); a moved
message keeps its MessageId, body, attributes and SentTimestamp, arrives
visible at once with a receive count of 0 (it would otherwise go straight
back to the DLQ on its next receive); ApproximateNumberOfMessagesToMove is
the DLQ's message count when the task starts, and the task completes once
that many have moved or no visible message is left; a cancel takes effect at
the task's next tick (CANCELLING until then).
"""

from __future__ import annotations

import base64
import binascii
import json

from esmlab.engine.arns import name_of, service_of
from esmlab.errors import AwsError

MAX_RATE = 500
DEFAULT_RATE = 500      # lab choice for "system-optimized"
TICK_MS = 1000
LIST_LIMIT = 10
KIND = "queue.move"


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def _not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, 404)


class MessageMoves:
    """Message move tasks of the lab's queues. Constructed as
    `MessageMoves(engine)`; every call runs in the caller's transaction."""

    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.conn
        engine.agenda.on(KIND, self._tick)

    # --- the API ---------------------------------------------------------------------

    def start(self, SourceArn: str, DestinationArn: str | None = None,
              MaxNumberOfMessagesPerSecond: int | None = None) -> dict:
        queues = self.engine.queues
        source = self._queue_of(SourceArn, "SourceArn")
        if DestinationArn is not None:
            self._queue_of(DestinationArn, "DestinationArn")
        rate = MaxNumberOfMessagesPerSecond
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int)
                                 or not 1 <= rate <= MAX_RATE):
            # Lab wording in SQS's style (no recording of this refusal).
            raise _invalid(f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                           f"Reason: Must be between 1 and {MAX_RATE}.")
        if not self._sources_of(SourceArn):
            raise _invalid("Source queue must be configured as a Dead Letter Queue.")  # AWS
        if self._active(SourceArn):
            raise _invalid("There is already a task running. Only one active task is allowed "
                           "for a source queue arn at a given time.")  # AWS wording (recorded)
        task_id = self.engine.rng.uuid()
        handle = base64.b64encode(json.dumps(
            {"taskId": task_id, "sourceArn": SourceArn}, separators=(",", ":")).encode()).decode()
        to_move = queues.counts(source)["total"]
        now = self.engine.now_ms
        self.conn.execute(
            "INSERT INTO message_move_tasks (task_id, handle, source_arn, destination_arn, rate, "
            "status, to_move, moved, started_ms) VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, 0, ?)",
            (task_id, handle, SourceArn, DestinationArn, rate, to_move, now))
        where = (f"to {name_of(DestinationArn)}" if DestinationArn
                 else "back to the queues they came from (DeadLetterQueueSourceArn)")
        self.engine.log("sqs.move_started", source,
                        f"message move task started on {source}: {to_move} message(s) to move "
                        f"{where}, at most {rate or DEFAULT_RATE} a second"
                        + ("" if rate else " (no MaxNumberOfMessagesPerSecond: the lab moves "
                           f"{DEFAULT_RATE} a second where AWS picks a system-optimized rate)"),
                        data={"task": task_id})
        self.engine.agenda.schedule(KIND, f"move:{task_id}", now, task_id)
        return {"TaskHandle": handle}

    def list(self, SourceArn: str, MaxResults: int | None = None) -> dict:
        self._queue_of(SourceArn, "SourceArn")
        limit = 1 if MaxResults is None else MaxResults
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT:
            raise _invalid(f"Value {MaxResults} for parameter MaxResults is invalid. "
                           f"Reason: Must be between 1 and {LIST_LIMIT}.")  # lab wording
        rows = self.conn.execute(
            "SELECT task_id, handle, source_arn, destination_arn, rate, status, to_move, moved, "
            "started_ms, failure FROM message_move_tasks WHERE source_arn = ? "
            "ORDER BY started_ms DESC, rowid DESC LIMIT ?", (SourceArn, limit)).fetchall()
        return {"Results": [_entry(r) for r in rows]}

    def cancel(self, TaskHandle: str) -> dict:
        task_id, source_arn = _parse_handle(TaskHandle)
        if self.engine.queues.name_for_arn(source_arn) is None:
            raise _not_found("The resource that you specified for the SourceArn parameter "
                             "doesn't exist.")  # AWS wording (recorded)
        row = self.conn.execute(
            "SELECT status, moved FROM message_move_tasks WHERE task_id = ? AND source_arn = ?",
            (task_id, source_arn)).fetchone()
        if row is None:
            raise _not_found("Task does not exist.")  # AWS wording (recorded)
        status, moved = row
        if status != "RUNNING":
            # Lab wording: only a running task can be cancelled.
            raise _invalid(f"Only a RUNNING task can be cancelled; this task is {status}.")
        self.conn.execute("UPDATE message_move_tasks SET status = 'CANCELLING' WHERE task_id = ?",
                          (task_id,))
        self.engine.log("sqs.move_cancelling", name_of(source_arn),
                        f"message move task on {name_of(source_arn)} is CANCELLING after "
                        f"{moved} message(s) moved; it stops at its next step",
                        data={"task": task_id})
        return {"ApproximateNumberOfMessagesMoved": moved}

    # --- the task on the clock --------------------------------------------------------

    def _tick(self, key: str, task_id: str) -> None:
        row = self.conn.execute(
            "SELECT source_arn, destination_arn, rate, status, to_move, moved "
            "FROM message_move_tasks WHERE task_id = ?", (task_id,)).fetchone()
        if row is None:
            return
        source_arn, destination_arn, rate, status, to_move, moved = row
        queues = self.engine.queues
        source = queues.name_for_arn(source_arn)
        if status == "CANCELLING":
            self._finish(task_id, source or name_of(source_arn), "CANCELLED", moved)
            return
        if source is None:
            self._fail(task_id, name_of(source_arn), moved)
            return
        destination = None
        if destination_arn is not None:
            destination = queues.name_for_arn(destination_arn)
            if destination is None:
                self._fail(task_id, source, moved)
                return
        wanted = min(rate or DEFAULT_RATE, to_move - moved)
        done, missing = queues.redrive(source, wanted, destination) if wanted > 0 else (0, False)
        moved += done
        self.conn.execute("UPDATE message_move_tasks SET moved = ? WHERE task_id = ?",
                          (moved, task_id))
        if missing:
            self._fail(task_id, source, moved)
        elif moved >= to_move or done < wanted:
            self._finish(task_id, source, "COMPLETED", moved)
        else:
            self.engine.agenda.schedule(KIND, key, self.engine.now_ms + TICK_MS, task_id)

    def _finish(self, task_id: str, source: str, status: str, moved: int) -> None:
        self.conn.execute("UPDATE message_move_tasks SET status = ? WHERE task_id = ?",
                          (status, task_id))
        self.engine.log("sqs.move_" + status.lower(), source,
                        f"message move task on {source} {status}: {moved} message(s) moved",
                        data={"task": task_id, "moved": moved})

    def _fail(self, task_id: str, source: str, moved: int) -> None:
        self.conn.execute("UPDATE message_move_tasks SET status = 'FAILED', failure = ? "
                          "WHERE task_id = ?", ("AWS.SimpleQueueService.NonExistentQueue", task_id))
        self.engine.log("sqs.move_failed", source,
                        f"message move task on {source} FAILED after {moved} message(s): a queue "
                        "it moves to or from no longer exists "
                        "(FailureReason AWS.SimpleQueueService.NonExistentQueue)",
                        data={"task": task_id, "moved": moved})

    # --- helpers -----------------------------------------------------------------------

    def _queue_of(self, arn, parameter: str) -> str:
        name = (self.engine.queues.name_for_arn(arn)
                if isinstance(arn, str) and service_of(arn) == "sqs" else None)
        if name is None:
            raise _not_found(f"The resource that you specified for the {parameter} parameter "
                             "doesn't exist.")  # AWS wording (recorded for DestinationArn)
        return name

    def _sources_of(self, dlq_arn: str) -> list[str]:
        """Queues whose RedrivePolicy names this queue as their DLQ."""
        queues = self.engine.queues
        dlq = queues.name_for_arn(dlq_arn)
        return [q for q in queues.names() if queues.info(q).dlq_name == dlq]

    def _active(self, source_arn: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM message_move_tasks WHERE source_arn = ? AND status IN "
            "('RUNNING', 'CANCELLING') LIMIT 1", (source_arn,)).fetchone() is not None


def _parse_handle(handle) -> tuple[str, str]:
    try:
        decoded = json.loads(base64.b64decode(handle, validate=True))
        return str(decoded["taskId"]), str(decoded["sourceArn"])
    except (TypeError, ValueError, KeyError, binascii.Error):
        raise _invalid("Value for parameter TaskHandle is invalid.") from None  # AWS (recorded)


def _entry(row) -> dict:
    """One ListMessageMoveTasks result, with only the keys AWS returns."""
    (_task_id, handle, source_arn, destination_arn, rate, status, to_move, moved, started_ms,
     failure) = row
    entry = {"ApproximateNumberOfMessagesMoved": moved,
             "ApproximateNumberOfMessagesToMove": to_move}
    if destination_arn is not None:
        entry["DestinationArn"] = destination_arn
    if failure is not None:
        entry["FailureReason"] = failure
    if rate is not None:
        entry["MaxNumberOfMessagesPerSecond"] = rate
    entry["SourceArn"] = source_arn
    entry["StartedTimestamp"] = started_ms
    entry["Status"] = status
    if status == "RUNNING":
        entry["TaskHandle"] = handle
    return entry
