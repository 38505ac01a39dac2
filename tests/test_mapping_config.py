"""CreateEventSourceMapping / UpdateEventSourceMapping validation, defaults,
and the GetEventSourceMapping response shape."""

import pytest

from esmlab.engine import arns
from esmlab.engine.mappings.config import (
    FunctionInfo, SourceInfo, describe, function_ref, validate_create,
    validate_update, warnings,
)
from esmlab.errors import AwsError

FN = FunctionInfo("worker", arns.function_arn("worker"), timeout=3)
OTHER_FN = FunctionInfo("other", arns.function_arn("other"), timeout=3)
KINESIS = SourceInfo("kinesis", arns.stream_arn("clicks"))
DYNAMODB = SourceInfo("dynamodb", arns.table_stream_arn("orders", "2024-01-01T00:00:00.000"))
SQS = SourceInfo("sqs", arns.queue_arn("jobs"), visibility_timeout=30)
FIFO = SourceInfo("sqs-fifo", arns.queue_arn("jobs.fifo"), visibility_timeout=30)
SOURCES = {"kinesis": KINESIS, "dynamodb": DYNAMODB, "sqs": SQS, "sqs-fifo": FIFO}

DESTINATIONS = {
    arns.queue_arn("failed"): "sqs",
    arns.queue_arn("failed.fifo"): "sqs-fifo",
    arns.topic_arn("alerts"): "sns",
    arns.topic_arn("alerts.fifo"): "sns-fifo",
    arns.bucket_arn("failures"): "s3",
}


def create(source, function=FN, existing=(), now_ms=None, **params):
    request = {"FunctionName": "worker", "EventSourceArn": source.arn, **params}
    if source.kind in ("kinesis", "dynamodb") and "StartingPosition" not in params:
        request["StartingPosition"] = "TRIM_HORIZON"
    request = {k: v for k, v in request.items() if v is not None}
    return validate_create(request, source, function, list(existing),
                           DESTINATIONS.get, now_ms=now_ms)


def rejects(code, *fragments, **kwargs):
    with pytest.raises(AwsError) as caught:
        create(**kwargs)
    assert caught.value.code == code, caught.value.message
    for fragment in fragments:
        assert fragment in caught.value.message
    return caught.value


# ------------------------------------------------------------- defaults

@pytest.mark.parametrize("kind", ["kinesis", "dynamodb"])
def test_stream_defaults_are_awss(kind):
    config = create(SOURCES[kind])
    assert config == {
        "FunctionName": "worker", "FunctionArn": FN.arn,
        "EventSourceArn": SOURCES[kind].arn, "Enabled": True, "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0, "StartingPosition": "TRIM_HORIZON",
        "ParallelizationFactor": 1, "MaximumRetryAttempts": -1,
        "MaximumRecordAgeInSeconds": -1, "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {}}, "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
    }


@pytest.mark.parametrize("kind", ["sqs", "sqs-fifo"])
def test_queue_defaults_are_awss(kind):
    config = create(SOURCES[kind])
    assert config == {
        "FunctionName": "worker", "FunctionArn": FN.arn,
        "EventSourceArn": SOURCES[kind].arn, "Enabled": True, "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": [],
        "ScalingConfig": {},
    }


