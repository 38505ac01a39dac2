"""Event source mapping configuration: CreateEventSourceMapping and
UpdateEventSourceMapping validation, AWS defaults, and the
GetEventSourceMapping response shape.

A pure module: callers look up the function, the source and the existing
mappings and pass them in; nothing here touches the database or the clock.

Where an error message below is AWS's own wording (seen in real AWS error
output quoted by users, or in emulator tests recorded against AWS) the
comment says ``AWS wording``. Elsewhere AWS's exact text could not be found
and the message is the lab's own, written in AWS's style (``lab wording``).

Names, types, nesting and ranges come from one request model,
``engine/request_model.py`` (botocore's Lambda service model, pinned in the
repository; the scenario loader reads the same one). Shape errors (unknown
key, wrong type, missing FunctionName) are what the AWS SDK raises before a
request leaves the machine: botocore's own ``ParamValidationError`` report.
Ranges and enums are the service's ``ValidationException``. The lab's
semantic checks (per source kind, destinations, duplicates) and AWS's exact
messages sit on top.

Choices taken where the reference is UNCERTAIN or silent:

- UNCERTAIN #2: ``BatchSize > 10`` requires ``MaximumBatchingWindowInSeconds
  >= 1`` for SQS standard queues only; streams accept 1-10,000 with window 0.
- An on-failure destination must be a standard SQS queue, a standard SNS
  topic or an S3 bucket, checked at create/update. (Reference 1.5 notes AWS
  may accept a FIFO destination and fail at delivery; the lab rejects it up
  front so the mistake is seen where it is made.)
- ``DestinationConfig`` is returned as ``{"OnFailure": {...}}``: responses
  recorded against AWS show that shape for Kinesis and DynamoDB mappings; an
  empty ``OnSuccess`` is accepted on input and dropped.
- A pasted GetEventSourceMapping output has no ``Enabled``; when it is absent
  and ``State`` is ``Disabled``/``Disabling`` the mapping is created disabled.
- ``KMSKeyArn`` and ``LoggingConfig`` are kept and echoed (the lab neither
  encrypts filters nor writes system logs); ``Tags`` are kept for ListTags.
  ``MetricsConfig`` (EventCount metrics, event_metrics.py) and
  ``ProvisionedPollerConfig`` (SQS provisioned mode, provisioned.py) are kept,
  echoed and simulated; ``{}`` on Update turns them off.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from esmlab.engine import arns
from esmlab.engine import request_model as model
from esmlab.engine.mappings import provisioned
from esmlab.errors import AwsError, invalid

STREAM_KINDS = ("kinesis", "dynamodb")
QUEUE_KINDS = ("sqs", "sqs-fifo")

PARAM_ERROR = "ParamValidationError"  # botocore's client-side error class

STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
RESPONSE_TYPES = ("ReportBatchItemFailures",)
KAFKA_ONLY_METRICS = ("ErrorCount", "KafkaMetrics")
SIMULATED_CONFIGS = ("MetricsConfig", "ProvisionedPollerConfig")

CREATE_OP, UPDATE_OP = "CreateEventSourceMapping", "UpdateEventSourceMapping"
CREATE_PARAMS = model.members(CREATE_OP)
UPDATE_PARAMS = tuple(k for k in model.members(UPDATE_OP) if k != "UUID")
CREATE_ONLY = tuple(k for k in CREATE_PARAMS if k not in UPDATE_PARAMS)

# Output-only fields of GetEventSourceMapping: accepted on create so a pasted
# `get-event-source-mapping` works.
IGNORED_ON_CREATE = (
    "UUID", "State", "StateTransitionReason", "LastModified",
    "LastProcessingResult", "EventSourceMappingArn", "FunctionArn",
    "FilterCriteriaError",
)
# Members of the model for sources the lab does not simulate (Kafka, MQ,
# DocumentDB): valid requests to the SDK, refused by the lab.
NOT_SIMULATED = (
    "Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
)
# Kept in the config and echoed as given (not simulated further).
ECHOED = ("KMSKeyArn", "LoggingConfig")

STREAM_ONLY = (
    "ParallelizationFactor", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError", "TumblingWindowInSeconds",
)

_GOOD_DESTINATIONS = ("sqs", "sns", "s3")
_FIFO_DESTINATIONS = ("sqs-fifo", "sns-fifo")

# GetEventSourceMapping fields in the order of AWS's API model, per source.
_STREAM_FIELDS = (
    "UUID", "StartingPosition", "StartingPositionTimestamp", "BatchSize",
    "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "EventSourceArn",
    "FilterCriteria", "FunctionArn", "LastModified", "LastProcessingResult",
    "State", "StateTransitionReason", "DestinationConfig",
    "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError",
    "MaximumRetryAttempts", "TumblingWindowInSeconds", "FunctionResponseTypes",
    "KMSKeyArn", "EventSourceMappingArn", "LoggingConfig", "MetricsConfig",
)
# Responses recorded from AWS for SQS mappings carry no stream fields and no
# LastProcessingResult; ScalingConfig appears only when a cap is set.
_QUEUE_FIELDS = (
    "UUID", "BatchSize", "MaximumBatchingWindowInSeconds", "EventSourceArn",
    "FilterCriteria", "FunctionArn", "LastModified", "State",
    "StateTransitionReason", "FunctionResponseTypes", "ScalingConfig",
    "KMSKeyArn", "EventSourceMappingArn", "LoggingConfig", "MetricsConfig",
    "ProvisionedPollerConfig",
)


@dataclass(frozen=True)
class SourceInfo:
    kind: str                # "kinesis" | "dynamodb" | "sqs" | "sqs-fifo"
    arn: str
    visibility_timeout: int | None = None   # queues only, seconds


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    arn: str                 # qualified when the request named a version or alias
    timeout: int             # seconds
    role: dict | None = None  # {RoleArn, Actions} (engine/roles.py)


# ---------------------------------------------------------------- public API

def function_ref(params: dict) -> str | None:
    """The function a create request names: FunctionName, else the FunctionArn
    of a pasted GetEventSourceMapping output. The caller resolves it."""
    return params.get("FunctionName") or params.get("FunctionArn")


def validate_create(params: dict, source: SourceInfo | None,
                    function: FunctionInfo | None, existing: list[dict],
                    destination_kind: Callable[[str], str | None], *,
                    now_ms: int | None = None) -> dict:
    """Check a CreateEventSourceMapping request and return the full config
    with every AWS default applied. `now_ms` (lab clock) enables the
    "StartingPositionTimestamp not in the future" check."""
    request = _create_request(params)
    _check_model(request)
    # The order AWS checks in (recorded, reference 8.5): the source ARN is
    # named, no OnSuccess destination, the function exists, the source exists.
    if not request.get("EventSourceArn"):
        raise invalid("Unrecognized event source.",  # AWS wording
                      hint="name the queue, stream or DynamoDB stream in EventSourceArn")
    _check_no_on_success(request.get("DestinationConfig"))
    if function is None:
        raise _function_not_found(request["FunctionName"])
    if source is None:
        raise _source_not_found(request.get("EventSourceArn"))
    _check_starting_position(request, source, now_ms)
    config = _defaults(request, source, function)
    _check_config(config, request, source, function, destination_kind)
    _check_duplicate(source, function, existing)
    return config


def validate_update(current: dict, params: dict, source: SourceInfo,
                    function: FunctionInfo, existing: list[dict],
                    destination_kind: Callable[[str], str | None]) -> dict:
    """Check an UpdateEventSourceMapping request against the mapping's
    `current` config; return the new config. `function` is the mapping's
    function after the update (the new one if FunctionName changes it)."""
    request = _update_request(params)
    _check_model(request, UPDATE_OP)
    config = _merge(current, request, function)
    _check_config(config, request, source, function, destination_kind)
    if function.arn != current.get("FunctionArn"):
        _check_duplicate(source, function, existing)
    return config


def warnings(config: dict, source: SourceInfo, function: FunctionInfo) -> list[str]:
    """Plain-words advice that is not an error (reference 2.2)."""
    if source.kind not in QUEUE_KINDS or source.visibility_timeout is None:
        return []
    window = config.get("MaximumBatchingWindowInSeconds", 0)
    recommended = 6 * function.timeout + window
    if source.visibility_timeout >= recommended:
        return []
    plus_window = f" + batching window {window} s" if window else ""
    return [
        f"The queue's visibility timeout ({source.visibility_timeout} s) is under "
        f"AWS's recommended 6 x function timeout ({function.timeout} s){plus_window}"
        f" = {recommended} s. A throttled batch may become visible again before "
        "Lambda can retry it, and every receive counts towards maxReceiveCount, "
        "so messages can reach the DLQ without the function ever running."
    ]


def describe(config: dict, runtime: dict) -> dict:
    """The GetEventSourceMapping response for `config` plus `runtime` (UUID,
    State, StateTransitionReason, LastModified, LastProcessingResult), with
    only the fields AWS returns for that source kind, in AWS's order."""
    merged = {**config, **runtime}
    if "UUID" in runtime:
        merged["EventSourceMappingArn"] = arns.mapping_arn(runtime["UUID"])
    if not merged.get("ScalingConfig"):
        merged.pop("ScalingConfig", None)
    is_queue = arns.service_of(config.get("EventSourceArn", "")) == "sqs"
    fields = _QUEUE_FIELDS if is_queue else _STREAM_FIELDS
    return {k: copy.deepcopy(merged[k]) for k in fields if k in merged}


