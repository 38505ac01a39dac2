"""The audit: every event field, response field and error text the lab
produces, set against what real AWS was recorded answering
(tests/recorded_aws.py names each recording). A field AWS adds, drops,
reorders or spells differently, or a word of an error text, fails here."""

from __future__ import annotations

import base64
import json
import re

import pytest

from esmlab.engine import arns
from esmlab.engine import request_model as model
from esmlab.errors import AwsError
from tests.recorded_aws import ERRORS, EVENTS, FAILURE_RECORDS, RESPONSES

Q = arns.queue_arn
S = arns.stream_arn
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def events(lab, mapping):
    return [i["event"] for i in lab.invocations(mapping=mapping, limit=1000)
            if i.get("event") is not None]


def table(lab, name="orders", view="NEW_IMAGE"):
    return lab.create_table(
        name, KeySchema=[{"AttributeName": "my_partition_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "my_partition_key", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view})["stream_arn"]


def refused(call, *args, **kw) -> AwsError:
    with pytest.raises(AwsError) as caught:
        call(*args, **kw)
    return caught.value


def assert_recorded_error(error: AwsError, recording: str, **fill) -> None:
    code, status, text, _source = ERRORS[recording]
    for name, value in fill.items():
        text = text.replace("{" + name + "}", str(value))
    assert (error.code, error.status, error.message) == (code, status, text)


# -- events ----------------------------------------------------------------------------------

def test_sqs_event_fields_match_the_recorded_event(lab):
    want = EVENTS["sqs"]
    lab.create_function("f")
    lab.create_queue("q")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=Q("q"))
    lab.send_message("q", json.dumps({"foo": "bar"}))
    lab.run_until_idle()
    record = events(lab, "m")[0]["Records"][0]
    assert list(record) == want["record_keys"]
    assert list(record["attributes"]) == want["attribute_keys"]
    assert all(isinstance(v, str) for v in record["attributes"].values())
    assert record["attributes"]["ApproximateReceiveCount"] == want["first_receive_count"]
    assert {k: record[k] for k in want["values"]} == want["values"]
    assert record["body"] == '{"foo": "bar"}'


def test_sqs_message_attributes_and_their_md5_match_the_recording(lab):
    want = EVENTS["sqs_with_attributes"]
    lab.create_function("f")
    lab.create_queue("q")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=Q("q"))
    lab.send_message("q", "x", MessageAttributes={
        "Title": {"DataType": "String", "StringValue": "The Whistler"},
        "Author": {"DataType": "String", "StringValue": "John Grisham"},
        "WeeksOn": {"DataType": "Number", "StringValue": "6"}})
    lab.run_until_idle()
    record = events(lab, "m")[0]["Records"][0]
    assert all(list(a) == want["attribute_keys"] for a in record["messageAttributes"].values())
    assert record["md5OfMessageAttributes"] == want["md5OfMessageAttributes"]


def test_sqs_fifo_event_attributes_match_the_recording(lab):
    lab.create_function("f")
    lab.create_queue("q.fifo", Attributes={"FifoQueue": "true"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=Q("q.fifo"))
    lab.send_message("q.fifo", "x", MessageGroupId="1", MessageDeduplicationId="dedup-1")
    lab.run_until_idle()
    attributes = events(lab, "m")[0]["Records"][0]["attributes"]
    assert set(attributes) == EVENTS["sqs_fifo"]["attribute_keys"]


def test_kinesis_event_fields_match_the_recorded_event(lab):
    want = EVENTS["kinesis"]
    lab.create_function("f")
    lab.create_stream("s")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=S("s"),
                       StartingPosition="TRIM_HORIZON")
    lab.put_record("s", "test", "hello")
    lab.run_until_idle()
    record = events(lab, "m")[0]["Records"][0]
    assert list(record) == want["record_keys"]
    assert list(record["kinesis"]) == want["kinesis_keys"]
    assert {k: record[k] for k in want["values"]} == want["values"]
    assert {k: record["kinesis"][k] for k in want["kinesis_values"]} == want["kinesis_values"]
    seq = record["kinesis"]["sequenceNumber"]
    assert record["eventID"] == want["event_id"].replace("{sequenceNumber}", seq)
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    assert record["invokeIdentityArn"].startswith("arn:aws:iam::")


def test_dynamodb_event_fields_match_the_recorded_event(lab):
    want = EVENTS["dynamodb"]
    lab.create_function("f")
    stream = table(lab)
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=stream,
                       StartingPosition="TRIM_HORIZON")
    lab.do("put_item", TableName="orders", Item={
        "my_partition_key": {"S": "hello world"},
        "binary_key": {"B": base64.b64encode(b"foobar").decode()}})
    lab.run_until_idle()
    record = events(lab, "m")[0]["Records"][0]
    assert list(record) == want["record_keys"]
    assert list(record["dynamodb"]) == want["dynamodb_keys"]
    assert {k: record[k] for k in want["values"]} == want["values"]
    assert {k: record["dynamodb"][k] for k in want["dynamodb_values"]} == want["dynamodb_values"]
    assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])