def test_given_values_replace_defaults():
    config = create(KINESIS, BatchSize=500, ParallelizationFactor=4, Enabled=False,
                    MaximumRetryAttempts=3, BisectBatchOnFunctionError=True,
                    FunctionResponseTypes=["ReportBatchItemFailures"])
    assert config["BatchSize"] == 500 and config["ParallelizationFactor"] == 4
    assert config["Enabled"] is False
    assert config["MaximumRetryAttempts"] == 3 and config["BisectBatchOnFunctionError"] is True
    assert config["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# ------------------------------------------------------ request shape

def test_pasted_get_event_source_mapping_output_is_a_valid_create_request():
    pasted = {
        "UUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
        "StartingPosition": "LATEST", "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0, "ParallelizationFactor": 1,
        "EventSourceArn": KINESIS.arn, "FunctionArn": FN.arn,
        "LastModified": 1569284520.333, "LastProcessingResult": "No records processed",
        "State": "Enabled", "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {}}, "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": False, "MaximumRetryAttempts": -1,
        "TumblingWindowInSeconds": 0, "FunctionResponseTypes": [],
        "EventSourceMappingArn": arns.mapping_arn("a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"),
        "MetricsConfig": {"Metrics": ["EventCount"]},
    }
    assert function_ref(pasted) == FN.arn
    config = validate_create(pasted, KINESIS, FN, [], DESTINATIONS.get)
    assert config["FunctionName"] == "worker" and config["StartingPosition"] == "LATEST"
    assert "UUID" not in config and "State" not in config


def test_pasted_output_of_a_disabled_mapping_creates_it_disabled():
    pasted = {"FunctionArn": FN.arn, "EventSourceArn": SQS.arn, "State": "Disabled"}
    assert validate_create(pasted, SQS, FN, [], DESTINATIONS.get)["Enabled"] is False


def test_empty_on_success_from_a_paste_is_accepted_and_dropped():
    config = create(KINESIS, DestinationConfig={"OnSuccess": {}, "OnFailure": {}})
    assert config["DestinationConfig"] == {"OnFailure": {}}


def test_unknown_parameter_is_rejected_with_the_closest_one_in_the_hint():
    error = rejects("ParamValidationError", 'Unknown parameter in input: "BatchSzie"',
                    source=SQS, BatchSzie=5)
    assert "must be one of: EventSourceArn, FunctionName, Enabled, BatchSize" in error.message
    assert error.hint == 'did you mean "BatchSize"?'


def test_unknown_nested_parameter_is_rejected():
    rejects("ParamValidationError", 'Unknown parameter in DestinationConfig.OnFailure: '
            '"Destinaton", must be one of: Destination', source=KINESIS,
            DestinationConfig={"OnFailure": {"Destinaton": arns.queue_arn("failed")}})


def test_function_name_is_required():
    with pytest.raises(AwsError) as caught:
        validate_create({"EventSourceArn": SQS.arn}, SQS, FN, [], DESTINATIONS.get)
    assert caught.value.code == "ParamValidationError"
    assert 'Missing required parameter in input: "FunctionName"' in caught.value.message


def test_parameter_of_the_wrong_type_is_rejected():
    rejects("ParamValidationError", "Invalid type for parameter BatchSize",
            source=SQS, BatchSize="10")
    rejects("ParamValidationError", "Invalid type for parameter Enabled",
            source=SQS, Enabled=1)


# ------------------------------------------------------ missing things

def test_missing_function_is_invalid_parameter_function_does_not_exist():
    error = rejects("InvalidParameterValueException", source=SQS, function=None)
    assert (error.message, error.status) == ("Function does not exist", 400)
    assert "worker" in error.hint  # the lab's hint names it; AWS's message does not


def test_create_checks_event_source_arn_then_on_success_then_function():
    def refused(params):
        with pytest.raises(AwsError) as caught:
            validate_create({"FunctionName": "nope", **params}, None, None, [],
                            DESTINATIONS.get)
        return caught.value.message

    assert refused({}) == "Unrecognized event source."
    on_success = {"DestinationConfig": {"OnSuccess": {"Destination": arns.queue_arn("d")}}}
    assert refused(on_success) == "Unrecognized event source."
    assert refused({"EventSourceArn": SQS.arn, **on_success}) == (
        "Unsupported DestinationConfig parameter for given event source mapping type.")
    assert refused({"EventSourceArn": SQS.arn}) == "Function does not exist"


def test_missing_queue_is_reported_as_sqs_nonexistent_queue():
    with pytest.raises(AwsError) as caught:
        validate_create({"FunctionName": "worker", "EventSourceArn": SQS.arn},
                        None, FN, [], DESTINATIONS.get)
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message == (
        "Error occurred while ReceiveMessage. SQS Error Code: "
        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
        "The specified queue does not exist.")


def test_missing_stream_is_stream_not_found():
    with pytest.raises(AwsError) as caught:
        validate_create({"FunctionName": "worker", "EventSourceArn": KINESIS.arn,
                         "StartingPosition": "LATEST"}, None, FN, [], DESTINATIONS.get)
    assert caught.value.message == f"Stream not found: {KINESIS.arn}"


def test_duplicate_queue_mapping_names_the_existing_uuid():
    existing = [{"UUID": "u-1", "FunctionArn": FN.arn, "EventSourceArn": SQS.arn}]
    error = rejects("ResourceConflictException", f'SQS arn (" {SQS.arn} ")',
                    '(" worker ") already exists', "existing mapping with UUID u-1",
                    source=SQS, existing=existing)
    assert error.status == 409


def test_duplicate_stream_mapping_names_the_existing_uuid():
    existing = [{"UUID": "u-2", "FunctionArn": FN.arn, "EventSourceArn": KINESIS.arn}]
    rejects("ResourceConflictException", "provided mapping already exists",
            "existing mapping with UUID u-2", source=KINESIS, existing=existing)


def test_same_source_with_another_function_is_not_a_duplicate():
    existing = [{"UUID": "u-3", "FunctionArn": OTHER_FN.arn, "EventSourceArn": SQS.arn}]
    assert create(SQS, existing=existing)["EventSourceArn"] == SQS.arn


# ---------------------------------------------------- batch and window

@pytest.mark.parametrize("size", [0, 10_001])
def test_batch_size_must_be_1_to_10000(size):
    rejects("ValidationException", f"Value '{size}' at 'batchSize'", source=KINESIS, BatchSize=size)


def test_stream_batch_size_10000_with_no_window_is_accepted():
    assert create(KINESIS, BatchSize=10_000)["BatchSize"] == 10_000


def test_fifo_batch_size_is_at_most_10():
    rejects("InvalidParameterValueException", "FIFO", source=FIFO, BatchSize=11)
    assert create(FIFO, BatchSize=10)["BatchSize"] == 10


def test_sqs_batch_size_over_10_needs_a_window_of_at_least_1s():
    rejects("InvalidParameterValueException",
            "Maximum batch window in seconds must be greater than 0 if maximum batch "
            "size is greater than 10", source=SQS, BatchSize=11)
    assert create(SQS, BatchSize=11, MaximumBatchingWindowInSeconds=1)["BatchSize"] == 11


@pytest.mark.parametrize("window", [-1, 301])
def test_batching_window_must_be_0_to_300(window):
    rejects("ValidationException", "'maximumBatchingWindowInSeconds'",
            source=SQS, MaximumBatchingWindowInSeconds=window)


def test_batching_window_is_not_allowed_on_fifo_queues():
    rejects("InvalidParameterValueException", "Batching window is not supported for FIFO queues",
            source=FIFO, MaximumBatchingWindowInSeconds=1)


# ------------------------------------------------- starting position

def test_starting_position_is_required_for_streams():
    rejects("InvalidParameterValueException", "Value null at 'startingPosition'",
            source=DYNAMODB, StartingPosition=None)


def test_starting_position_is_not_allowed_on_sqs():
    rejects("InvalidParameterValueException",
            "StartingPosition is not valid for SQS event sources.",
            source=SQS, StartingPosition="LATEST")


def test_unknown_starting_position_is_a_validation_error():
    rejects("ValidationException", "enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
            source=KINESIS, StartingPosition="OLDEST")


def test_at_timestamp_is_kinesis_only():
    rejects("InvalidParameterValueException", "Unsupported starting position for arn type",
            source=DYNAMODB, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1000)


def test_at_timestamp_needs_a_timestamp():
    rejects("InvalidParameterValueException", "Need to specify a timestamp",
            source=KINESIS, StartingPosition="AT_TIMESTAMP")


def test_timestamp_is_only_valid_with_at_timestamp():
    rejects("InvalidParameterValueException",
            "Timestamp only valid with StartingPosition AT_TIMESTAMP",
            source=KINESIS, StartingPosition="LATEST", StartingPositionTimestamp=1000)


def test_starting_position_timestamp_may_not_be_in_the_future():
    rejects("InvalidParameterValueException", "in the future", source=KINESIS,
            now_ms=1_000_000, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1001)
    config = create(KINESIS, now_ms=1_000_000, StartingPosition="AT_TIMESTAMP",
                    StartingPositionTimestamp=1000)
    assert config["StartingPositionTimestamp"] == 1000


def test_starting_position_timestamp_accepts_iso_8601():
    config = create(KINESIS, StartingPosition="AT_TIMESTAMP",
                    StartingPositionTimestamp="1970-01-01T00:16:40Z")
    assert config["StartingPositionTimestamp"] == 1000


# ------------------------------------------------------ stream knobs

@pytest.mark.parametrize("factor", [0, 11])
def test_parallelization_factor_must_be_1_to_10(factor):
    rejects("ValidationException", "'parallelizationFactor'", source=KINESIS,
            ParallelizationFactor=factor)


@pytest.mark.parametrize("name, value", [
    ("ParallelizationFactor", 2), ("MaximumRetryAttempts", 1),
    ("MaximumRecordAgeInSeconds", 60), ("BisectBatchOnFunctionError", True),
    ("TumblingWindowInSeconds", 60),
])
def test_stream_only_parameters_are_rejected_on_sqs(name, value):
    camel = name[0].lower() + name[1:]
    rejects("InvalidParameterValueException",
            f"Unsupported '{camel}' parameter for given event source mapping type.",
            source=SQS, **{name: value})


@pytest.mark.parametrize("attempts", [-2, 10_001])
def test_maximum_retry_attempts_must_be_minus_1_to_10000(attempts):
    rejects("ValidationException", "'maximumRetryAttempts'", source=KINESIS,
            MaximumRetryAttempts=attempts)


@pytest.mark.parametrize("age", [0, 59])
def test_maximum_record_age_0_to_59_is_rejected(age):
    rejects("InvalidParameterValueException",
            "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800",
            source=KINESIS, MaximumRecordAgeInSeconds=age)


def test_maximum_record_age_above_one_week_is_a_validation_error():
    rejects("ValidationException", "'maximumRecordAgeInSeconds'", source=KINESIS,
            MaximumRecordAgeInSeconds=604_801)
    assert create(KINESIS, MaximumRecordAgeInSeconds=60)["MaximumRecordAgeInSeconds"] == 60


@pytest.mark.parametrize("window", [-1, 901])
def test_tumbling_window_must_be_0_to_900(window):
    rejects("ValidationException", "'tumblingWindowInSeconds'", source=DYNAMODB,
            TumblingWindowInSeconds=window)


@pytest.mark.parametrize("types", [["Partial"], ["ReportBatchItemFailures"] * 2])
def test_function_response_types_allow_only_report_batch_item_failures(types):
    rejects("ValidationException", "'functionResponseTypes'", source=SQS,
            FunctionResponseTypes=types)


# ------------------------------------------------------ destinations

def test_on_success_destination_is_not_supported_with_awss_exact_message():
    error = rejects("InvalidParameterValueException", source=KINESIS,
                    DestinationConfig={"OnSuccess": {"Destination": arns.queue_arn("failed")}})
    assert error.message == ("Unsupported DestinationConfig parameter for given event source "
                             "mapping type.")
    assert "OnFailure" in error.hint


def test_sqs_mapping_with_a_destination_is_rejected_and_the_hint_points_at_the_queue_dlq():
    error = rejects("InvalidParameterValueException", source=SQS,
                    DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("failed")}})
    assert error.message == ("Unsupported DestinationConfig parameter for given event source "
                             "mapping type.")
    assert "RedrivePolicy" in error.hint and "Configure the DLQ on the queue" in error.hint


