"""KPL aggregation: many user records in one Kinesis record.

The Kinesis Producer Library packs user records into one Kinesis record
whose data is the 4 magic bytes F3 89 9A C2, an `AggregatedRecord` protocol
buffer (awslabs/amazon-kinesis-producer, aws/kinesis/protobuf/messages.proto)
and the 16-byte MD5 of that protocol buffer:

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
      repeated Tag    tags                    = 4;   (not written by the lab)
    }

What Lambda does with such a record was recorded on AWS (stackd
testdata/aws/lambda/kinesis_reshard.json, phases kpl_standard and
kpl_consumer, 2026-09): a mapping on the stream (shared throughput) gets
ONE event record whose data is the whole aggregate, byte for byte; a
mapping on an enhanced fan-out consumer gets one event record per user
record, each with the aggregate's sequence number, eventID, arrival time
and the user record's partition key, and no sub-sequence number field.

The codec is written here rather than taken from aws-kinesis-agg: that
package's generated protocol buffer code needs an old protobuf runtime and
an undeclared `six`, and the format is three message fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAGIC = b"\xf3\x89\x9a\xc2"
_DIGEST = 16


@dataclass(frozen=True)
class UserRecord:
    partition_key: str
    data: bytes
    explicit_hash_key: str | None = None


# --- protocol buffer wire format (varints and length-delimited fields) -----------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _uint_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of a message."""
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 2:
            length, i = _read_varint(buf, i)
            if i + length > len(buf):
                raise ValueError("truncated field")
            value, i = buf[i:i + length], i + length
        else:
            raise ValueError(f"unexpected wire type {wire}")
        yield number, wire, value


# --- the aggregate -------------------------------------------------------------------


def aggregate(records: list[UserRecord]) -> bytes:
    """The data of one Kinesis record holding `records` (KPL's format)."""
    keys: list[str] = []
    hash_keys: list[str] = []
    body = bytearray()
    for r in records:
        if r.partition_key not in keys:
            keys.append(r.partition_key)
        record = _uint_field(1, keys.index(r.partition_key))
        if r.explicit_hash_key is not None:
            if r.explicit_hash_key not in hash_keys:
                hash_keys.append(r.explicit_hash_key)
            record += _uint_field(2, hash_keys.index(r.explicit_hash_key))
        record += _field(3, r.data)
        body += _field(3, record)
    message = (b"".join(_field(1, k.encode()) for k in keys)
               + b"".join(_field(2, h.encode()) for h in hash_keys) + bytes(body))
    return MAGIC + message + hashlib.md5(message).digest()


def is_aggregated(data: bytes) -> bool:
    return deaggregate(data) is not None


def deaggregate(data: bytes) -> list[UserRecord] | None:
    """The user records of an aggregate, or None when `data` is not one (no
    magic, a bad digest or a malformed message: a consumer then delivers the
    record as it is, as the KCL does)."""
    if not isinstance(data, (bytes, bytearray)) or len(data) < len(MAGIC) + _DIGEST \
            or not data.startswith(MAGIC):
        return None
    message, digest = bytes(data[len(MAGIC):-_DIGEST]), bytes(data[-_DIGEST:])
    if hashlib.md5(message).digest() != digest:
        return None
    try:
        keys, hash_keys, raw = [], [], []
        for number, wire, value in _fields(message):
            if wire != 2:
                continue
            if number == 1:
                keys.append(value.decode())
            elif number == 2:
                hash_keys.append(value.decode())
            elif number == 3:
                raw.append(value)
        out = []
        for record in raw:
            pk_index, hk_index, payload = None, None, b""
            for number, wire, value in _fields(record):
                if number == 1 and wire == 0:
                    pk_index = value
                elif number == 2 and wire == 0:
                    hk_index = value
                elif number == 3 and wire == 2:
                    payload = bytes(value)
            if pk_index is None or pk_index >= len(keys):
                return None
            hash_key = hash_keys[hk_index] if hk_index is not None and hk_index < len(
                hash_keys) else None
            out.append(UserRecord(keys[pk_index], payload, hash_key))
        return out
    except (ValueError, UnicodeDecodeError):
        return None
