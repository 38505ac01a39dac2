"""Kinesis Data Streams and DynamoDB Streams: shards, records, sequence
numbers, retention and resharding (reference 1.1, 1.8, 1.9, 4.2, 4.3).

Both kinds of stream live in the same tables (`streams.kind` is "kinesis" or
"dynamodb"), so the stream pollers read them the same way: `position()` turns
a starting position into an exclusive "after" sequence number, `read()` gives
the records after it in order.

Sequence numbers
----------------
Every record gets the next value of a per-stream counter (`streams.next_seq`,
the last value used), so sequence numbers increase across the whole stream,
not only per shard, and compare the same as strings and as integers:

* Kinesis: 56 decimal digits, like AWS's: ``"49"`` + the counter in 38
  digits + the shard's ordinal in 16 digits. The ordinal only makes the
  number name its shard; the counter decides the order.
* DynamoDB Streams: 21 digits, ``10**20 + counter``.

A shard's StartingSequenceNumber is a marker made from the counter value at
the shard's creation (the last value already used), so every record later
written to the shard is strictly greater and "after the start marker" means
"from the first record". For split/merge children the marker is also greater
than every record of their parents. A closed shard's EndingSequenceNumber is
the last sequence number written to it, or its start marker if it never got a
record. `seq_before(seq)` is ``seq - 1`` at the same width, which turns
AT_SEQUENCE_NUMBER and AT_TIMESTAMP into an exclusive "after" bound.

Routing
-------
Kinesis routes a record by the MD5 of its partition key read as a 128-bit
big-endian integer (or by its ExplicitHashKey) to the open shard whose
hash-key range holds it. The open shards' ranges are kept, sorted, as JSON in
`streams.routing`; parsed copies are cached by that text, so a cached copy
can never be stale (a rolled-back reshard just means a different text).

The lab's DynamoDB stream has exactly one shard per table stream. Real
DynamoDB creates, splits and closes stream shards by itself (reference 1.8);
the lab keeps one shard so per-item order is easy to see, and says so here.

Retention
---------
Kinesis keeps records 24 h by default, 24-8,760 h; DynamoDB Streams a fixed
24 h. A record is expired once ``now - arrival >= retention``. An agenda
timer `stream.trim` fires at the next expiry so a stream nobody reads still
loses its old records, visibly, in the journal; a shorter retention trims at
once. `read()` never returns an expired record even if nobody trimmed yet.
Each shard remembers the highest sequence number it lost to retention
(`trimmed_seq`) and how many (`trimmed`), so a poller whose checkpoint is
below `trimmed_seq` knows records were lost.

A trim is logical and costs the same for ten records as for a million: the
stream's horizon (`streams.trimmed_ms`) moves to the cutoff, so every record
that arrived at or before it is gone for every reader (they read the
`records` view, which leaves them out; `read()` reads `record_rows` below
the horizon). The per-shard counts and sequence numbers the journal names
come from `record_instants`, one row per (stream, arrival instant, shard)
kept by the writes, not from the records. The rows themselves are freed
later, oldest first and a bounded number at a time, so no step waits on
SQLite deleting a million rows: up to TRIM_CHUNK at the trim itself (all of
them, for a trim that small), then FREE_PER_RECORD for each record a later
write adds, and the rest by `esmlab compact`. A lab file therefore holds
trimmed rows until writes or a compaction free them.

Lab simplifications: resharding and retention changes take effect at once
(AWS shows UPDATING for a while); there is no write throughput limit per
shard; PutRecords never reports a partially failed batch.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from datetime import datetime, timedelta, timezone

from esmlab.engine.arns import ACCOUNT, REGION, stream_arn, table_stream_arn
from esmlab.engine.sources import kpl
from esmlab.errors import AwsError

HASH_KEY_MAX = (1 << 128) - 1
MAX_DATA_BYTES = 1024 * 1024           # a record's data blob by default, 1 MiB
# MaxRecordSizeInKiB: a stream may take records up to 10 MiB (Kinesis, 2025).
MIN_RECORD_KIB, MAX_RECORD_KIB = 1024, 10240
MAX_PUT_RECORDS = 500                  # records per PutRecords call
MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024
HOUR_MS = 3_600_000
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760
DEFAULT_RETENTION_HOURS = 24
DYNAMODB_RETENTION_HOURS = 24
# A trim frees at most TRIM_CHUNK trimmed rows itself, charged one work unit
# per TRIM_ROWS_PER_UNIT rows (about what handing 10 records to a function
# costs); each record a write adds frees FREE_PER_RECORD more, so a stream
# that keeps being written frees its trimmed rows faster than it adds rows
# (measured in bench/run.py, trim_1m). Before lab schema 8 a trim deleted
# every row, TRIM_CHUNK per part of the instant.
TRIM_CHUNK = 2_000
TRIM_ROWS_PER_UNIT = 30
FREE_PER_RECORD = 2
SHARD_LIMIT = 500                      # default open-shard quota per account in us-east-1
DDB_SEQ_BASE = 10 ** 20
ITERATOR_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST",
                  "AT_TIMESTAMP")

_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]+\Z")
_HASH_KEY_RE = re.compile(r"(0|[1-9]\d{0,38})\Z")
_SEQ_RE = re.compile(r"\d{1,128}\Z")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_RECORD_COLUMNS = "id, seq, partition_key, data, arrival_ms, size, detail"


def key_hash(partition_key: str) -> int:
    """The top 56 bits of MD5(partition key): stored with each record so the
    mapping's ParallelizationFactor lane of a key (key_hash % factor) can be
    selected in SQL. 56 bits fit SQLite's signed 64-bit integers."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest()[:7], "big")
_SHARD_COLUMNS = ("shard_id, ordinal, parent, adjacent_parent, hash_start, hash_end, start_seq, "
                  "end_seq, last_seq, created_ms, closed_ms, trimmed_seq, trimmed")


# --- pure helpers -------------------------------------------------------------------------


def kinesis_seq(counter: int, ordinal: int) -> str:
    """The 56-digit Kinesis sequence number: stream counter value `counter`, shard `ordinal`."""
    return f"49{counter:038d}{ordinal:016d}"


