"""FilterCriteria rules (reference 5.3): parsing, validation and matching."""
import base64
import json

import pytest

from esmlab.engine.mappings.filters import explain, matches, parse_filter_criteria
from esmlab.errors import AwsError


# ---------------------------------------------------------------- helpers

def criteria(*patterns):
    return {"Filters": [{"Pattern": p if isinstance(p, str) else json.dumps(p)}
                        for p in patterns]}


def parse(*patterns, kind="sqs"):
    return parse_filter_criteria(criteria(*patterns), kind)


def sqs(body, **meta):
    record = {"messageId": "m-1", "receiptHandle": "rh",
              "body": body if isinstance(body, str) else json.dumps(body),
              "attributes": {"ApproximateReceiveCount": "1", "SenderId": "AIDA"},
              "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1"}
    record.update(meta)
    return record


def kinesis(data, partition_key="pk-1"):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": partition_key,
                        "sequenceNumber": "4959", "data": base64.b64encode(raw).decode(),
                        "approximateArrivalTimestamp": 1545084650.987},
            "eventSource": "aws:kinesis", "eventName": "aws:kinesis:record"}


def ddb(event_name="INSERT", new_image=None, keys=None):
    record = {"eventID": "1", "eventName": event_name, "eventSource": "aws:dynamodb",
              "dynamodb": {"Keys": keys or {"Id": {"N": "101"}}, "SequenceNumber": "111",
                           "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"}}
    if new_image is not None:
        record["dynamodb"]["NewImage"] = new_image
    return record


def body_match(pattern, body):
    """Does a pattern on the SQS body's fields match this JSON body?"""
    return matches(parse({"body": pattern}), sqs(body), "sqs")


def invalid_detail(*patterns, kind="sqs"):
    with pytest.raises(AwsError) as caught:
        parse(*patterns, kind=kind)
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message == "Invalid filter pattern definition."
    return caught.value.detail


# ---------------------------------------------------------------- no filtering

@pytest.mark.parametrize("given", [None, {}, {"Filters": []}])
def test_missing_or_empty_criteria_means_no_filtering(given):
    assert parse_filter_criteria(given, "sqs") == []
    assert matches([], sqs("anything"), "sqs")


def test_parse_returns_the_patterns_as_plain_json_in_filter_order():
    parsed = parse({"a": [1]}, {"b": ["x"]})
    assert parsed == [{"a": [1]}, {"b": ["x"]}]
    assert json.loads(json.dumps(parsed)) == parsed


# ---------------------------------------------------------------- exact values

def test_exact_string_matches_character_for_character():
    assert body_match({"city": ["Seattle"]}, {"city": "Seattle"})
    assert not body_match({"city": ["Seattle"]}, {"city": "seattle"})


def test_exact_number_compares_the_written_form():
    assert body_match({"n": [300]}, {"n": 300})
    assert not body_match({"n": [300]}, {"n": 301})
    # 300, 300.0 and 3.0e2 are different strings, so they are not equal.
    assert not matches(parse({"body": {"n": [300]}}), sqs('{"n": 300.0}'), "sqs")
    assert not matches(parse('{"body": {"n": [3.0e2]}}'), sqs('{"n": 300.0}'), "sqs")
    assert matches(parse('{"body": {"n": [300.0]}}'), sqs('{"n": 300.0}'), "sqs")


def test_exact_number_does_not_match_a_string_of_digits():
    assert not body_match({"n": [300]}, {"n": "300"})
    assert not body_match({"n": ["300"]}, {"n": 300})


def test_exact_boolean():
    assert body_match({"ok": [True]}, {"ok": True})
    assert not body_match({"ok": [True]}, {"ok": False})
    assert not body_match({"ok": [True]}, {"ok": 1})


def test_null_matches_only_a_present_null():
    assert body_match({"user": [None]}, {"user": None})
    assert not body_match({"user": [None]}, {})
    assert not body_match({"user": [None]}, {"user": "null"})


def test_empty_matches_only_the_empty_string():
    assert body_match({"last": [""]}, {"last": ""})
    assert not body_match({"last": [""]}, {"last": "Smith"})
    assert not body_match({"last": [""]}, {"last": None})


def test_several_values_in_one_array_are_ored():
    assert body_match({"pay": ["Credit", "Debit"]}, {"pay": "Debit"})
    assert not body_match({"pay": ["Credit", "Debit"]}, {"pay": "Cash"})


def test_several_fields_are_anded_and_all_must_exist():
    pattern = {"loc": ["New York"], "day": ["Monday"]}
    assert body_match(pattern, {"loc": "New York", "day": "Monday", "extra": 1})
    assert not body_match(pattern, {"loc": "New York", "day": "Tuesday"})
    assert not body_match(pattern, {"loc": "New York"})


