"""SQS standard and FIFO queues, with AWS's semantics, on the lab's clock.

What this module models (reference sections 2.1, 2.2, 2.6 and 4.1):

- Queues with AWS's attribute names, defaults, ranges and error messages
  (CreateQueue / SetQueueAttributes / GetQueueAttributes), including a
  RedrivePolicy whose dead-letter queue must exist and be of the same type.
- Send with per-message or queue delay, message attributes, the size limit,
  FIFO message groups, sequence numbers and the 5-minute deduplication
  interval (explicit MessageDeduplicationId or content-based SHA-256).
- Receive: visibility timeout, ApproximateReceiveCount, first-receive time,
  a new receipt handle per receive, redrive to the DLQ when the receive count
  has reached maxReceiveCount, best-effort order and occasional duplicate
  delivery on standard queues, strict per-group order and group locking on
  FIFO queues.
- Delete, ChangeMessageVisibility, retention (lazy) and the approximate counts.

Storage: one row per message copy in `messages` (see esmlab/store.py).
"In flight" is `visible_ms > now AND receipt_handle IS NOT NULL`; "delayed" is
`visible_ms > now AND receipt_handle IS NULL`; everything else is visible.
A receipt handle is 16 hex characters (a token drawn from the lab's generator
once per receive call, mixed with the row id) followed by the row id in hex,
so a delete is a primary-key lookup and a stale handle (the message was
received again since, or is gone) simply matches no row.

Every public call runs inside the caller's transaction. Two small in-memory
caches (queue settings and per-queue message totals) live on this object;
they are only ever changed together with the rows they describe, and the
engine builds a fresh `Queues` after a rollback (Engine.load), so they can
never disagree with the file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass

from esmlab.engine.arns import name_of, queue_arn, queue_url, service_of
from esmlab.engine.payloads import md5_of_body, md5_of_message_attributes
from esmlab.errors import AwsError

# --- limits and defaults (reference 2.2, SQS API reference) -------------------

DEDUP_INTERVAL_MS = 5 * 60 * 1000          # FIFO deduplication interval
MAX_BATCH_ENTRIES = 10
MAX_RECEIVE = 10
MAX_VISIBILITY_S = 43_200                   # 12 hours
# SQS raised the message (and batch) payload cap from 256 KiB to 1 MiB in
# August 2025, and Lambda's SQS mappings accept such messages since January
# 2026 (reference 8.6): MaximumMessageSize defaults to, and is at most,
# 1,048,576 bytes; a SendMessageBatch request may carry up to that in total.
# The mapping's 6 MB invoke payload cap is unchanged (queue_poller.py).
MAX_MESSAGE_BYTES = 1_048_576
MAX_BATCH_BYTES = MAX_MESSAGE_BYTES
MAX_MESSAGE_ATTRIBUTES = 10
EXPIRE_CHUNK = 50_000                       # rows per DELETE when retention expires messages

# Attribute -> (min, max) for the whole-number attributes.
_NUMERIC = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, MAX_VISIBILITY_S),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
_BOOLEAN = {"SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue"}
_ENUMS = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
_FREE_TEXT = {"Policy", "KmsMasterKeyId", "RedriveAllowPolicy"}
_FIFO_ONLY = {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
              "FifoThroughputLimit"}
_FIFO_SETTINGS = ("DeduplicationScope", "FifoThroughputLimit")
_SETTABLE = set(_NUMERIC) | _BOOLEAN | set(_ENUMS) | _FREE_TEXT | {"RedrivePolicy"}

_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
_FIFO_DEFAULTS = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,80}")
_DIGITS_RE = re.compile(r"\d+")
_HANDLE_RE = re.compile(r"[0-9a-f]{17,}")
_HANDLE_TOKEN_LEN = 16
_MASK64 = (1 << 64) - 1
_MIX = 0x9E3779B97F4A7C15
_BATCH_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,80}")
# MessageGroupId / MessageDeduplicationId: 1-128 alphanumeric or punctuation.
_FIFO_ID_RE = re.compile(r"[!-~]{1,128}")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,256}")
# Characters SQS refuses in a message body (anything outside the XML set).
_INVALID_BODY_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_NAME_RULE = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
_FIFO_NAME_RULE = ("The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                   "or underscores, must end with .fifo suffix and be 1 to 80 in length")

# A standard-queue receive takes each message from among the 3 oldest visible
# candidates: the oldest with chance 5/8, the next 2/8, the third 1/8. Order is
# "best effort": mostly oldest first, never guaranteed.
_SHUFFLE_WINDOW = 3
_SHUFFLE_PICK = (0, 0, 0, 0, 0, 1, 1, 2)

# Columns every message selection reads, in this order.
_COLS = ("id, message_id, body, attributes, size, sent_ms, enqueued_ms, receive_count, "
         "first_receive_ms, group_id, dedup_id, seq_no, visible_ms, receipt_handle, dlq_source, "
         "trace_header")
(_ID, _MID, _BODY, _ATTRS, _SIZE, _SENT, _ENQ, _RC, _FIRST, _GROUP, _DEDUP, _SEQ, _VIS, _HANDLE,
 _DLQ_SOURCE, _TRACE) = range(16)

# dlq_source: the ARN of the queue a redrive policy moved the message from
# (ReceiveMessage's DeadLetterQueueSourceArn); NULL for a message sent here.
# trace_header: the AWSTraceHeader system attribute (a message a function
# sent carries its invocation's X-Ray header, whose Lineage is how Lambda
# detects a recursive loop).
_INSERT = ("INSERT INTO messages (queue, message_id, body, attributes, size, sent_ms, "
           "enqueued_ms, visible_ms, receive_count, first_receive_ms, group_id, dedup_id, "
           "seq_no, head, dlq_source, trace_header) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_SELECT_STANDARD = (f"SELECT {_COLS} FROM messages INDEXED BY messages_ready "
                    "WHERE queue = ? AND visible_ms <= ? ORDER BY visible_ms, id LIMIT ? OFFSET ?")
_SELECT_HEADS = ("SELECT group_id FROM messages INDEXED BY messages_heads "
                 "WHERE queue = ? AND head = 1 AND visible_ms <= ? ORDER BY id")
_SELECT_GROUP = (f"SELECT {_COLS} FROM messages WHERE queue = ? AND group_id = ? "
                 "ORDER BY id LIMIT ?")
_UPDATE_RECEIVED = ("UPDATE messages SET receive_count = ?, first_receive_ms = ?, "
                    "received_ms = ?, visible_ms = ?, receipt_handle = ?, holder = ? WHERE id = ?")
_DELETE_BY_HANDLE = "DELETE FROM messages WHERE id = ? AND queue = ? AND receipt_handle = ?"
_PROMOTE_HEAD = ("UPDATE messages SET head = 1 WHERE id = "
                 "(SELECT min(id) FROM messages WHERE queue = ? AND group_id = ?)")


def _err(code: str, message: str) -> AwsError:
    return AwsError(code, message, 400)


# boto3 shows an SQS batch error under its query-compatible code (recorded for
# BatchRequestTooLong, InvalidBatchEntryId and TooManyEntriesInBatchRequest; the
# family's other two, EmptyBatchRequest and BatchEntryIdsNotDistinct, alike).
_QUERY = "AWS.SimpleQueueService."


def _invalid(message: str) -> AwsError:
    return _err("InvalidParameterValue", message)


def _no_queue() -> AwsError:
    # Query-compatible code (what boto3 shows), JSON-protocol message.
    return _err("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")


def _bad_handle(handle) -> AwsError:
    return _err("ReceiptHandleIsInvalid",
                f'The input receipt handle "{handle}" is not a valid receipt handle.')


def _short(message_id: str) -> str:
    return message_id[:8] + ".."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class QueueInfo:
    name: str
    arn: str
    url: str
    fifo: bool
    visibility_timeout: int          # seconds (default 30, 0-43200)
    retention_seconds: int           # MessageRetentionPeriod (default 345600, 60-1209600)
    delay_seconds: int               # DelaySeconds (default 0, 0-900)
    max_message_size: int            # MaximumMessageSize (default and max 1048576, min 1024)
    receive_wait_seconds: int        # ReceiveMessageWaitTimeSeconds (0-20)
    content_based_dedup: bool
    dlq_name: str | None             # from RedrivePolicy
    max_receive_count: int | None    # from RedrivePolicy
    duplicate_rate: float            # lab setting: chance a receive also leaves a duplicate copy
    attributes: dict                 # AWS attribute map as GetQueueAttributes shows it (strings);
                                     # the Approximate* counts are in Queues.counts(). Read-only.
    dedup_per_group: bool = False    # FIFO DeduplicationScope=messageGroup


class Queues:
    """All SQS queues of the lab. Constructed as `Queues(engine)`."""

    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.conn
        self.last_moved: list[dict] = []
        self._infos: dict[str, QueueInfo] = {}
        self._totals: dict[str, int] = {}
        # queue -> a time before which no message of it can expire (a lower
        # bound on min(enqueued_ms) + retention); saves a query per receive.
        self._expiry_floor: dict[str, int] = {}
        # Retention is enforced by a timer at the exact instant the oldest
        # message expires, so reading counts or pages never writes (a screen
        # refresh must not change the lab) and expiry happens at the same
        # virtual time whether or not anybody is looking.
        engine.agenda.on("queue.expire", self._on_expire_timer)
        self._armed: dict[str, int] = {}

    # --- queues ----------------------------------------------------------------

    def create(self, name: str, attributes: dict | None = None,
               duplicate_rate: float = 0.0) -> dict:
        """CreateQueue. Returns {"QueueUrl": ...}.

        As in AWS, creating an existing queue with the same attributes returns
        its URL and changes nothing; different attribute values raise
        QueueAlreadyExists. Attribute values may be given as str, int or bool
        (scenario files) and are stored in AWS's string form.
        """
        if not isinstance(name, str):
            raise _invalid(_NAME_RULE)
        given = {k: v for k, v in (attributes or {}).items() if v is not None}
        fifo = name.endswith(".fifo")
        if fifo:
            if "FifoQueue" not in given:
                raise _invalid(_NAME_RULE)
            flag = _boolean_value("FifoQueue", given["FifoQueue"])
            if flag is None:
                raise _err("InvalidAttributeValue", "Invalid value for the parameter FifoQueue.")
            if flag != "true":
                raise _err("InvalidAttributeName", "Unknown Attribute FifoQueue.")
            if len(name) > 80 or not _NAME_RE.fullmatch(name[:-5]):
                raise _invalid(_FIFO_NAME_RULE)
        else:
            # AWS (recorded): FifoQueue (even "false") and ContentBasedDeduplication
            # are unknown on a standard queue; the two FIFO throughput settings
            # are refused with their own text.
            for key in given:
                if key in _FIFO_SETTINGS:
                    raise _err("InvalidAttributeName", f"You can specify the {key} only when "
                               "FifoQueue is set to true.")
                if key in _FIFO_ONLY:
                    raise _err("InvalidAttributeName", f"Unknown Attribute {key}.")
            if not _NAME_RE.fullmatch(name):
                raise _invalid(_NAME_RULE)
        values = self._normalise(name, fifo, given, creating=True)
        rate = _check_rate(duplicate_rate, fifo)

        existing = self._row(name)
        if existing is not None:
            current = json.loads(existing[2])
            for key, value in values.items():
                if current.get(key) != value:
                    raise _err("QueueAlreadyExists",
                               "A queue already exists with the same name and a different "
                               f"value for attribute {key}")
            return {"QueueUrl": queue_url(name)}

        now = self.engine.now_ms
        stored = dict(_DEFAULTS)
        # A lab made before SQS's 1 MiB default keeps its 256 KiB (world.py).
        stored["MaximumMessageSize"] = str(getattr(self.engine, "sqs_max_message_size",
                                                   MAX_MESSAGE_BYTES))
        if fifo:
            stored.update(_FIFO_DEFAULTS)
        stored.update({k: v for k, v in values.items() if v is not None})
        stored["CreatedTimestamp"] = stored["LastModifiedTimestamp"] = str(now // 1000)
        self.conn.execute(
            "INSERT INTO queues (name, fifo, attributes, duplicate_rate, created_ms, next_seq) "
            "VALUES (?, ?, ?, ?, ?, 0)", (name, int(fifo), json.dumps(stored), rate, now))
        self._infos.pop(name, None)
        self._totals[name] = 0
        info = self.info(name)
        kind = "FIFO" if fifo else "standard"
        redrive = (f", dead-letter queue {info.dlq_name} after {info.max_receive_count} receives"
                   if info.dlq_name else "")
        dup = f", lab duplicate rate {rate:g}" if rate else ""
        self.engine.log(
            "sqs.queue_created", name,
            f"{kind} queue {name} created: VisibilityTimeout {info.visibility_timeout} s, "
            f"MessageRetentionPeriod {info.retention_seconds} s, DelaySeconds "
            f"{info.delay_seconds} s{redrive}{dup}", data=_public_attributes(info))
        return {"QueueUrl": queue_url(name)}

    def set_attributes(self, name: str, attributes: dict) -> None:
        """SetQueueAttributes. A RedrivePolicy of "" or {} removes the policy.

        A new VisibilityTimeout applies to later receives, not to messages in
        flight. A new DelaySeconds is not retroactive on standard queues but is
        on FIFO queues (AWS's delay-queue rule): still-delayed FIFO messages get
        enqueue time + the new delay. A new MessageRetentionPeriod applies to
        the messages already in the queue.
        """
        info = self.info(name)
        given = {k: v for k, v in (attributes or {}).items() if v is not None}
        if "FifoQueue" in given:
            if not info.fifo:
                raise _err("InvalidAttributeName", "Unknown Attribute FifoQueue.")
            if _boolean_value("FifoQueue", given["FifoQueue"]) != "true":
                raise _err("InvalidAttributeValue", "Invalid value for the parameter FifoQueue. "
                           "Reason: Modifying queue type is not supported.")
        if not info.fifo:
            for key in given:
                if key in _FIFO_ONLY:
                    raise _err("InvalidAttributeName", f"Unknown Attribute {key}.")
        values = self._normalise(name, info.fifo, given, creating=False)
        if not values:
            return
        row = self._row(name)
        stored = json.loads(row[2])
        changed = {}
        for key, value in values.items():
            if value is None:
                if key in stored:
                    del stored[key]
                    changed[key] = None
            elif stored.get(key) != value:
                stored[key] = value
                changed[key] = value
        now = self.engine.now_ms
        stored["LastModifiedTimestamp"] = str(now // 1000)
        self.conn.execute("UPDATE queues SET attributes = ? WHERE name = ?",
                          (json.dumps(stored), name))
        self._infos.pop(name, None)
        self._expiry_floor.pop(name, None)
        new = self.info(name)
        if info.fifo and "DelaySeconds" in changed:
            self.conn.execute(
                "UPDATE messages SET visible_ms = max(?, enqueued_ms + ?) "
                "WHERE queue = ? AND receipt_handle IS NULL AND visible_ms > ?",
                (now, new.delay_seconds * 1000, name, now))
            self._notify(name, self.next_visible_ms(name))
        if changed:
            words = ", ".join(f"{k}={'(removed)' if v is None else v}" for k, v in changed.items())
            self.engine.log("sqs.attributes_changed", name,
                            f"queue {name} attributes changed: {words}", data=changed)

    def delete_queue(self, name: str) -> None:
        """DeleteQueue: the queue and its messages go; mappings reading it
        stay (AWS keeps them Enabled) and their pollers find nothing."""
        self.info(name)  # AWS.SimpleQueueService.NonExistentQueue when absent
        users = [q for q in self.names() if q != name and self.info(q).dlq_name == name]
        if users:
            # Lab choice: AWS lets a dead-letter queue go; the lab keeps its
            # redrive model simple and refuses (README, "Not built yet").
            raise AwsError("InvalidParameterValue",
                           f"The lab cannot delete {name}: it is the dead-letter queue of "
                           f"{', '.join(users)}.", 400,
                           hint="remove the RedrivePolicy of those queues first")
        for table in ("messages", "dedup"):
            self.conn.execute(f"DELETE FROM {table} WHERE queue = ?", (name,))
        self.conn.execute("DELETE FROM queues WHERE name = ?", (name,))
        self.engine.agenda.cancel(f"qexpire:{name}")
        for cache in (self._infos, self._totals, self._expiry_floor, self._armed):
            cache.pop(name, None)
        self.engine.log("sqs.queue_deleted", name, f"queue {name} deleted with its messages")
        self.engine.mappings.on_source_change(queue_arn(name))

    def set_duplicate_rate(self, name: str, rate: float) -> None:
        """Lab setting: the chance that a receive on a standard queue also
        leaves a second copy of the message visible (at-least-once delivery)."""
        info = self.info(name)
        rate = _check_rate(rate, info.fifo)
        self.conn.execute("UPDATE queues SET duplicate_rate = ? WHERE name = ?", (rate, name))
        self._infos.pop(name, None)
        self.engine.log(
            "sqs.duplicate_rate_set", name,
            f"lab setting: each message received from {name} also stays visible as a duplicate "
            f"copy with probability {rate:g} (standard queues deliver at least once)",
            data={"duplicate_rate": rate})

    def info(self, name: str) -> QueueInfo:
        info = self._infos.get(name)
        if info is not None:
            return info
        row = self._row(name)
        if row is None:
            raise _no_queue()
        info = _info_from_row(row)
        self._infos[name] = info
        return info

    def exists(self, name: str) -> bool:
        return name in self._infos or self._row(name) is not None

    def name_for_arn(self, arn: str) -> str | None:
        if not isinstance(arn, str) or service_of(arn) != "sqs":
            return None
        name = name_of(arn)
        return name if queue_arn(name) == arn and self.exists(name) else None

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM queues ORDER BY name")]

    def get_attributes(self, name: str) -> dict:
        """GetQueueAttributes(All): the stored attributes plus the live counts."""
        info = self.info(name)
        counts = self.counts(name)
        attributes = dict(info.attributes)
        attributes["ApproximateNumberOfMessages"] = str(counts["visible"])
        attributes["ApproximateNumberOfMessagesNotVisible"] = str(counts["in_flight"])
        attributes["ApproximateNumberOfMessagesDelayed"] = str(counts["delayed"])
        return attributes

    # --- send --------------------------------------------------------------------

    def send(self, name, body, delay_seconds=None, message_attributes=None, group_id=None,
             dedup_id=None, trace_header=None) -> dict:
        """SendMessage. Returns {"MessageId", "MD5OfMessageBody",
        ("MD5OfMessageAttributes"), ("SequenceNumber" on FIFO)}.

        A FIFO message whose deduplication id was used in the last 5 minutes is
        accepted (the original MessageId and SequenceNumber are returned) but
        not enqueued, even if the original was already deleted.
        """
        info = self.info(name)
        item = self._prepare(info, body, delay_seconds, message_attributes, group_id, dedup_id)
        return self._enqueue(info, [item], trace_header)[0]

    def send_batch(self, name, entries: list[dict]) -> dict:
        """SendMessageBatch: entries of {"Id", "MessageBody", "DelaySeconds",
        "MessageAttributes", "MessageGroupId", "MessageDeduplicationId"}.
        Returns {"Successful": [...], "Failed": [...]} (AWS's shape); an entry
        that fails validation is reported in Failed and the others are sent."""
        info = self.info(name)
        if not entries:
            raise _err(_QUERY + "EmptyBatchRequest",
                       "There should be at least one SendMessageBatchRequestEntry in the request.")
        if len(entries) > MAX_BATCH_ENTRIES:
            raise _err(_QUERY + "TooManyEntriesInBatchRequest",
                       f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. "
                       f"You have sent {len(entries)}.")
        seen = set()
        total = 0
        for entry in entries:
            entry_id = entry.get("Id")
            if not isinstance(entry_id, str) or not _BATCH_ID_RE.fullmatch(entry_id):
                raise _err(_QUERY + "InvalidBatchEntryId",
                           "A batch entry id can only contain alphanumeric characters, hyphens "
                           "and underscores. It can be at most 80 letters long.")
            if entry_id in seen:
                raise _err(_QUERY + "BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
            seen.add(entry_id)
            body = entry.get("MessageBody")
            if isinstance(body, str):
                total += len(body) if body.isascii() else len(body.encode())
        if total > MAX_BATCH_BYTES:
            raise _err(_QUERY + "BatchRequestTooLong", f"Batch requests cannot be longer than "
                       f"{MAX_BATCH_BYTES} bytes. You have sent {total} bytes.")
        items, ids, failed = [], [], []
        for entry in entries:
            try:
                items.append(self._prepare(
                    info, entry.get("MessageBody"), entry.get("DelaySeconds"),
                    entry.get("MessageAttributes"), entry.get("MessageGroupId"),
                    entry.get("MessageDeduplicationId")))
                ids.append(entry["Id"])
            except AwsError as error:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": error.code,
                               "Message": error.message})
        successful = []
        if items:
            for entry_id, result in zip(ids, self._enqueue(info, items)):
                successful.append({"Id": entry_id, **result})
        return {"Successful": successful, "Failed": failed}

    def _prepare(self, info: QueueInfo, body, delay, attributes, group_id, dedup_id) -> tuple:
        """Validate one message; return (body, delay_s, attrs_json, attrs, size,
        group_id, dedup_id). Raises AWS's error and writes nothing."""
        if body is None or body == "":
            raise _err("MissingParameter", "The request must contain the parameter MessageBody.")
        if not isinstance(body, str):
            raise _invalid(f"Invalid type for parameter MessageBody, value: {body!r}, "
                           f"type: {type(body)}, valid types: <class 'str'>")
        if _INVALID_BODY_CHARS.search(body):
            raise _err("InvalidMessageContents",
                       "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | "
                       "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
        size = len(body) if body.isascii() else len(body.encode())
        attrs, attrs_json = None, None
        if attributes:
            attrs, attr_size = _check_message_attributes(attributes)
            size += attr_size
            attrs_json = json.dumps(attrs, separators=(",", ":"))
        if size > info.max_message_size:
            raise _invalid("One or more parameters are invalid. Reason: Message must be shorter "
                           f"than {info.max_message_size} bytes.")
        if delay is not None:
            given_delay, delay = delay, _whole(delay)
            if info.fifo:
                if delay != 0:
                    raise _invalid(f"Value {given_delay} for parameter DelaySeconds is invalid. "
                                   "Reason: The request include parameter that is not valid for "
                                   "this queue type.")
                delay = None
            elif delay is None or not 0 <= delay <= 900:
                raise _invalid(f"Value {given_delay} for parameter DelaySeconds is invalid. "
                               "Reason: DelaySeconds must be >= 0 and <= 900.")
        if group_id is not None:
            group_id = str(group_id)
            if not _FIFO_ID_RE.fullmatch(group_id):
                raise _invalid(f"Value {group_id} for parameter MessageGroupId is invalid. Reason: "
                               "MessageGroupId can only include alphanumeric and punctuation "
                               "characters. 1 to 128 in length.")
        if info.fifo:
            if group_id is None:
                raise _err("MissingParameter",
                           "The request must contain the parameter MessageGroupId.")
            if dedup_id is not None:
                dedup_id = str(dedup_id)
                if not _FIFO_ID_RE.fullmatch(dedup_id):
                    raise _invalid(
                        f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. "
                        "Reason: MessageDeduplicationId can only include alphanumeric and "
                        "punctuation characters. 1 to 128 in length.")
            elif info.content_based_dedup:
                dedup_id = hashlib.sha256(body.encode()).hexdigest()
            else:
                raise _invalid("The queue should either have ContentBasedDeduplication enabled "
                               "or MessageDeduplicationId provided explicitly")
        elif dedup_id is not None:
            raise _invalid(f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. "
                           "Reason: The request includes a parameter that is not valid for this "
                           "queue type.")
        # Standard queues accept a MessageGroupId (fair queues): it is stored only.
        return (body, delay, attrs_json, attrs, size, group_id, dedup_id)

    def _enqueue(self, info: QueueInfo, items: list[tuple], trace=None) -> list[dict]:
        conn = self.conn
        engine = self.engine
        now = engine.now_ms
        uuid = engine.rng.uuid
        name = info.name
        rows, results, sent_ids = [], [], []
        if info.fifo:
            duplicates = []
            # Ids are printable ASCII without spaces, so "group id" cannot collide.
            keys = [f"{it[5]} {it[6]}" if info.dedup_per_group else it[6] for it in items]
            conn.execute("DELETE FROM dedup WHERE queue = ? AND expires_ms <= ?", (name, now))
            unique = list(dict.fromkeys(keys))
            known = {k: (mid, seq) for k, mid, seq in conn.execute(
                "SELECT dedup_id, message_id, seq_no FROM dedup WHERE queue = ? AND dedup_id IN "
                f"({','.join('?' * len(unique))})", (name, *unique))}
            occupied = self._occupied_groups(name, {it[5] for it in items})
            seq = self._next_seq(name)
            visible = now + info.delay_seconds * 1000
            new_dedup = []
            for it, key in zip(items, keys):
                body, _, attrs_json, attrs, size, group, dedup = it
                hit = known.get(key)
                if hit is not None:
                    message_id, seq_no = hit
                    duplicates.append((message_id, dedup))
                else:
                    seq += 1
                    seq_no = str(10**19 + seq)
                    message_id = uuid()
                    head = None if group in occupied else 1
                    occupied.add(group)
                    rows.append((name, message_id, body, attrs_json, size, now, now, visible, 0,
                                 None, group, dedup, seq_no, head, None, trace))
                    known[key] = (message_id, seq_no)
                    new_dedup.append((name, key, now + DEDUP_INTERVAL_MS, message_id, seq_no))
                    sent_ids.append(message_id)
                result = {"MessageId": message_id, "MD5OfMessageBody": md5_of_body(body)}
                if attrs:
                    result["MD5OfMessageAttributes"] = md5_of_message_attributes(attrs)
                result["SequenceNumber"] = seq_no
                results.append(result)
            if new_dedup:
                conn.execute("UPDATE queues SET next_seq = ? WHERE name = ?", (seq, name))
                conn.executemany("INSERT OR REPLACE INTO dedup (queue, dedup_id, expires_ms, "
                                 "message_id, seq_no) VALUES (?, ?, ?, ?, ?)", new_dedup)
            for message_id, dedup in duplicates:
                engine.log(
                    "sqs.deduplicated", name,
                    f"message accepted but not enqueued: MessageDeduplicationId {dedup[:16]} was "
                    f"already used by message {_short(message_id)} within the 5-minute "
                    "deduplication interval (FIFO exactly-once processing)",
                    subject=message_id)
            earliest = visible
        else:
            default_delay = info.delay_seconds
            earliest = None
            for it in items:
                body, delay, attrs_json, attrs, size, group, _ = it
                visible = now + (default_delay if delay is None else delay) * 1000
                if earliest is None or visible < earliest:
                    earliest = visible
                message_id = uuid()
                rows.append((name, message_id, body, attrs_json, size, now, now, visible, 0,
                             None, group, None, None, None, None, trace))
                sent_ids.append(message_id)
                result = {"MessageId": message_id, "MD5OfMessageBody": md5_of_body(body)}
                if attrs:
                    result["MD5OfMessageAttributes"] = md5_of_message_attributes(attrs)
                results.append(result)
        if rows:
            conn.executemany(_INSERT, rows)
            self._adjust_total(name, len(rows))
            self._arm_expiry(name, now + info.retention_seconds * 1000)
            if earliest > now:
                delayed = sum(1 for r in rows if r[7] > now)
                reason = (f"{_plural(len(rows), 'message')} sent to {name}; {delayed} "
                          f"not visible until their delay ends (DelaySeconds)")
            else:
                reason = f"{_plural(len(rows), 'message')} sent to {name}"
            engine.log("sqs.sent", name, reason, data=sent_ids)
            self._notify(name, earliest)
        return results

    # --- receive -----------------------------------------------------------------

    def receive(self, name, max_messages=1, visibility_timeout=None, holder=None) -> list[dict]:
        """ReceiveMessage: up to `max_messages` (1-10) visible messages.

        Each returned message becomes invisible for the visibility timeout
        (the override, else the queue's), its receive count goes up by one and
        it gets a new receipt handle. A message whose receive count has already
        reached the RedrivePolicy's maxReceiveCount is moved to the DLQ instead
        of being returned; `self.last_moved` lists those moves after each call.
        `holder` (e.g. a mapping label) is recorded on the rows for panels.
        """
        info = self.info(name)
        if (not isinstance(max_messages, int) or isinstance(max_messages, bool)
                or not 1 <= max_messages <= MAX_RECEIVE):
            raise _invalid(f"Value {max_messages} for parameter MaxNumberOfMessages is invalid. "
                           "Reason: Must be between 1 and 10, if provided.")
        if visibility_timeout is None:
            timeout = info.visibility_timeout
        else:
            timeout = _whole(visibility_timeout)
            if timeout is None or not 0 <= timeout <= MAX_VISIBILITY_S:
                raise _invalid(f"Value {visibility_timeout} for parameter VisibilityTimeout is "
                               "invalid. Reason: Must be between 0 and 43200, if provided.")
        self.last_moved = []
        engine = self.engine
        now = engine.now_ms
        self._expire(info, now)
        if info.fifo:
            picked, moved = self._pick_fifo(info, max_messages, now)
        else:
            picked, moved = self._pick_standard(info, max_messages, now)
        if moved:
            self._move_to_dlq(info, moved, now)
        if not picked:
            return []

        until = now + timeout * 1000
        # One draw per call; every handle is new (fresh token) and distinct
        # within the call (row id), which is all a receipt handle must be.
        base = int(engine.rng.token(8), 16)
        updates, out, ids = [], [], []
        for r in picked:
            row_id = r[_ID]
            count = r[_RC] + 1
            first = r[_FIRST] if r[_FIRST] is not None else now
            handle = f"{(base ^ (row_id * _MIX)) & _MASK64:016x}{row_id:x}"
            updates.append((count, first, now, until, handle, holder, row_id))
            attrs = r[_ATTRS]
            out.append({
                "id": row_id, "message_id": r[_MID], "receipt_handle": handle,
                "body": r[_BODY], "sent_ms": r[_SENT], "receive_count": count,
                "first_receive_ms": first,
                "message_attributes": json.loads(attrs) if attrs is not None else None,
                "group_id": r[_GROUP], "dedup_id": r[_DEDUP], "sequence_number": r[_SEQ],
                "size": r[_SIZE], "dlq_source_arn": r[_DLQ_SOURCE],
                "trace_header": r[_TRACE],
            })
            ids.append(r[_MID])
        self.conn.executemany(_UPDATE_RECEIVED, updates)
        wake = until
        if info.duplicate_rate > 0:
            if self._duplicate(info, picked, now):
                wake = now
        by = f" by {holder}" if holder else ""
        engine.log(
            "sqs.received", name,
            f"{_plural(len(out), 'message')} received from {name}{by}: invisible for {timeout} s "
            f"({'VisibilityTimeout' if visibility_timeout is None else 'receive override'}), "
            "ApproximateReceiveCount +1; they return unless deleted first",
            data={"message_ids": ids, "visible_at_ms": until, "holder": holder})
        self._notify(name, wake)
        return out

    def _pick_standard(self, info: QueueInfo, n: int, now: int):
        """Mostly oldest first, shuffled a little (see _SHUFFLE_PICK): order is
        not guaranteed."""
        conn, below = self.conn, self.engine.rng.below
        limit = n + _SHUFFLE_WINDOW
        max_count = info.max_receive_count if info.dlq_name else None
        picked, moved, pool = [], [], []
        offset, exhausted = 0, False
        while len(picked) < n:
            if not exhausted and len(pool) < _SHUFFLE_WINDOW:
                rows = conn.execute(_SELECT_STANDARD, (info.name, now, limit, offset)).fetchall()
                offset += len(rows)
                exhausted = len(rows) < limit
                pool.extend(rows)
            if not pool:
                break
            j = _SHUFFLE_PICK[below(8)] if len(pool) > 1 else 0
            r = pool.pop(j if j < len(pool) else 0)
            if max_count is not None and r[_RC] >= max_count:
                moved.append(r)
            else:
                picked.append(r)
        return picked, moved

    def _pick_fifo(self, info: QueueInfo, n: int, now: int):
        """Oldest groups first; from each group a run in sequence order, never
        from a group that has a message in flight.

        Groups are found through their head (oldest) message. Receives take
        runs from the head, so the received-but-not-deleted messages of a group
        are always its first ones (at most 10): once the rows read reach a
        never-received message, they show whether any of the group is in flight.
        """
        conn = self.conn
        max_count = info.max_receive_count if info.dlq_name else None
        picked, moved = [], []
        for (group,) in conn.execute(_SELECT_HEADS, (info.name, now)):
            limit = n - len(picked)
            rows = conn.execute(_SELECT_GROUP, (info.name, group, limit)).fetchall()
            if len(rows) == limit and rows[-1][_HANDLE] is not None:
                rows = conn.execute(_SELECT_GROUP, (info.name, group, limit + 10)).fetchall()
            if any(r[_HANDLE] is not None and r[_VIS] > now for r in rows):
                continue  # group locked: a message of it is in flight
            for r in rows:
                if r[_VIS] > now:
                    break
                if max_count is not None and r[_RC] >= max_count:
                    moved.append(r)
                    continue
                picked.append(r)
                if len(picked) == n:
                    break
            if len(picked) == n:
                break
        return picked, moved

    def _duplicate(self, info: QueueInfo, picked: list, now: int) -> bool:
        """At-least-once delivery: sometimes SQS keeps another copy visible.

        Lab bound: only a message's first receive may leave a copy, and the
        copy (it carries that first receive time) never does, so a message is
        delivered at most twice more than its failures make it; duplicate_rate
        1 is "every message twice", not a copy of a copy of a copy. The chance
        is drawn for every message received, copy or not, so the generator's
        sequence does not depend on which rows are copies."""
        chance = self.engine.rng.chance
        copies = []
        for r in picked:
            if chance(info.duplicate_rate) and r[_FIRST] is None:
                copies.append((info.name, r[_MID], r[_BODY], r[_ATTRS], r[_SIZE], r[_SENT],
                               r[_ENQ], now, r[_RC], now, r[_GROUP], None, None, None,
                               r[_DLQ_SOURCE], r[_TRACE]))
        if not copies:
            return False
        self.conn.executemany(_INSERT, copies)
        self._adjust_total(info.name, len(copies))
        for c in copies:
            self.engine.log(
                "sqs.duplicate", info.name,
                f"message {_short(c[1])} was delivered, but SQS also kept a second copy visible "
                "(standard queues deliver at least once): it can be received again even though "
                "nothing failed, so handlers must be idempotent",
                subject=c[1], data={"duplicate_rate": info.duplicate_rate})
        return True

    def _move_to_dlq(self, info: QueueInfo, rows: list, now: int) -> None:
        """Redrive: same MessageId, body, attributes and receive count. A
        standard DLQ keeps the original enqueue time (retention continues), a
        FIFO DLQ resets it. UNCERTAIN: a moved message gets the DLQ's next
        SequenceNumber and is visible at once (the DLQ's DelaySeconds is not
        applied)."""
        dlq = self.info(info.dlq_name)
        conn = self.conn
        inserts = []
        if dlq.fifo:
            occupied = self._occupied_groups(dlq.name, {r[_GROUP] for r in rows})
            seq = self._next_seq(dlq.name)
        for r in rows:
            if dlq.fifo:
                seq += 1
                head = None if r[_GROUP] in occupied else 1
                occupied.add(r[_GROUP])
                inserts.append((dlq.name, r[_MID], r[_BODY], r[_ATTRS], r[_SIZE], r[_SENT], now,
                                now, r[_RC], r[_FIRST], r[_GROUP], r[_DEDUP], str(10**19 + seq),
                                head, info.arn, r[_TRACE]))
            else:
                inserts.append((dlq.name, r[_MID], r[_BODY], r[_ATTRS], r[_SIZE], r[_SENT],
                                r[_ENQ], now, r[_RC], r[_FIRST], r[_GROUP], None, None, None,
                                info.arn, r[_TRACE]))
        if dlq.fifo:
            conn.execute("UPDATE queues SET next_seq = ? WHERE name = ?", (seq, dlq.name))
        conn.executemany("DELETE FROM messages WHERE id = ?", [(r[_ID],) for r in rows])
        conn.executemany(_INSERT, inserts)
        self._adjust_total(info.name, -(len(rows)))
        self._adjust_total(dlq.name, len(rows))
        self._expiry_floor.pop(dlq.name, None)
        self._arm_expiry(dlq.name, min(i[6] for i in inserts) + dlq.retention_seconds * 1000)
        if info.fifo:
            self._promote_heads(info.name, {r[_GROUP] for r in rows})
        limit = info.max_receive_count
        for r in rows:
            count = r[_RC]
            self.engine.log(
                "sqs.moved_to_dlq", info.name,
                f"message {_short(r[_MID])} moved to {dlq.name}: it had been received {count} "
                f"times and receive {count + 1} would exceed maxReceiveCount {limit} "
                "(RedrivePolicy), so SQS moved it instead of delivering it",
                subject=r[_MID], data={"dlq": dlq.name, "receive_count": count,
                                       "max_receive_count": limit})
            self.last_moved.append({"message_id": r[_MID], "body": r[_BODY],
                                    "receive_count": count})
        self._notify(dlq.name, now)

    def redrive(self, name: str, n: int, destination: str | None) -> tuple[int, bool]:
        """One step of a message move task (message_moves.py): move up to `n`
        visible messages of `name`, oldest first, to `destination`, or (None)
        each back to the queue it came from (its dlq_source). Returns (moved,
        whether a queue to move to no longer exists). A moved message keeps
        its MessageId, body, attributes and SentTimestamp and arrives visible
        with a receive count of 0 (the lab's choice, see message_moves.py)."""
        info = self.info(name)
        now = self.engine.now_ms
        self._expire(info, now)
        only_sourced = "" if destination else "AND dlq_source IS NOT NULL "
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM messages INDEXED BY messages_enqueued WHERE queue = ? "
            f"AND visible_ms <= ? {only_sourced}ORDER BY enqueued_ms, id LIMIT ?",
            (name, now, n)).fetchall()
        by_target: dict[str, list] = {}
        for r in rows:
            target = destination or self.name_for_arn(r[_DLQ_SOURCE])
            if target is None:
                return 0, True
            by_target.setdefault(target, []).append(r)
        moved = 0
        for target, group in by_target.items():
            dest = self.info(target)
            inserts = [(target, r[_MID], r[_BODY], r[_ATTRS], r[_SIZE], r[_SENT], now, now, 0,
                        None, r[_GROUP], None, None, None, None, r[_TRACE]) for r in group]
            self.conn.executemany("DELETE FROM messages WHERE id = ?", [(r[_ID],) for r in group])
            self.conn.executemany(_INSERT, inserts)
            self._adjust_total(name, -len(group))
            self._adjust_total(target, len(group))
            self._arm_expiry(target, now + dest.retention_seconds * 1000)
            self.engine.log("sqs.redriven", name,
                            f"{_plural(len(group), 'message')} moved from {name} to {target} by "
                            "a message move task (DLQ redrive): visible at once, receive count 0",
                            data=[r[_MID] for r in group])
            self._notify(target, now)
            moved += len(group)
        return moved, False

    # --- delete and visibility -----------------------------------------------------

    def delete(self, name, receipt_handle) -> bool:
        """DeleteMessage. True if a message was deleted.

        A malformed handle raises ReceiptHandleIsInvalid. A well-formed but
        stale handle (the message was received again since, or is already
        gone) deletes nothing and raises nothing, as SQS accepts it silently.
        UNCERTAIN: real FIFO queues may instead reject a handle whose
        visibility timeout has expired ("The receipt handle has expired");
        the lab treats both queue types the same.
        """
        info = self.info(name)
        row_id = _handle_row(receipt_handle)
        row = self.conn.execute(
            "SELECT message_id, group_id FROM messages WHERE id = ? AND queue = ? AND "
            "receipt_handle = ?", (row_id, name, receipt_handle)).fetchone()
        if row is None:
            self.engine.log(
                "sqs.delete_ignored", name,
                "delete with a stale receipt handle ignored: the message was received again "
                "since (each receive issues a new handle) or is already gone; nothing deleted")
            return False
        self.conn.execute("DELETE FROM messages WHERE id = ?", (row_id,))
        self._adjust_total(name, -(1))
        self.engine.log("sqs.deleted", name, f"message {_short(row[0])} deleted from {name}",
                        subject=row[0])
        if info.fifo:
            self._promote_heads(name, {row[1]})
            self._notify(name, self.engine.now_ms)
        return True

    def delete_many(self, name, receipt_handles: list[str]) -> int:
        """Fast path for pollers: delete by handles in one executemany.
        Returns how many messages were deleted (stale handles count 0)."""
        info = self.info(name)
        if not receipt_handles:
            return 0
        params = [(_handle_row(h), name, h) for h in receipt_handles]
        conn = self.conn
        groups = None
        if info.fifo:
            groups = {g for (g,) in conn.execute(
                f"SELECT group_id FROM messages WHERE id IN ({','.join('?' * len(params))})",
                [p[0] for p in params])}
        deleted = conn.executemany(_DELETE_BY_HANDLE, params).rowcount
        if deleted:
            self._adjust_total(name, -(deleted))
        stale = len(params) - deleted
        extra = f" ({stale} stale receipt handles ignored)" if stale else ""
        self.engine.log("sqs.deleted", name,
                        f"{_plural(deleted, 'message')} deleted from {name}{extra}",
                        data={"deleted": deleted, "stale": stale})
        if groups:
            self._promote_heads(name, groups)
            self._notify(name, self.engine.now_ms)
        return deleted

    def change_visibility(self, name, receipt_handle, visibility_timeout) -> None:
        """ChangeMessageVisibility: the message becomes visible `visibility_timeout`
        seconds from now (0 = at once). The total since the receive may not exceed
        12 hours. A stale handle changes nothing and raises AWS's error.
        UNCERTAIN: a current handle whose visibility already ended still works."""
        self.info(name)  # QueueDoesNotExist for an unknown queue
        row_id = _handle_row(receipt_handle)
        timeout = _whole(visibility_timeout)
        if timeout is None or not 0 <= timeout <= MAX_VISIBILITY_S:
            raise _invalid(f"Value {visibility_timeout} for parameter VisibilityTimeout is "
                           "invalid. Reason: Must be between 0 and 43200, if provided.")
        row = self.conn.execute(
            "SELECT message_id, received_ms FROM messages WHERE id = ? AND queue = ? AND "
            "receipt_handle = ?", (row_id, name, receipt_handle)).fetchone()
        if row is None:
            raise _invalid(f"Value {receipt_handle} for parameter ReceiptHandle is invalid. "
                           "Reason: Message does not exist or is not available for visibility "
                           "timeout change.")
        now = self.engine.now_ms
        if now - row[1] + timeout * 1000 > MAX_VISIBILITY_S * 1000:
            raise _invalid(f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: "
                           "Total VisibilityTimeout for the message is beyond the limit "
                           f"[{MAX_VISIBILITY_S} seconds]")
        until = now + timeout * 1000
        self.conn.execute("UPDATE messages SET visible_ms = ? WHERE id = ?", (until, row_id))
        self.engine.log(
            "sqs.visibility_changed", name,
            f"message {_short(row[0])} visibility changed: visible again in {timeout} s "
            "(ChangeMessageVisibility)", subject=row[0], data={"visible_at_ms": until})
        self._notify(name, until)

    def release(self, name, receipt_handles, visible_at_ms) -> None:
        """Fast path for pollers: make these in-flight messages visible at
        `visible_at_ms` (stale handles are skipped). The poller narrates why."""
        self.info(name)
        params = [(visible_at_ms, _handle_row(h), name, h) for h in receipt_handles]
        if params:
            self.conn.executemany("UPDATE messages SET visible_ms = ? WHERE id = ? AND queue = ? "
                                  "AND receipt_handle = ?", params)
            self._notify(name, visible_at_ms)

    # --- reading -----------------------------------------------------------------

    def next_visible_ms(self, name) -> int | None:
        """Earliest future time a message becomes visible (delay or visibility
        end), or None if nothing is pending."""
        self.info(name)
        return self.conn.execute(
            "SELECT min(visible_ms) FROM messages WHERE queue = ? AND visible_ms > ?",
            (name, self.engine.now_ms)).fetchone()[0]

    def counts(self, name) -> dict:
        """ApproximateNumberOfMessages (visible), ...NotVisible (in_flight),
        ...Delayed (delayed), their total, and ApproximateAgeOfOldestMessage in
        ms (0 when empty). Cost grows with in-flight + delayed messages only."""
        now = self.engine.now_ms
        delayed = in_flight = 0
        for never_received, count in self.conn.execute(
                "SELECT receipt_handle IS NULL, count(*) FROM messages "
                "WHERE queue = ? AND visible_ms > ? GROUP BY 1", (name, now)):
            if never_received:
                delayed = count
            else:
                in_flight = count
        total = self._total(name)
        oldest = self.conn.execute("SELECT min(enqueued_ms) FROM messages WHERE queue = ?",
                                   (name,)).fetchone()[0]
        return {"visible": total - delayed - in_flight, "in_flight": in_flight,
                "delayed": delayed, "total": total,
                "oldest_age_ms": 0 if oldest is None else max(0, now - oldest)}

    def has_visible(self, name) -> bool:
        """Whether a message could be received now (one indexed probe; the
        pollers ask this on every pump, counts() would scan the in-flight)."""
        return self.conn.execute(
            "SELECT 1 FROM messages WHERE queue = ? AND visible_ms <= ? LIMIT 1",
            (name, self.engine.now_ms)).fetchone() is not None

    def page(self, name, offset=0, limit=50, state=None) -> list[dict]:
        """Message rows for panels. state None or "visible": oldest enqueued
        first; "in_flight" / "delayed": soonest visible first."""
        self.info(name)
        now = self.engine.now_ms
        cols = ("id, message_id, body, receive_count, group_id, seq_no, sent_ms, visible_ms, "
                "receipt_handle, holder, size, dedup_id, first_receive_ms, enqueued_ms")
        if state is None:
            sql = (f"SELECT {cols} FROM messages INDEXED BY messages_enqueued WHERE queue = ? "
                   "ORDER BY enqueued_ms, id LIMIT ? OFFSET ?")
            args = (name, limit, offset)
        elif state == "visible":
            sql = (f"SELECT {cols} FROM messages INDEXED BY messages_enqueued WHERE queue = ? "
                   "AND visible_ms <= ? ORDER BY enqueued_ms, id LIMIT ? OFFSET ?")
            args = (name, now, limit, offset)
        elif state in ("in_flight", "delayed"):
            test = "IS NOT NULL" if state == "in_flight" else "IS NULL"
            sql = (f"SELECT {cols} FROM messages INDEXED BY messages_ready WHERE queue = ? AND "
                   f"visible_ms > ? AND receipt_handle {test} ORDER BY visible_ms, id "
                   "LIMIT ? OFFSET ?")
            args = (name, now, limit, offset)
        else:
            raise ValueError(f"state must be visible, in_flight, delayed or None, not {state!r}")
        out = []
        for (row_id, message_id, body, count, group, seq, sent, visible, handle, holder, size,
             dedup, first, enqueued) in self.conn.execute(sql, args):
            if visible <= now:
                row_state = "visible"
            else:
                row_state = "delayed" if handle is None else "in_flight"
            out.append({
                "id": row_id, "message_id": message_id, "body": body, "state": row_state,
                "receive_count": count, "group_id": group, "sequence_number": seq,
                "dedup_id": dedup, "sent_ms": sent, "enqueued_ms": enqueued,
                "first_receive_ms": first, "visible_ms": visible,
                "ms_until_visible": max(0, visible - now),
                "holder": holder if row_state == "in_flight" else None, "size": size,
            })
        return out

    def purge_expired(self, name) -> int:
        """Delete messages older than MessageRetentionPeriod (from enqueue).
        Returns how many. Also done lazily by receive, counts and page."""
        return self._expire(self.info(name), self.engine.now_ms)

    # --- internals -----------------------------------------------------------------

    def _arm_expiry(self, name: str, at_ms: int) -> None:
        # Skip the agenda look-up when an earlier expiry timer is known to be
        # pending (a due time still in the future has not fired yet).
        armed = self._armed.get(name)
        if armed is not None and self.engine.now_ms < armed <= at_ms:
            return
        self.engine.agenda.schedule("queue.expire", f"qexpire:{name}", at_ms, name)
        self._armed[name] = self.engine.agenda.pending(f"qexpire:{name}")

    def _on_expire_timer(self, key: str, name: str) -> None:
        info = self.info(name)
        self._expire(info, self.engine.now_ms)
        oldest = self.conn.execute("SELECT min(enqueued_ms) FROM messages WHERE queue = ?",
                                   (name,)).fetchone()[0]
        if oldest is not None:
            self._arm_expiry(name, oldest + info.retention_seconds * 1000 + 1)

    def _expire(self, info: QueueInfo, now: int) -> int:
        name = info.name
        floor = self._expiry_floor.get(name)
        if floor is not None and now < floor:
            return 0
        retention_ms = info.retention_seconds * 1000
        cutoff = now - retention_ms
        conn = self.conn
        oldest = conn.execute("SELECT min(enqueued_ms) FROM messages WHERE queue = ?",
                              (name,)).fetchone()[0]
        if oldest is None or oldest > cutoff:
            # Nothing in the queue now can expire before this; anything sent
            # later expires later still (DLQ moves lower the floor).
            self._expiry_floor[name] = now + retention_ms if oldest is None \
                else oldest + retention_ms
            return 0
        self._expiry_floor.pop(name, None)
        # In SQL and in chunks: a million expired messages never come into
        # Python; the journal names the first 100.
        where = "FROM messages WHERE queue = ? AND enqueued_ms <= ?"
        count = conn.execute(f"SELECT count(*) {where}", (name, cutoff)).fetchone()[0]
        ids = [r[0] for r in conn.execute(
            f"SELECT message_id {where} ORDER BY enqueued_ms, id LIMIT 100", (name, cutoff))]
        groups = {r[0] for r in conn.execute(f"SELECT DISTINCT group_id {where}",
                                             (name, cutoff))} if info.fifo else set()
        while conn.execute(f"DELETE FROM messages WHERE id IN (SELECT id {where} LIMIT ?)",
                           (name, cutoff, EXPIRE_CHUNK)).rowcount == EXPIRE_CHUNK:
            pass
        self._adjust_total(name, -count)
        if info.fifo:
            self._promote_heads(name, groups)
        self.engine.log(
            "sqs.expired", name,
            f"{_plural(count, 'message')} deleted from {name}: older than "
            f"MessageRetentionPeriod {info.retention_seconds} s (counted from when each "
            "entered the queue)",
            data={"count": count, "message_ids": ids})
        return count

    def _adjust_total(self, name: str, delta: int) -> None:
        # Only a cached total is adjusted: an uncached one is counted afresh
        # on its next use (after the rows changed), never counted twice.
        if name in self._totals:
            self._totals[name] += delta

    def _total(self, name: str) -> int:
        total = self._totals.get(name)
        if total is None:
            total = self.conn.execute("SELECT count(*) FROM messages WHERE queue = ?",
                                      (name,)).fetchone()[0]
            self._totals[name] = total
        return total

    def _occupied_groups(self, name: str, groups: set) -> set:
        """The groups among `groups` that still have messages in queue `name`."""
        return {g for (g,) in self.conn.execute(
            "SELECT value FROM json_each(?) WHERE EXISTS (SELECT 1 FROM messages "
            "WHERE queue = ? AND group_id = value)", (json.dumps(list(groups)), name))}

    def _next_seq(self, name: str) -> int:
        return self.conn.execute("SELECT next_seq FROM queues WHERE name = ?",
                                 (name,)).fetchone()[0]

    def _promote_heads(self, name: str, groups) -> None:
        self.conn.executemany(_PROMOTE_HEAD, [(name, g) for g in groups if g is not None])

    def _row(self, name):
        return self.conn.execute(
            "SELECT name, fifo, attributes, duplicate_rate FROM queues WHERE name = ?",
            (name,)).fetchone()

    def _notify(self, name: str, at_ms) -> None:
        if at_ms is None:
            return
        ready = getattr(getattr(self.engine, "mappings", None), "on_queue_ready", None)
        if ready is not None:
            ready(name, at_ms)

    def _normalise(self, name: str, fifo: bool, given: dict, creating: bool) -> dict:
        """Validate attribute names and values; return {name: AWS string or
        None (RedrivePolicy removed)}."""
        out = {}
        for key, value in given.items():
            if key not in _SETTABLE:
                raise _err("InvalidAttributeName", f"Unknown Attribute {key}.")
            if key in _NUMERIC:
                low, high = _NUMERIC[key]
                number = _whole(value, strict=True)
                if number is None or not low <= number <= high:
                    raise _err("InvalidAttributeValue", f"Invalid value for the parameter {key}.")
                out[key] = str(number)
            elif key in _BOOLEAN:
                flag = _boolean_value(key, value)
                if flag is None:
                    raise _err("InvalidAttributeValue", f"Invalid value for the parameter {key}.")
                out[key] = flag
            elif key in _ENUMS:
                if value not in _ENUMS[key]:
                    raise _err("InvalidAttributeValue", f"Invalid value for the parameter {key}.")
                out[key] = value
            elif key == "RedrivePolicy":
                out[key] = self._redrive_policy(name, fifo, value)
            else:
                out[key] = (json.dumps(value, separators=(",", ":"))
                            if isinstance(value, (dict, list)) else str(value))
        if creating and out.get("RedrivePolicy", "") is None:
            del out["RedrivePolicy"]
        return out

    def _redrive_policy(self, name: str, fifo: bool, value) -> str | None:
        if value == "" or value == {}:
            return None
        raw = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

        def bad(reason: str) -> AwsError:
            return _invalid(f"Value {raw} for parameter RedrivePolicy is invalid. "
                            f"Reason: {reason}")

        policy = value
        if isinstance(value, str):
            try:
                policy = json.loads(value)
            except ValueError:
                raise bad("Redrive policy is not a valid JSON map.") from None
        if not isinstance(policy, dict):
            raise bad("Redrive policy is not a valid JSON map.")
        if not policy:
            return None
        for key in ("deadLetterTargetArn", "maxReceiveCount"):
            if key not in policy:
                raise bad(f"Redrive policy does not contain mandatory attribute: {key}.")
        count = _whole(policy["maxReceiveCount"], strict=True)
        if count is None or not 1 <= count <= 1000:
            raise bad(f"Invalid value for maxReceiveCount: {policy['maxReceiveCount']}, valid "
                      "values are from 1 to 1000 both inclusive.")
        arn = policy["deadLetterTargetArn"]
        target = self.name_for_arn(arn) if isinstance(arn, str) else None
        if target is None:
            raise bad("Dead letter target does not exist.")
        if self.info(target).fifo != fifo:
            raise bad("Dead-letter queue must be same type of queue as the source..")
        return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count},
                          separators=(",", ":"))


