"""Kinesis enhanced fan-out consumers: RegisterStreamConsumer,
DescribeStreamConsumer, ListStreamConsumers, DeregisterStreamConsumer
(reference 1.2), on the lab's clock.

A consumer is a name registered on a stream. Its ARN is the stream's ARN,
``/consumer/<name>:<creation time in epoch seconds>``: a consumer deleted and
registered again under the same name gets another ARN (AWS's API reference).
A Lambda mapping may name the consumer ARN as its EventSourceArn; it then
reads the stream through the consumer (mappings/stream_poller.py): its events
and on-failure records carry the consumer ARN, and KPL-aggregated records
arrive de-aggregated (sources/kpl.py).

What was recorded on AWS (stackd testdata/aws/lambda/kinesis_source.json,
kinesis_destination.json, kinesis_reshard.json, 2026-09): Register answers
CREATING, Describe says CREATING for a few seconds (3-6 s) and then ACTIVE;
Deregister answers nothing, Describe says DELETING for a few seconds and then
ResourceNotFoundException "Consumer <name> with creation timestamp <t> under
stream: <stream>, account <account> not found.". The lab takes 5 s for each
transition. A consumer that is not ACTIVE cannot be read from ("A consumer
can't read data while in the CREATING or DELETING states", API reference):
its mappings wait (their LastProcessingResult says why).

Limits (API reference): 20 consumers per stream (the lab's streams are
provisioned; On-demand Advantage allows 50), at most 5 CREATING at once in
the account (LimitExceededException). AWS's exact texts for a duplicate name
and for the limits were not found recorded: those errors are `own=True`
(their hint says the wording is the lab's).
Deleting a stream deletes its consumers (DeleteStream with
EnforceConsumerDeletion, as the recordings clean up).
"""

from __future__ import annotations

import re

from esmlab.engine.arns import ACCOUNT, stream_arn
from esmlab.errors import AwsError

TRANSITION_MS = 5_000        # CREATING -> ACTIVE and DELETING -> gone (recorded 3-6 s)
MAX_PER_STREAM = 20
MAX_CREATING = 5
KIND = "consumer.status"

_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]+\Z")
_CONSUMER_ARN_RE = re.compile(
    r"arn:aws[^:]*:kinesis:[^:]*:\d{12}:stream/([a-zA-Z0-9_.-]+)/consumer/([a-zA-Z0-9_.-]+):(\d+)\Z")


def is_consumer_arn(arn: str | None) -> bool:
    return bool(arn) and "/consumer/" in arn


def parse_consumer_arn(arn: str) -> tuple[str, str, int] | None:
    """(stream name, consumer name, creation epoch seconds), or None."""
    match = _CONSUMER_ARN_RE.match(arn or "")
    if match is None:
        return None
    return match.group(1), match.group(2), int(match.group(3))


def consumer_arn(stream: str, name: str, created_s: int) -> str:
    return f"{stream_arn(stream)}/consumer/{name}:{created_s}"


def _validation(value, where: str, constraint: str) -> AwsError:
    return AwsError("ValidationException",
                    f"1 validation error detected: Value '{value}' at '{where}' failed to "
                    f"satisfy constraint: {constraint}")


def _check_name(name) -> None:
    if not isinstance(name, str) or not name:
        raise _validation(name, "consumerName",
                          "Member must have length greater than or equal to 1")
    if len(name) > 128:
        raise _validation(name, "consumerName", "Member must have length less than or equal to 128")
    if not _NAME_RE.match(name):
        raise _validation(name, "consumerName",
                          "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")


