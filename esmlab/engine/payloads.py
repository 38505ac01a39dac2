"""The exact JSON shapes Lambda sends: SQS, Kinesis and DynamoDB Streams
events, tumbling-window events, and the on-failure destination record.

Everything here is a pure function of its arguments. Ids, times and random
UUIDs are passed in (times are epoch milliseconds on the lab's virtual clock),
so the same inputs always give the same JSON. Field names, nesting and value
types follow section 4 of the behaviour reference field for field.

These builders run once per record in hot loops, so they use plain dict
literals and never deep-copy. Dicts passed in (DynamoDB keys and images,
window state) are placed into the result as they are: whoever hands an event
to user code should give it a JSON round-trip copy, as real Lambda does.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone

from esmlab.engine.arns import REGION, queue_arn, role_arn, stream_arn

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invoke payload cap

# Byte length of '{"Records":[]}': the envelope every batch event starts from.
EMPTY_EVENT_BYTES = 14

# SenderId when a message does not say who sent it: shaped like an IAM
# user's unique id (AIDA + 17 characters), made up for the lab.
DEFAULT_SENDER_ID = "AIDAESMLABSENDER00001"

# Kinesis records name the ESM's execution role; the lab has one role.
DEFAULT_INVOKE_IDENTITY_ARN = role_arn()

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_COMPACT = (",", ":")

# StreamViewType -> (NewImage allowed, OldImage allowed)
_VIEW_IMAGES = {
    "KEYS_ONLY": (False, False),
    "NEW_IMAGE": (True, False),
    "OLD_IMAGE": (False, True),
    "NEW_AND_OLD_IMAGES": (True, True),
}
_DDB_EVENT_NAMES = frozenset(("INSERT", "MODIFY", "REMOVE"))
_BATCH_INFO_KEY = {"kinesis": "KinesisBatchInfo", "dynamodb": "DDBStreamBatchInfo"}
_CONDITIONS = frozenset(("RetryAttemptsExhausted", "RecordAgeExceeded"))


# --- time formatting -------------------------------------------------------


def _utc(ms: int) -> datetime:
    # timedelta arithmetic is exact for integers; a float timestamp would not be.
    return _EPOCH + timedelta(milliseconds=ms)


def iso(ms: int) -> str:
    """ISO-8601 UTC with milliseconds and Z: 1704067201500 -> "2024-01-01T00:00:01.500Z"."""
    return f"{_utc(ms):%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def iso_s(ms: int) -> str:
    """ISO-8601 UTC to the whole second (rounded down), no fraction: "2024-01-01T00:00:01Z".

    AWS uses this form for tumbling-window bounds and for DynamoDB arrival
    times in failure records (whose source value is whole seconds).
    """
    return f"{_utc(ms):%Y-%m-%dT%H:%M:%S}Z"


# --- SQS ---------------------------------------------------------------------


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _binary_bytes(value: str | bytes) -> bytes:
    # BinaryValue arrives base64-encoded (SendMessage JSON shape); raw bytes are tolerated.
    return value if isinstance(value, bytes) else base64.b64decode(value)


def md5_of_message_attributes(attributes: dict) -> str:
    """MD5 hex of SendMessage-shaped message attributes, by SQS's documented algorithm.

    Per attribute, in ascending name order: 4-byte big-endian length + UTF-8
    name, length + UTF-8 DataType (custom suffix included), one transport byte
    (1 = String, also used by Number; 2 = Binary), then length + value bytes
    (UTF-8 for strings, raw decoded bytes for binary).
    """
    digest = hashlib.md5()
    for name in sorted(attributes):
        attribute = attributes[name]
        digest.update(_length_prefixed(name.encode()))
        digest.update(_length_prefixed(attribute["DataType"].encode()))
        if "BinaryValue" in attribute:
            digest.update(b"\x02" + _length_prefixed(_binary_bytes(attribute["BinaryValue"])))
        else:
            digest.update(b"\x01" + _length_prefixed(attribute["StringValue"].encode()))
    return digest.hexdigest()


def md5_of_body(body: str) -> str:
    """MD5 hex of the UTF-8 message body (SQS's MD5OfMessageBody)."""
    return hashlib.md5(body.encode()).hexdigest()


def _event_attribute(attribute: dict) -> dict:
    """SendMessage shape {"DataType", "StringValue"|"BinaryValue"} -> Lambda event shape."""
    if "BinaryValue" in attribute:
        value = attribute["BinaryValue"]
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode("ascii")
        first = {"binaryValue": value}
    else:
        first = {"stringValue": attribute["StringValue"]}
    # The list fields are "reserved for future use" by SQS but always present (empty) in events.
    first["stringListValues"] = []
    first["binaryListValues"] = []
    first["dataType"] = attribute["DataType"]
    return first


def _sqs_attributes(msg: dict, fifo: bool) -> dict:
    """The system "attributes" map; every value is a string. Key order follows
    events logged on AWS: DeadLetterQueueSourceArn (a message a redrive
    policy moved to this queue) first, AWSTraceHeader right after
    ApproximateReceiveCount; the FIFO keys as in AWS's FIFO example."""
    sender = msg.get("sender_id") or DEFAULT_SENDER_ID
    attributes = {}
    source = msg.get("dlq_source_arn")
    if source:
        attributes["DeadLetterQueueSourceArn"] = source
    attributes["ApproximateReceiveCount"] = str(msg["receive_count"])
    trace = msg.get("trace_header")
    if trace:
        attributes["AWSTraceHeader"] = trace
    attributes["SentTimestamp"] = str(msg["sent_ms"])
    if fifo:
        attributes["SequenceNumber"] = str(msg["sequence_number"])
        attributes["MessageGroupId"] = msg["group_id"]
        attributes["SenderId"] = sender
        attributes["MessageDeduplicationId"] = msg["dedup_id"]
    else:
        attributes["SenderId"] = sender
    attributes["ApproximateFirstReceiveTimestamp"] = str(msg["first_receive_ms"])
    return attributes


def sqs_record(msg: dict, queue_name: str, fifo: bool) -> dict:
    """One record of an SQS event (reference 4.1).

    msg keys: message_id, receipt_handle, body, sent_ms, receive_count,
    first_receive_ms, optional sender_id, message_attributes (SendMessage
    shape), trace_header; FIFO only: group_id, dedup_id, sequence_number.

    md5OfMessageAttributes is always present, right after messageAttributes:
    `null` when the message has no attributes (reference 8.4, recorded in
    2025; events logged on AWS show the same key order), else SQS's MD5 of
    the attributes (checked against an event logged on AWS, see
    tests/test_payloads.py).
    """
    body = msg["body"]
    message_attributes = msg.get("message_attributes") or {}
    return {
        "messageId": msg["message_id"],
        "receiptHandle": msg["receipt_handle"],
        "body": body,
        "attributes": _sqs_attributes(msg, fifo),
        "messageAttributes": {
            name: _event_attribute(attribute) for name, attribute in message_attributes.items()
        },
        "md5OfMessageAttributes": (md5_of_message_attributes(message_attributes)
                                   if message_attributes else None),
        "md5OfBody": md5_of_body(body),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(queue_name),
        "awsRegion": REGION,
    }


def sqs_event(records: list[dict]) -> dict:
    return {"Records": records}


# --- Kinesis -------------------------------------------------------------------


def kinesis_record(
    stream_name: str,
    shard_id: str,
    seq: str,
    partition_key: str,
    data: bytes,
    arrival_ms: int,
    *,
    invoke_identity_arn: str = DEFAULT_INVOKE_IDENTITY_ARN,
    event_source_arn: str | None = None,
) -> dict:
    """One record of a Kinesis event (reference 4.2).

    approximateArrivalTimestamp is epoch seconds as a float carrying the
    milliseconds (1545084650987 ms -> 1545084650.987). eventSourceARN is the
    stream's ARN, or the mapping's enhanced fan-out consumer ARN when it reads
    through one (recorded on AWS, stackd kinesis_source.json).
    """
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": seq,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": arrival_ms / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": REGION,
        "eventSourceARN": event_source_arn or stream_arn(stream_name),
    }


