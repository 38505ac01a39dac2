"""SQS source (esmlab/engine/sources/queue.py): one test per AWS rule."""

from __future__ import annotations

import hashlib
import json

import pytest

from esmlab.engine.arns import queue_arn
from esmlab.engine.sources.queue import Queues
from esmlab.engine.world import DEFAULT_START_MS, Engine
from esmlab.errors import AwsError
from esmlab.store import Store
from engine_helpers import make_engine

EVENT_KEYS = {"id", "message_id", "receipt_handle", "body", "sent_ms", "receive_count",
              "first_receive_ms", "message_attributes", "group_id", "dedup_id",
              "sequence_number", "size", "dlq_source_arn", "trace_header"}


class FakeMappings:
    def __init__(self):
        self.ready = []

    def on_queue_ready(self, name, at_ms):
        self.ready.append((name, at_ms))


@pytest.fixture(autouse=True)
def only_queues(monkeypatch):
    # Other services are written in parallel; this file needs only Queues.
    def services(self):
        self.queues = Queues(self)
    monkeypatch.setattr(Engine, "_services", services)




@pytest.fixture
def engine():
    # In memory: these tests do not reopen the file (the persistence tests do).
    store = Store(":memory:")
    with store.transaction():
        Engine.initialise(store, name="t", seed=1, profile="current", start_ms=DEFAULT_START_MS)
    return Engine(store)


@pytest.fixture
def q(engine):
    return engine.queues


def advance(engine, seconds):
    # Runs the agenda: retention is enforced by a timer at the expiry instant.
    engine.agenda.run_until(engine.agenda.now_ms + int(seconds * 1000))


def error_of(call, *args, **kwargs) -> AwsError:
    with pytest.raises(AwsError) as info:
        call(*args, **kwargs)
    return info.value


def events(engine, kind):
    return engine.journal.events(kind=kind)


def with_dlq(q, name="orders", dlq="orders-dlq", max_receive_count=3, fifo=False, **attrs):
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    q.create(dlq, dict(extra))
    q.create(name, {**extra, **attrs, "RedrivePolicy": {
        "deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": max_receive_count}})


# --- names and attributes ------------------------------------------------------------


def test_queue_names_are_up_to_80_alphanumerics_hyphens_underscores(q):
    assert q.create("a" * 80)["QueueUrl"].endswith("/" + "a" * 80)
    q.create("Orders_v2-eu")
    for bad in ("a" * 81, "bad.name", "with space", "ümlaut", ""):
        e = error_of(q.create, bad)
        assert (e.code, e.message) == ("InvalidParameterValue", "Can only include alphanumeric "
                                       "characters, hyphens, or underscores. 1 to 80 in length")
    assert q.names() == sorted(["a" * 80, "Orders_v2-eu"])


def test_fifo_suffix_needs_fifo_queue_true(q):
    e = error_of(q.create, "jobs.fifo")
    assert e.code == "InvalidParameterValue" and "1 to 80 in length" in e.message
    e = error_of(q.create, "jobs.fifo", {"FifoQueue": "false"})
    assert (e.code, e.message) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.")
    e = error_of(q.create, ("x" * 76) + ".fifo", {"FifoQueue": True})
    assert e.code == "InvalidParameterValue" and "must end with .fifo suffix" in e.message
    q.create("jobs.fifo", {"FifoQueue": True})
    assert q.info("jobs.fifo").fifo and q.info("jobs.fifo").attributes["FifoQueue"] == "true"


def test_fifo_queue_attribute_needs_fifo_suffix(q):
    for value in ("true", "false", True):
        e = error_of(q.create, "jobs", {"FifoQueue": value})
        assert (e.code, e.message) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.")
    e = error_of(q.create, "jobs", {"ContentBasedDeduplication": "true"})
    assert e.message == "Unknown Attribute ContentBasedDeduplication."
    assert not q.exists("jobs")


def test_unknown_attribute_names_are_rejected(q):
    e = error_of(q.create, "jobs", {"VisibilityTimeOut": 30})
    assert (e.code, e.message) == ("InvalidAttributeName", "Unknown Attribute VisibilityTimeOut.")
    q.create("jobs")
    e = error_of(q.set_attributes, "jobs", {"QueueArn": "x"})
    assert e.code == "InvalidAttributeName"


@pytest.mark.parametrize("attribute, bad, good", [
    ("VisibilityTimeout", 43201, 43200),
    ("MessageRetentionPeriod", 59, 60),
    ("MessageRetentionPeriod", 1209601, 1209600),
    ("DelaySeconds", 901, 900),
    ("MaximumMessageSize", 1023, 1024),
    ("MaximumMessageSize", 1048577, 1048576),
    ("ReceiveMessageWaitTimeSeconds", 21, 20),
    ("VisibilityTimeout", "-1", "0"),
    ("VisibilityTimeout", " 6", "6"),
    ("VisibilityTimeout", "5.5", "5"),
    ("VisibilityTimeout", True, 7),
])
def test_attribute_values_outside_aws_ranges_are_rejected(q, attribute, bad, good):
    e = error_of(q.create, "jobs", {attribute: bad})
    assert (e.code, e.message) == ("InvalidAttributeValue",
                                   f"Invalid value for the parameter {attribute}.")
    q.create("jobs", {attribute: good})
    assert q.info("jobs").attributes[attribute] == str(good)


