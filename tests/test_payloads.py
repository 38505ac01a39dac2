"""The event and failure-record shapes match AWS's, field for field.

Expected dicts are written out by hand from the reference (section 4) and
AWS's documented examples; known digests come from SQS's documented MD5
algorithm as published with independent implementations.
"""

import base64
import json

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    DynamoDBStreamEvent,
    KinesisStreamEvent,
    SQSEvent,
)

from esmlab.engine import payloads as p

REGION = "us-east-1"
ACCOUNT = "123456789012"
KINESIS_SEQ = "49590338271490256608559692538361571095921575989136588898"
DDB_STREAM_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mytable/stream/2019-11-14T00:04:06.388"
DDB_SHARD = "shardId-00000001573689847184-864758bb"


# --- iso() ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1704067201500, "2024-01-01T00:00:01.500Z"),
        (1573691886021, "2019-11-14T00:38:06.021Z"),
        (1573691884007, "2019-11-14T00:38:04.007Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ],
)
def test_iso_is_utc_with_three_digit_milliseconds_and_z(ms, text):
    assert p.iso(ms) == text


def test_iso_s_rounds_down_to_whole_seconds_without_fraction():
    assert p.iso_s(1573690399999) == "2019-11-14T00:13:19Z"
    assert p.iso_s(1573690399000) == "2019-11-14T00:13:19Z"


# --- SQS ----------------------------------------------------------------------


def _msg(**extra):
    msg = {
        "message_id": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receipt_handle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": "Test message.",
        "sent_ms": 1545082649183,
        "receive_count": 1,
        "first_receive_ms": 1545082649185,
        "sender_id": "AIDAIENQZJOLO23YVJ4VO",
    }
    msg.update(extra)
    return msg


def test_sqs_standard_record_matches_aws_shape_field_for_field():
    msg = _msg(
        receive_count=3,
        message_attributes={"attribName1": {"DataType": "String", "StringValue": "attribValue 1"}},
    )
    assert p.sqs_record(msg, "my-queue", fifo=False) == {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": "Test message.",
        "attributes": {
            "ApproximateReceiveCount": "3",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
        },
        "messageAttributes": {
            "attribName1": {
                "stringValue": "attribValue 1",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        },
        "md5OfMessageAttributes": "19e27d4e946b072f3f58da80d94fd778",
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:my-queue",
        "awsRegion": "us-east-1",
    }


def test_sqs_fifo_record_adds_sequence_group_and_dedup_attributes():
    msg = _msg(
        message_id="11d6ee51-4cc7-4302-9e22-7cd8afdaadf5",
        receipt_handle="AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...",
        sent_ms=1573251510774,
        first_receive_ms=1573251510774,
        sender_id="AIDAIO23YVJENQZJOL4VO",
        group_id="1",
        dedup_id="1",
        sequence_number="18849496460467696128",
    )
    assert p.sqs_record(msg, "fifo.fifo", fifo=True) == {
        "messageId": "11d6ee51-4cc7-4302-9e22-7cd8afdaadf5",
        "receiptHandle": "AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...",
        "body": "Test message.",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1573251510774",
            "SequenceNumber": "18849496460467696128",
            "MessageGroupId": "1",
            "SenderId": "AIDAIO23YVJENQZJOL4VO",
            "MessageDeduplicationId": "1",
            "ApproximateFirstReceiveTimestamp": "1573251510774",
        },
        "messageAttributes": {},
        "md5OfMessageAttributes": None,
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fifo.fifo",
        "awsRegion": "us-east-1",
    }


def test_md5_of_message_attributes_is_null_when_the_message_has_no_attributes():
    # Reference 8.4: recorded on AWS in 2025 as a null value, not an absent key.
    record = p.sqs_record(_msg(), "q", fifo=False)
    assert record["messageAttributes"] == {}
    assert "md5OfMessageAttributes" in record and record["md5OfMessageAttributes"] is None