# ------------------------------------------------------------ request shape

def _create_request(params: dict) -> dict:
    request = {k: v for k, v in params.items() if k not in IGNORED_ON_CREATE}
    if "FunctionName" not in request and params.get("FunctionArn"):
        request["FunctionName"] = params["FunctionArn"]
    model.check_shape(CREATE_OP, request)
    _check_simulated(request)
    if "Enabled" not in request and params.get("State") in ("Disabled", "Disabling"):
        request["Enabled"] = False   # a pasted output of a disabled mapping
    return request


def _update_request(params: dict) -> dict:
    request = {k: v for k, v in params.items() if k != "UUID"}
    try:
        # UUID travels in the URL; the SDK sees it as a member.
        model.check_shape(UPDATE_OP, {"UUID": "-", **request})
    except AwsError as error:
        fixed = [k for k in request if k in CREATE_ONLY]
        if fixed:
            error.hint = (f"{fixed[0]} can only be set when the mapping is created; delete "
                          "the mapping and create a new one to change it")
        raise
    _check_simulated(request)
    return request


def _check_simulated(request: dict) -> None:
    for name in NOT_SIMULATED:
        if name in request:
            raise invalid(f"Unsupported '{_camel(name)}' parameter for given event source "
                          "mapping type.",
                          hint="the lab simulates SQS, Kinesis and DynamoDB sources only "
                               "(no Kafka, MQ or DocumentDB)")