def dynamodb_seq(counter: int) -> str:
    """The 21-digit DynamoDB Streams sequence number for stream counter value `counter`."""
    return str(DDB_SEQ_BASE + counter)


def seq_before(seq: str) -> str:
    """The sequence number just before `seq`, same width: an exclusive bound that includes `seq`."""
    return f"{int(seq) - 1:0{len(seq)}d}"


def partition_hash(partition_key: str) -> int:
    """MD5 of the UTF-8 partition key as a 128-bit unsigned integer (Kinesis's hash key)."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def even_ranges(shard_count: int) -> list[tuple[int, int]]:
    """CreateStream's even split of [0, 2^128-1] into `shard_count` ranges (last takes the rest)."""
    step = (HASH_KEY_MAX + 1) // shard_count
    ranges = [(i * step, (i + 1) * step - 1) for i in range(shard_count)]
    ranges[-1] = (ranges[-1][0], HASH_KEY_MAX)
    return ranges


def stream_label(ms: int) -> str:
    """A DynamoDB stream label: ISO-8601 UTC with milliseconds, no zone suffix, as AWS prints it."""
    at = _EPOCH + timedelta(milliseconds=ms)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}"


def _validation(value, where: str, constraint: str) -> AwsError:
    return AwsError("ValidationException",
                    f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
                    f"constraint: {constraint}")