def test_md5_of_message_attributes_follows_message_attributes_in_the_record():
    # Key order of events logged on AWS: ..., messageAttributes,
    # md5OfMessageAttributes, md5OfBody, eventSource, ...
    keys = list(p.sqs_record(_msg(), "q", fifo=False))
    assert keys[keys.index("messageAttributes") + 1] == "md5OfMessageAttributes"
    assert keys[keys.index("md5OfMessageAttributes") + 1] == "md5OfBody"


def test_md5_of_message_attributes_matches_an_event_logged_on_aws():
    # An SQS event printed by a real Lambda function (published in
    # alibabacloud-howto/lambda-to-function-compute-migration, README.md):
    # one String attribute "sample-attribute" = "sample-value".
    msg = _msg(message_attributes={
        "sample-attribute": {"DataType": "String", "StringValue": "sample-value"}})
    assert p.sqs_record(msg, "q", fifo=False)["md5OfMessageAttributes"] == \
        "7c815262be77a62f56671125069ca888"


def test_sqs_standard_record_never_carries_fifo_attributes():
    record = p.sqs_record(_msg(group_id="g", dedup_id="d", sequence_number="1"), "q", fifo=False)
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }


def test_sqs_attribute_values_are_all_strings():
    msg = _msg(receive_count=7, group_id="g", dedup_id="d", sequence_number=12345)
    attributes = p.sqs_record(msg, "q.fifo", fifo=True)["attributes"]
    assert all(isinstance(value, str) for value in attributes.values())
    assert attributes["SequenceNumber"] == "12345"


def test_sqs_default_sender_id_and_optional_trace_header():
    msg = _msg(trace_header="Root=1-5759e988-bd862e3fe1be46a994272793")
    del msg["sender_id"]
    attributes = p.sqs_record(msg, "q", fifo=False)["attributes"]
    assert attributes["SenderId"] == p.DEFAULT_SENDER_ID
    assert attributes["AWSTraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
    assert "AWSTraceHeader" not in p.sqs_record(_msg(), "q", fifo=False)["attributes"]


def test_sqs_binary_attribute_becomes_lowercase_binary_value_with_known_md5():
    value = base64.b64encode(b"Hello binary world!").decode()
    msg = _msg(message_attributes={"binaryAttribute": {"DataType": "Binary", "BinaryValue": value}})
    record = p.sqs_record(msg, "q", fifo=False)
    assert record["messageAttributes"] == {
        "binaryAttribute": {
            "binaryValue": "SGVsbG8gYmluYXJ5IHdvcmxkIQ==",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        }
    }
    assert record["md5OfMessageAttributes"] == "31a92b15d92f8db860eda32aceb656c3"


def test_sqs_records_do_not_share_attribute_lists():
    msg = _msg(message_attributes={"a": {"DataType": "String", "StringValue": "x"}})
    one = p.sqs_record(msg, "q", fifo=False)["messageAttributes"]["a"]
    two = p.sqs_record(msg, "q", fifo=False)["messageAttributes"]["a"]
    assert one["stringListValues"] is not two["stringListValues"]


_STRING = {"attribName1": {"DataType": "String", "StringValue": "attribValue 1"}}
_NUMBER = {
    "customNumberTypeAttrib": {
        "DataType": "Number.float",
        "StringValue": "4563442423554324324264524243.32543234",
    }
}
_BINARY = {
    "binaryAttribute": {
        "DataType": "Binary",
        "BinaryValue": base64.b64encode(b"Hello binary world!").decode(),
    }
}


@pytest.mark.parametrize(
    ("attributes", "digest"),
    [
        (_STRING, "19e27d4e946b072f3f58da80d94fd778"),
        (_NUMBER, "9fe1b90bbd9965bdf77bac517c7d2495"),
        (_BINARY, "31a92b15d92f8db860eda32aceb656c3"),
        ({**_STRING, **_NUMBER, **_BINARY}, "c932db14a896c663f83c260297d594ff"),
        ({**_BINARY, **_NUMBER, **_STRING}, "c932db14a896c663f83c260297d594ff"),
    ],
)
def test_md5_of_message_attributes_matches_sqs_algorithm_known_values(attributes, digest):
    assert p.md5_of_message_attributes(attributes) == digest


def test_md5_of_body_is_md5_hex_of_utf8_body():
    assert p.md5_of_body("test") == "098f6bcd4621d373cade4e832627b4f6"
    assert p.sqs_record(_msg(body="test"), "q", False)["md5OfBody"] == (
        "098f6bcd4621d373cade4e832627b4f6"
    )


def test_sqs_event_wraps_records():
    record = p.sqs_record(_msg(), "q", fifo=False)
    assert p.sqs_event([record]) == {"Records": [record]}


def test_powertools_reads_our_sqs_event():
    msg = _msg(message_attributes=_STRING, group_id="g", dedup_id="d", sequence_number="9")
    event = SQSEvent(p.sqs_event([p.sqs_record(msg, "q.fifo", fifo=True)]))
    record = next(event.records)
    assert record.message_id == msg["message_id"]
    assert record.attributes.approximate_receive_count == "1"
    assert record.attributes.message_group_id == "g"
    assert record.message_attributes["attribName1"].string_value == "attribValue 1"
    assert record.queue_url == "https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo"


# --- Kinesis ---------------------------------------------------------------------


def test_kinesis_record_matches_aws_shape_field_for_field():
    record = p.kinesis_record(
        "lambda-stream", "shardId-000000000006", KINESIS_SEQ, "1",
        b"Hello, this is a test.", 1545084650987,
    )
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "1",
            "sequenceNumber": KINESIS_SEQ,
            "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
            "approximateArrivalTimestamp": 1545084650.987,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000006:{KINESIS_SEQ}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/esmlab-role",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
    }