def test_attribute_values_are_stored_in_aws_string_form(q):
    q.create("jobs.fifo", {"FifoQueue": True, "VisibilityTimeout": 45,
                           "ContentBasedDeduplication": True})
    info = q.info("jobs.fifo")
    assert info.attributes["VisibilityTimeout"] == "45"
    assert info.attributes["ContentBasedDeduplication"] == "true"
    assert info.visibility_timeout == 45 and info.content_based_dedup
    q.create("plain")
    defaults = q.info("plain")
    assert (defaults.visibility_timeout, defaults.retention_seconds, defaults.delay_seconds,
            defaults.max_message_size, defaults.receive_wait_seconds) == (30, 345600, 0, 1048576, 0)
    assert defaults.attributes["QueueArn"] == queue_arn("plain")


def test_create_existing_queue_is_idempotent_unless_attributes_differ(q):
    url = q.create("jobs", {"VisibilityTimeout": 60})["QueueUrl"]
    assert q.create("jobs", {"VisibilityTimeout": "60"})["QueueUrl"] == url
    assert q.create("jobs")["QueueUrl"] == url
    e = error_of(q.create, "jobs", {"VisibilityTimeout": 61})
    assert e.code == "QueueAlreadyExists"
    assert e.message.endswith("different value for attribute VisibilityTimeout")


def test_redrive_policy_accepts_dict_or_json_string(q):
    q.create("dlq")
    q.create("a", {"RedrivePolicy": {"deadLetterTargetArn": queue_arn("dlq"),
                                     "maxReceiveCount": "5"}})
    q.create("b", {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn("dlq"),
                                                "maxReceiveCount": 4})})
    assert (q.info("a").dlq_name, q.info("a").max_receive_count) == ("dlq", 5)
    assert (q.info("b").dlq_name, q.info("b").max_receive_count) == ("dlq", 4)
    assert json.loads(q.info("a").attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": queue_arn("dlq"), "maxReceiveCount": 5}
    q.set_attributes("a", {"RedrivePolicy": ""})
    assert q.info("a").dlq_name is None and "RedrivePolicy" not in q.info("a").attributes


def test_redrive_policy_dead_letter_queue_must_exist(q):
    e = error_of(q.create, "a", {"RedrivePolicy": {"deadLetterTargetArn": queue_arn("nope"),
                                                   "maxReceiveCount": 3}})
    assert e.code == "InvalidParameterValue"
    assert e.message.endswith("Reason: Dead letter target does not exist.")
    assert not q.exists("a")


def test_redrive_policy_dead_letter_queue_type_must_match(q):
    q.create("std-dlq")
    q.create("fifo-dlq.fifo", {"FifoQueue": "true"})
    e = error_of(q.create, "a.fifo", {"FifoQueue": "true", "RedrivePolicy": {
        "deadLetterTargetArn": queue_arn("std-dlq"), "maxReceiveCount": 3}})
    assert "Dead-letter queue must be same type of queue as the source" in e.message
    e = error_of(q.create, "b", {"RedrivePolicy": {
        "deadLetterTargetArn": queue_arn("fifo-dlq.fifo"), "maxReceiveCount": 3}})
    assert "same type of queue" in e.message


def test_redrive_policy_max_receive_count_is_1_to_1000(q):
    q.create("dlq")
    for bad in (0, 1001, "x"):
        e = error_of(q.create, "a", {"RedrivePolicy": {"deadLetterTargetArn": queue_arn("dlq"),
                                                       "maxReceiveCount": bad}})
        assert f"Invalid value for maxReceiveCount: {bad}" in e.message
    e = error_of(q.create, "a", {"RedrivePolicy": {"maxReceiveCount": 3}})
    assert "does not contain mandatory attribute: deadLetterTargetArn" in e.message


def test_missing_queue_raises_nonexistent_queue(q):
    e = error_of(q.info, "ghost")
    assert (e.code, e.message) == ("AWS.SimpleQueueService.NonExistentQueue",
                                   "The specified queue does not exist.")
    assert error_of(q.send, "ghost", "x").code == "AWS.SimpleQueueService.NonExistentQueue"
    assert not q.exists("ghost")


def test_name_for_arn_finds_only_existing_lab_queues(q):
    q.create("jobs")
    assert q.name_for_arn(queue_arn("jobs")) == "jobs"
    assert q.name_for_arn(queue_arn("ghost")) is None
    assert q.name_for_arn("arn:aws:sqs:eu-west-1:123456789012:jobs") is None
    assert q.name_for_arn("arn:aws:kinesis:us-east-1:123456789012:stream/jobs") is None


# --- send ---------------------------------------------------------------------------


def test_sqs_message_bodies_up_to_1_mib_by_default_and_at_most(q):
    # Reference 8.6: MaximumMessageSize default and maximum 1,048,576 bytes.
    q.create("big")
    assert q.info("big").max_message_size == 1_048_576
    q.send("big", "x" * 1_048_576)
    e = error_of(q.send, "big", "x" * 1_048_577)
    assert e.message == ("One or more parameters are invalid. "
                         "Reason: Message must be shorter than 1048576 bytes.")
    assert error_of(q.create, "bigger", {"MaximumMessageSize": "1048577"})


def test_message_size_limit_counts_body_and_attributes(q):
    q.create("small", {"MaximumMessageSize": 1024})
    q.send("small", "x" * 1024)
    attrs = {"k": {"DataType": "String", "StringValue": "v"}}  # 1 + 6 + 1 bytes
    e = error_of(q.send, "small", "x" * 1017, message_attributes=attrs)
    assert (e.code, e.message) == ("InvalidParameterValue", "One or more parameters are invalid. "
                                   "Reason: Message must be shorter than 1024 bytes.")
    assert q.send("small", "x" * 1016, message_attributes=attrs)["MD5OfMessageAttributes"]
    assert q.counts("small")["total"] == 2


def test_empty_or_invalid_body_is_rejected(q):
    q.create("jobs")
    assert error_of(q.send, "jobs", "").code == "MissingParameter"
    assert error_of(q.send, "jobs", "bad\x00char").code == "InvalidMessageContents"


def test_per_message_delay_on_standard_queue(engine, q):
    q.create("jobs", {"DelaySeconds": 10})
    q.send("jobs", "default delay")
    q.send("jobs", "own delay", delay_seconds=0)
    assert [m["body"] for m in q.receive("jobs", 10)] == ["own delay"]
    assert q.counts("jobs")["delayed"] == 1
    advance(engine, 10)
    assert [m["body"] for m in q.receive("jobs", 10)] == ["default delay"]
    e = error_of(q.send, "jobs", "x", delay_seconds=901)
    assert e.message == ("Value 901 for parameter DelaySeconds is invalid. "
                         "Reason: DelaySeconds must be >= 0 and <= 900.")


def test_fifo_rejects_per_message_delay(engine, q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true",
                           "DelaySeconds": 5})
    e = error_of(q.send, "jobs.fifo", "x", delay_seconds=3, group_id="g")
    assert e.code == "InvalidParameterValue"
    assert "not valid for this queue type" in e.message
    q.send("jobs.fifo", "zero is allowed", delay_seconds=0, group_id="g")
    assert q.receive("jobs.fifo") == []  # the queue's 5 s delay still applies
    advance(engine, 5)
    assert q.receive("jobs.fifo")[0]["body"] == "zero is allowed"