def _as_bytes(data, where: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise AwsError("ValidationException",
                   f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
                   "Member must be a blob (bytes, or text stored as UTF-8)")


def _check_record(partition_key, data: bytes, explicit_hash_key, prefix: str = "",
                  max_bytes: int = MAX_DATA_BYTES) -> int | None:
    """Shape checks of one record (ValidationException); returns the explicit hash key as int."""
    if not isinstance(partition_key, str) or not partition_key:
        raise _validation(partition_key if isinstance(partition_key, str) else "null",
                          f"{prefix}partitionKey",
                          "Member must have length greater than or equal to 1")
    if len(partition_key) > 256:
        raise _validation(partition_key, f"{prefix}partitionKey",
                          "Member must have length less than or equal to 256")
    if len(data) > max_bytes:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value at '{prefix}data' failed to satisfy "
                       "constraint: Member must have length less than or equal to "
                       f"{max_bytes}")
    if explicit_hash_key is None:
        return None
    text = str(explicit_hash_key)
    if not _HASH_KEY_RE.match(text):
        raise _validation(text, f"{prefix}explicitHashKey",
                          r"Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})")
    value = int(text)
    if value > HASH_KEY_MAX:
        raise AwsError("InvalidArgumentException",
                       "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                       f"[0, 2^128-1]. Specified value was {text}")
    return value


class Streams:
    """Kinesis streams and DynamoDB table streams (Streams(engine))."""

    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.conn
        # (shard_id, seq) of the records removed by the last trim() call.
        self.last_trimmed: dict[str, tuple[int, str]] = {}
        self._routes: dict[str, tuple[list[int], list[str], list[int]]] = {}
        engine.agenda.on("stream.trim", self._on_trim_timer)

    # --- lookups ------------------------------------------------------------------

    def _stream(self, name: str, *, kinesis_only: bool = False):
        row = self.conn.execute(
            "SELECT name, kind, arn, retention_ms, next_seq, routing, next_shard FROM streams "
            "WHERE name=?", (name,)).fetchone()
        if row is None or (kinesis_only and row[1] != "kinesis"):
            # A DynamoDB table stream is no Kinesis stream: Kinesis APIs cannot see it.
            raise AwsError("ResourceNotFoundException",
                           f"Stream {name} under account {ACCOUNT} not found.")
        return row

    def _shard(self, name: str, shard_id: str) -> dict:
        row = self.conn.execute(
            f"SELECT {_SHARD_COLUMNS} FROM shards WHERE stream=? AND shard_id=?",
            (name, shard_id)).fetchone()
        if row is None:
            raise AwsError("ResourceNotFoundException",
                           f"Could not find shard {shard_id} in stream {name} under account "
                           f"{ACCOUNT}.")
        return _shard_dict(row)

    def _routing(self, text: str):
        parsed = self._routes.get(text)
        if parsed is None:
            entries = json.loads(text)
            parsed = ([int(e[0]) for e in entries], [e[1] for e in entries],
                      [e[2] for e in entries])
            if len(self._routes) > 256:
                self._routes.clear()
            self._routes[text] = parsed
        return parsed

    def _save_routing(self, name: str) -> None:
        rows = self.conn.execute(
            "SELECT hash_start, shard_id, ordinal FROM shards WHERE stream=? AND end_seq IS NULL",
            (name,)).fetchall()
        rows.sort(key=lambda r: int(r[0]))
        self.conn.execute("UPDATE streams SET routing=? WHERE name=?",
                          (json.dumps([list(r) for r in rows], separators=(",", ":")), name))

    def _open_kinesis_shards(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM shards JOIN streams ON shards.stream = streams.name "
            "WHERE streams.kind='kinesis' AND shards.end_seq IS NULL").fetchone()[0]

    def _check_shard_limit(self, extra: int) -> None:
        current = self._open_kinesis_shards()
        if current + extra > SHARD_LIMIT:
            raise AwsError(
                "LimitExceededException",
                f"This request would exceed the shard limit for the account {ACCOUNT} in "
                f"{REGION}. Current shard count for the account: {current}. Limit: "
                f"{SHARD_LIMIT}. Number of additional shards that would have resulted from this "
                f"request: {extra}. Refer to the AWS Service Limits page "
                "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for "
                "current limits and how to request higher limits.")

    def _insert_shards(self, name: str, kind: str, counter: int, specs: list[tuple]) -> None:
        """specs: (shard_id, ordinal, parent, adjacent_parent, hash_start, hash_end)."""
        now = self.engine.now_ms
        rows = []
        for shard_id, ordinal, parent, adjacent, start, end in specs:
            marker = kinesis_seq(counter, ordinal) if kind == "kinesis" else dynamodb_seq(counter)
            rows.append((name, shard_id, ordinal, parent, adjacent, str(start), str(end),
                         marker, now))
        self.conn.executemany(
            "INSERT INTO shards (stream, shard_id, ordinal, parent, adjacent_parent, hash_start, "
            "hash_end, start_seq, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    # --- creation and configuration ----------------------------------------------------

    def create(self, name, shard_count=1, retention_hours=DEFAULT_RETENTION_HOURS) -> None:
        """Kinesis CreateStream (provisioned mode) with ShardCount shards over even hash ranges.

        retention_hours is a lab convenience (AWS creates every stream with 24 h and
        changes it with Increase/DecreaseStreamRetentionPeriod); it is checked the same way.
        """
        if not isinstance(name, str) or not name:
            raise _validation(name, "streamName",
                              "Member must have length greater than or equal to 1")
        if len(name) > 128:
            raise _validation(name, "streamName",
                              "Member must have length less than or equal to 128")
        if not _NAME_RE.match(name):
            raise _validation(name, "streamName",
                              "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        if not isinstance(shard_count, int) or isinstance(shard_count, bool) or shard_count < 1:
            raise _validation(shard_count, "shardCount",
                              "Member must have value greater than or equal to 1")
        _check_retention(retention_hours)
        if self.conn.execute("SELECT 1 FROM streams WHERE name=?", (name,)).fetchone():
            raise AwsError("ResourceInUseException",
                           f"Stream {name} under account {ACCOUNT} already exists.")
        self._check_shard_limit(shard_count)
        now = self.engine.now_ms
        self.conn.execute(
            "INSERT INTO streams (name, kind, arn, retention_ms, created_ms, next_shard, next_seq) "
            "VALUES (?, 'kinesis', ?, ?, ?, ?, 0)",
            (name, stream_arn(name), retention_hours * HOUR_MS, now, shard_count))
        self._insert_shards(name, "kinesis", 0, [
            (f"shardId-{i:012d}", i, None, None, start, end)
            for i, (start, end) in enumerate(even_ranges(shard_count))])
        self._save_routing(name)
        self.engine.log(
            "stream.created", name,
            f"Kinesis stream {name} created with {shard_count} shard(s): ShardCount splits the "
            f"hash key space [0, 2^128-1] evenly; records stay {retention_hours} h "
            f"(RetentionPeriodHours={retention_hours})",
            data={"kind": "kinesis", "shards": shard_count, "retention_hours": retention_hours})

    def create_table_stream(self, table_name: str, view_type: str) -> str:
        """The DynamoDB stream of a table: returns its name "<table>/stream/<label>".

        The label is the ISO-8601 virtual creation time, as in AWS's stream ARNs. The lab
        keeps ONE shard per table stream (AWS manages several, splitting and closing them
        itself); its id looks like AWS's: shardId-<20 digits>-<8 hex>. Retention is a fixed 24 h.
        """
        now = self.engine.now_ms
        label = stream_label(now)
        name = f"{table_name}/stream/{label}"
        if self.conn.execute("SELECT 1 FROM streams WHERE name=?", (name,)).fetchone():
            raise AwsError("ResourceInUseException", f"Stream {name} already exists.")
        self.conn.execute(
            "INSERT INTO streams (name, kind, arn, retention_ms, created_ms, next_shard, next_seq, "
            "view_type) VALUES (?, 'dynamodb', ?, ?, ?, 1, 0, ?)",
            (name, table_stream_arn(table_name, label), DYNAMODB_RETENTION_HOURS * HOUR_MS, now,
             view_type))
        shard_id = f"shardId-{now:020d}-{self.engine.rng.token(4)}"
        self._insert_shards(name, "dynamodb", 0, [(shard_id, 0, None, None, 0, HASH_KEY_MAX)])
        self._save_routing(name)
        self.engine.log(
            "stream.created", name,
            f"DynamoDB stream of table {table_name} enabled (StreamViewType {view_type}); the lab "
            f"keeps one shard ({shard_id}) per table stream, and records stay 24 h",
            data={"kind": "dynamodb", "table": table_name, "view_type": view_type,
                  "shard_id": shard_id})
        return name

    def delete_stream(self, name) -> None:
        """DeleteStream (Kinesis): the stream, its shards and records go;
        mappings reading it stay Enabled (as on AWS) and find no stream."""
        self._stream(name, kinesis_only=True)
        self.drop(name)
        self.engine.log("stream.deleted", name, f"stream {name} deleted with its records")

    def drop(self, name) -> None:
        """Remove a stream of either kind (DeleteStream, or DeleteTable for a table's stream)."""
        arn = self.info(name)["arn"]
        for table, column in (("record_rows", "stream"), ("record_instants", "stream"),
                              ("shards", "stream"), ("streams", "name")):
            self.conn.execute(f"DELETE FROM {table} WHERE {column}=?", (name,))
        self._routes.pop(name, None)
        self.engine.agenda.cancel(f"stream.trim:{name}")
        consumers = getattr(self.engine, "consumers", None)
        if consumers is not None:  # DeleteStream takes its consumers with it
            consumers.drop_stream(name)
        self.engine.mappings.on_source_change(arn)

    def set_retention(self, name, hours) -> None:
        """IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod in one (24-8,760 h).

        A shorter retention expires older records at once (trimmed now, logged).
        """
        row = self._stream(name, kinesis_only=True)
        _check_retention(hours)
        old_hours = row[3] // HOUR_MS
        self.conn.execute("UPDATE streams SET retention_ms=? WHERE name=?", (hours * HOUR_MS, name))
        self.engine.log(
            "stream.retention_changed", name,
            f"retention of {name} changed from {old_hours} h to {hours} h "
            f"(RetentionPeriodHours); records older than {hours} h are trimmed",
            data={"from_hours": old_hours, "to_hours": hours})
        self.trim(name)
        self._schedule_trim(name, hours * HOUR_MS, replace=True)

    def max_record_bytes(self, name) -> int:
        """The largest data blob the stream takes (MaxRecordSizeInKiB, default 1 MiB)."""
        row = self.conn.execute("SELECT max_record_kib FROM stream_settings WHERE name=?",
                                (name,)).fetchone()
        return (row[0] if row else MIN_RECORD_KIB) * 1024

    def set_max_record_size(self, name, kib) -> None:
        """Kinesis UpdateMaxRecordSize: records up to `kib` KiB (1,024-10,240)."""
        self._stream(name, kinesis_only=True)
        if not isinstance(kib, int) or isinstance(kib, bool) or kib < MIN_RECORD_KIB:
            raise _validation(kib, "maxRecordSizeInKiB",
                              f"Member must have value greater than or equal to {MIN_RECORD_KIB}")
        if kib > MAX_RECORD_KIB:
            raise _validation(kib, "maxRecordSizeInKiB",
                              f"Member must have value less than or equal to {MAX_RECORD_KIB}")
        old = self.max_record_bytes(name) // 1024
        self.conn.execute("INSERT OR REPLACE INTO stream_settings (name, max_record_kib) "
                          "VALUES (?, ?)", (name, kib))
        self.engine.log("stream.max_record_size", name,
                        f"{name} now takes records up to {kib} KiB (MaxRecordSizeInKiB, was "
                        f"{old}); a batch holding one over ~6 MB cannot be sent to a function",
                        data={"from_kib": old, "to_kib": kib})

    # --- read models ----------------------------------------------------------------

    def info(self, name) -> dict:
        row = self.conn.execute(
            "SELECT name, kind, arn, retention_ms, created_ms, status, next_seq, view_type "
            "FROM streams WHERE name=?", (name,)).fetchone()
        if row is None:
            raise AwsError("ResourceNotFoundException",
                           f"Stream {name} under account {ACCOUNT} not found.")
        shards = self.shards(name)
        return {"name": row[0], "kind": row[1], "arn": row[2], "retention_ms": row[3],
                "retention_hours": row[3] // HOUR_MS, "created_ms": row[4], "status": row[5],
                "records_written": row[6], "view_type": row[7],
                "max_record_kib": self.max_record_bytes(name) // 1024,
                "open_shards": sum(1 for s in shards if s["open"]), "shards": shards}

    def kind(self, name) -> str | None:
        """'kinesis' or 'dynamodb' (None: no such stream), without info()'s shard list."""
        row = self.conn.execute("SELECT kind FROM streams WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def name_for_arn(self, arn) -> str | None:
        row = self.conn.execute("SELECT name FROM streams WHERE arn=?", (arn,)).fetchone()
        return row[0] if row else None

    def names(self, kind=None) -> list[str]:
        if kind is None:
            rows = self.conn.execute("SELECT name FROM streams ORDER BY name")
        else:
            rows = self.conn.execute("SELECT name FROM streams WHERE kind=? ORDER BY name", (kind,))
        return [r[0] for r in rows]

    def shards(self, name) -> list[dict]:
        """Every shard, open and closed, in creation order, with lineage and ranges."""
        rows = self.conn.execute(
            f"SELECT {_SHARD_COLUMNS} FROM shards WHERE stream=? ORDER BY ordinal", (name,))
        return [_shard_dict(r) for r in rows]

    # --- writes ---------------------------------------------------------------------------

    def put_record(self, name, partition_key, data, explicit_hash_key=None) -> dict:
        """Kinesis PutRecord -> {"ShardId", "SequenceNumber"}.

        Text data is stored as its UTF-8 bytes (the lab's push takes text; AWS's wire form
        is base64 of the same bytes).
        """
        data = _as_bytes(data, "data")
        ehk = _check_record(partition_key, data, explicit_hash_key,
                            max_bytes=self.max_record_bytes(name))
        row = self._stream(name, kinesis_only=True)
        h = ehk if ehk is not None else partition_hash(partition_key)
        (shard_id, seq), = self._write(row, [(partition_key, data, h, None, len(data))])
        starts, ids, _ = self._routing(row[5])
        i = ids.index(shard_id)
        end = starts[i + 1] - 1 if i + 1 < len(starts) else HASH_KEY_MAX
        how = (f"ExplicitHashKey {h}" if ehk is not None
               else f"MD5 of partition key {partition_key!r} is hash key {h}")
        self.engine.log(
            "stream.put", name,
            f"record {seq} written to {shard_id}: {how}, inside the shard's hash key "
            f"range [{starts[i]}, {end}]",
            subject=shard_id,
            data={"seq": seq, "shard_id": shard_id, "partition_key": partition_key,
                  "hash_key": str(h), "size": len(data)})
        self._notify_writes(name, {shard_id: seq})
        return {"ShardId": shard_id, "SequenceNumber": seq}

    def put_aggregated_record(self, name, records: list[dict], partition_key=None,
                              explicit_hash_key=None) -> dict:
        """A KPL-aggregated PutRecord: `records` ([{"Data", "PartitionKey"?,
        "ExplicitHashKey"?}, ...], 1-500 user records) packed into one record
        (sources/kpl.py), routed by `partition_key` (default: the first user
        record's key) -> {"ShardId", "SequenceNumber", "UserRecords"}."""
        if not isinstance(records, list) or not 1 <= len(records) <= MAX_PUT_RECORDS:
            raise _validation(len(records) if isinstance(records, list) else records,
                              "records", f"an aggregated record holds 1 to {MAX_PUT_RECORDS} "
                              "user records (lab limit)")
        users = []
        for n, r in enumerate(records, 1):
            pk = r.get("PartitionKey") or partition_key
            data = _as_bytes(r.get("Data"), f"records.{n}.member.data")
            if not pk:
                raise _validation("null", f"records.{n}.member.partitionKey",
                                  "Member must have length greater than or equal to 1")
            ehk = r.get("ExplicitHashKey")
            users.append(kpl.UserRecord(pk, data, None if ehk is None else str(ehk)))
        outer = partition_key or users[0].partition_key
        result = self.put_record(name, outer, kpl.aggregate(users), explicit_hash_key)
        self.engine.log("stream.put_aggregated", name,
                        f"record {result['SequenceNumber']} is a KPL aggregate of {len(users)} "
                        "user records: a mapping on the stream gets it as one record (its data "
                        "the whole aggregate); one on an enhanced fan-out consumer gets "
                        f"{len(users)} records with this sequence number",
                        subject=result["ShardId"],
                        data={"seq": result["SequenceNumber"], "user_records": len(users)})
        return {**result, "UserRecords": len(users)}

    def put_records(self, name, records: list[dict]) -> dict:
        """Kinesis PutRecords: records [{"Data", "PartitionKey", "ExplicitHashKey"?}, ...] ->
        {"FailedRecordCount": 0, "Records": [{"SequenceNumber", "ShardId"}, ...]} in order.

        AWS's limits hold: 1-500 records, each data blob <= 1 MiB, the whole request
        <= 5 MiB (UNCERTAIN: the wording of the 5 MiB error is not documented; ours is
        InvalidArgumentException "Records size exceeds 5 MB limit"). The lab never fails
        single records (no throughput limits), so FailedRecordCount is always 0.
        """
        if not isinstance(records, list) or not records:
            raise _validation("[]", "records", "Member must have length greater than or equal to 1")
        if len(records) > MAX_PUT_RECORDS:
            raise AwsError("ValidationException",
                           "1 validation error detected: Value at 'records' failed to satisfy "
                           f"constraint: Member must have length less than or equal to "
                           f"{MAX_PUT_RECORDS}")
        items = []
        append = items.append
        md5 = hashlib.md5
        from_bytes = int.from_bytes
        total = 0
        limit = self.max_record_bytes(name)
        for n, record in enumerate(records, 1):
            data = record.get("Data")
            pk = record.get("PartitionKey")
            if (type(data) is bytes and type(pk) is str and 0 < len(pk) <= 256
                    and len(data) <= limit and record.get("ExplicitHashKey") is None):
                key = pk.encode()
                h = from_bytes(md5(key).digest(), "big")
            else:  # the slow path names what is wrong, as AWS does
                prefix = f"records.{n}.member."
                data = _as_bytes(data, prefix + "data")
                ehk = _check_record(pk, data, record.get("ExplicitHashKey"), prefix, limit)
                key = pk.encode()
                h = ehk if ehk is not None else partition_hash(pk)
            total += len(data) + len(key)
            append((pk, data, h, None, len(data)))
        if total > MAX_PUT_RECORDS_BYTES:
            raise AwsError("InvalidArgumentException", "Records size exceeds 5 MB limit")
        row = self._stream(name, kinesis_only=True)
        written = self._write(row, items)
        per_shard: dict[str, int] = {}
        last: dict[str, str] = {}
        for shard_id, seq in written:
            per_shard[shard_id] = per_shard.get(shard_id, 0) + 1
            last[shard_id] = seq
        self.engine.log(
            "stream.put", name,
            f"{len(written)} records written to {len(per_shard)} shard(s), each routed by the "
            "MD5 hash of its partition key (or its ExplicitHashKey) to the open shard whose hash "
            "key range holds it",
            data={"count": len(written), "shards": per_shard,
                  "first_seq": written[0][1], "last_seq": written[-1][1]})
        self._notify_writes(name, last)
        return {"FailedRecordCount": 0,
                "Records": [{"SequenceNumber": seq, "ShardId": sid} for sid, seq in written]}

    def append(self, name, partition_key, data: bytes, detail: dict | None, size: int) -> dict:
        """Low-level write of one record, used by Tables for DynamoDB stream records.

        No journal event (the caller logs the write); mappings are notified.
        """
        row = self._stream(name)
        h = partition_hash(partition_key)
        detail_text = None if detail is None else json.dumps(detail, separators=(",", ":"))
        (shard_id, seq), = self._write(row, [(partition_key, data, h, detail_text, size)])
        self._notify_writes(name, {shard_id: seq})
        return {"ShardId": shard_id, "SequenceNumber": seq}

    def _write(self, row, items: list[tuple]) -> list[tuple[str, str]]:
        """items: (partition_key, data, hash_key, detail_text, size). One INSERT for all."""
        name, kind, _arn, retention_ms, counter, routing, _ = row
        starts, ids, ordinals = self._routing(routing)
        now = self.engine.now_ms
        kinesis = kind == "kinesis"
        single = len(starts) == 1
        rows = []
        written = []
        touched: dict[str, str] = {}
        counts: dict[str, list] = {}   # shard -> [records, first seq] written now
        for pk, data, h, detail_text, size in items:
            i = 0 if single else bisect_right(starts, h) - 1
            counter += 1
            shard_id = ids[i]
            seq = kinesis_seq(counter, ordinals[i]) if kinesis else dynamodb_seq(counter)
            rows.append((name, shard_id, seq, pk, data, now, size, detail_text, key_hash(pk)))
            written.append((shard_id, seq))
            touched[shard_id] = seq
            seen = counts.get(shard_id)
            if seen is None:
                counts[shard_id] = [1, seq]
            else:
                seen[0] += 1
        conn = self.conn
        conn.executemany(
            "INSERT INTO record_rows (stream, shard_id, seq, partition_key, data, arrival_ms, "
            "size, detail, khash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT INTO record_instants (stream, arrival_ms, shard_id, n, first_seq, last_seq) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (stream, arrival_ms, shard_id) "
            "DO UPDATE SET n = n + excluded.n, last_seq = excluded.last_seq",
            [(name, now, sid, n, first, touched[sid]) for sid, (n, first) in counts.items()])
        conn.execute("UPDATE streams SET next_seq=? WHERE name=?", (counter, name))
        conn.executemany("UPDATE shards SET last_seq=? WHERE stream=? AND shard_id=?",
                         [(seq, name, sid) for sid, seq in touched.items()])
        # After the insert, so freeing never changes the new rows' ids.
        self._free(name, FREE_PER_RECORD * len(rows))
        self.engine.agenda.schedule("stream.trim", f"stream.trim:{name}", now + retention_ms,
                                    {"stream": name})
        return written

    def _notify_writes(self, name: str, touched: dict[str, str]) -> None:
        mappings = getattr(self.engine, "mappings", None)
        many = getattr(mappings, "on_stream_writes", None)
        if many is not None:
            # One wake-up per call (PutRecords touches many shards): the
            # mappings look the stream up once, not once per shard.
            many(name, list(touched), self.engine.now_ms)
            return
        hook = getattr(mappings, "on_stream_write", None)
        if hook is None:
            return
        now = self.engine.now_ms
        for shard_id in touched:
            hook(name, shard_id, now)

    def _notify_reshard(self, name: str) -> None:
        mappings = getattr(self.engine, "mappings", None)
        hook = getattr(mappings, "on_stream_reshard", None)
        if hook is not None:
            hook(name)

    # --- resharding ----------------------------------------------------------------------

    def _close(self, name: str, shard: dict) -> str:
        end_seq = shard["last_seq"] or shard["start_seq"]
        self.conn.execute(
            "UPDATE shards SET end_seq=?, closed_ms=? WHERE stream=? AND shard_id=?",
            (end_seq, self.engine.now_ms, name, shard["shard_id"]))
        return end_seq

    def _check_open(self, name: str, shard: dict) -> None:
        if not shard["open"]:
            raise AwsError(
                "InvalidArgumentException",
                f"Shard {shard['shard_id']} in stream {name} under account {ACCOUNT} has already "
                "been merged or split, and thus is not eligible for merging or splitting.")

    def split_shard(self, name, shard_id, new_starting_hash_key: str) -> None:
        """SplitShard: the parent closes (EndingSequenceNumber = its last record's sequence
        number) and two children take [start, key-1] and [key, end]; new writes go to them."""
        key_text = str(new_starting_hash_key)
        if not _HASH_KEY_RE.match(key_text):
            raise _validation(key_text, "newStartingHashKey",
                              r"Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})")
        row = self._stream(name, kinesis_only=True)
        shard = self._shard(name, shard_id)
        self._check_open(name, shard)
        key = int(key_text)
        start, end = int(shard["hash_start"]), int(shard["hash_end"])
        if not (start + 1 < key < end):
            raise AwsError(
                "InvalidArgumentException",
                f"NewStartingHashKey {key_text} used in SplitShard() on shard {shard_id} in stream "
                f"{name} under account {ACCOUNT} is not both greater than one plus the shard's "
                f"StartingHashKey {start} and less than the shard's EndingHashKey {end}.")
        self._check_shard_limit(1)
        first = row[6]
        end_seq = self._close(name, shard)
        children = [(f"shardId-{first:012d}", first, shard_id, None, start, key - 1),
                    (f"shardId-{first + 1:012d}", first + 1, shard_id, None, key, end)]
        self._insert_shards(name, "kinesis", row[4], children)
        self.conn.execute("UPDATE streams SET next_shard=? WHERE name=?", (first + 2, name))
        self._save_routing(name)
        self.engine.log(
            "stream.resharded", name,
            f"{shard_id} split at hash key {key_text}: it is closed (ending sequence number "
            f"{end_seq}) and its children {children[0][0]} [{start}, {key - 1}] and "
            f"{children[1][0]} [{key}, {end}] take new writes; readers finish the parent before "
            "its children to keep per-key order",
            subject=shard_id,
            data={"op": "split", "parent": shard_id, "children": [c[0] for c in children],
                  "end_seq": end_seq, "new_starting_hash_key": key_text})
        self._notify_reshard(name)

    def merge_shards(self, name, shard_id, adjacent_shard_id) -> None:
        """MergeShards: two open shards with contiguous hash ranges close and one child
        (parent = shard_id, adjacent parent = adjacent_shard_id) takes their union."""
        row = self._stream(name, kinesis_only=True)
        a = self._shard(name, shard_id)
        b = self._shard(name, adjacent_shard_id)
        self._check_open(name, a)
        self._check_open(name, b)
        a_start, a_end = int(a["hash_start"]), int(a["hash_end"])
        b_start, b_end = int(b["hash_start"]), int(b["hash_end"])
        if a_end + 1 != b_start and b_end + 1 != a_start:
            raise AwsError(
                "InvalidArgumentException",
                f"Shards {shard_id} and {adjacent_shard_id} in stream {name} under account "
                f"{ACCOUNT} are not an adjacent pair of shards eligible for merging")
        ordinal = row[6]
        child = f"shardId-{ordinal:012d}"
        end_a = self._close(name, a)
        end_b = self._close(name, b)
        lo, hi = min(a_start, b_start), max(a_end, b_end)
        self._insert_shards(name, "kinesis", row[4],
                            [(child, ordinal, shard_id, adjacent_shard_id, lo, hi)])
        self.conn.execute("UPDATE streams SET next_shard=? WHERE name=?", (ordinal + 1, name))
        self._save_routing(name)
        self.engine.log(
            "stream.resharded", name,
            f"{shard_id} and {adjacent_shard_id} merged: both are closed (ending sequence numbers "
            f"{end_a}, {end_b}) and their child {child} [{lo}, {hi}] takes new "
            "writes; readers finish both parents before the child",
            subject=child,
            data={"op": "merge", "parents": [shard_id, adjacent_shard_id], "child": child,
                  "end_seqs": [end_a, end_b]})
        self._notify_reshard(name)

    # --- reading ---------------------------------------------------------------------------

    def read(self, name, shard_id, after_seq: str | None, limit: int,
             lane: tuple[int, int] | None = None) -> list[dict]:
        """Up to `limit` records of the shard after `after_seq` (exclusive; None = from the
        trim horizon), in sequence order. Never returns a record past its retention, even
        before trim() has deleted it. Each: {"id", "seq", "partition_key", "data" (bytes),
        "arrival_ms", "size", "detail" (dict or None)}."""
        row = self.conn.execute("SELECT retention_ms, trimmed_ms FROM streams WHERE name=?",
                                (name,)).fetchone()
        if row is None:
            raise AwsError("ResourceNotFoundException",
                           f"Stream {name} under account {ACCOUNT} not found.")
        # Expired now, or trimmed before (under a retention since made longer).
        cutoff = self.engine.now_ms - row[0]
        if row[1] is not None and row[1] > cutoff:
            cutoff = row[1]
        if lane is None:
            rows = self.conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM record_rows WHERE stream=? AND shard_id=? "
                "AND seq>? AND arrival_ms>? ORDER BY seq LIMIT ?",
                (name, shard_id, after_seq or "", cutoff, limit)).fetchall()
        else:  # only the records of lane n of `factor` lanes: (n, factor)
            rows = self.conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM record_rows WHERE stream=? AND shard_id=? "
                "AND seq>? AND khash % ? = ? AND arrival_ms>? ORDER BY seq LIMIT ?",
                (name, shard_id, after_seq or "", lane[1], lane[0], cutoff, limit)).fetchall()
        return [_record_dict(r) for r in rows]

    def records_by_ids(self, ids) -> list[dict]:
        """The stored records with these row ids, in sequence order (read()'s dict shape).
        Ids of records already trimmed are simply absent from the result."""
        ids = list(ids)
        rows: list = []
        for i in range(0, len(ids), 900):
            chunk = ids[i:i + 900]
            marks = ",".join("?" * len(chunk))
            rows.extend(self.conn.execute(
                f"SELECT stream, {_RECORD_COLUMNS} FROM record_rows WHERE id IN ({marks})", chunk))
        if rows:
            # The rows, then the horizons of the streams that have one: cheaper
            # than the `records` view's join, one streams lookup per row.
            horizons = dict(self.conn.execute(
                "SELECT name, trimmed_ms FROM streams WHERE trimmed_ms IS NOT NULL"))
            if horizons:
                rows = [r for r in rows if horizons.get(r[0]) is None or r[5] > horizons[r[0]]]
        out = [_record_dict(r[1:]) for r in rows]
        out.sort(key=lambda r: (r["seq"], r["id"]))
        return out

    def page(self, name, shard_id, offset=0, limit=100) -> list[dict]:
        """Stored records of a shard in sequence order, for panels."""
        rows = self.conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE stream=? AND shard_id=? "
            "ORDER BY seq LIMIT ? OFFSET ?", (name, shard_id, limit, offset)).fetchall()
        return [_record_dict(r) for r in rows]

    def position(self, name, shard_id, starting_position, timestamp_ms=None,
                 sequence_number=None) -> str | None:
        """Where an iterator of this type starts, as the exclusive `after_seq` for read().

        TRIM_HORIZON -> None; LATEST -> the shard's last sequence number now (its ending
        sequence number if closed, its start marker if empty); AT_TIMESTAMP -> just before
        the first record that arrived at or after timestamp_ms (LATEST if none did);
        AT_SEQUENCE_NUMBER -> just before sequence_number; AFTER_SEQUENCE_NUMBER ->
        sequence_number.
        """
        self._stream(name)
        shard = self._shard(name, shard_id)
        if starting_position == "TRIM_HORIZON":
            return None
        latest = shard["end_seq"] or shard["last_seq"] or shard["start_seq"]
        if starting_position == "LATEST":
            return latest
        if starting_position == "AT_TIMESTAMP":
            if timestamp_ms is None:
                raise AwsError("InvalidArgumentException",
                               "Must specify timestampInMillis parameter for iterator of type "
                               "AT_TIMESTAMP. Current request has no timestamp parameter.")
            found = self.conn.execute(
                "SELECT seq FROM records WHERE stream=? AND shard_id=? AND arrival_ms>=? "
                "ORDER BY seq LIMIT 1", (name, shard_id, int(timestamp_ms))).fetchone()
            return seq_before(found[0]) if found else latest
        if starting_position in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence_number is None or not _SEQ_RE.match(str(sequence_number)):
                raise AwsError("InvalidArgumentException",
                               f"StartingSequenceNumber {sequence_number} used in "
                               f"GetShardIterator on shard {shard_id} in stream {name} under "
                               f"account {ACCOUNT} is invalid.")
            seq = str(sequence_number)
            return seq_before(seq) if starting_position == "AT_SEQUENCE_NUMBER" else seq
        raise _validation(starting_position, "shardIteratorType",
                          "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, "
                          "AT_TIMESTAMP, TRIM_HORIZON, AT_SEQUENCE_NUMBER]")

    def last_seq(self, name, shard_id) -> str | None:
        """The last sequence number written to the shard (None if none ever was)."""
        row = self.conn.execute("SELECT last_seq FROM shards WHERE stream=? AND shard_id=?",
                                (name, shard_id)).fetchone()
        return row[0] if row else None

    def trimmed_seq(self, name, shard_id) -> str | None:
        """The highest sequence number this shard lost to retention (None if none)."""
        row = self.conn.execute("SELECT trimmed_seq FROM shards WHERE stream=? AND shard_id=?",
                                (name, shard_id)).fetchone()
        return row[0] if row else None

    def count_after(self, name, shard_id, after_seq) -> int:
        """Stored records of the shard after `after_seq` (None = all): the backlog."""
        return self.conn.execute(
            "SELECT count(*) FROM records WHERE stream=? AND shard_id=? AND seq>?",
            (name, shard_id, after_seq or "")).fetchone()[0]

    # --- retention -----------------------------------------------------------------------

    def trim(self, name) -> int:
        """Trim the records older than the stream's retention (a command's
        trim: a shorter retention); return how many. A trim an older esmlab
        left in parts for this stream is finished first, so its journal event
        comes before this one's."""
        pending = self.engine.agenda.data(f"stream.trim:{name}")
        if pending and "trim" in pending:
            self.engine.agenda.cancel(f"stream.trim:{name}")
            self._trim_to(name, pending["trim"]["cutoff"], pending["trim"])
        return self._trim_to(name, self.engine.now_ms - self._stream(name)[3])

    def _trim_to(self, name: str, cutoff: int, earlier: dict | None = None) -> int:
        """Trim every record that arrived at or before `cutoff`: the horizon
        moves, the shards' counts come from record_instants (a few rows per
        write, whatever the number of records), and up to TRIM_CHUNK rows are
        freed now. `earlier` is a trim an older lab (schema 7 or before) left in parts (its
        tally so far, already in the shards' counts). One journal event."""
        conn = self.conn
        tally = conn.execute(
            "SELECT shard_id, sum(n), max(last_seq), min(arrival_ms), min(first_seq) "
            "FROM record_instants WHERE stream=? AND arrival_ms<=? GROUP BY shard_id",
            (name, cutoff)).fetchall()
        shards = {sid: list(seen) for sid, seen in ((earlier or {}).get("shards") or {}).items()}
        for sid, n, top, first_ms, first_seq in tally:
            seen = shards.get(sid)
            if seen is None:
                shards[sid] = [n, top, first_ms, first_seq]
            else:
                seen[0] += n
                seen[1] = max(seen[1], top)
                seen[2:] = min((seen[2], seen[3]), (first_ms, first_seq))
        if tally:
            conn.execute("DELETE FROM record_instants WHERE stream=? AND arrival_ms<=?",
                         (name, cutoff))
            conn.executemany(
                "UPDATE shards SET trimmed = trimmed + ?, "
                "trimmed_seq = CASE WHEN trimmed_seq IS NULL OR trimmed_seq < ? THEN ? "
                "ELSE trimmed_seq END WHERE stream=? AND shard_id=?",
                [(n, top, top, name, sid) for sid, n, top, _, _ in tally])
            conn.execute("UPDATE streams SET trimmed_ms = CASE WHEN trimmed_ms IS NULL OR "
                         "trimmed_ms < ? THEN ? ELSE trimmed_ms END WHERE name=?",
                         (cutoff, cutoff, name))
            self.engine.agenda.charge(self._free(name, TRIM_CHUNK) // TRIM_ROWS_PER_UNIT)
        return self._trim_end(name, shards)

    def _free(self, name: str, limit: int) -> int:
        """Delete up to `limit` rows of records the stream has trimmed, oldest
        first (the (stream, arrival_ms) index finds them); how many went."""
        if limit <= 0:
            return 0
        return self.conn.execute(
            "DELETE FROM record_rows WHERE id IN (SELECT id FROM record_rows WHERE stream=?1 "
            "AND arrival_ms <= (SELECT trimmed_ms FROM streams WHERE name=?1) "
            "ORDER BY arrival_ms, id LIMIT ?2)", (name, limit)).rowcount

    def free_trimmed(self) -> int:
        """Delete every row of a trimmed record, in every stream (esmlab
        compact); how many went."""
        # One plain range DELETE per stream on the (stream, arrival_ms) index:
        # the shape of bench/run.py's floor, without a list of ids to build.
        horizons = self.conn.execute(
            "SELECT name, trimmed_ms FROM streams WHERE trimmed_ms IS NOT NULL").fetchall()
        return sum(self.conn.execute(
            "DELETE FROM record_rows WHERE stream=? AND arrival_ms<=?", horizon).rowcount
            for horizon in horizons)

    def _trim_end(self, name: str, shards: dict) -> int:
        """Journal a finished trim: one event, the shards in the order their
        first expired record arrived."""
        row = self._stream(name)
        order = sorted(shards.items(), key=lambda kv: (kv[1][2], kv[1][3]))
        per_shard = {sid: (n, top) for sid, (n, top, _, _) in order}
        self.last_trimmed = per_shard
        total = sum(n for n, _ in per_shard.values())
        if not total:
            return 0
        retention_ms = row[3]
        hours = retention_ms // HOUR_MS
        rule = ("DynamoDB Streams keep records for 24 hours" if row[1] == "dynamodb"
                else f"RetentionPeriodHours={hours}")
        self.engine.log(
            "stream.trimmed", name,
            f"{total} record(s) trimmed from {name}: they are older than the stream's "
            f"retention of {hours} h ({rule}); any reader that had not reached them lost them",
            data={"count": total, "retention_hours": hours,
                  "shards": {sid: {"count": n, "up_to_seq": top}
                             for sid, (n, top) in per_shard.items()}})
        return total

    def _schedule_trim(self, name: str, retention_ms: int, replace: bool = False) -> None:
        oldest = self.conn.execute("SELECT min(arrival_ms) FROM record_instants WHERE stream=?",
                                   (name,)).fetchone()[0]
        key = f"stream.trim:{name}"
        if oldest is None:
            if replace:
                self.engine.agenda.cancel(key)
            return
        # Never the current instant: a timer due now would fire again at once.
        due = max(oldest + retention_ms, self.engine.now_ms + 1)
        schedule = self.engine.agenda.reschedule if replace else self.engine.agenda.schedule
        schedule("stream.trim", key, due, {"stream": name})

    def _on_trim_timer(self, key: str, data) -> None:
        """A retention trim, whole: it costs a few statements whatever it
        trims. A timer an older esmlab left holding a trim in parts
        (`data["trim"]`, lab schema 7 or before) finishes that trim, at its cutoff."""
        name = (data or {}).get("stream") or key.split(":", 1)[1]
        row = self.conn.execute("SELECT retention_ms FROM streams WHERE name=?", (name,)).fetchone()
        if row is None:
            return
        earlier = (data or {}).get("trim")
        cutoff = earlier["cutoff"] if earlier else self.engine.now_ms - row[0]
        self._trim_to(name, cutoff, earlier)
        self._schedule_trim(name, row[0])


def _check_retention(hours) -> None:
    if not isinstance(hours, int) or isinstance(hours, bool):
        raise _validation(hours, "retentionPeriodHours", "Member must be a whole number of hours")
    if hours < MIN_RETENTION_HOURS:
        raise AwsError("InvalidArgumentException",
                       f"Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. "
                       f"Requested retention period ({hours} hours) is too short.")
    if hours > MAX_RETENTION_HOURS:
        raise AwsError("InvalidArgumentException",
                       f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. "
                       f"Requested retention period ({hours} hours) is too long.")


def _shard_dict(row) -> dict:
    (shard_id, ordinal, parent, adjacent, hash_start, hash_end, start_seq, end_seq, last_seq,
     created_ms, closed_ms, trimmed_seq, trimmed) = row
    return {"shard_id": shard_id, "ordinal": ordinal, "parent": parent,
            "adjacent_parent": adjacent, "hash_start": hash_start, "hash_end": hash_end,
            "start_seq": start_seq, "end_seq": end_seq, "open": end_seq is None,
            "last_seq": last_seq, "created_ms": created_ms, "closed_ms": closed_ms,
            "trimmed_seq": trimmed_seq, "trimmed": trimmed}


def _record_dict(row) -> dict:
    id_, seq, pk, data, arrival_ms, size, detail = row
    return {"id": id_, "seq": seq, "partition_key": pk, "data": data, "arrival_ms": arrival_ms,
            "size": size, "detail": None if detail is None else json.loads(detail)}