def test_kinesis_arrival_timestamp_serialises_as_seconds_with_ms_fraction():
    record = p.kinesis_record("s", "shardId-000000000000", "1", "k", b"", 1545084650987)
    compact = json.dumps(record, separators=(",", ":"))
    assert '"approximateArrivalTimestamp":1545084650.987' in compact
    assert p.record_arrival_ms(record) == 1545084650987


def test_powertools_reads_our_kinesis_event():
    record = p.kinesis_record("s", "shardId-000000000000", "7", "pk", b'{"a": 1}', 1000)
    parsed = next(KinesisStreamEvent(p.stream_event([record])).records)
    assert parsed.kinesis.data_as_json() == {"a": 1}
    assert parsed.kinesis.partition_key == "pk"
    assert parsed.event_id == "shardId-000000000000:7"


# --- DynamoDB Streams --------------------------------------------------------------

_KEYS = {"Id": {"N": "101"}}
_FIRST = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
_CHANGED = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}


def _ddb(event_name, new, old, view="NEW_AND_OLD_IMAGES", **kw):
    return p.dynamodb_record(
        DDB_STREAM_ARN, "c4ca4238a0b923820dcc509a6f75849b", event_name, _KEYS, new, old,
        "4421584500000000017450439091", view, 1428537600123, **kw,
    )


def test_dynamodb_insert_record_matches_aws_shape_field_for_field():
    assert _ddb("INSERT", _FIRST, None) == {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1428537600,
            "Keys": {"Id": {"N": "101"}},
            "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
            "SequenceNumber": "4421584500000000017450439091",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": DDB_STREAM_ARN,
    }


def test_dynamodb_modify_and_remove_sizes_match_aws_examples():
    modify = _ddb("MODIFY", _CHANGED, _FIRST)["dynamodb"]
    assert modify["NewImage"] == _CHANGED and modify["OldImage"] == _FIRST
    assert modify["SizeBytes"] == 59
    remove = _ddb("REMOVE", None, _CHANGED)["dynamodb"]
    assert "NewImage" not in remove and remove["OldImage"] == _CHANGED
    assert remove["SizeBytes"] == 38