def test_nested_objects_match_nested_json():
    pattern = {"order": {"type": ["buy"], "item": {"sku": ["A1"]}}}
    assert body_match(pattern, {"order": {"type": "buy", "item": {"sku": "A1"}}})
    assert not body_match(pattern, {"order": {"type": "buy", "item": {"sku": "B2"}}})
    assert not body_match(pattern, {"order": {"type": "buy"}})
    assert not body_match(pattern, {"type": "buy", "sku": "A1"})


def test_a_record_array_matches_when_any_element_matches():
    assert body_match({"tags": ["red"]}, {"tags": ["blue", "red"]})
    assert not body_match({"tags": ["red"]}, {"tags": ["blue", "green"]})
    assert body_match({"items": {"sku": ["A1"]}}, {"items": [{"sku": "B2"}, {"sku": "A1"}]})
    assert not body_match({"items": {"sku": ["A1"]}}, {"items": [{"sku": "B2"}]})


def test_duplicate_keys_in_a_pattern_last_one_wins():
    parsed = parse('{"body": {"s": ["first"], "s": ["second"]}}')
    assert matches(parsed, sqs({"s": "second"}), "sqs")
    assert not matches(parsed, sqs({"s": "first"}), "sqs")


# ---------------------------------------------------------------- operators

def test_anything_but_list_rejects_listed_values():
    pattern = {"weather": [{"anything-but": ["Raining", "Snowing"]}]}
    assert body_match(pattern, {"weather": "Sunny"})
    assert not body_match(pattern, {"weather": "Raining"})
    assert not body_match(pattern, {"weather": "Snowing"})


def test_anything_but_single_value_and_numbers():
    assert body_match({"s": [{"anything-but": "init"}]}, {"s": "running"})
    assert not body_match({"s": [{"anything-but": "init"}]}, {"s": "init"})
    assert body_match({"n": [{"anything-but": 5}]}, {"n": 6})
    assert not body_match({"n": [{"anything-but": 5}]}, {"n": 5})


def test_anything_but_needs_the_field_to_exist():
    assert not body_match({"s": [{"anything-but": ["x"]}]}, {"other": 1})


def test_numeric_equals():
    pattern = {"price": [{"numeric": ["=", 100]}]}
    assert body_match(pattern, {"price": 100})
    assert body_match(pattern, {"price": 100.0})   # numeric compares values, not text
    assert not body_match(pattern, {"price": 101})


@pytest.mark.parametrize("op,ok,bad", [("<", 9, 10), ("<=", 10, 11), (">", 11, 10), (">=", 10, 9)])
def test_numeric_single_comparison(op, ok, bad):
    pattern = {"t": [{"numeric": [op, 10]}]}
    assert body_match(pattern, {"t": ok})
    assert not body_match(pattern, {"t": bad})


def test_numeric_range_with_two_comparisons():
    pattern = {"t": [{"numeric": [">", 50, "<=", 60]}]}
    assert body_match(pattern, {"t": 60})
    assert body_match(pattern, {"t": 50.5})
    assert not body_match(pattern, {"t": 50})
    assert not body_match(pattern, {"t": 61})


def test_numeric_never_matches_strings_or_booleans():
    pattern = {"t": [{"numeric": [">", 0]}]}
    assert not body_match(pattern, {"t": "46"})
    assert not body_match(pattern, {"t": True})


def test_exists_true_needs_a_present_leaf():
    pattern = {"name": [{"exists": True}]}
    assert body_match(pattern, {"name": "x"})
    assert body_match(pattern, {"name": None})
    assert not body_match(pattern, {"other": "x"})
    assert not body_match(pattern, {"name": {"first": "x"}})   # leaf nodes only


def test_exists_false_needs_an_absent_leaf():
    pattern = {"name": [{"exists": False}]}
    assert body_match(pattern, {"other": "x"})
    assert not body_match(pattern, {"name": "x"})
    assert body_match({"a": {"b": [{"exists": False}]}}, {"c": 1})


def test_prefix():
    assert body_match({"region": [{"prefix": "us-"}]}, {"region": "us-east-1"})
    assert not body_match({"region": [{"prefix": "us-"}]}, {"region": "eu-west-1"})
    assert not body_match({"region": [{"prefix": "1"}]}, {"region": 12})


def test_suffix():
    assert body_match({"file": [{"suffix": ".png"}]}, {"file": "cat.png"})
    assert not body_match({"file": [{"suffix": ".png"}]}, {"file": "cat.PNG"})