# --- helpers ----------------------------------------------------------------------


def _info_from_row(row) -> QueueInfo:
    name, fifo, attributes, rate = row
    a = json.loads(attributes)
    dlq_name = max_count = None
    if a.get("RedrivePolicy"):
        policy = json.loads(a["RedrivePolicy"])
        dlq_name = name_of(policy["deadLetterTargetArn"])
        max_count = int(policy["maxReceiveCount"])
    shown = {"QueueArn": queue_arn(name), **a}
    return QueueInfo(
        name=name, arn=queue_arn(name), url=queue_url(name), fifo=bool(fifo),
        visibility_timeout=int(a["VisibilityTimeout"]),
        retention_seconds=int(a["MessageRetentionPeriod"]),
        delay_seconds=int(a["DelaySeconds"]),
        max_message_size=int(a["MaximumMessageSize"]),
        receive_wait_seconds=int(a["ReceiveMessageWaitTimeSeconds"]),
        content_based_dedup=a.get("ContentBasedDeduplication") == "true",
        dlq_name=dlq_name, max_receive_count=max_count, duplicate_rate=float(rate),
        attributes=shown, dedup_per_group=a.get("DeduplicationScope") == "messageGroup")


def _public_attributes(info: QueueInfo) -> dict:
    return dict(info.attributes)