@pytest.mark.parametrize(
    ("view", "event_name", "has_new", "has_old"),
    [
        ("KEYS_ONLY", "INSERT", False, False),
        ("KEYS_ONLY", "MODIFY", False, False),
        ("KEYS_ONLY", "REMOVE", False, False),
        ("NEW_IMAGE", "INSERT", True, False),
        ("NEW_IMAGE", "MODIFY", True, False),
        ("NEW_IMAGE", "REMOVE", False, False),
        ("OLD_IMAGE", "INSERT", False, False),
        ("OLD_IMAGE", "MODIFY", False, True),
        ("OLD_IMAGE", "REMOVE", False, True),
        ("NEW_AND_OLD_IMAGES", "INSERT", True, False),
        ("NEW_AND_OLD_IMAGES", "MODIFY", True, True),
        ("NEW_AND_OLD_IMAGES", "REMOVE", False, True),
    ],
)
def test_dynamodb_images_follow_stream_view_type_and_event_name(view, event_name, has_new, has_old):
    # Offer both images every time: the builder must drop what AWS would not send.
    stream_record = _ddb(event_name, _CHANGED, _FIRST, view=view)["dynamodb"]
    assert ("NewImage" in stream_record) is has_new
    assert ("OldImage" in stream_record) is has_old
    assert stream_record["StreamViewType"] == view


def test_dynamodb_keys_only_size_counts_only_the_keys():
    assert _ddb("MODIFY", _CHANGED, _FIRST, view="KEYS_ONLY")["dynamodb"]["SizeBytes"] == 5


def test_dynamodb_given_size_bytes_is_used_as_is():
    assert _ddb("INSERT", _FIRST, None, size_bytes=999)["dynamodb"]["SizeBytes"] == 999


def test_dynamodb_ttl_delete_carries_service_user_identity():
    record = _ddb("REMOVE", None, _FIRST, ttl_delete=True)
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert "userIdentity" not in _ddb("REMOVE", None, _FIRST)


def test_dynamodb_rejects_unknown_view_type_and_event_name():
    with pytest.raises(ValueError, match="StreamViewType"):
        _ddb("INSERT", _FIRST, None, view="NEW")
    with pytest.raises(ValueError, match="eventName"):
        _ddb("UPDATE", _FIRST, None)


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"a": {"S": "héllo"}}, 1 + 6),
        ({"n": {"N": "-0.00120"}}, 1 + 2),  # digits "12" -> 1 + 1
        ({"n": {"N": "12345"}}, 1 + 4),  # 5 digits -> 3 + 1
        ({"b": {"B": base64.b64encode(b"12345").decode()}}, 1 + 5),
        ({"t": {"BOOL": True}, "z": {"NULL": True}}, 2 + 2),
        ({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}, 1 + 3 + (1 + 2) + (1 + 2)),
        ({"m": {"M": {"k": {"S": "v"}}}}, 1 + 3 + (1 + 1 + 1)),
        ({"s": {"SS": ["a", "bc"]}}, 1 + 3),
        ({}, 0),
    ],
)
def test_item_size_follows_dynamodb_size_rules(item, size):
    assert p.item_size(item) == size


def test_powertools_reads_our_dynamodb_event():
    event = DynamoDBStreamEvent(p.stream_event([_ddb("MODIFY", _CHANGED, _FIRST)]))
    record = next(event.records)
    assert record.dynamodb.new_image == {"Message": "This item has changed", "Id": 101}
    assert record.dynamodb.size_bytes == 59
    assert record.dynamodb.approximate_creation_date_time == 1428537600


# --- tumbling windows ----------------------------------------------------------------


