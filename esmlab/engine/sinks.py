"""On-failure destinations the lab can hold besides queues: SNS topics and
S3 buckets. They only collect what is delivered to them, so the user can
open them and read the failure records.
"""

from __future__ import annotations

import json
import re
import uuid

from esmlab.engine import arns, roles
from esmlab.engine.payloads import iso
from esmlab.errors import AwsError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}(\.fifo)?$")


class Sinks:
    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.conn

    def create_topic(self, name: str) -> dict:
        if not _TOPIC.match(name):
            raise AwsError("InvalidParameter", "Invalid parameter: Topic Name")
        self._create(name, "sns-fifo" if name.endswith(".fifo") else "sns", arns.topic_arn(name))
        return {"TopicArn": arns.topic_arn(name)}

    def create_bucket(self, name: str) -> dict:
        if not _BUCKET.match(name):
            raise AwsError("InvalidBucketName", "The specified bucket is not valid.")
        self._create(name, "s3", arns.bucket_arn(name))
        return {"Location": f"/{name}"}

    def _create(self, name: str, kind: str, arn: str) -> None:
        if self.conn.execute("SELECT 1 FROM sinks WHERE name=?", (name,)).fetchone():
            return  # CreateTopic/CreateBucket are idempotent for the owner
        self.conn.execute("INSERT INTO sinks (name, kind, arn, created_ms) VALUES (?,?,?,?)",
                          (name, kind, arn, self.engine.now_ms))
        self.engine.log("sink.created", name, f"{kind.upper()} {name} created ({arn})")

    def kind_of_arn(self, arn: str) -> str | None:
        """'sqs', 'sqs-fifo', 'sns', 'sns-fifo', 's3' or None when nothing in the lab has that ARN."""
        if arns.service_of(arn) == "sqs":
            name = self.engine.queues.name_for_arn(arn)
            if name is None:
                return None
            return "sqs-fifo" if name.endswith(".fifo") else "sqs"
        row = self.conn.execute("SELECT kind FROM sinks WHERE arn=?", (arn,)).fetchone()
        return row[0] if row else None

    def deliver(self, arn: str, body: dict, *, key: str | None, reason: str,
                role: dict | None = None) -> bool:
        """Send a failure record; False (and DestinationDeliveryFailures) if it
        cannot land: no such destination, or `role` (the function's execution
        role) may not write to it. A topic holds what a subscriber receives:
        an SNS notification whose Message is the record (recorded on AWS,
        reference 8.2)."""
        kind = self.kind_of_arn(arn)
        if role is not None and not roles.can_write(role, kind):
            return False
        text = json.dumps(body, separators=(",", ":"))
        if kind == "sqs":
            self.engine.queues.send(self.engine.queues.name_for_arn(arn), text)
            return True
        if kind == "sns":
            # MessageId hashed, not drawn, so older labs replay identically.
            message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}#{self.engine.seed}#{text}"))
            text = json.dumps(sns_notification(arn, text, message_id, self.engine.now_ms),
                              separators=(",", ":"))
        if kind in ("sns", "s3"):
            name = arns.name_of(arn)
            self.conn.execute(
                "INSERT INTO sink_items (sink, at_ms, key, body, reason) VALUES (?,?,?,?,?)",
                (name, self.engine.now_ms, key, text, reason))
            return True
        return False

    def names(self) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT name, kind FROM sinks ORDER BY name"))

    def items(self, name: str, offset: int = 0, limit: int = 50) -> list[dict]:
        rows = self.conn.execute(
            "SELECT id, at_ms, key, body, reason FROM sink_items WHERE sink=? ORDER BY id "
            "LIMIT ? OFFSET ?", (name, limit, offset))
        return [{"id": i, "at_ms": at, "key": k, "body": json.loads(b), "reason": r}
                for i, at, k, b, r in rows]

    def count(self, name: str) -> int:
        return self.conn.execute("SELECT count(*) FROM sink_items WHERE sink=?", (name,)).fetchone()[0]




def sns_notification(topic_arn: str, message: str, message_id: str, at_ms: int) -> dict:
    """The JSON an SNS subscriber receives for one published message, with
    SNS's field names and order. The lab does not sign messages: Signature
    is a placeholder and the URLs point at the lab's region; the lab has no
    subscriptions, so the one in UnsubscribeURL is named after the topic."""
    region = topic_arn.split(":")[3]
    subscription = uuid.uuid5(uuid.NAMESPACE_URL, topic_arn)
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": iso(at_ms),
        "SignatureVersion": "1",
        "Signature": "ESMLAB-UNSIGNED",
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/"
                          "SimpleNotificationService-esmlab.pem",
        "UnsubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                          f"&SubscriptionArn={topic_arn}:{subscription}",
    }