def _whole(value, strict: bool = False) -> int | None:
    """An int from an int or a string of digits (attribute values); None if not
    a whole number. Booleans are not numbers here (AWS rejects them)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS_RE.fullmatch(value):
        return int(value)
    if not strict and isinstance(value, str) and value.startswith("-") \
            and _DIGITS_RE.fullmatch(value[1:]):
        return -int(value[1:])
    return None


def _boolean_value(key: str, value) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    return None


def _check_rate(rate, fifo: bool) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise _invalid(f"duplicate_rate must be a number from 0 to 1, not {rate!r} "
                       "(lab setting: the chance a received message also stays visible as a "
                       "duplicate)")
    if fifo and rate:
        raise _invalid("duplicate_rate applies to standard queues only: FIFO queues deliver "
                       "each message exactly once")
    return float(rate)


def _handle_row(handle) -> int:
    if not isinstance(handle, str) or not _HANDLE_RE.fullmatch(handle):
        raise _bad_handle(handle)
    return int(handle[_HANDLE_TOKEN_LEN:], 16)


def _check_message_attributes(attributes) -> tuple[dict, int]:
    """Validate SendMessage-shaped message attributes; return (normalised, size)
    where size counts names, data types and values in bytes, as SQS does."""
    if not isinstance(attributes, dict):
        raise _invalid("Value for parameter MessageAttributes is invalid. Reason: must be a map "
                       "of attribute name to {DataType, StringValue | BinaryValue}.")
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise _invalid(f"Number of message attributes [{len(attributes)}] exceeds the allowed "
                       f"maximum [{MAX_MESSAGE_ATTRIBUTES}].")
    out, size = {}, 0
    for name, attribute in attributes.items():
        if not isinstance(name, str) or not _ATTR_NAME_RE.fullmatch(name) \
                or name.startswith(".") or name.endswith(".") or ".." in name:
            raise _invalid(f"The message attribute name '{name}' is invalid. Attribute name can "
                           "contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) "
                           "characters.")
        if name.lower().startswith(("aws.", "amazon.")):
            raise _invalid("You can't use message attribute names beginning with 'AWS.' or "
                           "'Amazon.'. These strings are reserved for internal use.")
        data_type = attribute.get("DataType") if isinstance(attribute, dict) else None
        base = data_type.split(".", 1)[0] if isinstance(data_type, str) else None
        if base not in ("String", "Number", "Binary"):
            raise _invalid(f"The message attribute '{name}' has an invalid message attribute "
                           "type, the set of supported type prefixes is Binary, Number, and "
                           "String.")
        size += len(name.encode()) + len(data_type.encode())
        if base == "Binary":
            value = attribute.get("BinaryValue")
            if isinstance(value, (bytes, bytearray)):
                raw, text = bytes(value), base64.b64encode(value).decode("ascii")
            elif isinstance(value, str):
                try:
                    raw, text = base64.b64decode(value, validate=True), value
                except ValueError:
                    raw = None
            else:
                raw = None
            if not raw:
                # AWS's text as recorded in 2025 (for a String; the same form for Binary).
                raise _invalid(f"Message (user) attribute '{name}' must contain a non-empty "
                               "value of type 'Binary'.")
            size += len(raw)
            out[name] = {"DataType": data_type, "BinaryValue": text}
        else:
            value = attribute.get("StringValue")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or value == "":
                # AWS's text (LocalStack's SQS snapshot, recorded 2025).
                raise _invalid(f"Message (user) attribute '{name}' must contain a non-empty "
                               f"value of type '{base}'.")
            if base == "Number":
                try:
                    float(value)
                except ValueError:
                    raise _invalid(f"Can't cast the value of message (user) attribute '{name}' "
                                   "to a number.") from None
            size += len(value.encode())
            out[name] = {"DataType": data_type, "StringValue": value}
    return out, size