# -- on-failure records ----------------------------------------------------------------------

def _failing_stream_mapping(lab, source, destination, **params):
    lab.create_function("f")
    lab.set_behaviour("f", mode="fail")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=source,
                       StartingPosition="TRIM_HORIZON", BatchSize=1,
                       DestinationConfig={"OnFailure": {"Destination": destination}}, **params)


def _queued_records(lab, queue):
    return [json.loads(m["body"]) for m in lab.engine.queues.page(queue)]


@pytest.mark.parametrize("kind", ["kinesis_sqs", "dynamodb_sqs"])
def test_failure_record_fields_match_the_recorded_records(lab, kind):
    want = FAILURE_RECORDS[kind]
    lab.create_queue("dest")
    if kind == "kinesis_sqs":
        lab.create_stream("s")
        _failing_stream_mapping(lab, S("s"), Q("dest"), MaximumRetryAttempts=2)
        lab.put_record("s", "test", "hello")
    else:
        _failing_stream_mapping(lab, table(lab), Q("dest"), MaximumRetryAttempts=2)
        lab.do("put_item", TableName="orders", Item={"my_partition_key": {"S": "hello world"}})
    lab.run_until_idle()
    (record,) = _queued_records(lab, "dest")
    batch_key = want["keys"][-1]
    assert list(record) == want["keys"]
    assert list(record["requestContext"]) == want["request_keys"]
    assert list(record["responseContext"]) == want["response_keys"]
    assert list(record[batch_key]) == want["batch_keys"]
    assert {k: record[k] for k in want["values"]} == want["values"]
    assert record["responseContext"] == want["response_values"]
    assert ISO_MS.match(record["timestamp"])
    arrival = ISO_MS if want["arrival_ms"] else ISO_S
    assert arrival.match(record[batch_key]["approximateArrivalOfFirstRecord"])
    assert arrival.match(record[batch_key]["approximateArrivalOfLastRecord"])


def test_record_age_exceeded_record_fields_match_the_recording(lab):
    want = FAILURE_RECORDS["record_age"]
    lab.create_queue("dest")
    lab.create_stream("s")
    lab.put_record("s", "test", "old")
    lab.advance(120)                       # older than MaximumRecordAgeInSeconds before any poll
    _failing_stream_mapping(lab, S("s"), Q("dest"), MaximumRecordAgeInSeconds=60)
    lab.run_until_idle()
    (record,) = _queued_records(lab, "dest")
    assert list(record) == want["keys"]
    assert {k: record["requestContext"][k] for k in want["request_values"]} == \
        want["request_values"]