# -------------------------------------------------- API model constraints

def _check_model(request: dict, operation: str = CREATE_OP) -> None:
    """Ranges, lengths and enums from the API model: a ValidationException, AWS wording."""
    model.check_ranges(operation, request)


def _validation(value, path: str, constraint: str) -> AwsError:
    return AwsError("ValidationException", f"1 validation error detected: Value "
                    f"'{value}' at '{path}' failed to satisfy constraint: {constraint}")


def _camel(name: str) -> str:
    return name[0].lower() + name[1:]


# ---------------------------------------------------------- missing things

def _function_not_found(ref: str) -> AwsError:
    # AWS wording (recorded): a 400, not a 404, and the function is not named.
    return invalid("Function does not exist", hint=f"no function named {ref!r} exists in the lab")


def _check_no_on_success(given: dict | None) -> None:
    if isinstance(given, dict) and ((given.get("OnSuccess") or {}).get("Destination")):
        raise invalid("Unsupported DestinationConfig parameter for given event source "
                      "mapping type.",  # AWS wording
                      hint="Kinesis and DynamoDB mappings take only an OnFailure destination; "
                           "SQS mappings take none (the DLQ is set on the queue)")


def _source_not_found(arn: str | None) -> AwsError:
    service = arns.service_of(arn or "")
    if service == "sqs":
        # AWS wording: Lambda reports the SQS error it got while reading.
        return invalid("Error occurred while ReceiveMessage. SQS Error Code: "
                       "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
                       "The specified queue does not exist.")  # AWS wording (recorded)
    if service in STREAM_KINDS:
        return invalid(f"Stream not found: {arn}")  # AWS wording (recorded)
    return invalid("Unrecognized event source.",  # AWS wording
                   hint="the lab's sources are SQS queues, Kinesis streams and DynamoDB streams")


# ------------------------------------------------------ starting position