def test_equals_ignore_case():
    assert body_match({"s": [{"equals-ignore-case": "ready"}]}, {"s": "READY"})
    assert not body_match({"s": [{"equals-ignore-case": "ready"}]}, {"s": "readyx"})


def test_operators_and_values_mix_in_one_array_as_or():
    pattern = {"s": ["exact", {"prefix": "pre-"}]}
    assert body_match(pattern, {"s": "exact"})
    assert body_match(pattern, {"s": "pre-x"})
    assert not body_match(pattern, {"s": "other"})


def test_or_across_fields():
    pattern = {"$or": [{"c": ["red"]}, {"size": [{"numeric": [">", 10]}]}]}
    assert body_match(pattern, {"c": "red", "size": 1})
    assert body_match(pattern, {"c": "blue", "size": 11})
    assert not body_match(pattern, {"c": "blue", "size": 1})


def test_or_is_anded_with_the_other_fields():
    pattern = {"kind": ["a"], "$or": [{"x": [1]}, {"y": [2]}]}
    assert body_match(pattern, {"kind": "a", "y": 2})
    assert not body_match(pattern, {"kind": "b", "y": 2})


def test_filters_are_ored():
    parsed = parse({"body": {"s": ["a"]}}, {"body": {"s": ["b"]}})
    assert matches(parsed, sqs({"s": "b"}), "sqs")
    assert not matches(parsed, sqs({"s": "c"}), "sqs")


# ---------------------------------------------------------------- SQS

def test_sqs_plain_string_body_matches_a_plain_string_pattern():
    parsed = parse({"body": ["hello"]})
    assert matches(parsed, sqs("hello"), "sqs")
    assert not matches(parsed, sqs("goodbye"), "sqs")
    assert matches(parse({"body": [{"prefix": "ERR"}]}), sqs("ERROR: disk"), "sqs")


def test_sqs_plain_string_body_with_json_pattern_is_dropped():
    assert not matches(parse({"body": {"s": [{"exists": False}]}}), sqs("hello"), "sqs")


def test_sqs_json_body_with_plain_string_pattern_is_dropped():
    assert not matches(parse({"body": [{"exists": False}]}), sqs({"s": 1}), "sqs")
    assert not matches(parse({"body": [{"anything-but": "x"}]}), sqs({"s": 1}), "sqs")


def test_sqs_without_a_body_pattern_filters_on_metadata_only():
    parsed = parse({"attributes": {"ApproximateReceiveCount": ["1"]}})
    assert matches(parsed, sqs("plain text"), "sqs")
    assert matches(parsed, sqs({"json": True}), "sqs")
    again = sqs("x", attributes={"ApproximateReceiveCount": "2"})
    assert not matches(parsed, again, "sqs")


def test_sqs_message_attributes_are_matchable():
    parsed = parse({"messageAttributes": {"color": {"stringValue": ["red"]}}}, kind="sqs-fifo")
    red = sqs("x", messageAttributes={"color": {"stringValue": "red", "dataType": "String"}})
    assert matches(parsed, red, "sqs-fifo")
    assert not matches(parsed, sqs("x"), "sqs-fifo")


# ---------------------------------------------------------------- Kinesis

def test_kinesis_data_is_base64_decoded_and_parsed_as_json():
    parsed = parse({"data": {"order": {"type": ["buy"]}}}, kind="kinesis")
    assert matches(parsed, kinesis({"order": {"type": "buy"}}), "kinesis")
    assert not matches(parsed, kinesis({"order": {"type": "sell"}}), "kinesis")


def test_kinesis_non_json_data_with_a_data_pattern_is_dropped():
    parsed = parse({"data": {"type": [{"exists": False}]}}, kind="kinesis")
    assert not matches(parsed, kinesis(b"plain text"), "kinesis")
    assert not matches(parsed, kinesis(b"\xff\xfe not utf-8"), "kinesis")


def test_kinesis_metadata_is_matchable_even_with_non_json_data():
    parsed = parse({"partitionKey": ["pk-1"]}, kind="kinesis")
    assert matches(parsed, kinesis(b"plain text", partition_key="pk-1"), "kinesis")
    assert not matches(parsed, kinesis(b"plain text", partition_key="pk-2"), "kinesis")


def test_kinesis_metadata_and_data_combine():
    parsed = parse({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}},
                   kind="kinesis")
    assert matches(parsed, kinesis({"Location": "Los Angeles"}, "1"), "kinesis")
    assert not matches(parsed, kinesis({"Location": "Los Angeles"}, "2"), "kinesis")


# ---------------------------------------------------------------- DynamoDB