def test_s3_failure_object_matches_the_recording(lab):
    want = FAILURE_RECORDS["kinesis_s3"]
    lab.do("create_bucket", Bucket="failures")
    lab.create_stream("s")
    _failing_stream_mapping(lab, S("s"), "arn:aws:s3:::failures", MaximumRetryAttempts=1)
    lab.put_record("s", "custom", "hello")
    lab.run_until_idle()
    (item,) = lab.engine.sinks.items("failures", offset=0, limit=10)
    assert set(item["body"]) == want["key_set"]
    payload = json.loads(item["body"]["payload"])
    assert list(payload["Records"][0]) == want["payload_record_keys"]
    uuid = lab.mapping("m")["uuid"]
    pattern = re.escape(want["object_key"])
    for part, regex in (("\\{uuid\\}", "[0-9a-f-]{36}"), ("\\{shardId\\}", "shardId-[0-9]{12}"),
                        ("\\{yyyy\\}", r"\d{4}"), ("\\{mm\\}", r"\d\d"), ("\\{dd\\}", r"\d\d"),
                        ("\\{HH\\}", r"\d\d"), ("\\{MM\\}", r"\d\d"), ("\\{SS\\}", r"\d\d")):
        pattern = pattern.replace(part, regex)
    assert re.fullmatch(pattern, item["key"]) and uuid in item["key"]


def test_sns_notification_fields_match_the_recording(lab):
    want = FAILURE_RECORDS["sns"]
    lab.do("create_topic", Name="failures")
    lab.create_stream("s")
    _failing_stream_mapping(lab, S("s"), arns.topic_arn("failures"), MaximumRetryAttempts=1)
    lab.put_record("s", "test", "hello")
    lab.run_until_idle()
    (item,) = lab.engine.sinks.items("failures", offset=0, limit=10)
    assert set(item["body"]) == want["key_set"]
    assert {k: item["body"][k] for k in want["values"]} == want["values"]
    assert json.loads(item["body"]["Message"])["requestContext"]["condition"] == \
        "RetryAttemptsExhausted"


# -- the mapping API's responses -------------------------------------------------------------

def test_kinesis_create_response_matches_the_recording(lab):
    want = RESPONSES["kinesis_create"]
    lab.create_function("f")
    lab.create_stream("s")
    response = lab.create_mapping(FunctionName="f", EventSourceArn=S("s"),
                                  StartingPosition="LATEST")
    assert set(response) == want["keys"]
    assert {k: response[k] for k in want["values"]} == want["values"]


def test_dynamodb_create_response_matches_the_recording(lab):
    want = RESPONSES["dynamodb_create"]
    lab.create_function("f")
    response = lab.create_mapping(FunctionName="f", EventSourceArn=table(lab),
                                  StartingPosition="LATEST", FilterCriteria={"Filters": []})
    assert set(response) == want["keys"]
    assert {k: response[k] for k in want["values"]} == want["values"]


def test_sqs_create_response_matches_the_recording(lab):
    lab.create_function("f")
    lab.create_queue("q")
    lab.create_queue("q2")
    response = lab.create_mapping(FunctionName="f", EventSourceArn=Q("q"))
    want = RESPONSES["sqs_create"]
    assert set(response) == want["keys"]
    assert {k: response[k] for k in want["values"]} == want["values"]
    lab.create_function("g")
    scaled = lab.create_mapping(FunctionName="g", EventSourceArn=Q("q2"), BatchSize=20,
                                MaximumBatchingWindowInSeconds=1,
                                ScalingConfig={"MaximumConcurrency": 2})
    assert set(scaled) == RESPONSES["sqs_scaling"]["keys"]
    assert scaled["ScalingConfig"] == RESPONSES["sqs_scaling"]["values"]["ScalingConfig"]