def test_destination_must_exist():
    rejects("InvalidParameterValueException", "no SQS queue, SNS topic or S3 bucket",
            source=KINESIS,
            DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("nope")}})


@pytest.mark.parametrize("name, arn", [("failed", arns.queue_arn("failed")),
                                       ("alerts", arns.topic_arn("alerts"))])
def test_a_destination_given_by_its_name_is_refused_and_the_hint_names_its_arn(name, arn):
    error = rejects("InvalidParameterValueException", "no SQS queue, SNS topic or S3 bucket",
                    source=KINESIS, DestinationConfig={"OnFailure": {"Destination": name}})
    assert f"did you mean {arn}?" in error.hint
    assert arn not in error.message                       # the lab's hint, beside the message


def test_a_destination_name_that_is_no_resource_gets_no_arn_suggested():
    error = rejects("InvalidParameterValueException", source=KINESIS,
                    DestinationConfig={"OnFailure": {"Destination": "nothing-by-this-name"}})
    assert "did you mean" not in error.hint


@pytest.mark.parametrize("arn", [arns.queue_arn("failed.fifo"), arns.topic_arn("alerts.fifo")])
def test_fifo_destination_is_rejected(arn):
    rejects("InvalidParameterValueException", "FIFO", source=DYNAMODB,
            DestinationConfig={"OnFailure": {"Destination": arn}})