# --- DynamoDB Streams -----------------------------------------------------------


def _number_size(text: str) -> int:
    # DynamoDB: about one byte per two significant digits, plus one byte.
    mantissa = text.lstrip("+-").split("e")[0].split("E")[0]
    digits = mantissa.replace(".", "").strip("0")
    return (max(len(digits), 1) + 1) // 2 + 1


def _binary_size(value: str | bytes) -> int:
    if isinstance(value, bytes):
        return len(value)
    padding = 2 if value.endswith("==") else 1 if value.endswith("=") else 0
    return len(value) * 3 // 4 - padding


def _value_size(value: dict) -> int:
    """Bytes of one AttributeValue ({"S": ...}, {"N": ...}, ...) by DynamoDB's item-size rules."""
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return _binary_size(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(_number_size(n) for n in raw)
    if kind == "BS":
        return sum(_binary_size(b) for b in raw)
    if kind == "L":  # 3 bytes of overhead, plus 1 per element
        return 3 + sum(1 + _value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: dict | None) -> int:
    """Approximate DynamoDB size of an item (or key) map: each attribute's UTF-8 name plus value."""
    if not item:
        return 0
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def dynamodb_record(
    stream_arn: str,
    event_id: str,
    event_name: str,
    keys: dict,
    new_image: dict | None,
    old_image: dict | None,
    seq: str,
    view_type: str,
    created_ms: int,
    size_bytes: int | None = None,
    *,
    ttl_delete: bool = False,
) -> dict:
    """One record of a DynamoDB Streams event (reference 4.3).

    Images follow StreamViewType: KEYS_ONLY carries neither, NEW_IMAGE only
    NewImage, OLD_IMAGE only OldImage, NEW_AND_OLD_IMAGES both; never a
    NewImage on REMOVE nor an OldImage on INSERT. ApproximateCreationDateTime
    is whole epoch seconds, rounded down, as the Streams API defines it.
    eventVersion is "1.1" as in real events (doc examples say "1.0").

    ttl_delete=True marks a REMOVE done by Time to Live: AWS then adds
    userIdentity {"type": "Service", "principalId": "dynamodb.amazonaws.com"}.

    SizeBytes, when not given, is item_size(Keys) + item_size of each image
    present in the record, using DynamoDB's item-size rules (strings UTF-8
    bytes, numbers ~1 byte per 2 significant digits + 1, binary raw bytes,
    BOOL/NULL 1, lists/maps 3 + 1 per element). This reproduces the
    SizeBytes of AWS's documented examples exactly (26, 59, 38).
    UNCERTAIN: AWS's real figure is approximate and undocumented; whether
    images omitted by the view type still count is unknown (we count only
    what the record carries).
    """
    try:
        wants_new, wants_old = _VIEW_IMAGES[view_type]
    except KeyError:
        raise ValueError(f"unknown StreamViewType {view_type!r}") from None
    if event_name not in _DDB_EVENT_NAMES:
        raise ValueError(f"unknown DynamoDB eventName {event_name!r}")
    new = new_image if wants_new and event_name != "REMOVE" else None
    old = old_image if wants_old and event_name != "INSERT" else None

    stream_record = {"ApproximateCreationDateTime": created_ms // 1000, "Keys": keys}
    if new is not None:
        stream_record["NewImage"] = new
    if old is not None:
        stream_record["OldImage"] = old
    stream_record["SequenceNumber"] = seq
    stream_record["SizeBytes"] = (
        size_bytes if size_bytes is not None else item_size(keys) + item_size(new) + item_size(old)
    )
    stream_record["StreamViewType"] = view_type

    record = {
        "eventID": event_id,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": stream_record,
        "eventSourceARN": stream_arn,
    }
    if ttl_delete:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


# --- stream events, shared helpers -------------------------------------------------


def stream_event(records: list[dict]) -> dict:
    return {"Records": records}


def record_sequence(record: dict) -> str:
    """Sequence number of an event-shaped Kinesis or DynamoDB record."""
    kinesis = record.get("kinesis")
    if kinesis is not None:
        return kinesis["sequenceNumber"]
    return record["dynamodb"]["SequenceNumber"]


def record_arrival_ms(record: dict) -> int:
    """Arrival time in epoch ms read back from an event-shaped stream record.

    Kinesis keeps milliseconds; DynamoDB's ApproximateCreationDateTime is
    whole seconds, so the result is rounded down to a second. (IteratorAge
    should use the stream's own arrival time where precision matters.)
    """
    kinesis = record.get("kinesis")
    if kinesis is not None:
        return round(kinesis["approximateArrivalTimestamp"] * 1000)
    return record["dynamodb"]["ApproximateCreationDateTime"] * 1000


def window_event(
    records: list[dict],
    *,
    shard_id: str,
    stream_arn: str,
    window_start_ms: int,
    window_end_ms: int,
    state: dict,
    final: bool,
    terminated_early: bool,
) -> dict:
    """A tumbling-window invocation event (reference 4.4), Kinesis or DynamoDB.

    Window bounds are rendered to the whole second, as in AWS's examples
    ("2020-12-09T07:04:00Z"); windows are whole seconds long and aligned,
    so nothing is lost. records may be empty on a final invoke
    (UNCERTAIN in the reference; its recommended choice).
    """
    return {
        "Records": records,
        "window": {"start": iso_s(window_start_ms), "end": iso_s(window_end_ms)},
        "state": state,
        "shardId": shard_id,
        "eventSourceARN": stream_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": terminated_early,
    }


def time_window_info(window_event: dict) -> dict:
    """A failure record's timeWindowInfo: the window fields of the failed
    window invocation's event (recorded on AWS, reference 8.2)."""
    return {"window": window_event["window"],
            "isFinalInvokeForWindow": window_event["isFinalInvokeForWindow"],
            "isWindowTerminatedEarly": window_event["isWindowTerminatedEarly"]}


# --- on-failure destination record ------------------------------------------------


def failure_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    approximate_invoke_count: int,
    last_response: dict | None,
    timestamp_ms: int,
    source_kind: str,
    shard_id: str,
    stream_arn: str,
    records: list[dict],
    payload_event: dict | None = None,
    time_window: dict | None = None,
) -> dict:
    """The invocation record sent to an on-failure destination (reference 4.6, 8.2).

    source_kind is "kinesis" (-> KinesisBatchInfo) or "dynamodb" (->
    DDBStreamBatchInfo). Sequence range and arrival times come from the first
    and last of the event-shaped records; Kinesis arrivals carry milliseconds,
    DynamoDB arrivals are whole seconds (as in AWS's examples).
    "payload" (the compact JSON of payload_event) is for S3 destinations only:
    pass payload_event just for those.

    time_window is the failed batch's window block, as the window event
    carries it: {"window": {...}, "isFinalInvokeForWindow": ...,
    "isWindowTerminatedEarly": ...}; it goes out as "timeWindowInfo". A
    final window invoke has no records: its batch info then holds only
    shardId and streamArn (recorded on AWS, reference 8.2).
    last_response None omits responseContext (RecordAgeExceeded, or no
    invocation happened).
    """
    batch_key = _BATCH_INFO_KEY.get(source_kind)
    if batch_key is None:
        raise ValueError(f"no failure record for {source_kind!r}: kinesis and dynamodb only")
    if condition not in _CONDITIONS:
        raise ValueError(f"unknown failure condition {condition!r}")
    if not records and time_window is None:
        raise ValueError("a failure record describes at least one record")
    arrival = iso if source_kind == "kinesis" else iso_s

    out = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        }
    }
    if last_response is not None:
        out["responseContext"] = dict(last_response)
    out["version"] = "1.0"
    out["timestamp"] = iso(timestamp_ms)
    if records:
        first, last = records[0], records[-1]
        out[batch_key] = {
            "shardId": shard_id,
            "startSequenceNumber": record_sequence(first),
            "endSequenceNumber": record_sequence(last),
            "approximateArrivalOfFirstRecord": arrival(record_arrival_ms(first)),
            "approximateArrivalOfLastRecord": arrival(record_arrival_ms(last)),
            "batchSize": len(records),
            "streamArn": stream_arn,
        }
    else:
        out[batch_key] = {"shardId": shard_id, "streamArn": stream_arn}
    if time_window is not None:
        out["timeWindowInfo"] = dict(time_window)
    if payload_event is not None:
        out["payload"] = json.dumps(payload_event, separators=_COMPACT)
    return out