def test_dynamodb_typed_values_match_as_strings():
    parsed = parse({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}, kind="dynamodb")
    assert matches(parsed, ddb(keys={"Id": {"N": "101"}}), "dynamodb")
    assert not matches(parsed, ddb(keys={"Id": {"N": "102"}}), "dynamodb")


def test_dynamodb_numeric_operators_do_not_match_typed_numbers():
    parsed = parse({"dynamodb": {"Keys": {"Id": {"N": [{"numeric": [">", 1]}]}}}},
                   kind="dynamodb")
    assert not matches(parsed, ddb(keys={"Id": {"N": "101"}}), "dynamodb")


def test_dynamodb_top_level_event_name_is_matchable():
    parsed = parse({"eventName": ["INSERT"],
                    "dynamodb": {"NewImage": {"state": {"S": ["DONE"]}}}}, kind="dynamodb")
    assert matches(parsed, ddb("INSERT", {"state": {"S": "DONE"}}), "dynamodb")
    assert not matches(parsed, ddb("MODIFY", {"state": {"S": "DONE"}}), "dynamodb")
    assert not matches(parsed, ddb("INSERT", {"state": {"S": "NEW"}}), "dynamodb")


def test_dynamodb_missing_image_fails_a_pattern_on_it():
    parsed = parse({"dynamodb": {"NewImage": {"state": {"S": ["DONE"]}}}}, kind="dynamodb")
    assert not matches(parsed, ddb("REMOVE"), "dynamodb")


# ---------------------------------------------------------------- plain dicts

def test_matches_accepts_plain_pattern_dicts_reloaded_from_storage():
    stored = json.loads(json.dumps(parse({"body": {"s": ["a"]}})))
    assert matches(stored, sqs({"s": "a"}), "sqs")
    assert not matches(stored, sqs({"s": "b"}), "sqs")


# ---------------------------------------------------------------- validation

def test_pattern_that_is_not_json_is_rejected():
    assert "not valid JSON" in invalid_detail('{"a": ["x"')
    assert "not valid JSON" in invalid_detail('{"a": [NaN]}')


@pytest.mark.parametrize("pattern", ["null", "[1]", '"x"', "{}", '{"a": {}}'])
def test_pattern_must_be_a_non_empty_object(pattern):
    invalid_detail(pattern)


def test_leaf_must_be_a_non_empty_array():
    assert "must be an array" in invalid_detail({"a": "x"})
    assert "empty array" in invalid_detail({"a": []})
    assert "nested array" in invalid_detail({"a": [["x"]]})


def test_pattern_longer_than_4096_characters_is_a_validation_exception():
    too_long = json.dumps({"a": ["x" * 4100]})
    with pytest.raises(AwsError) as caught:
        parse_filter_criteria(criteria({"b": [1]}, too_long), "sqs")
    assert caught.value.code == "ValidationException"
    assert "at 'filterCriteria.filters.2.member.pattern' failed to satisfy constraint: " \
           "Member must have length less than or equal to 4096" in caught.value.message
    assert caught.value.message.startswith("1 validation error detected: Value '")


def test_pattern_of_exactly_4096_characters_is_accepted():
    pattern = '{"a": ["' + "x" * (4096 - 11) + '"]}'
    assert len(pattern) == 4096
    assert parse(pattern)


def test_more_than_five_filters_is_rejected_unless_the_quota_is_raised():
    six = criteria(*({"a": [i]} for i in range(6)))
    with pytest.raises(AwsError) as caught:
        parse_filter_criteria(six, "sqs")
    assert caught.value.code == "InvalidParameterValueException"
    assert "(6)" in caught.value.message and "quota of 5" in caught.value.message
    assert len(parse_filter_criteria(six, "sqs", max_filters=10)) == 6


def test_unknown_operator_is_rejected():
    assert 'unknown operator "contains"' in invalid_detail({"a": [{"contains": "x"}]})


@pytest.mark.parametrize("operator", [
    {"wildcard": "*.png"},
    {"cidr": "10.0.0.0/24"},
    {"anything-but": {"prefix": "us-"}},
    {"anything-but": {"suffix": ".png"}},
    {"anything-but": {"equals-ignore-case": "x"}},
    {"prefix": {"equals-ignore-case": "us-"}},
    {"suffix": {"equals-ignore-case": ".png"}},
])
def test_eventbridge_only_operators_are_rejected(operator):
    assert "EventBridge" in invalid_detail({"a": [operator]})


@pytest.mark.parametrize("numeric", [
    ["==", 1], [">", 1, "<"], [">"], [">", "1"], [">", True], "> 1",
    [">", 1, ">=", 2], ["=", 1, "<", 2], [">", 5, "<", 5], [">=", 9, "<=", 2],
])
def test_malformed_numeric_is_rejected(numeric):
    assert '"numeric"' in invalid_detail({"a": [{"numeric": numeric}]})