@pytest.mark.parametrize("arn", [arns.queue_arn("failed"), arns.topic_arn("alerts"),
                                 arns.bucket_arn("failures")])
def test_standard_queue_topic_or_bucket_is_a_valid_destination(arn):
    config = create(KINESIS, DestinationConfig={"OnFailure": {"Destination": arn}})
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": arn}}


# --------------------------------------------------------- scaling

@pytest.mark.parametrize("cap", [1, 1001])
def test_maximum_concurrency_must_be_2_to_1000(cap):
    rejects("ValidationException", "'scalingConfig.maximumConcurrency'", source=SQS,
            ScalingConfig={"MaximumConcurrency": cap})


def test_maximum_concurrency_is_sqs_only():
    rejects("InvalidParameterValueException", "Unsupported 'scalingConfig'", source=KINESIS,
            ScalingConfig={"MaximumConcurrency": 5})
    capped = create(SQS, ScalingConfig={"MaximumConcurrency": 5})
    assert capped["ScalingConfig"] == {"MaximumConcurrency": 5}


# --------------------------------------------------- visibility timeout

def test_function_timeout_over_queue_visibility_timeout_is_rejected():
    slow = FunctionInfo("worker", FN.arn, timeout=60)
    rejects("InvalidParameterValueException",
            "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds",
            source=SQS, function=slow)
    assert create(SQS, function=FunctionInfo("worker", FN.arn, timeout=30))