def test_message_attributes_are_validated(q):
    q.create("jobs")
    e = error_of(q.send, "jobs", "x", message_attributes={"a": {"DataType": "Text",
                                                                "StringValue": "v"}})
    assert e.message == ("The message attribute 'a' has an invalid message attribute type, the "
                         "set of supported type prefixes is Binary, Number, and String.")
    many = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    e = error_of(q.send, "jobs", "x", message_attributes=many)
    assert e.message == "Number of message attributes [11] exceeds the allowed maximum [10]."
    e = error_of(q.send, "jobs", "x", message_attributes={"n": {"DataType": "Number",
                                                                "StringValue": "ten"}})
    assert e.code == "InvalidParameterValue"
    ok = {"s": {"DataType": "String.custom", "StringValue": "v"},
          "n": {"DataType": "Number", "StringValue": 7},
          "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    q.send("jobs", "x", message_attributes=ok)
    got = q.receive("jobs")[0]["message_attributes"]
    assert got == {"s": {"DataType": "String.custom", "StringValue": "v"},
                   "n": {"DataType": "Number", "StringValue": "7"},
                   "b": {"DataType": "Binary", "BinaryValue": "AAE="}}


def test_fifo_requires_message_group_id(q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    e = error_of(q.send, "jobs.fifo", "x")
    assert (e.code, e.message) == ("MissingParameter",
                                   "The request must contain the parameter MessageGroupId.")


def test_fifo_requires_dedup_id_unless_content_based(q):
    q.create("jobs.fifo", {"FifoQueue": "true"})
    e = error_of(q.send, "jobs.fifo", "x", group_id="g")
    assert e.message == ("The queue should either have ContentBasedDeduplication enabled or "
                         "MessageDeduplicationId provided explicitly")
    q.send("jobs.fifo", "x", group_id="g", dedup_id="d1")
    q.create("cb.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    q.send("cb.fifo", "body", group_id="g")
    assert q.receive("cb.fifo")[0]["dedup_id"] == hashlib.sha256(b"body").hexdigest()


def test_fifo_duplicate_dedup_id_within_5_minutes_is_accepted_not_enqueued(engine, q):
    q.create("jobs.fifo", {"FifoQueue": "true"})
    first = q.send("jobs.fifo", "a", group_id="g", dedup_id="d")
    [m] = q.receive("jobs.fifo")
    assert q.delete("jobs.fifo", m["receipt_handle"])
    advance(engine, 299)
    again = q.send("jobs.fifo", "a again", group_id="g", dedup_id="d")
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    assert q.counts("jobs.fifo")["total"] == 0  # not enqueued, even though the original is gone
    assert len(events(engine, "sqs.deduplicated")) == 1
    advance(engine, 1)  # the 5-minute interval is over
    later = q.send("jobs.fifo", "a later", group_id="g", dedup_id="d")
    assert later["MessageId"] != first["MessageId"]
    assert q.counts("jobs.fifo")["total"] == 1


def test_fifo_dedup_scope_message_group_keys_by_group(q):
    q.create("jobs.fifo", {"FifoQueue": "true", "DeduplicationScope": "messageGroup"})
    a = q.send("jobs.fifo", "x", group_id="g1", dedup_id="d")
    b = q.send("jobs.fifo", "x", group_id="g2", dedup_id="d")
    assert a["MessageId"] != b["MessageId"]
    assert q.counts("jobs.fifo")["total"] == 2


def test_fifo_sequence_numbers_increase_per_queue(q):
    q.create("a.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    q.create("b.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    seqs = [q.send("a.fifo", f"m{i}", group_id="g")["SequenceNumber"] for i in range(3)]
    seqs += [r["SequenceNumber"] for r in q.send_batch("a.fifo", [
        {"Id": "x", "MessageBody": "m3", "MessageGroupId": "h"},
        {"Id": "y", "MessageBody": "m4", "MessageGroupId": "g"}])["Successful"]]
    assert all(len(s) >= 20 and s.isdigit() for s in seqs)
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)
    assert len(set(seqs)) == 5
    assert int(q.send("b.fifo", "m", group_id="g")["SequenceNumber"]) == int(seqs[0])


def test_standard_queue_rejects_dedup_id_but_stores_group_id(q):
    q.create("jobs")
    e = error_of(q.send, "jobs", "x", dedup_id="d")
    assert "not valid for this queue type" in e.message
    q.send("jobs", "x", group_id="tenant-1")  # fair queues: allowed, stored
    assert q.receive("jobs")[0]["group_id"] == "tenant-1"


def test_send_returns_md5_and_message_id_from_the_lab_generator(tmp_path):
    a = make_engine(tmp_path / "a").queues
    b = make_engine(tmp_path / "b").queues
    for queues in (a, b):
        queues.create("jobs")
    ra, rb = a.send("jobs", "hello"), b.send("jobs", "hello")
    assert ra == rb  # same seed, same calls -> same MessageId
    assert ra["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    assert len(ra["MessageId"]) == 36 and ra["MessageId"][14] == "4"


def test_send_batch_reports_failed_entries_and_sends_the_rest(q):
    q.create("jobs")
    result = q.send_batch("jobs", [
        {"Id": "ok1", "MessageBody": "one"},
        {"Id": "bad", "MessageBody": "two", "DelaySeconds": 1000},
        {"Id": "ok2", "MessageBody": "three"},
    ])
    assert [s["Id"] for s in result["Successful"]] == ["ok1", "ok2"]
    [failed] = result["Failed"]
    assert failed["Id"] == "bad" and failed["Code"] == "InvalidParameterValue"
    assert failed["SenderFault"] is True
    assert q.counts("jobs")["total"] == 2


def test_send_batch_request_level_errors_send_nothing(q):
    q.create("jobs")
    assert error_of(q.send_batch, "jobs", []).code == "AWS.SimpleQueueService.EmptyBatchRequest"
    e = error_of(q.send_batch, "jobs", [{"Id": str(i), "MessageBody": "x"} for i in range(11)])
    assert (e.code, e.message) == ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                                   "Maximum number of entries "
                                   "per request are 10. You have sent 11.")
    e = error_of(q.send_batch, "jobs", [{"Id": "a", "MessageBody": "x"},
                                        {"Id": "a", "MessageBody": "y"}])
    assert (e.code, e.message) == ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                                   "Id a repeated.")
    assert error_of(q.send_batch, "jobs", [{"Id": "a b", "MessageBody": "x"}]).code == \
        "AWS.SimpleQueueService.InvalidBatchEntryId"
    assert q.counts("jobs")["total"] == 0


# --- receive, visibility, delete -------------------------------------------------------


def test_receive_max_messages_must_be_1_to_10(q):
    q.create("jobs")
    for bad in (0, 11):
        e = error_of(q.receive, "jobs", bad)
        assert e.message == (f"Value {bad} for parameter MaxNumberOfMessages is invalid. "
                             "Reason: Must be between 1 and 10, if provided.")


def test_received_message_is_invisible_for_the_visibility_timeout(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    q.send("jobs", "x")
    [m] = q.receive("jobs")
    assert q.receive("jobs") == []
    assert q.counts("jobs")["in_flight"] == 1
    advance(engine, 29.999)
    assert q.receive("jobs") == []
    advance(engine, 0.001)
    [again] = q.receive("jobs")
    assert again["message_id"] == m["message_id"]


def test_visibility_timeout_override_per_receive(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    q.send("jobs", "x")
    q.receive("jobs", visibility_timeout=5)
    assert q.next_visible_ms("jobs") == engine.now_ms + 5000
    advance(engine, 5)
    assert len(q.receive("jobs", visibility_timeout=0)) == 1
    assert len(q.receive("jobs")) == 1  # timeout 0: visible again at once
    assert error_of(q.receive, "jobs", 1, 43201).code == "InvalidParameterValue"


def test_receive_count_and_first_receive_time(engine, q):
    q.create("jobs", {"VisibilityTimeout": 1})
    q.send("jobs", "x")
    start = engine.now_ms
    advance(engine, 2)
    first = q.receive("jobs")[0]
    advance(engine, 1)
    second = q.receive("jobs")[0]
    assert (first["receive_count"], second["receive_count"]) == (1, 2)
    assert first["first_receive_ms"] == second["first_receive_ms"] == start + 2000
    assert first["sent_ms"] == start


def test_each_receive_issues_a_new_receipt_handle(engine, q):
    q.create("jobs", {"VisibilityTimeout": 1})
    q.send_batch("jobs", [{"Id": "a", "MessageBody": "a"}, {"Id": "b", "MessageBody": "b"}])
    first = q.receive("jobs", 10)
    advance(engine, 1)
    second = q.receive("jobs", 10)
    handles = [m["receipt_handle"] for m in first + second]
    assert len(set(handles)) == 4


def test_stale_receipt_handle_does_not_delete(engine, q):
    q.create("jobs", {"VisibilityTimeout": 1})
    q.send("jobs", "x")
    old = q.receive("jobs")[0]["receipt_handle"]
    advance(engine, 1)
    new = q.receive("jobs")[0]["receipt_handle"]
    assert q.delete("jobs", old) is False  # silently ignored, as SQS does
    assert q.counts("jobs")["total"] == 1
    assert events(engine, "sqs.delete_ignored")
    assert q.delete("jobs", new) is True
    assert q.delete("jobs", new) is False
    assert q.counts("jobs")["total"] == 0


def test_malformed_receipt_handle_is_invalid(q):
    q.create("jobs")
    e = error_of(q.delete, "jobs", "not-a-handle")
    assert (e.code, e.message) == ("ReceiptHandleIsInvalid", 'The input receipt handle '
                                   '"not-a-handle" is not a valid receipt handle.')
    assert error_of(q.change_visibility, "jobs", "zz", 5).code == "ReceiptHandleIsInvalid"


def test_stale_receipt_handle_does_not_change_visibility(engine, q):
    q.create("jobs", {"VisibilityTimeout": 1})
    q.send("jobs", "x")
    old = q.receive("jobs")[0]["receipt_handle"]
    advance(engine, 1)
    q.receive("jobs", visibility_timeout=60)
    e = error_of(q.change_visibility, "jobs", old, 0)
    assert e.message.endswith("Reason: Message does not exist or is not available for "
                              "visibility timeout change.")
    assert q.counts("jobs")["in_flight"] == 1


def test_change_visibility_moves_the_return_time(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    q.send("jobs", "x")
    handle = q.receive("jobs")[0]["receipt_handle"]
    q.change_visibility("jobs", handle, 0)
    assert len(q.receive("jobs")) == 1
    handle = q.receive("jobs") or None
    assert handle is None  # it is in flight again after the second receive


def test_change_visibility_total_is_limited_to_12_hours(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    q.send("jobs", "x")
    handle = q.receive("jobs")[0]["receipt_handle"]
    advance(engine, 10)
    e = error_of(q.change_visibility, "jobs", handle, 43200)
    assert "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]" \
        in e.message
    q.change_visibility("jobs", handle, 43190)
    assert q.next_visible_ms("jobs") == engine.now_ms + 43_190_000


def test_received_messages_carry_exactly_the_event_builder_keys(q):
    q.create("jobs")
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    q.send("jobs", "x")
    q.send("jobs.fifo", "y", group_id="g")
    [m] = q.receive("jobs")
    [f] = q.receive("jobs.fifo")
    assert set(m) == EVENT_KEYS and set(f) == EVENT_KEYS
    assert m["message_attributes"] is None and m["sequence_number"] is None
    assert m["size"] == 1
    assert f["group_id"] == "g" and f["sequence_number"].isdigit() and f["dedup_id"]


def test_standard_order_is_best_effort_not_strict(q):
    q.create("jobs")
    for i in range(0, 200, 10):
        q.send_batch("jobs", [{"Id": str(j), "MessageBody": str(i + j)} for j in range(10)])
    got = []
    while True:
        batch = q.receive("jobs", 10)
        if not batch:
            break
        got += [int(m["body"]) for m in batch]
    assert sorted(got) == list(range(200))
    assert got != list(range(200))                     # order not guaranteed...
    assert all(abs(pos - n) <= 10 for pos, n in enumerate(got))  # ...but mostly oldest first
    assert sum(pos == n for pos, n in enumerate(got)) > 20


def test_standard_duplicate_delivery_keeps_a_visible_copy(engine, q):
    q.create("jobs", duplicate_rate=1.0)
    q.send("jobs", "pay invoice 7")
    [first] = q.receive("jobs")
    [copy] = q.receive("jobs")  # nothing failed, yet the message comes again
    assert copy["message_id"] == first["message_id"] and copy["body"] == first["body"]
    assert copy["receipt_handle"] != first["receipt_handle"]
    dup = events(engine, "sqs.duplicate")[0]
    assert dup["subject"] == first["message_id"] and "idempotent" in dup["reason"]


def test_duplicate_rate_zero_draws_nothing_from_the_generator(engine, q):
    q.create("jobs")
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    q.send("jobs", "x")
    q.send("jobs.fifo", "y", group_id="g")
    state = engine.rng.state
    q.receive("jobs")       # one message, rate 0: only the receipt-handle token is drawn
    once = engine.rng.state
    engine.rng.state = state
    engine.rng.token(8)
    assert engine.rng.state == once
    assert error_of(q.set_duplicate_rate, "jobs.fifo", 0.5).code == "InvalidParameterValue"
    assert error_of(q.set_duplicate_rate, "jobs", 1.5).code == "InvalidParameterValue"


def test_fifo_order_is_strict_within_a_group(engine, q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true",
                           "VisibilityTimeout": 1})
    for i in range(25):
        q.send("jobs.fifo", f"m{i}", group_id="g")
    got = []
    while len(got) < 25:
        batch = q.receive("jobs.fifo", 10)
        got += [m["body"] for m in batch]
        q.delete_many("jobs.fifo", [m["receipt_handle"] for m in batch])
    assert got == [f"m{i}" for i in range(25)]


def test_fifo_group_with_a_message_in_flight_yields_nothing(engine, q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true",
                           "VisibilityTimeout": 30})
    for i in range(3):
        q.send("jobs.fifo", f"a{i}", group_id="A")
    [a0] = q.receive("jobs.fifo", 1)
    assert a0["body"] == "a0"
    assert q.receive("jobs.fifo", 10) == []  # a1, a2 wait while a0 is in flight
    q.send("jobs.fifo", "b0", group_id="B")
    assert [m["body"] for m in q.receive("jobs.fifo", 10)] == ["b0"]
    q.delete("jobs.fifo", a0["receipt_handle"])
    assert [m["body"] for m in q.receive("jobs.fifo", 10)] == ["a1", "a2"]


def test_fifo_group_unblocks_when_its_visibility_timeout_ends(engine, q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true",
                           "VisibilityTimeout": 30})
    q.send("jobs.fifo", "a0", group_id="A")
    q.send("jobs.fifo", "a1", group_id="A")
    first = q.receive("jobs.fifo", 10)
    handles = [m["receipt_handle"] for m in first]
    q.change_visibility("jobs.fifo", handles[0], 0)
    assert q.receive("jobs.fifo", 10) == []  # a1 is still in flight: the group stays locked
    advance(engine, 30)
    again = q.receive("jobs.fifo", 10)
    assert [m["body"] for m in again] == ["a0", "a1"]
    assert [m["receive_count"] for m in again] == [2, 2]


def test_fifo_receive_returns_several_groups_each_in_order(q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    q.send_batch("jobs.fifo", [
        {"Id": "1", "MessageBody": "a0", "MessageGroupId": "A"},
        {"Id": "2", "MessageBody": "b0", "MessageGroupId": "B"},
        {"Id": "3", "MessageBody": "a1", "MessageGroupId": "A"},
        {"Id": "4", "MessageBody": "c0", "MessageGroupId": "C"},
        {"Id": "5", "MessageBody": "b1", "MessageGroupId": "B"},
    ])
    got = [(m["group_id"], m["body"]) for m in q.receive("jobs.fifo", 10)]
    assert got == [("A", "a0"), ("A", "a1"), ("B", "b0"), ("B", "b1"), ("C", "c0")]
    q.send("jobs.fifo", "d0", group_id="D")
    assert [m["body"] for m in q.receive("jobs.fifo", 2)] == ["d0"]


def test_redrive_moves_a_message_received_max_receive_count_times(engine, q):
    with_dlq(q, max_receive_count=3, VisibilityTimeout=1)
    sent = q.send("orders", "poison")
    for attempt in range(1, 4):
        [m] = q.receive("orders")
        assert m["receive_count"] == attempt
        assert q.last_moved == []
        advance(engine, 1)
    assert q.receive("orders") == []  # the 4th receive moves it instead
    assert q.last_moved == [{"message_id": sent["MessageId"], "body": "poison",
                             "receive_count": 3}]
    [moved] = q.receive("orders-dlq")
    assert (moved["message_id"], moved["body"], moved["receive_count"]) == (
        sent["MessageId"], "poison", 4)
    [event] = events(engine, "sqs.moved_to_dlq")
    assert "maxReceiveCount 3" in event["reason"] and "orders-dlq" in event["reason"]
    assert q.counts("orders")["total"] == 0


def test_redrive_fills_the_receive_with_other_messages(engine, q):
    with_dlq(q, max_receive_count=1, VisibilityTimeout=1)
    q.send("orders", "old")
    q.receive("orders")
    advance(engine, 1)
    q.send_batch("orders", [{"Id": str(i), "MessageBody": f"new{i}"} for i in range(3)])
    got = sorted(m["body"] for m in q.receive("orders", 3))
    assert got == ["new0", "new1", "new2"]
    assert [m["body"] for m in q.last_moved] == ["old"]


def test_standard_dlq_keeps_the_original_enqueue_time(engine, q):
    with_dlq(q, max_receive_count=1, VisibilityTimeout=1)
    q.set_attributes("orders-dlq", {"MessageRetentionPeriod": 60})
    q.send("orders", "x")
    q.receive("orders")
    advance(engine, 50)
    q.receive("orders")  # moved after 50 s in the source queue
    assert q.counts("orders-dlq")["total"] == 1
    advance(engine, 10)  # 60 s since it entered the source queue
    assert q.counts("orders-dlq")["total"] == 0
    assert events(engine, "sqs.expired")


def test_fifo_dlq_resets_the_enqueue_time(engine, q):
    with_dlq(q, "orders.fifo", "orders-dlq.fifo", max_receive_count=1, fifo=True,
             VisibilityTimeout=1)
    q.set_attributes("orders-dlq.fifo", {"MessageRetentionPeriod": 60})
    q.send("orders.fifo", "x", group_id="g")
    q.receive("orders.fifo")
    advance(engine, 50)
    q.receive("orders.fifo")
    advance(engine, 59)
    assert q.counts("orders-dlq.fifo")["total"] == 1
    [m] = q.receive("orders-dlq.fifo")
    assert m["group_id"] == "g" and m["receive_count"] == 2
    advance(engine, 1)
    assert q.counts("orders-dlq.fifo")["total"] == 0


def test_fifo_redrive_lets_the_rest_of_the_group_continue(engine, q):
    with_dlq(q, "orders.fifo", "orders-dlq.fifo", max_receive_count=1, fifo=True,
             VisibilityTimeout=1)
    q.send("orders.fifo", "a0", group_id="A")
    q.send("orders.fifo", "a1", group_id="A")
    q.receive("orders.fifo", 1)
    advance(engine, 1)
    assert [m["body"] for m in q.receive("orders.fifo", 10)] == ["a1"]
    assert [m["body"] for m in q.last_moved] == ["a0"]


def test_retention_deletes_old_messages_lazily_and_logs_it(engine, q):
    q.create("jobs", {"MessageRetentionPeriod": 60})
    q.send("jobs", "old")
    advance(engine, 30)
    q.send("jobs", "new")
    advance(engine, 30)
    assert [m["body"] for m in q.receive("jobs", 10)] == ["new"]
    [event] = events(engine, "sqs.expired")
    assert "MessageRetentionPeriod 60" in event["reason"]
    assert event["data"]["count"] == 1
    advance(engine, 30)
    assert q.purge_expired("jobs") == 1
    assert q.counts("jobs")["total"] == 0


def test_retention_applies_to_fifo_groups(engine, q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true",
                           "MessageRetentionPeriod": 60})
    q.send("jobs.fifo", "a0", group_id="A")
    advance(engine, 30)
    q.send("jobs.fifo", "a1", group_id="A")
    advance(engine, 30)
    assert [m["body"] for m in q.receive("jobs.fifo", 10)] == ["a1"]


def test_counts_follow_approximate_number_of_messages(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    q.send_batch("jobs", [{"Id": str(i), "MessageBody": "x"} for i in range(5)])
    q.send("jobs", "later", delay_seconds=60)
    q.receive("jobs", 2)
    advance(engine, 5)
    assert q.counts("jobs") == {"visible": 3, "in_flight": 2, "delayed": 1, "total": 6,
                                "oldest_age_ms": 5000}
    attributes = q.get_attributes("jobs")
    assert (attributes["ApproximateNumberOfMessages"],
            attributes["ApproximateNumberOfMessagesNotVisible"],
            attributes["ApproximateNumberOfMessagesDelayed"]) == ("3", "2", "1")


def test_page_shows_state_receive_count_and_time_until_visible(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    q.send("jobs", "a")
    q.send("jobs", "b", delay_seconds=10)
    q.send("jobs", "c")
    q.receive("jobs", 1, holder="esm-1")
    rows = q.page("jobs")
    assert [r["body"] for r in rows] == ["a", "b", "c"]
    by_body = {r["body"]: r for r in rows}
    assert by_body["b"]["state"] == "delayed" and by_body["b"]["ms_until_visible"] == 10_000
    in_flight = q.page("jobs", state="in_flight")
    assert len(in_flight) == 1 and in_flight[0]["receive_count"] == 1
    assert in_flight[0]["holder"] == "esm-1" and in_flight[0]["ms_until_visible"] == 30_000
    assert len(q.page("jobs", state="visible")) == 1
    assert len(q.page("jobs", offset=1, limit=1)) == 1
    with pytest.raises(ValueError):
        q.page("jobs", state="gone")


def test_next_visible_ms_is_the_earliest_pending_return(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    assert q.next_visible_ms("jobs") is None
    q.send("jobs", "d", delay_seconds=40)
    q.send("jobs", "x")
    q.receive("jobs")
    assert q.next_visible_ms("jobs") == engine.now_ms + 30_000


def test_release_makes_in_flight_messages_visible_at_a_time(engine, q):
    q.create("jobs", {"VisibilityTimeout": 300})
    q.send_batch("jobs", [{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    got = q.receive("jobs", 10)
    q.release("jobs", [m["receipt_handle"] for m in got], engine.now_ms + 5000)
    assert q.next_visible_ms("jobs") == engine.now_ms + 5000
    advance(engine, 5)
    assert len(q.receive("jobs", 10)) == 3


def test_delete_many_counts_only_messages_it_deleted(engine, q):
    q.create("jobs", {"VisibilityTimeout": 1})
    q.send_batch("jobs", [{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    got = q.receive("jobs", 10)
    stale = got[0]["receipt_handle"]
    advance(engine, 1)
    fresh = q.receive("jobs", 10)
    assert q.delete_many("jobs", [stale] + [m["receipt_handle"] for m in fresh[:2]]) == 2
    assert q.counts("jobs")["total"] == 1
    assert q.delete_many("jobs", []) == 0


def test_pollers_are_told_when_messages_become_visible(engine, q):
    engine.mappings = FakeMappings()
    ready = engine.mappings.ready
    q.create("jobs", {"VisibilityTimeout": 30})
    now = engine.now_ms
    q.send("jobs", "x", delay_seconds=5)
    assert ready[-1] == ("jobs", now + 5000)
    advance(engine, 5)
    [m] = q.receive("jobs")
    assert ready[-1] == ("jobs", engine.now_ms + 30_000)  # when it returns unless deleted
    q.change_visibility("jobs", m["receipt_handle"], 10)
    assert ready[-1] == ("jobs", engine.now_ms + 10_000)
    q.release("jobs", [m["receipt_handle"]], engine.now_ms + 1)
    assert ready[-1] == ("jobs", engine.now_ms + 1)


def test_fifo_delete_wakes_pollers_for_the_unlocked_group(engine, q):
    engine.mappings = FakeMappings()
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    q.send("jobs.fifo", "a0", group_id="A")
    q.send("jobs.fifo", "a1", group_id="A")
    [m] = q.receive("jobs.fifo", 1)
    q.delete_many("jobs.fifo", [m["receipt_handle"]])
    assert engine.mappings.ready[-1] == ("jobs.fifo", engine.now_ms)


def test_journal_has_one_event_per_call_not_per_message(engine, q):
    q.create("jobs")
    q.send_batch("jobs", [{"Id": str(i), "MessageBody": str(i)} for i in range(10)])
    got = q.receive("jobs", 10)
    q.delete_many("jobs", [m["receipt_handle"] for m in got])
    [sent] = events(engine, "sqs.sent")
    [received] = events(engine, "sqs.received")
    [deleted] = events(engine, "sqs.deleted")
    assert len(sent["data"]) == 10
    assert received["data"]["message_ids"] == [m["message_id"] for m in got]
    assert "VisibilityTimeout" in received["reason"]
    assert deleted["data"]["deleted"] == 10


def test_invalid_request_changes_nothing(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    before = engine.rng.state
    error_of(q.set_attributes, "jobs", {"VisibilityTimeout": 5, "DelaySeconds": 9999})
    assert q.info("jobs").visibility_timeout == 30
    error_of(q.send, "jobs", "x", delay_seconds=-1)
    assert engine.rng.state == before and q.counts("jobs")["total"] == 0


def test_set_attributes_changes_later_receives(engine, q):
    q.create("jobs", {"VisibilityTimeout": 30})
    q.send("jobs", "x")
    q.set_attributes("jobs", {"VisibilityTimeout": 5})
    q.receive("jobs")
    assert q.next_visible_ms("jobs") == engine.now_ms + 5000
    assert events(engine, "sqs.attributes_changed")


def test_fifo_delay_change_is_retroactive(engine, q):
    q.create("jobs.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true",
                           "DelaySeconds": 60})
    q.send("jobs.fifo", "x", group_id="g")
    q.set_attributes("jobs.fifo", {"DelaySeconds": 10})
    advance(engine, 10)
    assert len(q.receive("jobs.fifo")) == 1


def test_state_persists_in_the_lab_file(tmp_path):
    engine = make_engine(tmp_path)
    store = engine.store
    with store.transaction():
        engine.queues.create("jobs.fifo", {"FifoQueue": "true",
                                           "ContentBasedDeduplication": "true"})
        engine.queues.send("jobs.fifo", "a0", group_id="A")
        engine.queues.send("jobs.fifo", "a1", group_id="A")
        [m] = engine.queues.receive("jobs.fifo", 1)
        engine.flush()
    reopened = Engine(Store(tmp_path / "lab.db"))
    queues = reopened.queues
    assert queues.info("jobs.fifo").fifo
    assert queues.counts("jobs.fifo")["in_flight"] == 1
    assert queues.receive("jobs.fifo") == []  # the group lock survived
    assert queues.delete("jobs.fifo", m["receipt_handle"])
    assert [x["body"] for x in queues.receive("jobs.fifo")] == ["a1"]
    seq = queues.send("jobs.fifo", "a2", group_id="A")["SequenceNumber"]
    assert int(seq) > int(m["sequence_number"]) + 1


def test_rollback_leaves_no_trace(tmp_path):
    engine = make_engine(tmp_path)
    store = engine.store
    with store.transaction():
        engine.queues.create("jobs")
    with pytest.raises(AwsError):
        with store.transaction():
            engine.queues.send("jobs", "x")
            engine.queues.send("jobs", "")
    engine.load()  # as the Lab does after a rollback
    assert engine.queues.counts("jobs")["total"] == 0


def test_same_seed_and_calls_give_the_same_result(tmp_path):
    def run(path):
        engine = make_engine(path, seed=7)
        queues = engine.queues
        queues.create("jobs", {"VisibilityTimeout": 1}, duplicate_rate=0.3)
        queues.send_batch("jobs", [{"Id": str(i), "MessageBody": str(i)} for i in range(10)])
        out = []
        for _ in range(6):
            got = queues.receive("jobs", 4)
            out.append([(m["message_id"], m["receipt_handle"], m["body"]) for m in got])
            queues.delete_many("jobs", [m["receipt_handle"] for m in got[:2]])
            advance(engine, 1)
        return out, [(e["kind"], e["reason"]) for e in engine.journal.events(limit=1000)]
    assert run(tmp_path / "a") == run(tmp_path / "b")


def test_a_lab_made_before_the_1_mib_default_keeps_256_kib_queues(tmp_path):
    # Reference 8.6 changed the default; a lab whose initial state predates
    # it (no sqs_max_message_size) replays with the default it ran with.
    from esmlab.lab import Lab
    lab = Lab.create(tmp_path / "new.db", name="t", seed=1)
    lab.create_queue("q")
    assert lab.engine.queues.info("q").max_message_size == 1_048_576
    initial = json.loads(lab.store.get_meta("initial"))
    del initial["sqs_max_message_size"]
    lab.store.set_meta("initial", json.dumps(initial))
    lab.rebuild()
    assert lab.engine.queues.info("q").max_message_size == 262_144
    lab.close()
