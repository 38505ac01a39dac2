"""How an invocation's event is kept in the lab file: packed, rebuilt on read.

An event is mostly what the lab can say again: the queue or stream ARN and
region in every record, `eventSource`, `eventVersion`, the MD5 of each body,
`eventID` made of the shard and the sequence number, the key names of every
record. Storing each event whole made a drained SQS message cost about 1 KB
of lab file. `pack` keeps only what varies (ids, receipt handle, body,
receive count and timestamps as they were at that delivery, partition key
and data, DynamoDB keys and images, tumbling-window fields), and `unpack`
builds the event again, byte for byte the JSON the function got: the same
keys, in the same order, with the same values and types.

A record is packed only when it has exactly the shape the lab's builders
(engine/payloads.py) give it; anything else (a shape another part of the lab
adds later, a field it does not expect) is kept as it is, so the rebuilt
event is always the one the function got, however it was built.

Packed form (compact JSON): `[1, strings, records, rest]`
- `strings`: the ARNs and shard ids the records share, each once;
- `records`: per record a list whose first item says its kind ("q" SQS,
  "k" Kinesis, "d" DynamoDB) and refers to `strings` by index, or the
  record itself, as `{"": record}`, when it is not of a shape packed here.
  A list holds 0 for its message id or sequence number when it is the one
  the invocation's `records` column names at its place, an SQS sent time
  as the difference from the record before, and no trailing zeros;
- `rest`: the event's other top-level keys in order (a tumbling window's
  `window`, `state`, ...), or 0 for a plain `{"Records": [...]}` event.
An event that is not a `Records` event at all is `[0, event]`.

The SQS poller's per-message notes in an invocation's detail (`msgs`:
message id, receipt handle, receive count, group, the body's first 80
characters, visibility end) repeat the event's records; `pack_detail` keeps
only what the event lacks (the visibility ends: `{"vis": [...]}`, or one
number when all are the same) when the rest matches, and `unpack_detail`
puts them back.
"""

from __future__ import annotations

import json

from esmlab.engine.arns import REGION
from esmlab.engine.payloads import (DEFAULT_INVOKE_IDENTITY_ARN, DEFAULT_SENDER_ID,
                                    _sqs_attributes, md5_of_body)

FORMAT = 1
_COMPACT = (",", ":")

_SQS_KEYS = ("messageId", "receiptHandle", "body", "attributes", "messageAttributes",
             "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion")
_KINESIS_KEYS = ("kinesis", "eventSource", "eventVersion", "eventID", "eventName",
                 "invokeIdentityArn", "awsRegion", "eventSourceARN")
_KINESIS_INNER = ("kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                  "approximateArrivalTimestamp")
_DDB_KEYS = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
             "eventSourceARN")
_TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
# Where a packed record keeps the id the invocation's records column repeats,
# and how long each kind's packed list is before trailing zeros are cut.
_ID_SLOT = {"q": 1, "k": 2, "d": 7}
_LENGTH = {"q": 8, "k": 8, "d": 12}
_PLAIN_ATTRIBUTES = ("ApproximateReceiveCount", "SentTimestamp", "SenderId",
                     "ApproximateFirstReceiveTimestamp")
# FIFO-only and optional SQS system attributes, by a short key in the packed form.
_SQS_EXTRA = (("d", "dlq_source_arn", "DeadLetterQueueSourceArn"),
              ("t", "trace_header", "AWSTraceHeader"),
              ("s", "sequence_number", "SequenceNumber"),
              ("g", "group_id", "MessageGroupId"),
              ("u", "dedup_id", "MessageDeduplicationId"))


# -- the event ---------------------------------------------------------------------------