def test_mapping_states_follow_the_recorded_lifecycles(lab):
    lab.create_function("f")
    lab.create_queue("q")
    e = lab.engine.mappings
    disabled = lab.create_mapping(label="q", FunctionName="f", EventSourceArn=Q("q"),
                                  Enabled=False)
    enabling = lab.update_mapping("q", Enabled=True)
    lab.run_until_idle()
    assert [disabled["State"], enabling["State"], e.get("q")["State"]] == \
        RESPONSES["sqs_disabled_then_enabled"]["states"]
    updating = lab.update_mapping("q", MaximumBatchingWindowInSeconds=1)
    lab.run_until_idle()
    assert [updating["State"], e.get("q")["State"]] == RESPONSES["sqs_update"]["states"]
    created = lab.create_mapping(label="d", FunctionName="f", EventSourceArn=table(lab),
                                 StartingPosition="TRIM_HORIZON")
    lab.run_until_idle()
    ready = e.get("d")
    deleting = lab.delete_mapping("d")
    assert [created["State"], ready["State"], deleting["State"]] == \
        RESPONSES["dynamodb_lifecycle"]["states"]


def test_function_arn_keeps_the_form_the_function_was_named_in(lab):
    lab.create_function("f")
    lab.publish_version("f")
    lab.create_alias("f", "myalias", "1")
    lab.create_queue("q")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    for given, tail in RESPONSES["function_arn"]["forms"].items():
        name = given.replace("{name}", "f").replace("{arn}", arn)
        m = lab.create_mapping(FunctionName=name, EventSourceArn=Q("q"))
        assert m["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:" + \
            tail.replace("{name}", "f"), given
        lab.run_until_idle()
        lab.delete_mapping(m["UUID"])
        lab.run_until_idle()


# -- error texts -----------------------------------------------------------------------------

def test_unknown_uuid_errors_match_the_recording(lab):
    e = lab.engine.mappings
    unknown = "00000000-0000-0000-0000-000000000000"
    for call in (lambda: e.get(unknown), lambda: lab.delete_mapping(unknown),
                 lambda: lab.update_mapping(unknown, BatchSize=5)):
        assert_recorded_error(refused(call), "unknown_uuid")


def test_create_refusals_match_the_recorded_texts(lab):
    lab.create_function("f")
    assert_recorded_error(refused(lab.create_mapping, FunctionName="doesnotexist"),
                          "no_event_source_arn")
    assert_recorded_error(refused(lab.create_mapping, FunctionName="doesnotexist",
                                  EventSourceArn=Q("somequeue")), "unknown_function")
    lab.create_queue("q")
    assert_recorded_error(refused(lab.create_mapping, FunctionName="f", EventSourceArn=Q("q"),
                                  DestinationConfig={"OnSuccess": {"Destination": Q("q")}}),
                          "on_success")
    assert_recorded_error(refused(lab.create_mapping, FunctionName="f",
                                  EventSourceArn=Q("somequeue")), "no_queue")
    for arn in (S("nope"), arns.table_stream_arn("nope", "2025-02-22T03:03:25.490")):
        assert_recorded_error(refused(lab.create_mapping, FunctionName="f", EventSourceArn=arn,
                                      StartingPosition="TRIM_HORIZON"), "no_stream", arn=arn)


def test_starting_position_refusals_match_the_recorded_texts(lab):
    lab.create_function("f")
    lab.create_queue("q")
    lab.create_stream("s")
    stream = table(lab)
    create = lab.create_mapping
    assert_recorded_error(refused(create, FunctionName="f", EventSourceArn=S("s")),
                          "no_starting_position")
    for arn in (S("s"), stream, Q("q")):
        for value in ("0", "invalid"):
            assert_recorded_error(refused(create, FunctionName="f", EventSourceArn=arn,
                                          StartingPosition=value),
                                  "bad_starting_position", value=value)
    for arn in (S("s"), stream):
        assert_recorded_error(refused(create, FunctionName="f", EventSourceArn=arn,
                                      StartingPosition="LATEST",
                                      StartingPositionTimestamp=1_700_000_000),
                              "timestamp_without_at_timestamp")
    assert_recorded_error(refused(create, FunctionName="f", EventSourceArn=stream,
                                  StartingPosition="AT_TIMESTAMP",
                                  StartingPositionTimestamp=-1_700_000_000),
                          "dynamodb_at_timestamp", arn=stream)
    assert_recorded_error(refused(create, FunctionName="f", EventSourceArn=S("s"),
                                  StartingPosition="AT_TIMESTAMP",
                                  StartingPositionTimestamp=-1_700_000_000),
                          "kinesis_negative_timestamp")
    for position, at in (("LATEST", 1_700_000_000), ("AT_TIMESTAMP", -1_700_000_000)):
        assert_recorded_error(refused(create, FunctionName="f", EventSourceArn=Q("q"),
                                      StartingPosition=position, StartingPositionTimestamp=at),
                              "position_on_sqs")


def test_batch_window_refusal_matches_the_recorded_text_on_create_and_update(lab):
    lab.create_function("f")
    lab.create_queue("q")
    assert_recorded_error(refused(lab.create_mapping, FunctionName="f", EventSourceArn=Q("q"),
                                  BatchSize=20), "sqs_batch_without_window")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=Q("q"))
    lab.run_until_idle()
    assert_recorded_error(refused(lab.update_mapping, "m", BatchSize=20),
                          "sqs_batch_without_window")