def test_window_event_matches_aws_shape_field_for_field():
    record = p.kinesis_record(
        "lambda-stream", "shardId-000000000006", "1", "1", b"x", 1607497441000
    )
    event = p.window_event(
        [record],
        shard_id="shardId-000000000006",
        stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
        window_start_ms=1607497440000,
        window_end_ms=1607497560000,
        state={"1": 282, "2": 715},
        final=False,
        terminated_early=False,
    )
    assert event == {
        "Records": [record],
        "window": {"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"},
        "state": {"1": 282, "2": 715},
        "shardId": "shardId-000000000006",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
        "isFinalInvokeForWindow": False,
        "isWindowTerminatedEarly": False,
    }


def test_final_window_event_may_have_no_records_and_flags_pass_through():
    event = p.window_event(
        [], shard_id="s", stream_arn="a", window_start_ms=0, window_end_ms=60000,
        state={}, final=True, terminated_early=True,
    )
    assert event["Records"] == []
    assert event["isFinalInvokeForWindow"] is True
    assert event["isWindowTerminatedEarly"] is True


# --- failure records ------------------------------------------------------------------

_KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/mystream"
_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:myfunction"
_ERRORED = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
_START = "49601189658422359378836298521827638475320189012309704722"
_END = "49601189658422359378836298522902373528957594348623495186"


def _kinesis_batch():
    return [
        p.kinesis_record("mystream", "shardId-000000000001", _START, "a", b"1", 1573691884835),
        p.kinesis_record("mystream", "shardId-000000000001", "4960", "b", b"2", 1573691885000),
        p.kinesis_record("mystream", "shardId-000000000001", _END, "c", b"3", 1573691885580),
    ]


def _kinesis_failure(**kw):
    args = dict(
        request_id="c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
        function_arn=_FUNCTION_ARN,
        condition="RetryAttemptsExhausted",
        approximate_invoke_count=1,
        last_response=_ERRORED,
        timestamp_ms=1573691886021,
        source_kind="kinesis",
        shard_id="shardId-000000000001",
        stream_arn=_KINESIS_ARN,
        records=_kinesis_batch(),
    )
    args.update(kw)
    return p.failure_record(**args)