def _check_starting_position(request: dict, source: SourceInfo, now_ms: int | None) -> None:
    position = request.get("StartingPosition")
    has_time = "StartingPositionTimestamp" in request
    if source.kind in QUEUE_KINDS:
        if position is not None or has_time:
            raise invalid("StartingPosition is not valid for SQS event sources.")  # AWS wording
        return
    if position is None:
        # AWS wording (the null check of the request model).
        raise invalid("1 validation error detected: Value null at 'startingPosition' "
                      "failed to satisfy constraint: Member must not be null.")
    if position == "AT_TIMESTAMP" and source.kind != "kinesis":
        raise invalid(f"Unsupported starting position for arn type: {source.arn}")  # AWS wording
    if has_time and position != "AT_TIMESTAMP":
        raise invalid("Timestamp only valid with StartingPosition AT_TIMESTAMP")  # AWS wording
    if position == "AT_TIMESTAMP" and not has_time:
        raise invalid("Need to specify a timestamp")  # AWS wording
    if has_time:
        seconds = _timestamp_seconds(request["StartingPositionTimestamp"])
        request["StartingPositionTimestamp"] = seconds
        if now_ms is not None and seconds * 1000 > now_ms:
            # Lab wording.
            raise invalid(f"StartingPositionTimestamp {seconds} is in the future: "
                          "it must not be later than the current time.", own=True)


def _timestamp_seconds(value) -> int | float:
    """Unix seconds from a number or an ISO 8601 string (as the CLI accepts)."""
    if not isinstance(value, str):
        seconds = value
    else:
        try:
            seconds = float(value)
        except ValueError:
            seconds = _iso_seconds(value)
    if seconds < 0:
        # AWS's text (recorded for a negative AT_TIMESTAMP timestamp on Kinesis,
        # the only source that reaches this check).
        raise invalid("Received Exception while reading from provided stream. class "
                      "java.lang.Long can not be converted to a Timestamp",
                      hint=f"StartingPositionTimestamp {value} is before 1970")
    return seconds


def _iso_seconds(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"StartingPositionTimestamp {text} is not a valid timestamp.",
                      own=True) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


# -------------------------------------------------------------- defaults

def _defaults(request: dict, source: SourceInfo, function: FunctionInfo) -> dict:
    queue = source.kind in QUEUE_KINDS
    config = {
        "FunctionName": function.name,
        "FunctionArn": function.arn,
        "EventSourceArn": source.arn,
        "Enabled": request.get("Enabled", True),
        "BatchSize": request.get("BatchSize", 10 if queue else 100),
        "MaximumBatchingWindowInSeconds": request.get("MaximumBatchingWindowInSeconds", 0),
    }
    config.update(_queue_defaults(request) if queue else _stream_defaults(request))
    filters = _filter_criteria(request.get("FilterCriteria"))
    if filters is not None:
        config["FilterCriteria"] = filters
    for key in (*ECHOED, "Tags"):  # kept as given; Tags are read with ListTags
        if key in request:
            config[key] = copy.deepcopy(request[key])
    for key in SIMULATED_CONFIGS:
        if request.get(key):
            config[key] = copy.deepcopy(request[key])
    return config


def _stream_defaults(request: dict) -> dict:
    config = {"StartingPosition": request["StartingPosition"]}
    if "StartingPositionTimestamp" in request:
        config["StartingPositionTimestamp"] = request["StartingPositionTimestamp"]
    config.update({
        "ParallelizationFactor": request.get("ParallelizationFactor", 1),
        "MaximumRetryAttempts": request.get("MaximumRetryAttempts", -1),
        "MaximumRecordAgeInSeconds": request.get("MaximumRecordAgeInSeconds", -1),
        "BisectBatchOnFunctionError": request.get("BisectBatchOnFunctionError", False),
        "DestinationConfig": _destination_config(request.get("DestinationConfig")),
        "TumblingWindowInSeconds": request.get("TumblingWindowInSeconds", 0),
        "FunctionResponseTypes": list(request.get("FunctionResponseTypes", [])),
    })
    return config


def _queue_defaults(request: dict) -> dict:
    return {
        "FunctionResponseTypes": list(request.get("FunctionResponseTypes", [])),
        "ScalingConfig": dict(request.get("ScalingConfig") or {}),
    }


