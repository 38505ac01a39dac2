"""The scenario file format, written as data.

Everything a scenario file may contain is declared here: the top-level keys,
the resources, every step kind and every `expect` check, with their keys,
types, allowed values and defaults. `loader.py` interprets these tables and
holds no knowledge of its own about particular keys, so adding a step kind
or an expect check is one new entry in `STEPS` or `CHECKS`.

Conventions: AWS's own key names keep AWS's spelling (`BatchSize`,
`QueueName`); keys that exist only in the lab are lowercase (`duration`,
`behaviour`, `id`). Defaults are written in their final form (durations
already in milliseconds), except that a `{}` default for a `Map` means "the
map's own defaults".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from esmlab.scenario.durations import parse_duration as ms

NO_DEFAULT: Any = object()  # sentinel: the key has no default


class Spec:
    """What one YAML value must look like."""


@dataclass(frozen=True)
class Str(Spec):
    pattern: str | None = None  # full-match regex, if the text has a shape
    what: str = "a string"  # used in "expected ..." messages


@dataclass(frozen=True)
class Int(Spec):
    min: int | None = None
    max: int | None = None
    lenient: bool = False  # also accept "30": AWS attribute values are strings


@dataclass(frozen=True)
class Float(Spec):
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Bool(Spec):
    lenient: bool = False  # also accept "true"/"false" text


@dataclass(frozen=True)
class Enum(Spec):
    values: tuple[str, ...]


@dataclass(frozen=True)
class Duration(Spec):
    """"90s", "500ms", "1.5s", "5m", "2h", "1d" or a number of seconds -> int ms."""


@dataclass(frozen=True)
class Timestamp(Spec):
    """An ISO-8601 UTC timestamp, kept as the text written."""


@dataclass(frozen=True)
class Text(Spec):
    """Text or a whole number, returned as text (hash keys are big numbers)."""


@dataclass(frozen=True)
class Json(Spec):
    """A JSON document as text, or written as YAML; returned as JSON text."""


@dataclass(frozen=True)
class Anything(Spec):
    """Passed through as plain data; `kind` is "map", "list", "scalar" or "any"."""

    kind: str = "any"


@dataclass(frozen=True)
class Ref(Spec):
    """The name of a resource declared earlier (kinds: "queue", "mapping", ...).

    `resolve` turns the written text into the name to look up (a function ARN
    into the function's name)."""

    kinds: tuple[str, ...]
    resolve: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Nullable(Spec):
    """`inner`, or null (which means something, e.g. "remove the limit")."""

    inner: Spec


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec
    non_empty: bool = False


@dataclass(frozen=True)
class MapOf(Spec):
    """A map whose keys are free (attribute names), values all of one spec."""

    value: Spec


@dataclass(frozen=True)
class Key:
    spec: Spec
    required: bool = False
    default: Any = NO_DEFAULT
    default_from: Callable[[dict], Any] | None = None  # derived from the other keys


@dataclass(frozen=True)
class Group:
    """A rule over several keys of one map."""

    keys: tuple[str, ...]
    exclusive: bool = True  # at most one of them
    required: bool = False  # at least one of them
    default: tuple[str, Any] | None = None  # (key, value) used when none is given


@dataclass(frozen=True)
class Variant:
    """Which optional keys apply for one value of a map's tag key."""

    options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Map(Spec):
    keys: dict[str, Key]
    what: str = "a map"
    groups: tuple[Group, ...] = ()
    tag: str | None = None  # the key whose value picks a Variant
    variants: dict[str, Variant] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # known keys refused, with why
    json_ok: bool = False  # a JSON string holding the map is accepted too
    kind: str | None = None  # declares a named resource of this kind ...
    name_key: str | None = None  # ... named by this key


@dataclass(frozen=True)
class Setting(Spec):
    """A setting a challenge lets the learner change: `KIND.NAME.KEY[.KEY...]`
    naming a declared resource and one of its keys, or a top-level key
    (`profile`). Checked against RESOURCE_SETTINGS below."""


@dataclass(frozen=True)
class Checks(Spec):
    """The `expect` step: a map of checks, returned as a list in file order."""

    table: dict[str, Map]


@dataclass(frozen=True)
class Steps(Spec):
    """The step list: each item a map with exactly one key of `table` (+ `note`)."""

    table: dict[str, Key]


def without_defaults(spec: Map) -> Map:
    """The same map for an update: keys not given stay as they were."""
    keys = {name: replace(key, default=NO_DEFAULT, default_from=None, required=False)
            for name, key in spec.keys.items()}
    return replace(spec, keys=keys)


def function_name_of(text: str) -> str:
    """'worker', 'worker:live' or a function ARN -> 'worker'."""
    if text.startswith("arn:"):
        parts = text.split(":")
        return parts[6] if len(parts) > 6 else text
    return text.split(":")[0]


# --- shared pieces ----------------------------------------------------------

STR = Str()
INT = Int()
BOOL = Bool()
COUNT = Int(min=1)
NATURAL = Int(min=0)
# What one step may repeat (`count` of put_record/send_message, `step: N`): a
# documented bound, so ten million does not run for hours (docs/scenarios.md).
MAX_REPEAT = 100_000
REPEAT = Int(min=1, max=MAX_REPEAT)
OUTCOME = Enum(("success", "error", "timeout", "throttled", "partial"))

FUNCTION = Ref(("function",), resolve=function_name_of)
QUEUE = Ref(("queue",))
STREAM = Ref(("stream",))
TABLE = Ref(("table",))
MAPPING = Ref(("mapping",))
STEP_NAME = Ref(("step",))  # a step named with `as:` earlier in the file


def req(spec: Spec) -> Key:
    return Key(spec, required=True)


def opt(spec: Spec, default: Any = NO_DEFAULT) -> Key:
    return Key(spec, default=default)


# --- behaviour: how a lab function answers ---------------------------------

# A bound on a delivery number: the message's ApproximateReceiveCount or the
# invocation's attempt (both count from 1).
DELIVERY_BOUND = Map(
    {"at_least": opt(COUNT), "at_most": opt(COUNT)},
    what="a bound {at_least, at_most}",
    groups=(Group(("at_least", "at_most"), exclusive=False, required=True),),
)

MATCH = Map(
    {"text": opt(STR), "partition_key": opt(STR), "group_id": opt(STR),
     "receive_count": opt(DELIVERY_BOUND), "attempt": opt(DELIVERY_BOUND)},
    what="a record match",
    groups=(Group(("text", "partition_key", "group_id", "receive_count", "attempt"),
                  exclusive=False, required=True),),
)

BEHAVIOUR_KEYS = {
    "mode": req(Enum(("succeed", "fail", "fail_first", "poison", "flaky", "timeout",
                      "partial", "handler", "resend", "respond"))),
    "count": opt(COUNT),
    "match": opt(MATCH),
    "probability": opt(Float(0, 1)),
    "handler": opt(Str(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", what="'module:function'")),
    "error": opt(STR),
    "response": opt(Anything()),
}

# Which options each mode takes; an option given to a mode that ignores it is
# an error, so a teacher never believes a setting is active when it is not.
BEHAVIOUR_VARIANTS = {
    "succeed": Variant(),
    "fail": Variant(("error",)),
    "fail_first": Variant(("count", "error"), defaults={"count": 1}),
    "poison": Variant(("match", "error"), required=("match",)),
    "flaky": Variant(("probability", "error"), required=("probability",)),
    "timeout": Variant(("match",)),
    "partial": Variant(("match",), required=("match",)),
    "handler": Variant(("handler",), required=("handler",)),
    "resend": Variant(),
    "respond": Variant(("response", "match"), required=("response",)),
}

BEHAVIOUR = Map(BEHAVIOUR_KEYS, what="a behaviour", tag="mode", variants=BEHAVIOUR_VARIANTS)

DURATION_MODEL = Map(
    {"fixed": opt(Duration(), ms("100ms")), "per_record": opt(Duration(), 0)},
    what="a duration model",
)

# --- resources ---------------------------------------------------------------

FUNCTION_RESOURCE = Map(
    {
        "FunctionName": req(STR),
        "Timeout": opt(Int(1, 900), 3),
        "ReservedConcurrentExecutions": opt(NATURAL),
        "MemorySize": opt(INT),
        "duration": opt(DURATION_MODEL, {}),
        "behaviour": opt(BEHAVIOUR, {"mode": "succeed"}),
        "Environment": opt(Map({"Variables": opt(MapOf(STR))}, what="an Environment")),
    },
    what="a function", kind="function", name_key="FunctionName",
)

REDRIVE_POLICY = Map(
    {"deadLetterTargetArn": req(STR), "maxReceiveCount": req(Int(min=1, lenient=True))},
    what="a redrive policy", json_ok=True,
)

QUEUE_ATTRIBUTES = Map(
    {
        "VisibilityTimeout": opt(Int(lenient=True)),
        "MessageRetentionPeriod": opt(Int(lenient=True)),
        "DelaySeconds": opt(Int(lenient=True)),
        "MaximumMessageSize": opt(Int(lenient=True)),
        "ReceiveMessageWaitTimeSeconds": opt(Int(lenient=True)),
        "RedrivePolicy": opt(REDRIVE_POLICY),
        "FifoQueue": opt(Bool(lenient=True)),
        "ContentBasedDeduplication": opt(Bool(lenient=True)),
        "DeduplicationScope": opt(Enum(("messageGroup", "queue"))),
        "FifoThroughputLimit": opt(Enum(("perQueue", "perMessageGroupId"))),
        "SqsManagedSseEnabled": opt(Bool(lenient=True)),
        "KmsMasterKeyId": opt(STR),
        "KmsDataKeyReusePeriodSeconds": opt(Int(lenient=True)),
        "Policy": opt(Anything("any")),
        "RedriveAllowPolicy": opt(Anything("any")),
    },
    what="queue attributes",
)

QUEUE_RESOURCE = Map(
    {
        "QueueName": req(STR),
        "Attributes": opt(QUEUE_ATTRIBUTES, {}),
        "duplicate_rate": opt(Float(0, 1), 0.0),
    },
    what="a queue", kind="queue", name_key="QueueName",
)

STREAM_RESOURCE = Map(
    {
        "StreamName": req(STR),
        "ShardCount": opt(Int(min=1), 1),
        "RetentionPeriodHours": opt(Int(24, 8760), 24),
        "MaxRecordSizeInKiB": opt(Int(1024, 10240)),
        # lab key: enhanced fan-out consumers registered on the stream
        # (RegisterStreamConsumer) as it is created, by name.
        "Consumers": opt(ListOf(STR)),
    },
    what="a stream", kind="stream", name_key="StreamName",
)

TABLE_RESOURCE = Map(
    {
        "TableName": req(STR),
        "KeySchema": req(ListOf(Map(
            {"AttributeName": req(STR), "KeyType": req(Enum(("HASH", "RANGE")))},
            what="a key schema element"), non_empty=True)),
        "AttributeDefinitions": opt(ListOf(Map(
            {"AttributeName": req(STR), "AttributeType": req(Enum(("S", "N", "B")))},
            what="an attribute definition"))),
        "StreamSpecification": opt(Map(
            {"StreamEnabled": req(BOOL),
             "StreamViewType": opt(Enum(("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
                                         "NEW_AND_OLD_IMAGES")))},
            what="a stream specification")),
    },
    what="a table", kind="table", name_key="TableName",
)

TOPIC_RESOURCE = Map({"Name": req(STR)}, what="a topic", kind="topic", name_key="Name")
BUCKET_RESOURCE = Map({"Bucket": req(STR)}, what="a bucket", kind="bucket", name_key="Bucket")


def _default_mapping_id(values: dict) -> str:
    return function_name_of(values.get("FunctionName") or values["FunctionArn"])


# The mapping keys come from the Lambda request model (engine/request_model.py,
# botocore's service model pinned in the repo), the same one the engine
# validates against: names, types and nesting. Ranges and enums are left to
# the engine, which answers them with AWS's own ValidationException text (a
# lesson can show a refused value with `fails_with`); StartingPosition is the
# exception, a typo there is a mistake in the file. Keys the lab adds or reads
# its own way are overridden by dotted path.
MODEL_OVERRIDES: dict[str, Spec] = {
    "FunctionName": FUNCTION,
    "StartingPosition": Enum(("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")),
    "StartingPositionTimestamp": Anything("scalar"),  # epoch seconds or ISO text
    "FilterCriteria.Filters.Pattern": Json(),          # JSON text or written as YAML
}


def _model_spec(shape: dict, path: str) -> Spec:
    from esmlab.engine.request_model import raw_model

    if path in MODEL_OVERRIDES:
        return MODEL_OVERRIDES[path]
    shapes = raw_model()["shapes"]
    kind = shape.get("type")
    if kind == "structure":
        keys = {name: opt(_model_spec(shapes[ref["shape"]], f"{path}.{name}" if path else name))
                for name, ref in shape.get("members", {}).items()}
        return Map(keys, what=f"a {path.rsplit('.', 1)[-1]} map" if path else "a map")
    if kind == "list":
        return ListOf(_model_spec(shapes[shape["member"]["shape"]], path))
    if kind == "map":
        return MapOf(_model_spec(shapes[shape["value"]["shape"]], path))
    if kind in ("integer", "long"):
        return INT
    if kind == "boolean":
        return BOOL
    if kind == "string":
        return STR
    return Anything("any")


def model_keys(operation: str, skip: tuple[str, ...] = ()) -> dict[str, Key]:
    """The request members of `operation` as optional schema keys, in the model's order."""
    from esmlab.engine.request_model import raw_model

    model = raw_model()
    request = model["shapes"][model["operations"][operation]["input"]["shape"]]
    return {name: opt(_model_spec(model["shapes"][ref["shape"]], name))
            for name, ref in request["members"].items() if name not in skip}


# UpdateEventSourceMapping's keys (UUID travels in the URL: the file uses `id`).
UPDATABLE_MAPPING_KEYS = model_keys("UpdateEventSourceMapping", skip=("UUID",))
CREATE_ONLY_MAPPING_KEYS = {
    **{k: v for k, v in model_keys("CreateEventSourceMapping").items()
       if k not in UPDATABLE_MAPPING_KEYS},
    # A pasted get-event-source-mapping output names the function by FunctionArn.
    "FunctionArn": opt(FUNCTION),
}

# Read-only fields of a pasted get-event-source-mapping output: accepted and
# passed through so a real mapping can be pasted unchanged.
READ_ONLY_MAPPING_KEYS = {
    "UUID": opt(STR),
    "State": opt(STR),
    "StateTransitionReason": opt(STR),
    "LastModified": opt(Anything("scalar")),
    "LastProcessingResult": opt(STR),
    "EventSourceMappingArn": opt(STR),
    "FilterCriteriaError": opt(Anything("map")),
}

MAPPING_RESOURCE = Map(
    {
        **CREATE_ONLY_MAPPING_KEYS,
        **UPDATABLE_MAPPING_KEYS,
        **READ_ONLY_MAPPING_KEYS,
        "id": Key(STR, default_from=_default_mapping_id),
    },
    what="a mapping", kind="mapping", name_key="id",
    groups=(Group(("FunctionName", "FunctionArn"), exclusive=False, required=True),),
)

UPDATE_MAPPING = Map(
    {"id": req(MAPPING), **UPDATABLE_MAPPING_KEYS},
    what="a map",
    refused={name: "is set when a mapping is created and cannot be updated"
             for name in CREATE_ONLY_MAPPING_KEYS if name != "FunctionArn"},
)

# What a challenge's `settings` may name: resource kind -> (the kind its
# names are declared as, the resource's spec). A queue's attributes may be
# named directly (queues.orders.VisibilityTimeout), as `esmlab compare` does.
RESOURCE_SETTINGS: dict[str, tuple[str, Map]] = {
    "functions": ("function", FUNCTION_RESOURCE),
    "queues": ("queue", replace(QUEUE_RESOURCE, keys={**QUEUE_RESOURCE.keys,
                                                      **QUEUE_ATTRIBUTES.keys})),
    "streams": ("stream", STREAM_RESOURCE),
    "mappings": ("mapping", MAPPING_RESOURCE),
}
TOP_LEVEL_SETTINGS = ("profile",)

RESOURCES = Map(
    {
        "functions": opt(ListOf(FUNCTION_RESOURCE), []),
        "queues": opt(ListOf(QUEUE_RESOURCE), []),
        "streams": opt(ListOf(STREAM_RESOURCE), []),
        "tables": opt(ListOf(TABLE_RESOURCE), []),
        "topics": opt(ListOf(TOPIC_RESOURCE), []),
        "buckets": opt(ListOf(BUCKET_RESOURCE), []),
        # Last: a mapping refers to the function and source declared above.
        "mappings": opt(ListOf(MAPPING_RESOURCE), []),
    },
    what="resources",
)

# --- expect checks -----------------------------------------------------------


def check(keys: dict[str, Key], *groups: Group) -> Map:
    """An expect check; every check may carry a `note` shown when it fails."""
    return Map({**keys, "note": opt(STR)}, what="a map", groups=groups)


def bound(*keys: str, default: tuple[str, Any] | None = ("at_least", 1)) -> Group:
    """count | at_least | at_most: one of them; "at least 1" when none is given."""
    return Group(keys, exclusive=True, required=default is None, default=default)


COUNTS = {"count": opt(NATURAL), "at_least": opt(NATURAL), "at_most": opt(NATURAL)}

# One value somewhere the checks can read, for `compare`: inside the nth
# matching invocation's event (`of: invocation`) or Lambda context (`of:
# context`: aws_request_id, function_name), the nth record that reached
# a destination (`of: destination`, with `name`), or the response of a named
# step (`of: response`, with `step`); `path` is dotted, list indexes numbers.
FIELD_REF = Map({
    "of": req(Enum(("invocation", "context", "destination", "response"))), "nth": opt(COUNT, 1),
    "function": opt(FUNCTION), "mapping": opt(MAPPING),
    "name": opt(Ref(("queue", "topic", "bucket"))), "step": opt(STEP_NAME), "path": req(STR),
}, what="a field reference")

# One invocation, for `gap`: the nth (default 1) of the attempts matching
# `function`, `mapping` and `record` (a record identity, as in
# `invocation.records`: the invocations whose payload held it). Throttled
# attempts count, as in `invocation.nth`. A `to` that names none of
# function, mapping and record takes `from`'s, and then its nth defaults
# to the one after `from`'s.
INVOCATION_REF = Map({
    "nth": opt(COUNT), "function": opt(FUNCTION), "mapping": opt(MAPPING), "record": opt(STR),
}, what="an invocation reference")

CHECKS: dict[str, Map] = {
    "invocations": check({
        "function": opt(FUNCTION), "mapping": opt(MAPPING), "outcome": opt(OUTCOME), **COUNTS,
    }, bound("count", "at_least", "at_most")),
    "invocation": check({
        "nth": req(COUNT), "function": opt(FUNCTION), "mapping": opt(MAPPING),
        "outcome": opt(OUTCOME), "size": opt(NATURAL), "records": opt(ListOf(STR)),
        "receive_counts": opt(ListOf(NATURAL)), "groups": opt(ListOf(STR)),
        # When it started and ended, as a time since the scenario began (the
        # T+ of reports): `start: 7s` is T+7s.
        "start": opt(Duration()), "end": opt(Duration()),
    }),
    "in_order": check({
        "function": opt(FUNCTION), "mapping": opt(MAPPING),
        "by": req(Enum(("partition_key", "group_id", "item_key"))),
    }),
    "blocked": check({"mapping": req(MAPPING), "shard": opt(Text()),
                                 "value": req(BOOL)}),
    "queue": check({
        "QueueName": req(QUEUE), "visible": opt(NATURAL), "in_flight": opt(NATURAL),
        "delayed": opt(NATURAL), "total": opt(NATURAL),
    }),
    "message": check({
        "QueueName": req(QUEUE), "body": req(STR), "receive_count": opt(NATURAL),
        "present": opt(BOOL, True),
    }),
    "destination": check({
        "name": req(Ref(("queue", "topic", "bucket"))), "count": opt(NATURAL),
        "at_least": opt(NATURAL), "condition": opt(STR),
    }, bound("count", "at_least")),
    "concurrency": check({
        "mapping": req(MAPPING), "value": opt(NATURAL), "at_least": opt(NATURAL),
        "at_most": opt(NATURAL), "of": opt(Enum(("actual", "target", "peak")), "actual"),
    }, bound("value", "at_least", "at_most", default=None)),
    "journal": check({"kind": req(STR), "contains": opt(STR), **COUNTS},
                     bound("count", "at_least", "at_most")),
    "processed": check({
        "function": opt(FUNCTION), "mapping": opt(MAPPING), "count": opt(NATURAL),
        "at_least": opt(NATURAL), "distinct": opt(BOOL, False),
    }, bound("count", "at_least")),
    # A value inside what the function received (`of: invocation`, the nth
    # matching invocation's event; `of: context`, its Lambda context, such as
    # aws_request_id) or inside what reached a destination
    # (`of: destination`, the nth record in `name`), by a dotted path such as
    # Records.0.dynamodb.NewImage or requestContext.condition.
    "field": check({
        "of": req(Enum(("invocation", "context", "destination"))), "nth": req(COUNT),
        "function": opt(FUNCTION), "mapping": opt(MAPPING),
        "name": opt(Ref(("queue", "topic", "bucket"))), "path": req(STR),
        "equals": opt(Anything("any")), "exists": opt(BOOL),
    }),
    "mapping_state": check({
        "mapping": req(MAPPING), "State": opt(STR), "LastProcessingResult": opt(STR),
    }),
    # The sum of a metric's datapoints under a mapping (EventCount counters,
    # ConcurrencyTarget, ...) or a function (Invocations, Throttles, ...), or
    # with `published: false|true` whether it has any datapoint at all (AWS
    # publishes the EventCount metrics only with MetricsConfig).
    "metric": check({
        "mapping": opt(MAPPING), "function": opt(FUNCTION), "name": req(STR),
        "published": opt(BOOL), **COUNTS,
    }, Group(("mapping", "function"), exclusive=True, required=True)),
    # What an API call answered: the response of the step named `of` (a step
    # with `as: NAME`). `fields` maps dotted paths to the exact values wanted;
    # `present` / `absent` list paths that must (not) be there.
    "response": check({
        "of": req(STEP_NAME), "fields": opt(MapOf(Anything("any"))),
        "present": opt(ListOf(STR)), "absent": opt(ListOf(STR)),
    }, Group(("fields", "present", "absent"), exclusive=False, required=True)),
    # The AWS error the step named `of` raised (it has `fails_with`): its exact
    # code (exception name), message (AWS's text, whole) and HTTP status.
    "error": check({
        "of": req(STEP_NAME), "code": opt(STR), "message": opt(STR), "status": opt(Int(100, 599)),
    }, Group(("code", "message", "status"), exclusive=False, required=True)),
    # In how many payloads (invocations that reached the function) a record
    # appeared; `record` is its identity as in `invocation.records`.
    "appearances": check({
        "record": req(STR), "function": opt(FUNCTION), "mapping": opt(MAPPING), **COUNTS,
    }, bound("count", "at_least", "at_most", default=None)),
    # Two values compared: each side a FIELD_REF (see below).
    "compare": check({
        "left": req(FIELD_REF), "right": req(FIELD_REF),
        "relation": opt(Enum(("equal", "different")), "equal"),
    }),
    # The time between two invocations: from the start (or, `since: end`,
    # the end) of `from` to the start of `to`, each an INVOCATION_REF.
    "gap": check({
        "from": req(INVOCATION_REF), "to": req(INVOCATION_REF),
        "since": opt(Enum(("start", "end")), "start"),
        "value": opt(Duration()), "at_least": opt(Duration()), "at_most": opt(Duration()),
    }, bound("value", "at_least", "at_most", default=None)),
}

# --- steps -------------------------------------------------------------------

MESSAGE_ATTRIBUTES = MapOf(Map(
    {"DataType": req(STR), "StringValue": opt(STR), "BinaryValue": opt(STR)},
    what="a message attribute"))

MESSAGE_OPTIONS = {
    "DelaySeconds": opt(NATURAL),
    "MessageAttributes": opt(MESSAGE_ATTRIBUTES),
    "MessageGroupId": opt(STR),
    "MessageDeduplicationId": opt(STR),
}

CONSUMER_REF = Map({"ConsumerARN": opt(STR), "StreamARN": opt(STR), "ConsumerName": opt(STR)},
                   what="a consumer (ConsumerARN, or StreamARN and ConsumerName)")

# Each step kind -> the spec of its value. A Key default is used when the
# value is left empty (`step:` alone means one step).
STEPS: dict[str, Key] = {
    "say": req(STR),
    "advance": req(Duration()),
    "step": opt(REPEAT, 1),
    "run_until_idle": opt(Duration(), ms("1h")),
    "put_record": req(Map({
        "StreamName": req(STREAM), "PartitionKey": req(STR), "Data": req(STR),
        "ExplicitHashKey": opt(Text()), "count": opt(REPEAT),
        # lab key: Data padded with "." to this many KiB (large records)
        "pad_to_kib": opt(COUNT),
    }, what="a map")),
    "put_records": req(Map({
        "StreamName": req(STREAM),
        "Records": req(ListOf(Map({
            "PartitionKey": req(STR), "Data": req(STR), "ExplicitHashKey": opt(Text()),
        }, what="a record"), non_empty=True)),
    }, what="a map")),
    # One Kinesis record holding many user records (KPL aggregation).
    "put_aggregated_record": req(Map({
        "StreamName": req(STREAM), "PartitionKey": opt(STR), "ExplicitHashKey": opt(Text()),
        "Records": req(ListOf(Map({
            "Data": req(STR), "PartitionKey": opt(STR), "ExplicitHashKey": opt(Text()),
        }, what="a user record"), non_empty=True)),
    }, what="a map")),
    "send_message": req(Map({
        "QueueName": req(QUEUE), "MessageBody": req(STR), **MESSAGE_OPTIONS,
        "count": opt(REPEAT),
        # lab key: MessageBody padded with "." to this many KiB (large messages)
        "pad_to_kib": opt(COUNT),
    }, what="a map")),
    "send_message_batch": req(Map({
        "QueueName": req(QUEUE),
        "Entries": req(ListOf(Map({"Id": req(STR), "MessageBody": req(STR), **MESSAGE_OPTIONS},
                                  what="a batch entry"), non_empty=True)),
    }, what="a map")),
    "put_item": req(Map({"TableName": req(TABLE), "Item": req(Anything("map"))},
                        what="a map")),
    "update_item": req(Map({
        "TableName": req(TABLE), "Key": req(Anything("map")), "UpdateExpression": req(STR),
        "ExpressionAttributeNames": opt(MapOf(STR)),
        "ExpressionAttributeValues": opt(Anything("map")),
    }, what="a map")),
    "delete_item": req(Map({"TableName": req(TABLE), "Key": req(Anything("map"))},
                           what="a map")),
    "behaviour": req(replace(BEHAVIOUR, keys={"function": req(FUNCTION), **BEHAVIOUR_KEYS},
                             what="a map")),
    "update_function": req(Map({
        "FunctionName": req(FUNCTION), "Timeout": opt(Int(1, 900)),
        "ReservedConcurrentExecutions": opt(Nullable(NATURAL)),
        "duration": opt(without_defaults(DURATION_MODEL)),
        "Environment": opt(Map({"Variables": opt(MapOf(STR))}, what="an Environment")),
    }, what="a map")),
    "create_mapping": req(MAPPING_RESOURCE),
    "update_mapping": req(UPDATE_MAPPING),
    "enable_mapping": req(MAPPING),
    "disable_mapping": req(MAPPING),
    "delete_mapping": req(MAPPING),
    # Read-only calls, for their answer (name it with `as:` and check it with
    # `expect: response`). A mapping is named by its id in the file or a UUID.
    "get_mapping": req(STR),
    "list_mappings": opt(Map({"EventSourceArn": opt(STR), "FunctionName": opt(STR)},
                             what="a map"), {}),
    "list_tags": req(STR),  # a mapping id, UUID or event-source-mapping ARN: ListTags
    "set_queue_attributes": req(Map({"QueueName": req(QUEUE), "Attributes": req(QUEUE_ATTRIBUTES)},
                                    what="a map")),
    "split_shard": req(Map({
        "StreamName": req(STREAM), "ShardToSplit": req(STR), "NewStartingHashKey": req(Text()),
    }, what="a map")),
    "merge_shards": req(Map({
        "StreamName": req(STREAM), "ShardToMerge": req(STR), "AdjacentShardToMerge": req(STR),
    }, what="a map")),
    "expect": req(Checks(CHECKS)),
    # Steps that mirror the rest of the lab's commands, so any lab (built in
    # the TUI, say) can be exported as a scenario that replays it exactly.
    # Resources created by a step can be used by the steps after it.
    "create_function": req(FUNCTION_RESOURCE),
    "create_queue": req(QUEUE_RESOURCE),
    "create_stream": req(STREAM_RESOURCE),
    "create_table": req(TABLE_RESOURCE),
    "create_topic": req(TOPIC_RESOURCE),
    "create_bucket": req(BUCKET_RESOURCE),
    "set_duplicate_rate": req(Map({"QueueName": req(QUEUE), "rate": req(Float(0, 1))},
                                  what="a map")),
    "set_retention": req(Map({"StreamName": req(STREAM),
                              "RetentionPeriodHours": req(Int(24, 8760))}, what="a map")),
    "receive_message": req(Map({
        "QueueName": req(QUEUE), "MaxNumberOfMessages": opt(Int(1, 10)),
        "VisibilityTimeout": opt(NATURAL),
    }, what="a map")),
    "delete_message": req(Map({"QueueName": req(QUEUE), "ReceiptHandle": req(STR)},
                              what="a map")),
    # DLQ redrive (SQS message move tasks). cancel_message_move_task takes
    # AWS's TaskHandle, or (a lab convenience) the SourceArn of the queue
    # whose running task to cancel.
    "put_function_recursion_config": req(Map({
        "FunctionName": req(FUNCTION), "RecursiveLoop": req(Enum(("Allow", "Terminate"))),
    }, what="a map")),
    "start_message_move_task": req(Map({
        "SourceArn": req(STR), "DestinationArn": opt(STR),
        "MaxNumberOfMessagesPerSecond": opt(Int(1, 500)),
    }, what="a map")),
    "cancel_message_move_task": req(Map({"TaskHandle": opt(STR), "SourceArn": opt(STR)},
                                        what="a map")),
    # A read (ListMessageMoveTasks): its answer is checked with `as:` and
    # the `response` check.
    "list_message_move_tasks": req(Map({"SourceArn": req(STR), "MaxResults": opt(Int(1, 10))},
                                       what="a map")),
    # Kinesis enhanced fan-out consumers. A ConsumerARN may leave out the
    # creation time AWS ends it with (arn:...:stream/S/consumer/C): the
    # player names the consumer C registered on S (lab convenience).
    "register_stream_consumer": req(Map({"StreamARN": req(STR), "ConsumerName": req(STR)},
                                        what="a map")),
    "deregister_stream_consumer": req(CONSUMER_REF),
    "describe_stream_consumer": req(CONSUMER_REF),   # a read: check it with `as:`
    "list_stream_consumers": req(Map({"StreamARN": req(STR)}, what="a map")),
    "change_message_visibility": req(Map({
        "QueueName": req(QUEUE), "ReceiptHandle": req(STR), "VisibilityTimeout": req(NATURAL),
    }, what="a map")),
    # The control plane: deleting a function or a source leaves its mappings
    # (Enabled, as on AWS); roles, versions and aliases.
    "delete_function": req(FUNCTION),
    "delete_queue": req(QUEUE),
    "delete_stream": req(STREAM),
    "delete_table": req(TABLE),
    "update_role": req(Map({"FunctionName": req(FUNCTION), "grant": opt(ListOf(STR)),
                            "revoke": opt(ListOf(STR))}, what="a map",
                           groups=(Group(("grant", "revoke"), exclusive=False,
                                         required=True),))),
    "publish_version": req(Map({"FunctionName": req(FUNCTION), "Description": opt(STR)},
                               what="a map")),
    "create_alias": req(Map({"FunctionName": req(FUNCTION), "Name": req(STR),
                             "FunctionVersion": req(Text()), "Description": opt(STR)},
                            what="a map")),
    "update_alias": req(Map({"FunctionName": req(FUNCTION), "Name": req(STR),
                             "FunctionVersion": opt(Text()), "Description": opt(STR)},
                            what="a map")),
    "set_profile": req(Enum(("current", "classic"))),
    "set_account_concurrency": req(Int(min=100)),
}

# A question the learner answers before the step plays (scenario/predictions.py).
PREDICTION = Map({
    "question": req(STR),
    "choices": opt(ListOf(Anything("scalar"), non_empty=True)),
    "answer": req(Anything()),       # a number, a text, or a list of them
    "explain": req(STR),
}, what="a prediction (question, answer, explain; choices optional)")

# Keys a step may carry besides its one action.
STEP_OPTIONS: dict[str, Spec] = {
    "note": STR,  # text shown with the step
    "predict": PREDICTION,
    # The AWS error this step is meant to raise (e.g. InvalidParameterValueException,
    # or text found in "Code: message"): the step then passes when it fails so.
    "fails_with": STR,
    # A name for what the step answered (its response, or the error a
    # `fails_with` step raised), read by the `response` and `error` checks.
    "as": Str(r"[A-Za-z_][\w-]*", what="a name like 'created'"),
}

# `always:` invariants (scenario/invariants.py, whose NAMES these are).
ALWAYS = ("all", "no_invented_records", "order_per_key", "checkpoints_forward",
          "receive_counts_grow", "concurrency_within_limits")

# --- the file ----------------------------------------------------------------

# A conformance case (scenarios/conformance/) says which recorded AWS rule it
# shows and where the evidence is: `source` is the reference's tag (REC-LS:
# LocalStack's AWS-validated snapshots; REC-N: the stackd emulator's native
# AWS captures; D: AWS documentation; API: the service model), `where` a
# "<project>:<path>" or an AWS documentation URL, `follows` which one the lab
# follows where a recording and the docs disagree.
EVIDENCE = Map(
    {
        "rule": req(STR),
        "source": req(Enum(("REC-LS", "REC-N", "D", "API"))),
        "where": req(STR),
        "follows": opt(Enum(("recording", "docs"))),
        "note": opt(STR),
    },
    what="an evidence block",
)

# A challenge (scenario/challenge.py): the file starts broken; the learner
# may change only `settings` (paths as `esmlab compare --set` writes them,
# KIND.NAME.PARAMETER, checked against the resource's own keys, so a
# mapping's are the request model's); `goal` is checked after the last step.
CHALLENGE = Map(
    {
        "goal": req(ListOf(Map({"name": req(STR), "expect": req(Checks(CHECKS))},
                               what="a goal check (name, expect)"), non_empty=True)),
        "settings": req(ListOf(Setting(), non_empty=True)),
        "hints": req(ListOf(STR, non_empty=True)),
        "explanation": req(STR),
    },
    what="a challenge (goal, settings, hints, explanation)",
)

SCENARIO = Map(
    {
        "name": req(Str(r"[a-z0-9]+(-[a-z0-9]+)*", what="a lowercase-hyphen id like 'sqs-dlq'")),
        "title": req(STR),
        "see": req(STR),
        "evidence": opt(EVIDENCE),
        "seed": opt(INT, 1),
        "profile": opt(Enum(("current", "classic")), "current"),
        "start": opt(Timestamp()),
        "resources": opt(RESOURCES, {}),
        # Invariants checked after every step (scenario/invariants.py), and
        # checks that must hold after at least one step (the lesson's point); after
        # resources, which they name.
        "always": opt(ListOf(Enum(ALWAYS), non_empty=True)),
        "sometimes": opt(ListOf(Checks(CHECKS), non_empty=True)),
        "steps": req(Steps(STEPS)),  # steps refer to the resources
        "challenge": opt(CHALLENGE),  # last: its goal may name what steps created
    },
    what="a scenario",
)