def test_visibility_under_six_times_timeout_plus_window_is_a_warning():
    queue = SourceInfo("sqs", SQS.arn, visibility_timeout=30)
    config = create(queue, MaximumBatchingWindowInSeconds=5)
    five = FunctionInfo("worker", FN.arn, timeout=5)
    four = FunctionInfo("worker", FN.arn, timeout=4)
    [text] = warnings(config, queue, five)          # 6*5 + 5 = 35 > 30
    assert "30 s" in text and "35 s" in text
    assert warnings(config, queue, four) == []      # 6*4 + 5 = 29 <= 30
    assert warnings(create(KINESIS), KINESIS, five) == []


# ----------------------------------------------------------- update

def update(current, source, function=FN, existing=(), **params):
    return validate_update(current, params, source, function, list(existing), DESTINATIONS.get)


@pytest.mark.parametrize("name, value", [
    ("StartingPosition", "LATEST"), ("StartingPositionTimestamp", 1000),
    ("EventSourceArn", arns.stream_arn("other")),
])
def test_create_only_fields_are_rejected_in_an_update(name, value):
    with pytest.raises(AwsError) as caught:
        update(create(KINESIS), KINESIS, **{name: value})
    assert caught.value.code == "ParamValidationError"
    assert f'"{name}"' in caught.value.message
    assert "only be set when the mapping is created" in caught.value.hint


def test_update_changes_only_what_it_names():
    current = create(KINESIS, BatchSize=50, MaximumRetryAttempts=2)
    config = update(current, KINESIS, Enabled=False, ParallelizationFactor=3)
    assert config == {**current, "Enabled": False, "ParallelizationFactor": 3}
    assert current["Enabled"] is True   # the input is not mutated


def test_update_revalidates_the_merged_config():
    current = create(SQS, BatchSize=20, MaximumBatchingWindowInSeconds=1)
    with pytest.raises(AwsError) as caught:
        update(current, SQS, MaximumBatchingWindowInSeconds=0)
    assert "Maximum batch window in seconds" in caught.value.message


def test_update_rejects_a_function_slower_than_the_queue_visibility_timeout():
    slow = FunctionInfo("slow", arns.function_arn("slow"), timeout=31)
    with pytest.raises(AwsError) as caught:
        update(create(SQS), SQS, function=slow, FunctionName="slow")
    assert "less than Function timeout: 31 seconds" in caught.value.message