def _destination_config(given: dict | None) -> dict:
    """AWS's response shape; an empty OnSuccess from a paste is dropped."""
    on_failure = dict((given or {}).get("OnFailure") or {})
    if not on_failure.get("Destination"):
        on_failure = {}   # "" clears the destination, as AWS does
    return {"OnFailure": on_failure}


def _filter_criteria(given: dict | None) -> dict | None:
    """Kept as given; {} or no filters means none (how AWS removes filters)."""
    if not given or not given.get("Filters"):
        return None
    return copy.deepcopy(given)


def _merge(current: dict, request: dict, function: FunctionInfo) -> dict:
    config = copy.deepcopy(current)
    config["FunctionName"] = function.name
    config["FunctionArn"] = function.arn
    for key, value in request.items():
        if key in ("FunctionName", "FilterCriteria", "DestinationConfig", "ScalingConfig"):
            continue
        config[key] = copy.deepcopy(value)
    if "DestinationConfig" in request and "DestinationConfig" in current:
        config["DestinationConfig"] = _destination_config(request["DestinationConfig"])
    if "ScalingConfig" in request and "ScalingConfig" in current:
        config["ScalingConfig"] = dict(request["ScalingConfig"])
    if "FilterCriteria" in request:
        config.pop("FilterCriteria", None)
        filters = _filter_criteria(request["FilterCriteria"])
        if filters is not None:
            config["FilterCriteria"] = filters
    for key in SIMULATED_CONFIGS:
        if key in request and not request[key]:
            config.pop(key, None)   # {} turns the feature off
    return config


# ------------------------------------------------- per-source-kind rules

def _check_config(config: dict, request: dict, source: SourceInfo,
                  function: FunctionInfo, destination_kind) -> None:
    """Rules that depend on the source kind; `request` says what was given."""
    if source.kind in QUEUE_KINDS:
        _check_queue(config, request, source, function)
    else:
        _check_stream(config, request, destination_kind)
    if "FilterCriteria" in config and "FilterCriteria" in request:
        _check_filters(config["FilterCriteria"], source.kind)
    if any(t in KAFKA_ONLY_METRICS for t in (config.get("MetricsConfig") or {}).get("Metrics", [])):
        # Lab wording: ErrorCount and KafkaMetrics are for Kafka sources only.
        raise invalid("ErrorCount and KafkaMetrics metrics are only supported for Amazon MSK "
                      "and self-managed Apache Kafka event sources.", own=True)


def _check_queue(config: dict, request: dict, source: SourceInfo,
                 function: FunctionInfo) -> None:
    for name in STREAM_ONLY:
        if name in request:
            raise _unsupported(name)
    _check_no_queue_destination(request.get("DestinationConfig"))
    provisioned.check_for_queue(config)
    batch, window = config["BatchSize"], config["MaximumBatchingWindowInSeconds"]
    if source.kind == "sqs-fifo":
        if batch > 10:
            raise invalid(f"Maximum batch size for FIFO queues is 10, got {batch}.",
                          own=True)  # lab wording
        if window > 0:
            raise invalid("Batching window is not supported for FIFO queues")  # AWS wording
    elif batch > 10 and window < 1:
        raise invalid("Maximum batch window in seconds must be greater than 0 if "
                      "maximum batch size is greater than 10")  # AWS wording
    if "FunctionName" in request:
        # Only a request naming the function compares the timeouts: an
        # Update without FunctionName does not (recorded, reference 8.5).
        _check_visibility(source, function)


def _check_no_queue_destination(given: dict | None) -> None:
    named = [part for part in ("OnSuccess", "OnFailure")
             if ((given or {}).get(part) or {}).get("Destination")]
    if named:
        # AWS wording for OnSuccess (recorded); OnFailure on a queue gets the
        # same text (lab choice: no recording of it was found).
        origin = ("" if "OnSuccess" in named else "AWS's text for an OnSuccess destination; "
                  "its answer to OnFailure on a queue is not recorded. ")
        raise invalid("Unsupported DestinationConfig parameter for given event source "
                      "mapping type.",
                      hint=origin + "An SQS event source mapping has no on-failure destination: "
                           "failed messages go back to the queue and, after maxReceiveCount "
                           "receives, SQS moves them to the dead-letter queue named in the "
                           "source queue's RedrivePolicy. Configure the DLQ on the queue.")