def s3_failure_key(mapping_uuid: str, shard_id: str, at_ms: int, random_uuid: str) -> str:
    """S3 object key for a failure record, in AWS's layout:
    aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>
    """
    at = _utc(at_ms)
    folder = f"aws/lambda/{mapping_uuid}/{shard_id}/{at:%Y/%m/%d}"
    return f"{folder}/{at:%Y-%m-%dT%H.%M.%S}-{random_uuid}"


# --- sizes and export ---------------------------------------------------------------


def event_size(event: dict) -> int:
    """UTF-8 bytes of the event's compact JSON: what counts against MAX_PAYLOAD_BYTES."""
    return len(json.dumps(event, separators=_COMPACT, ensure_ascii=False).encode())


def record_size(record: dict) -> int:
    """Bytes one record adds to a {"Records": [...]} event: its compact JSON plus a comma.

    For a non-empty batch, event_size({"Records": rs}) ==
    batch_event_size(sum(record_size(r) for r in rs), len(rs)).
    """
    return event_size(record) + 1


def batch_event_size(total_record_bytes: int, count: int) -> int:
    """Exact event size from summed record_size() values (the first record has no comma)."""
    return EMPTY_EVENT_BYTES + total_record_bytes - (1 if count else 0)


def sam_event(event: dict) -> str:
    """The event as indented JSON, ready to save for `sam local invoke -e`."""
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"