def pack(event: dict, ids: list | None = None) -> str:
    """The packed JSON text of `event` (see the module's docstring). `ids`
    are the invocation's record ids (its `records` column, one per record:
    message id or sequence number); a record whose id is that one stores 0
    in its place, and `unpack` needs the same ids back."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or next(iter(event)) != "Records":
        return json.dumps([0, event], separators=_COMPACT)
    strings: dict[str, int] = {}
    packed = [_pack_record(r, strings) for r in records]
    _compress(packed, ids)
    rest = {k: v for k, v in event.items() if k != "Records"} or 0
    return json.dumps([FORMAT, list(strings), packed, rest], separators=_COMPACT)


def unpack(text: str, ids: list | None = None) -> dict:
    """The event `pack` was given, rebuilt (json.dumps of it gives the same
    text as json.dumps of the original), from the same `ids`."""
    packed = json.loads(text)
    if packed[0] == 0:
        return packed[1]
    _, strings, records, rest = packed
    _expand(records, ids)
    event = {"Records": [_unpack_record(r, strings) for r in records]}
    if rest:
        event.update(rest)
    return event


def event_of(event_text: str | None, parts_text: str | None,
             records: list | str | None = None) -> dict | None:
    """The event an invocation row's `event` (labs before schema 6: the
    whole event) or `event_parts` column holds, given its `records` (the
    list or the column's JSON); None for an invocation that never reached
    its function (throttled)."""
    if parts_text is not None:
        return unpack(parts_text, json.loads(records) if isinstance(records, str) else records)
    if event_text is not None:
        return json.loads(event_text)
    return None


def _compress(records: list, ids: list | None) -> None:
    """What every packed record would repeat, taken out in place: the record
    id the invocation's records column holds (0 in its slot), an SQS sent
    time as the difference from the record before, and trailing zeros (an
    absent optional field) at the end of a list."""
    ids = ids if ids is not None and len(ids) == len(records) else None
    sent = 0
    for i, p in enumerate(records):
        if not isinstance(p, list):
            continue
        slot = _ID_SLOT[p[0]]
        if ids is not None and p[slot] == ids[i]:
            p[slot] = 0
        if p[0] == "q" and isinstance(p[4], list):
            p[4][1], sent = p[4][1] - sent, p[4][1]
            _strip(p[4], 1)
        _strip(p, 2)


def _expand(records: list, ids: list | None) -> None:
    """_compress undone, in place."""
    sent = 0
    for i, p in enumerate(records):
        if not isinstance(p, list):
            continue
        p.extend([0] * (_LENGTH[p[0]] - len(p)))
        slot = _ID_SLOT[p[0]]
        if p[slot] == 0:
            if ids is None or len(ids) != len(records):
                raise ValueError("this event names its records by the invocation's record ids: "
                                 "pass them (its records column)")
            p[slot] = ids[i]
        if p[0] == "q" and isinstance(p[4], list):
            p[4].extend([0] * (5 - len(p[4])))
            p[4][1] += sent
            sent = p[4][1]


def _strip(values: list, keep: int) -> None:
    while len(values) > keep and type(values[-1]) is int and values[-1] == 0:
        values.pop()


def _index(strings: dict, value: str) -> int:
    if not isinstance(value, str):
        raise TypeError("only strings are shared")
    found = strings.get(value)
    if found is None:
        found = strings[value] = len(strings)
    return found


def _pack_record(record, strings: dict):
    if not isinstance(record, dict):
        return {"": record}
    source = record.get("eventSource")
    try:
        if source == "aws:sqs":
            packed = _pack_sqs(record, strings)
        elif source == "aws:kinesis":
            packed = _pack_kinesis(record, strings)
        elif source == "aws:dynamodb":
            packed = _pack_dynamodb(record, strings)
        else:
            packed = None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        packed = None
    return {"": record} if packed is None else packed


def _unpack_record(packed, strings: list):
    if isinstance(packed, dict):
        return packed[""]
    kind = packed[0]
    if kind == "q":
        return _unpack_sqs(packed, strings)
    if kind == "k":
        return _unpack_kinesis(packed, strings)
    return _unpack_dynamodb(packed, strings)


# -- SQS ---------------------------------------------------------------------------------

def _pack_sqs(r: dict, strings: dict) -> list | None:
    if tuple(r) != _SQS_KEYS or r["awsRegion"] != REGION or not isinstance(r["body"], str) \
            or not isinstance(r["messageId"], str) \
            or r["md5OfBody"] != md5_of_body(r["body"]) or not isinstance(r["eventSourceARN"], str):
        return None
    mattrs, md5 = r["messageAttributes"], r["md5OfMessageAttributes"]
    if not isinstance(mattrs, dict) or (md5 is None) != (not mattrs) or \
            (md5 is not None and not (isinstance(md5, str) and md5)):
        return None
    return ["q", r["messageId"], r["receiptHandle"], r["body"], _pack_sqs_attributes(r["attributes"]),
            mattrs or 0, md5 or 0, _index(strings, r["eventSourceARN"])]


def _pack_sqs_attributes(attrs: dict):
    """[receive count, sent, first receive - sent, sender or 0, extras or 0]
    when `payloads._sqs_attributes` gives exactly these attributes back;
    otherwise the attributes as they are (a dict)."""
    if tuple(attrs) == _PLAIN_ATTRIBUTES:
        # The usual case (standard queue, no trace header, not from a DLQ):
        # the builder's order is this one, so only the values need checking.
        try:
            count, sent, sender, first = attrs.values()
            count, sent, first = _canonical_int(count), _canonical_int(sent), \
                _canonical_int(first)
        except (TypeError, ValueError):
            return attrs
        if isinstance(sender, str) and sender:
            return [count, sent, first - sent, 0 if sender == DEFAULT_SENDER_ID else sender, 0]
        return attrs
    try:
        msg = {"receive_count": _canonical_int(attrs["ApproximateReceiveCount"]),
               "sent_ms": _canonical_int(attrs["SentTimestamp"]),
               "first_receive_ms": _canonical_int(attrs["ApproximateFirstReceiveTimestamp"]),
               "sender_id": attrs["SenderId"]}
        if not (isinstance(msg["sender_id"], str) and msg["sender_id"]):
            raise ValueError("no sender")
    except (KeyError, TypeError, ValueError):
        return attrs
    extras = {}
    for short, key, name in _SQS_EXTRA:
        if name in attrs:
            msg[key] = extras[short] = attrs[name]
    fifo = "MessageGroupId" in attrs
    if list(_sqs_attributes(msg, fifo).items()) != list(attrs.items()):
        return attrs
    sender = 0 if msg["sender_id"] == DEFAULT_SENDER_ID else msg["sender_id"]
    return [msg["receive_count"], msg["sent_ms"], msg["first_receive_ms"] - msg["sent_ms"],
            sender, extras or 0]


def _unpack_sqs(p: list, strings: list) -> dict:
    _, mid, rh, body, attrs, mattrs, md5, arn = p
    return {"messageId": mid, "receiptHandle": rh, "body": body,
            "attributes": _unpack_sqs_attributes(attrs), "messageAttributes": mattrs or {},
            "md5OfMessageAttributes": md5 or None, "md5OfBody": md5_of_body(body),
            "eventSource": "aws:sqs", "eventSourceARN": strings[arn], "awsRegion": REGION}


def _unpack_sqs_attributes(attrs):
    if isinstance(attrs, dict):
        return attrs
    count, sent, first, sender, extras = attrs
    msg = {"receive_count": count, "sent_ms": sent, "first_receive_ms": sent + first,
           "sender_id": sender or DEFAULT_SENDER_ID}
    for short, key, _name in _SQS_EXTRA:
        if extras and short in extras:
            msg[key] = extras[short]
    return _sqs_attributes(msg, bool(extras) and "g" in extras)


def _canonical_int(text) -> int:
    """The int a decimal string spells, only if str() of it gives the same
    string back (so "007" or "+1" stay strings and are kept as they are)."""
    value = int(text)
    if not isinstance(text, str) or str(value) != text:
        raise ValueError(text)
    return value


# -- Kinesis -----------------------------------------------------------------------------

def _pack_kinesis(r: dict, strings: dict) -> list | None:
    k = r["kinesis"]
    if tuple(r) != _KINESIS_KEYS or not isinstance(k, dict) or tuple(k) != _KINESIS_INNER:
        return None
    arrival = k["approximateArrivalTimestamp"]
    seq = k["sequenceNumber"]
    if not isinstance(arrival, float) or not isinstance(seq, str) or \
            k["kinesisSchemaVersion"] != "1.0" or r["eventVersion"] != "1.0" or \
            r["eventName"] != "aws:kinesis:record" or r["awsRegion"] != REGION:
        return None
    arrival_ms = round(arrival * 1000)
    shard, _, event_seq = r["eventID"].rpartition(":")
    if arrival_ms / 1000 != arrival or event_seq != seq or not shard:
        return None
    identity = r["invokeIdentityArn"]
    identity = 0 if identity == DEFAULT_INVOKE_IDENTITY_ARN else 1 + _index(strings, identity)
    return ["k", k["partitionKey"], seq, k["data"], arrival_ms, _index(strings, shard),
            identity, _index(strings, r["eventSourceARN"])]


def _unpack_kinesis(p: list, strings: list) -> dict:
    _, key, seq, data, arrival_ms, shard, identity, arn = p
    return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": key,
                        "sequenceNumber": seq, "data": data,
                        "approximateArrivalTimestamp": arrival_ms / 1000},
            "eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventID": f"{strings[shard]}:{seq}", "eventName": "aws:kinesis:record",
            "invokeIdentityArn": (DEFAULT_INVOKE_IDENTITY_ARN if identity == 0
                                  else strings[identity - 1]),
            "awsRegion": REGION, "eventSourceARN": strings[arn]}


# -- DynamoDB Streams --------------------------------------------------------------------

def _pack_dynamodb(r: dict, strings: dict) -> list | None:
    keys = tuple(r)
    ttl = keys[-1:] == ("userIdentity",)
    if (keys[:-1] if ttl else keys) != _DDB_KEYS or (ttl and r["userIdentity"] != _TTL_IDENTITY):
        return None
    if r["eventVersion"] != "1.1" or r["awsRegion"] != REGION:
        return None
    d = r["dynamodb"]
    order = ["ApproximateCreationDateTime", "Keys"] + [k for k in ("NewImage", "OldImage")
                                                      if k in d]
    order += ["SequenceNumber", "SizeBytes", "StreamViewType"]
    if list(d) != order or type(d["ApproximateCreationDateTime"]) is not int or \
            not isinstance(d["SequenceNumber"], str) or \
            not all(isinstance(d[k], dict) for k in order[2:-3]):
        return None
    return ["d", r["eventID"], r["eventName"], d["ApproximateCreationDateTime"], d["Keys"],
            d["NewImage"] if "NewImage" in d else 0, d["OldImage"] if "OldImage" in d else 0,
            d["SequenceNumber"], d["SizeBytes"], d["StreamViewType"],
            _index(strings, r["eventSourceARN"]), 1 if ttl else 0]


def _unpack_dynamodb(p: list, strings: list) -> dict:
    _, event_id, name, created, keys, new, old, seq, size, view, arn, ttl = p
    stream_record = {"ApproximateCreationDateTime": created, "Keys": keys}
    if new != 0:
        stream_record["NewImage"] = new
    if old != 0:
        stream_record["OldImage"] = old
    stream_record["SequenceNumber"] = seq
    stream_record["SizeBytes"] = size
    stream_record["StreamViewType"] = view
    record = {"eventID": event_id, "eventName": name, "eventVersion": "1.1",
              "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": stream_record,
              "eventSourceARN": strings[arn]}
    if ttl:
        record["userIdentity"] = dict(_TTL_IDENTITY)
    return record


# -- the SQS poller's notes in the invocation's detail ------------------------------------

def pack_detail(detail: dict | None, event: dict) -> dict | None:
    """`detail` with its `msgs` notes cut to what the event does not hold
    (`{"vis": [...]}`), when every note matches its record; else unchanged."""
    msgs = (detail or {}).get("msgs")
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(msgs, list) or not isinstance(records, list) or len(msgs) != len(records):
        return detail
    for note, record in zip(msgs, records):
        if not isinstance(record, dict) or not isinstance(note, dict):
            return detail
        again = _note(record, note.get("vis"))
        if note != again or list(note) != list(again):
            return detail
    vis = [note.get("vis") for note in msgs]
    # One visibility end for all (the usual case: one receive) is kept once.
    return {**detail, "msgs": {"vis": vis[0] if len(set(vis)) == 1 and vis[0] is not None
                               else vis}}


def needs_event(detail: dict | None) -> bool:
    """True when `detail`'s notes were packed and need the event back."""
    return isinstance((detail or {}).get("msgs"), dict)


def unpack_detail_from_parts(detail: dict | None, parts_text: str | None,
                             ids: list | None = None) -> dict | None:
    """unpack_detail without rebuilding the event: the notes straight from
    packed SQS records (what a completing invocation needs, at every one)."""
    if not needs_event(detail) or parts_text is None:
        return detail
    packed = json.loads(parts_text)
    if packed[0] != FORMAT or not all(isinstance(r, list) and r[0] == "q" for r in packed[2]):
        return unpack_detail(detail, unpack(parts_text, ids))
    _expand(packed[2], ids)
    vis = detail["msgs"]["vis"]
    if not isinstance(vis, list):
        vis = [vis] * len(packed[2])
    notes = []
    for (_, mid, rh, body, attrs, *_), v in zip(packed[2], vis):
        if isinstance(attrs, dict):
            attrs = _unpack_sqs_attributes(attrs)
            count, group = attrs.get("ApproximateReceiveCount"), attrs.get("MessageGroupId")
            count = int(count) if isinstance(count, str) and count.isdigit() else count
        else:
            count, group = attrs[0], (attrs[4] or {}).get("g")
        notes.append({"mid": mid, "rh": rh, "rc": count, "g": group,
                      "body": body[:80] if isinstance(body, str) else body, "vis": v})
    return {**detail, "msgs": notes}


def unpack_detail(detail: dict | None, event: dict | None) -> dict | None:
    if not needs_event(detail) or event is None:
        return detail
    vis = detail["msgs"]["vis"]
    if not isinstance(vis, list):
        vis = [vis] * len(event["Records"])
    return {**detail, "msgs": [_note(r, v) for r, v in zip(event["Records"], vis)]}


def _note(record: dict, vis) -> dict:
    """The SQS poller's note on one message (queue_poller._invoke)."""
    attrs = record.get("attributes") or {}
    count = attrs.get("ApproximateReceiveCount")
    body = record.get("body")
    return {"mid": record.get("messageId"), "rh": record.get("receiptHandle"),
            "rc": int(count) if isinstance(count, str) and count.isdigit() else count,
            "g": attrs.get("MessageGroupId"),
            "body": body[:80] if isinstance(body, str) else body, "vis": vis}