_KINESIS_FAILURE = {
    "requestContext": {
        "requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
        "functionArn": _FUNCTION_ARN,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "version": "1.0",
    "timestamp": "2019-11-14T00:38:06.021Z",
    "KinesisBatchInfo": {
        "shardId": "shardId-000000000001",
        "startSequenceNumber": _START,
        "endSequenceNumber": _END,
        "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
        "batchSize": 3,
        "streamArn": _KINESIS_ARN,
    },
}


def test_kinesis_failure_record_for_sqs_or_sns_has_metadata_only():
    assert _kinesis_failure() == _KINESIS_FAILURE


def test_kinesis_failure_record_for_s3_adds_payload_as_json_string():
    event = p.stream_event(_kinesis_batch())
    record = _kinesis_failure(payload_event=event)
    assert {k: v for k, v in record.items() if k != "payload"} == _KINESIS_FAILURE
    assert isinstance(record["payload"], str)
    assert json.loads(record["payload"]) == event


def test_failure_record_omits_response_context_when_nothing_was_invoked():
    record = _kinesis_failure(
        condition="RecordAgeExceeded", approximate_invoke_count=0, last_response=None
    )
    assert "responseContext" not in record
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"


def test_dynamodb_failure_record_uses_ddb_batch_info_with_second_precision_arrivals():
    records = [
        p.dynamodb_record(DDB_STREAM_ARN, "e1", "INSERT", _KEYS, _FIRST, None,
                          "800000000003126276362", "NEW_IMAGE", 1573690399500),
    ]
    record = p.failure_record(
        request_id="316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        function_arn=_FUNCTION_ARN,
        condition="RetryAttemptsExhausted",
        approximate_invoke_count=1,
        last_response=_ERRORED,
        timestamp_ms=1573690429717,
        source_kind="dynamodb",
        shard_id=DDB_SHARD,
        stream_arn=DDB_STREAM_ARN,
        records=records,
    )
    assert record == {
        "requestContext": {
            "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
            "functionArn": _FUNCTION_ARN,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1,
        },
        "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:49.717Z",
        "DDBStreamBatchInfo": {
            "shardId": DDB_SHARD,
            "startSequenceNumber": "800000000003126276362",
            "endSequenceNumber": "800000000003126276362",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
            "batchSize": 1,
            "streamArn": DDB_STREAM_ARN,
        },
    }


def test_dynamodb_failure_record_for_s3_adds_payload():
    records = [
        p.dynamodb_record(DDB_STREAM_ARN, "e1", "INSERT", _KEYS, _FIRST, None, "8", "KEYS_ONLY", 0)
    ]
    event = p.stream_event(records)
    record = p.failure_record(
        request_id="r", function_arn=_FUNCTION_ARN, condition="RetryAttemptsExhausted",
        approximate_invoke_count=3, last_response=_ERRORED, timestamp_ms=0,
        source_kind="dynamodb", shard_id=DDB_SHARD, stream_arn=DDB_STREAM_ARN,
        records=records, payload_event=event,
    )
    assert json.loads(record["payload"]) == event
    assert "KinesisBatchInfo" not in record


def test_failure_record_rejects_sqs_unknown_condition_and_empty_batch():
    with pytest.raises(ValueError, match="kinesis and dynamodb only"):
        _kinesis_failure(source_kind="sqs")
    with pytest.raises(ValueError, match="condition"):
        _kinesis_failure(condition="Failed")
    with pytest.raises(ValueError, match="at least one"):
        _kinesis_failure(records=[])


def test_s3_failure_key_follows_documented_layout():
    key = p.s3_failure_key(
        "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE", "shardId-000000000001", 1573691886021,
        "9b6c4a3e-0000-4000-8000-000000000000",
    )
    assert key == (
        "aws/lambda/a1b2c3d4-5678-90ab-cdef-11111EXAMPLE/shardId-000000000001/"
        "2019/11/14/2019-11-14T00.38.06-9b6c4a3e-0000-4000-8000-000000000000"
    )


def test_s3_failure_key_zero_pads_date_parts():
    key = p.s3_failure_key("u", "s", 1704157445000, "r")  # 2024-01-02T01:04:05Z
    assert key == "aws/lambda/u/s/2024/01/02/2024-01-02T01.04.05-r"


# --- sizes and export --------------------------------------------------------------------


def test_empty_event_bytes_is_the_records_envelope():
    assert p.event_size(p.sqs_event([])) == p.EMPTY_EVENT_BYTES


def test_record_sizes_sum_to_exact_event_size():
    records = [p.sqs_record(_msg(body="x" * n), "q", fifo=False) for n in (0, 10, 300)]
    records += _kinesis_batch()
    total = sum(p.record_size(r) for r in records)
    assert p.batch_event_size(total, len(records)) == p.event_size(p.stream_event(records))
    assert p.batch_event_size(0, 0) == p.event_size(p.stream_event([]))


def test_event_size_counts_utf8_bytes_not_characters():
    plain = p.event_size(p.sqs_event([p.sqs_record(_msg(body="e"), "q", False)]))
    accented = p.event_size(p.sqs_event([p.sqs_record(_msg(body="é"), "q", False)]))
    assert accented == plain + 1


def test_max_payload_is_six_mebibytes():
    assert p.MAX_PAYLOAD_BYTES == 6_291_456


def test_sam_event_is_indented_json_of_the_event():
    event = p.sqs_event([p.sqs_record(_msg(body="ünïcode"), "q", fifo=False)])
    text = p.sam_event(event)
    assert json.loads(text) == event
    assert text.startswith('{\n  "Records": [\n')
    assert "ünïcode" in text