def test_update_moving_to_an_already_mapped_function_is_a_conflict():
    existing = [{"UUID": "u-9", "FunctionArn": OTHER_FN.arn, "EventSourceArn": SQS.arn}]
    with pytest.raises(AwsError) as caught:
        update(create(SQS), SQS, function=OTHER_FN, existing=existing, FunctionName="other")
    assert caught.value.code == "ResourceConflictException" and "u-9" in caught.value.message


def test_update_with_empty_scaling_config_removes_the_cap():
    current = create(SQS, ScalingConfig={"MaximumConcurrency": 5})
    assert update(current, SQS, ScalingConfig={})["ScalingConfig"] == {}


def test_update_with_empty_filter_criteria_removes_the_filters():
    current = {**create(SQS), "FilterCriteria": {"Filters": [{"Pattern": "{}"}]}}
    assert "FilterCriteria" not in update(current, SQS, FilterCriteria={})


def test_update_can_set_and_clear_an_on_failure_destination():
    target = arns.topic_arn("alerts")
    config = update(create(KINESIS), KINESIS,
                    DestinationConfig={"OnFailure": {"Destination": target}})
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": target}}
    cleared = update(config, KINESIS, DestinationConfig={"OnFailure": {"Destination": ""}})
    assert cleared["DestinationConfig"] == {"OnFailure": {}}


# ---------------------------------------------------------- filters

def test_invalid_filter_pattern_is_rejected():
    pytest.importorskip("esmlab.engine.mappings.filters")
    with pytest.raises(AwsError):
        create(SQS, FilterCriteria={"Filters": [{"Pattern": "{not json"}]})
    good = {"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}]}
    assert create(SQS, FilterCriteria=good)["FilterCriteria"] == good


# --------------------------------------------------------- describe

RUNTIME = {"UUID": "u-1", "State": "Enabled", "StateTransitionReason": "User action",
           "LastModified": 1700000000.5, "LastProcessingResult": "No records processed"}


def test_describe_stream_mapping_has_awss_fields_in_awss_order():
    shown = describe(create(KINESIS), RUNTIME)
    assert list(shown) == [
        "UUID", "StartingPosition", "BatchSize", "MaximumBatchingWindowInSeconds",
        "ParallelizationFactor", "EventSourceArn", "FunctionArn", "LastModified",
        "LastProcessingResult", "State", "StateTransitionReason", "DestinationConfig",
        "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
        "TumblingWindowInSeconds", "FunctionResponseTypes", "EventSourceMappingArn",
    ]
    assert shown["EventSourceMappingArn"] == arns.mapping_arn("u-1")


def test_describe_queue_mapping_omits_stream_fields_and_an_unset_cap():
    runtime = {**RUNTIME, "StateTransitionReason": "USER_INITIATED"}
    shown = describe(create(SQS), runtime)
    assert list(shown) == [
        "UUID", "BatchSize", "MaximumBatchingWindowInSeconds", "EventSourceArn",
        "FunctionArn", "LastModified", "State", "StateTransitionReason",
        "FunctionResponseTypes", "EventSourceMappingArn",
    ]
    capped = describe(create(SQS, ScalingConfig={"MaximumConcurrency": 7}), runtime)
    assert capped["ScalingConfig"] == {"MaximumConcurrency": 7}


@pytest.mark.parametrize("source, params", [
    (KINESIS, {"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1000,
               "BatchSize": 250, "MaximumRetryAttempts": 4,
               "DestinationConfig": {"OnFailure": {"Destination": arns.bucket_arn("failures")}}}),
    (SQS, {"BatchSize": 50, "MaximumBatchingWindowInSeconds": 2,
           "ScalingConfig": {"MaximumConcurrency": 9}, "Enabled": False}),
])
def test_describe_output_round_trips_through_create(source, params):
    config = create(source, **params)
    state = "Enabled" if config["Enabled"] else "Disabled"
    shown = describe(config, {**RUNTIME, "State": state})
    assert validate_create(shown, source, FN, [], DESTINATIONS.get) == config