def test_numeric_range_may_name_the_upper_bound_first():
    parsed = parse({"body": {"t": [{"numeric": ["<", 10, ">=", 5]}]}})
    assert matches(parsed, sqs({"t": 5}), "sqs")
    assert not matches(parsed, sqs({"t": 10}), "sqs")


@pytest.mark.parametrize("argument", ["true", 1, None])
def test_exists_needs_a_boolean(argument):
    assert '"exists" needs true or false' in invalid_detail({"a": [{"exists": argument}]})


@pytest.mark.parametrize("operator", ["prefix", "suffix", "equals-ignore-case"])
def test_string_operators_need_a_string(operator):
    assert "needs a string" in invalid_detail({"a": [{operator: 5}]})


@pytest.mark.parametrize("argument", [[], [None], [True], [["x"]]])
def test_anything_but_needs_strings_or_numbers(argument):
    assert '"anything-but" needs' in invalid_detail({"a": [{"anything-but": argument}]})


def test_operator_object_must_have_one_key():
    assert "exactly one" in invalid_detail({"a": [{"prefix": "x", "suffix": "y"}]})


@pytest.mark.parametrize("alternatives", [[{"a": [1]}], [], "x", [{"a": [1]}, 2]])
def test_or_needs_at_least_two_objects(alternatives):
    assert "$or" in invalid_detail({"$or": alternatives})


@pytest.mark.parametrize("kind,pattern", [
    ("kinesis", {"data": ["plain"]}),
    ("kinesis", {"data": [{"prefix": "x"}]}),
    ("kinesis", {"$or": [{"data": ["x"]}, {"partitionKey": ["1"]}]}),
    ("dynamodb", {"dynamodb": ["x"]}),
])
def test_streams_reject_a_non_json_data_pattern(kind, pattern):
    assert "JSON object pattern" in invalid_detail(pattern, kind=kind)


def test_sqs_accepts_a_plain_string_body_pattern():
    assert parse({"body": ["plain"]}, kind="sqs")


def test_unknown_source_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_filter_criteria(None, "kafka")


# ---------------------------------------------------------------- explain

def test_explain_without_filters():
    assert "no FilterCriteria" in explain([], sqs("x"), "sqs")


def test_explain_names_the_matching_filter():
    parsed = parse({"body": {"s": ["a"]}}, {"body": {"s": ["b"]}})
    assert explain(parsed, sqs({"s": "b"}), "sqs") == "Kept: the record matches filter 2 of 2."


def test_explain_names_the_failing_field_and_values():
    parsed = parse({"body": {"status": ["paid", "shipped"]}})
    text = explain(parsed, sqs({"status": "new"}), "sqs")
    assert text.startswith("Dropped (Lambda deletes the message from the queue)")
    assert 'body.status is "new", not one of: "paid", "shipped"' in text


def test_explain_reports_a_missing_field_and_stream_checkpoint():
    parsed = parse({"data": {"order": {"type": ["buy"]}}}, kind="kinesis")
    text = explain(parsed, kinesis({"order": {}}), "kinesis")
    assert "checkpoint moves past" in text
    assert "data.order.type is missing" in text


def test_explain_reports_body_format_mismatches():
    assert "body is not JSON" in explain(parse({"body": {"a": ["x"]}}), sqs("hi"), "sqs")
    assert "body is JSON" in explain(parse({"body": ["hi"]}), sqs({"a": 1}), "sqs")


def test_explain_warns_that_dynamodb_numbers_are_strings():
    parsed = parse({"dynamodb": {"Keys": {"Id": {"N": [{"numeric": [">", 1]}]}}}},
                   kind="dynamodb")
    text = explain(parsed, ddb(), "dynamodb")
    assert "dynamodb.Keys.Id.N" in text and "are strings" in text


def test_explain_lists_every_filter_and_or_alternative():
    parsed = parse({"body": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}}, {"body": {"c": ["3"]}})
    text = explain(parsed, sqs({"a": "0", "b": "0", "c": "0"}), "sqs")
    assert "filter 1: none of the $or alternatives matched" in text
    assert 'body.a is "0"' in text and 'body.b is "0"' in text
    assert 'filter 2: body.c is "0"' in text


def test_explain_says_no_array_element_matched():
    text = explain(parse({"body": {"tags": ["red"]}}), sqs({"tags": ["a", "b"]}), "sqs")
    assert 'body.tags is ["a", "b"], and no element of it is "red"' in text