def test_duplicate_mapping_refusals_match_the_recorded_texts(lab):
    lab.create_function("f")
    lab.create_queue("q")
    lab.create_stream("s")
    for arn, key, extra in ((Q("q"), "sqs_duplicate", {}),
                            (S("s"), "stream_duplicate", {"StartingPosition": "LATEST"}),
                            (table(lab), "stream_duplicate", {"StartingPosition": "LATEST"})):
        first = lab.create_mapping(FunctionName="f", EventSourceArn=arn, **extra)
        assert_recorded_error(refused(lab.create_mapping, FunctionName="f", EventSourceArn=arn,
                                      **extra), key, arn=arn, name="f", uuid=first["UUID"])


@pytest.mark.parametrize("pattern", ["null", "simple string", '{"eventSource": "aws:sqs"}',
                                     '{"eventSource": []}', '[{"eventName": ["INSERT"=123}]'])
def test_invalid_filter_patterns_match_the_recorded_text(lab, pattern):
    lab.create_function("f")
    lab.create_queue("q")
    assert_recorded_error(refused(lab.create_mapping, FunctionName="f", EventSourceArn=Q("q"),
                                  FilterCriteria={"Filters": [{"Pattern": pattern}]}),
                          "invalid_filter")


def test_list_tags_refusals_match_the_recorded_texts(lab):
    lab.create_function("f")
    lab.create_queue("q")
    m = lab.create_mapping(FunctionName="f", EventSourceArn=Q("q"), Tags={"testtag": "x"})
    e = lab.engine.mappings
    assert e.list_tags(m["EventSourceMappingArn"]) == {"Tags": {"testtag": "x"}}
    unknown = m["EventSourceMappingArn"][:-36] + "00000000-0000-0000-0000-000000000000"
    assert_recorded_error(refused(e.list_tags, unknown), "tags_unknown_mapping", arn=unknown)
    # The recording (2025-11) shows the resource pattern of its day; the lab
    # says the one of the service model it pins, in the same sentence.
    pattern = model.member_shape("ListTags", "Resource")["pattern"]
    for arn in (m["EventSourceMappingArn"] + ":alias",
                "arn:aws:lambda:us-east-1:123456789012:foobar:x"):
        error = refused(e.list_tags, arn)
        code, status, text, _ = ERRORS["tags_bad_arn"]
        form = text.partition("pattern: ")[0].replace("{arn}", arn) + "pattern: "
        assert (error.code, error.status) == (code, status)
        assert error.message == form + pattern