def _check_visibility(source: SourceInfo, function: FunctionInfo) -> None:
    vt = source.visibility_timeout
    if vt is not None and function.timeout > vt:
        raise invalid(f"Queue visibility timeout: {vt} seconds is less than "
                      f"Function timeout: {function.timeout} seconds")  # AWS wording


def _check_stream(config: dict, request: dict, destination_kind) -> None:
    if (request.get("ScalingConfig") or {}).get("MaximumConcurrency") is not None:
        raise _unsupported("ScalingConfig")
    if request.get("ProvisionedPollerConfig"):
        raise _unsupported("ProvisionedPollerConfig")
    age = config["MaximumRecordAgeInSeconds"]
    if 0 <= age < 60:
        raise invalid("MaximumRecordAgeInSeconds must be either -1 (forever) or "
                      "between 60 and 604800 (inclusive)")  # AWS wording
    given = request.get("DestinationConfig")
    if given is not None:
        _check_destinations(given, destination_kind)
    _check_tumbling(config)


def _check_tumbling(config: dict) -> None:
    """Tumbling windows admit neither parallel lanes nor filters (recorded
    on AWS, reference 8.3). {"Filters": []} means no filter: accepted."""
    if not config.get("TumblingWindowInSeconds"):
        return
    if config.get("ParallelizationFactor", 1) > 1:
        raise invalid("Parallelization factor must be equal to 1 when tumbling window "
                      "period is configured")  # AWS wording (recorded)
    if (config.get("FilterCriteria") or {}).get("Filters"):
        # Lab wording: the recordings show the refusal, not AWS's text.
        raise invalid("FilterCriteria cannot be used when tumbling window period is "
                      "configured", own=True)


def _check_destinations(given: dict, destination_kind) -> None:
    _check_no_on_success(given)
    target = (given.get("OnFailure") or {}).get("Destination")
    if target:
        _check_destination(target, destination_kind)


def _check_destination(arn: str, kind_of) -> None:
    kind = kind_of(arn)
    # Lab wording for both: AWS's exact text for these was not found.
    if kind in _FIFO_DESTINATIONS:
        raise invalid(f"Invalid destination {arn}: FIFO queues and FIFO topics cannot "
                      "be on-failure destinations. Use a standard SQS queue, a "
                      "standard SNS topic or an S3 bucket.", own=True)
    if kind not in _GOOD_DESTINATIONS:
        raise invalid(f"Invalid destination {arn}: no SQS queue, SNS topic or S3 "
                      "bucket with this ARN exists.", own=True,
                      hint=_arn_for_a_name(arn, kind_of))


def _arn_for_a_name(name: str, kind_of) -> str | None:
    """A destination given by its bare name (`ledger-failures`) is the
    commonest slip: name the ARN of the lab's resource of that name."""
    if name.startswith("arn:"):
        return None
    for arn in (arns.queue_arn(name), arns.topic_arn(name), arns.bucket_arn(name)):
        if kind_of(arn) in _GOOD_DESTINATIONS:
            return f"a destination is an ARN: did you mean {arn}?"
    return None


def _check_filters(criteria: dict, kind: str) -> None:
    # Imported here: the filters module is optional for everything else.
    from esmlab.engine.mappings.filters import parse_filter_criteria
    parse_filter_criteria(criteria, kind)


def _unsupported(name: str) -> AwsError:
    # AWS wording: "Unsupported 'maximumBatchingWindowInSeconds' parameter ..."
    return invalid(f"Unsupported '{_camel(name)}' parameter for given event "
                   "source mapping type.")


# ------------------------------------------------------------- duplicates

def _check_duplicate(source: SourceInfo, function: FunctionInfo, existing: list[dict]) -> None:
    for other in existing:
        if other.get("FunctionArn") == function.arn and other.get("EventSourceArn") == source.arn:
            raise _conflict(source, function, other.get("UUID", ""))


def _conflict(source: SourceInfo, function: FunctionInfo, uuid: str) -> AwsError:
    # AWS wording; AWS phrases it differently for SQS and for streams.
    if source.kind in QUEUE_KINDS:
        text = (f'An event source mapping with SQS arn (" {source.arn} ") and function '
                f'(" {function.name} ") already exists.')
    else:
        text = (f'The event source arn (" {source.arn} ") and function '
                f'(" {function.name} ") provided mapping already exists.')
    return AwsError("ResourceConflictException", f"{text} Please update or delete the "
                    f"existing mapping with UUID {uuid}", status=409)