class Consumers:
    """The stream consumers of a lab (Consumers(engine)); every call runs in
    the caller's transaction."""

    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.conn
        engine.agenda.on(KIND, self._on_timer)

    # --- lookups -------------------------------------------------------------------

    def _row(self, arn: str) -> dict | None:
        row = self.conn.execute(
            "SELECT arn, stream, name, status, created_ms FROM stream_consumers WHERE arn=?",
            (arn,)).fetchone()
        if row is None:
            return None
        return {"arn": row[0], "stream": row[1], "name": row[2], "status": row[3],
                "created_ms": row[4]}

    def _rows(self, stream: str) -> list[dict]:
        return [self._row(arn) for (arn,) in self.conn.execute(
            "SELECT arn FROM stream_consumers WHERE stream=? ORDER BY created_ms, name",
            (stream,))]

    def get(self, arn: str) -> dict | None:
        """The consumer with this ARN ({arn, stream, name, status, created_ms}), or None."""
        return self._row(arn)

    def stream_of(self, arn: str) -> str | None:
        """The stream a consumer ARN reads, while the consumer exists."""
        row = self._row(arn)
        return row["stream"] if row else None

    def _stream_name(self, stream_arn_: str) -> str:
        name = self.engine.streams.name_for_arn(stream_arn_)
        if name is None or self.engine.streams.info(name)["kind"] != "kinesis":
            parsed = (stream_arn_ or "").rsplit("/", 1)[-1]
            raise AwsError("ResourceNotFoundException",
                           f"Stream {parsed} under account {ACCOUNT} not found.")
        return name

    def _find(self, ConsumerARN: str | None, StreamARN: str | None,
              ConsumerName: str | None) -> dict:
        if ConsumerARN:
            row = self._row(ConsumerARN)
            if row is None:
                parsed = parse_consumer_arn(ConsumerARN)
                if parsed is None:
                    raise _validation(ConsumerARN, "consumerARN",
                                      "Member must satisfy regular expression pattern: "
                                      r"^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+"
                                      r"\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+")
                raise self._not_found(*parsed)
            return row
        if not (StreamARN and ConsumerName):
            raise AwsError("InvalidArgumentException",
                           "Either ConsumerARN or both StreamARN and ConsumerName must be "
                           "provided.",
                           hint="name the consumer by its ARN, or by its stream and name",
                           own=True)
        stream = self._stream_name(StreamARN)
        for row in self._rows(stream):
            if row["name"] == ConsumerName:
                return row
        raise AwsError("ResourceNotFoundException",
                       f"Consumer {ConsumerName} under stream {stream} not found.",
                       own=True)

    @staticmethod
    def _not_found(stream: str, name: str, created_s: int) -> AwsError:
        # AWS wording (recorded, DescribeStreamConsumer after a deregister).
        return AwsError("ResourceNotFoundException",
                        f"Consumer {name} with creation timestamp {created_s} under stream: "
                        f"{stream}, account {ACCOUNT} not found.")

    # --- the API -------------------------------------------------------------------

    def register(self, StreamARN: str, ConsumerName: str) -> dict:
        """RegisterStreamConsumer -> {"Consumer": {...}} in CREATING."""
        _check_name(ConsumerName)
        stream = self._stream_name(StreamARN)
        existing = self._rows(stream)
        if any(r["name"] == ConsumerName for r in existing):
            raise AwsError("ResourceInUseException",
                           f"Consumer {ConsumerName} under stream {stream} already exists for "
                           f"account {ACCOUNT}.",
                           hint="consumer names are unique per stream", own=True)
        if len(existing) >= MAX_PER_STREAM:
            raise AwsError("LimitExceededException",
                           f"Stream {stream} under account {ACCOUNT} already has "
                           f"{MAX_PER_STREAM} registered consumers.",
                           hint=f"AWS allows {MAX_PER_STREAM} consumers per provisioned "
                                "stream (50 in On-demand Advantage mode)", own=True)
        creating = self.conn.execute(
            "SELECT COUNT(*) FROM stream_consumers WHERE status='CREATING'").fetchone()[0]
        if creating >= MAX_CREATING:
            raise AwsError("LimitExceededException",
                           f"Account {ACCOUNT} already has {MAX_CREATING} consumers in "
                           "CREATING status.",
                           hint="AWS creates at most 5 consumers at a time; step the clock "
                                "until one is ACTIVE", own=True)
        now = self.engine.now_ms
        created_s = now // 1000
        arn = consumer_arn(stream, ConsumerName, created_s)
        self.conn.execute(
            "INSERT INTO stream_consumers (arn, stream, name, status, created_ms) "
            "VALUES (?, ?, ?, 'CREATING', ?)", (arn, stream, ConsumerName, now))
        self.engine.agenda.schedule(KIND, f"consumer:{arn}", now + TRANSITION_MS,
                                    {"arn": arn, "to": "ACTIVE"})
        self.engine.log("consumer.registered", stream,
                        f"consumer {ConsumerName} registered on {stream} (enhanced fan-out): "
                        f"CREATING, ACTIVE in {TRANSITION_MS // 1000} s; it gets its own "
                        "2 MB/s per shard and records are pushed to it (SubscribeToShard)",
                        subject=arn, data={"arn": arn})
        return {"Consumer": self._consumer(self._row(arn))}

    def describe(self, ConsumerARN: str | None = None, StreamARN: str | None = None,
                 ConsumerName: str | None = None) -> dict:
        """DescribeStreamConsumer -> {"ConsumerDescription": {...}}."""
        row = self._find(ConsumerARN, StreamARN, ConsumerName)
        return {"ConsumerDescription": {**self._consumer(row),
                                        "StreamARN": stream_arn(row["stream"])}}

    def list(self, StreamARN: str) -> dict:
        """ListStreamConsumers -> {"Consumers": [...]} (every status, oldest first)."""
        stream = self._stream_name(StreamARN)
        return {"Consumers": [self._consumer(r) for r in self._rows(stream)]}

    def deregister(self, ConsumerARN: str | None = None, StreamARN: str | None = None,
                   ConsumerName: str | None = None) -> dict:
        """DeregisterStreamConsumer -> {} ; DELETING, gone after TRANSITION_MS."""
        row = self._find(ConsumerARN, StreamARN, ConsumerName)
        if row["status"] != "DELETING":
            self.conn.execute("UPDATE stream_consumers SET status='DELETING' WHERE arn=?",
                              (row["arn"],))
            self.engine.agenda.cancel(f"consumer:{row['arn']}")
            self.engine.agenda.schedule(KIND, f"consumer:{row['arn']}",
                                        self.engine.now_ms + TRANSITION_MS,
                                        {"arn": row["arn"], "to": None})
            self.engine.log("consumer.deregistering", row["stream"],
                            f"consumer {row['name']} is DELETING: mappings reading through it "
                            "stop receiving records", subject=row["arn"])
            self._wake(row["arn"])
        return {}

    def drop_stream(self, stream: str) -> None:
        """The stream was deleted: its consumers go with it (EnforceConsumerDeletion)."""
        for row in self._rows(stream):
            self.engine.agenda.cancel(f"consumer:{row['arn']}")
        self.conn.execute("DELETE FROM stream_consumers WHERE stream=?", (stream,))

    def names(self, stream: str) -> list[str]:
        return [r["name"] for r in self._rows(stream)]

    # --- transitions -----------------------------------------------------------------

    def _on_timer(self, key: str, data: dict) -> None:
        row = self._row(data["arn"])
        if row is None:
            return
        if data["to"] == "ACTIVE":
            self.conn.execute("UPDATE stream_consumers SET status='ACTIVE' WHERE arn=?",
                              (row["arn"],))
            self.engine.log("consumer.active", row["stream"],
                            f"consumer {row['name']} is ACTIVE: mappings on its ARN can read",
                            subject=row["arn"])
        else:
            self.conn.execute("DELETE FROM stream_consumers WHERE arn=?", (row["arn"],))
            self.engine.log("consumer.deleted", row["stream"],
                            f"consumer {row['name']} deregistered; its ARN names nothing now "
                            "(a new registration under the same name gets another ARN)",
                            subject=row["arn"])
        self._wake(row["arn"])

    def _wake(self, arn: str) -> None:
        mappings = getattr(self.engine, "mappings", None)
        if mappings is not None:
            mappings.on_source_change(arn)

    @staticmethod
    def _consumer(row: dict) -> dict:
        return {"ConsumerName": row["name"], "ConsumerARN": row["arn"],
                "ConsumerStatus": row["status"],
                "ConsumerCreationTimestamp": row["created_ms"] // 1000}