def test_sqs_message_size_refusal_matches_the_recorded_text(lab):
    lab.create_queue("q")
    assert_recorded_error(refused(lab.send_message, "q", "a" * (1_048_576 + 1)),
                          "sqs_message_too_large")
    lab.send_message("q", "a" * 1_048_576)          # exactly the default maximum: accepted


def test_every_recorded_text_names_its_recording():
    for key, (_code, _status, _text, source) in ERRORS.items():
        assert source.startswith("localstack/localstack:"), key


# -- every control-plane text is AWS's, or marked as the lab's ------------------------------

CONTROL_PLANE = ["esmlab/engine/mappings/config.py", "esmlab/engine/mappings/service.py",
                 "esmlab/engine/mappings/filters.py", "esmlab/engine/mappings/provisioned.py",
                 "esmlab/engine/roles.py", "esmlab/engine/request_model.py",
                 "esmlab/engine/function.py"]
# Checks of the lab's own concepts (a function's behaviour), with no AWS counterpart.
LAB_CONCEPTS = {"check_behaviour", "_check_match"}
RAISERS = {"invalid", "AwsError", "validation"}


def _template(node) -> str | None:
    """An error call's message with each f-string field as {} (None if the
    message is not written at the call)."""
    import ast
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _error_calls(path):
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    tree = ast.parse((root / path).read_text())
    skipped = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
               and f.name in LAB_CONCEPTS for n in ast.walk(f)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in skipped:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in RAISERS or not node.args:
            continue
        message = node.args[1] if name == "AwsError" and len(node.args) > 1 else node.args[0]
        if name == "validation":
            continue                 # the model's "1 validation error" form, recorded
        own = any(k.arg == "own" and getattr(k.value, "value", False) for k in node.keywords)
        yield node.lineno, _template(message), own


def _known_texts() -> list[str]:
    from tests.recorded_aws import OTHER_AWS_TEXTS
    recorded = [re.sub(r"\{[a-z_]+\}", "{}", text) for _c, _s, text, _src in ERRORS.values()]
    return recorded + list(OTHER_AWS_TEXTS)


def _as_pattern(template: str) -> str:
    return ".*".join(re.escape(part) for part in template.split("{}"))


def _is_known(template: str, known: list[str]) -> bool:
    """The lab's text fits a known one, either way round: the variable parts
    ({}) of each may stand for fixed words of the other."""
    return any(re.fullmatch(_as_pattern(template), text, flags=re.S)
               or re.fullmatch(_as_pattern(text), template, flags=re.S) for text in known)


@pytest.mark.parametrize("path", CONTROL_PLANE)
def test_every_control_plane_error_text_is_aws_or_marked_as_the_labs_own(path):
    known = _known_texts()
    unmarked = [f"{path}:{line}: {template!r}" for line, template, own in _error_calls(path)
                if template is not None and not own and not _is_known(template, known)]
    assert not unmarked, "texts neither recorded, documented nor marked own=True"


def test_put_function_recursion_config_refusal_matches_the_recording(lab):
    lab.create_function("f")
    error = refused(lab.put_function_recursion_config, "f", "InvalidValue")
    assert (error.code, error.message) == (
        "ValidationException", "1 validation error detected: Value 'InvalidValue' at "
        "'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: "
        "[Terminate, Allow]")   # LS_API test_put_function_recursion_config_invalid_value


def test_a_long_function_name_refusal_matches_the_recording(lab):
    name = "a" * 65
    error = refused(lab.create_function, name)
    assert (error.code, error.message) == (
        "InvalidParameterValueException", f"1 validation error detected: Value '{name}' at "
        "'functionName' failed to satisfy constraint: Member must have length less than or "
        "equal to 64")          # LS_API test_function_arns


def test_a_lab_worded_refusal_says_so_beside_the_message(lab):
    lab.create_function("f")
    lab.create_queue("q.fifo", Attributes={"FifoQueue": "true"})
    error = refused(lab.create_mapping, FunctionName="f", EventSourceArn=Q("q.fifo"),
                    BatchSize=11)
    assert error.own and "lab's wording" in error.hint
    assert "lab's wording" not in error.message


# -- the lab's SQS API ----------------------------------------------------------------------

def test_sqs_api_refusals_match_the_recorded_texts(lab):
    lab.create_queue("q")
    lab.create_queue("f.fifo", Attributes={"FifoQueue": "true"})
    batch = lab.send_message_batch
    assert_recorded_error(refused(batch, "q", [{"Id": "a", "MessageBody": "a" * 600_000},
                                               {"Id": "b", "MessageBody": "b" * 448_577}]),
                          "sqs_batch_too_long")
    assert_recorded_error(refused(batch, "q", [{"Id": "a b", "MessageBody": "x"}]),
                          "sqs_bad_batch_id")
    assert_recorded_error(refused(batch, "q", [{"Id": f"i{n}", "MessageBody": "x"}
                                               for n in range(20)]), "sqs_too_many_entries")
    assert_recorded_error(refused(lab.send_message, "q", "x", MessageAttributes={
        "ErrorDetails": {"DataType": "String", "StringValue": ""}}), "sqs_empty_attribute")
    assert_recorded_error(refused(lab.send_message, "f.fifo", "x", MessageDeduplicationId="d"),
                          "sqs_no_group_id")
    assert_recorded_error(refused(lab.send_message, "f.fifo", "x", MessageGroupId="g"),
                          "sqs_no_dedup_id")
    assert_recorded_error(refused(lab.send_message, "f.fifo", "x", MessageGroupId="g",
                                  MessageDeduplicationId="d", DelaySeconds=2), "sqs_fifo_delay")
    assert_recorded_error(refused(lab.send_message, "q", "x", MessageGroupId="group 123"),
                          "sqs_bad_group_id")
    assert_recorded_error(refused(lab.send_message, "q", ""), "sqs_empty_body")
    assert_recorded_error(refused(lab.do, "receive_message", QueueName="q",
                                  MaxNumberOfMessages=11), "sqs_max_messages")
    assert_recorded_error(refused(lab.create_queue, "q", Attributes={"DelaySeconds": "5"}),
                          "sqs_queue_exists")


def test_sqs_queue_type_refusals_match_the_recorded_texts(lab):
    for key, value in (("DeduplicationScope", "queue"), ("FifoThroughputLimit", "perQueue")):
        assert_recorded_error(refused(lab.create_queue, "std", Attributes={key: value}),
                              "sqs_fifo_setting_on_standard", key=key)
    for key in ("FifoQueue", "ContentBasedDeduplication"):
        assert_recorded_error(refused(lab.create_queue, "std", Attributes={key: "false"}),
                              "sqs_unknown_attribute", key=key)
    lab.create_queue("std")
    assert_recorded_error(refused(lab.do, "set_queue_attributes", QueueName="std",
                                  Attributes={"FifoQueue": "true"}),
                          "sqs_unknown_attribute", key="FifoQueue")
    lab.create_queue("f.fifo", Attributes={"FifoQueue": "true"})
    lab.do("set_queue_attributes", QueueName="f.fifo", Attributes={"FifoQueue": "true"})
    assert_recorded_error(refused(lab.do, "set_queue_attributes", QueueName="f.fifo",
                                  Attributes={"FifoQueue": "false"}), "sqs_modify_queue_type")


def test_dynamodb_unknown_table_texts_match_the_recordings(lab):
    assert_recorded_error(refused(lab.delete_table, "non-existent"),
                          "dynamodb_delete_unknown_table", name="non-existent")
    # recorded for BatchWriteItem; the lab's item calls answer alike
    assert_recorded_error(refused(lab.do, "put_item", TableName="non-existent",
                                  Item={"id": {"S": "a"}}), "dynamodb_unknown_table_items")
