"""Read a SAM or CloudFormation template (YAML with the short intrinsic tags,
or JSON) into a `Plan`.

PyYAML (already a dependency) reads the short tags (`!Ref`, `!GetAtt`,
`!Sub`, `!If`, ...) through one multi-constructor that turns each into its
long form (`{"Ref": ...}`, `{"Fn::GetAtt": ...}`); that is all
CloudFormation's YAML adds, and it spares a dependency on a converter
package that has not been released since 2021.

References between the template's resources are resolved the way
CloudFormation resolves them (`Ref` of a queue is its URL, `Fn::GetAtt
Queue.Arn` its ARN, ...). A parameter without a default, an import from
another stack, or anything the lab cannot know is taken from
`--parameter Name=Value`, or assumed, and the plan says what was assumed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from esmlab.engine import arns
from esmlab.imports import TemplateError, Plan, mapping_params

PSEUDO = {"AWS::Region": arns.REGION, "AWS::AccountId": arns.ACCOUNT, "AWS::Partition": "aws",
          "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": []}
SOURCE_EVENT_TYPES = {"SQS", "Kinesis", "DynamoDB"}
# Properties of a SAM event (beyond its source) that are mapping parameters
# under the same name.
SAM_EVENT_SOURCE_KEY = {"SQS": "Queue", "Kinesis": "Stream", "DynamoDB": "Stream"}


class _Unresolved(Exception):
    """A value the template alone cannot give."""


# -- YAML with CloudFormation's short tags -----------------------------------------------------

class _TemplateLoader(yaml.SafeLoader):
    pass


def _long_form(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else ("Condition" if tag_suffix == "Condition"
                                              else f"Fn::{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _long_form)
# Dates stay text, as CloudFormation's AWSTemplateFormatVersion is one.
_TemplateLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load_template(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"{path}: cannot read the file ({getattr(error, 'strerror', error)})") \
            from None
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else \
            yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 (SafeLoader subclass)
    except (ValueError, yaml.YAMLError) as error:
        raise TemplateError(f"{path}: not a readable template: {str(error).splitlines()[0]}") \
            from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation or SAM template (no Resources map)")
    return data


# -- resolving intrinsic functions ---------------------------------------------------------------

class Resolver:
    def __init__(self, template: dict, plan: Plan, parameters: dict[str, str], stack: str,
                 ask=None):
        self.t = template
        self.ask = ask
        self.plan = plan
        self.given = parameters
        self.stack = stack
        self.resources = template.get("Resources") or {}
        self.values: dict[str, Any] = {}
        self._parameters()

    def _parameters(self) -> None:
        for name, spec in (self.t.get("Parameters") or {}).items():
            spec = spec or {}
            if name in self.given:
                value: Any = self.given[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                value = self._assume(name, spec)
            if str(spec.get("Type", "String")) == "Number":
                try:
                    value = int(value) if float(value).is_integer() else float(value)
                except (TypeError, ValueError):
                    raise TemplateError(f"parameter {name} is a Number; {value!r} is not") from None
            self.values[name] = value

    def _assume(self, name: str, spec: dict) -> Any:
        answer = self.ask(name) if self.ask else None
        if answer not in (None, ""):
            return answer
        if str(spec.get("Type", "String")) == "Number":
            value: Any = spec.get("MinValue", 1)
        elif spec.get("AllowedValues"):
            value = spec["AllowedValues"][0]
        else:
            value = name
        self.plan.assumed.append(f"parameter {name} has no default: assumed {value!r} "
                                 f"(give --parameter {name}=VALUE)")
        return value

    def physical_name(self, logical: str) -> str:
        r = self.resources[logical]
        props = r.get("Properties") or {}
        key = {"AWS::SQS::Queue": "QueueName", "AWS::Kinesis::Stream": "Name",
               "AWS::DynamoDB::Table": "TableName", "AWS::Lambda::Function": "FunctionName",
               "AWS::Serverless::Function": "FunctionName", "AWS::SNS::Topic": "TopicName",
               "AWS::S3::Bucket": "BucketName"}.get(r.get("Type"))
        if key and props.get(key) is not None:
            return str(self.resolve(props[key]))
        name = logical
        if r.get("Type") == "AWS::SQS::Queue" and _truthy(props.get("FifoQueue")):
            name += ".fifo"
        return name

    def ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::StackName":
            return self.stack
        if name == "AWS::StackId":
            return f"arn:aws:cloudformation:{arns.REGION}:{arns.ACCOUNT}:stack/{self.stack}/lab"
        if name not in self.resources:
            raise _Unresolved(f"Ref {name} names nothing in the template")
        kind = self.resources[name].get("Type")
        physical = self.physical_name(name)
        return {"AWS::SQS::Queue": arns.queue_url, "AWS::SNS::Topic": arns.topic_arn}.get(
            kind, lambda n: n)(physical)

    def get_att(self, logical: str, attr: str) -> Any:
        if logical not in self.resources:
            raise _Unresolved(f"Fn::GetAtt {logical}.{attr} names nothing in the template")
        kind = self.resources[logical].get("Type")
        name = self.physical_name(logical)
        table = {
            "AWS::SQS::Queue": {"Arn": arns.queue_arn, "QueueName": str, "QueueUrl": arns.queue_url},
            "AWS::Kinesis::Stream": {"Arn": arns.stream_arn},
            # The table's ARN stands for its stream: the lab gives the
            # mapping the table's current stream (its label is made then).
            "AWS::DynamoDB::Table": {"Arn": arns.table_arn, "StreamArn": arns.table_arn},
            "AWS::Lambda::Function": {"Arn": arns.function_arn},
            "AWS::Serverless::Function": {"Arn": arns.function_arn},
            "AWS::SNS::Topic": {"TopicArn": arns.topic_arn, "TopicName": str},
            "AWS::S3::Bucket": {"Arn": arns.bucket_arn},
            # A consumer's ARN ends with its creation time, unknown before
            # the lab registers it: the ARN without it names the consumer.
            "AWS::Kinesis::StreamConsumer": {"ConsumerARN": lambda _: self._consumer_arn(logical),
                                             "ConsumerName": lambda _: self._consumer(logical)[1],
                                             "StreamARN": lambda _: arns.stream_arn(
                                                 self._consumer(logical)[0])},
        }.get(kind, {})
        if attr not in table:
            raise _Unresolved(f"Fn::GetAtt {logical}.{attr} ({kind}) is not modelled by the lab")
        return table[attr](name)

    def _consumer(self, logical: str) -> tuple[str, str]:
        """(stream name, consumer name) of an AWS::Kinesis::StreamConsumer."""
        props = self.resources[logical].get("Properties") or {}
        stream = arns.name_of(str(self.resolve(props.get("StreamARN", ""))))
        return stream, str(self.resolve(props.get("ConsumerName", logical)))

    def _consumer_arn(self, logical: str) -> str:
        stream, name = self._consumer(logical)
        return f"{arns.stream_arn(stream)}/consumer/{name}"

    def condition(self, name: str) -> bool:
        conditions = self.t.get("Conditions") or {}
        if name not in conditions:
            raise _Unresolved(f"condition {name} is not defined")
        return bool(self._truth(conditions[name]))

    def _truth(self, value) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            (key, args), = value.items()
            if key == "Fn::Equals":
                a, b = (self.resolve(x) for x in args)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self._truth(args[0])
            if key == "Fn::And":
                return all(self._truth(a) for a in args)
            if key == "Fn::Or":
                return any(self._truth(a) for a in args)
            if key == "Condition":
                return self.condition(args)
        return bool(self.resolve(value))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value if not _is_no_value(v)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, args), = value.items()
            fn = _FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, args)
        return {k: self.resolve(v) for k, v in value.items() if not _is_no_value(v)}

    def sub(self, args) -> str:
        text, extra = (args, {}) if isinstance(args, str) else (args[0], args[1] or {})
        extra = {k: self.resolve(v) for k, v in extra.items()}

        def one(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in extra:
                return str(extra[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))
        return re.sub(r"\$\{([^}]+)\}", one, text)

    def import_value(self, args) -> Any:
        name = self.resolve(args)
        if name in self.given:
            return self.given[name]
        raise _Unresolved(f"Fn::ImportValue {name} comes from another stack "
                          f"(give --parameter {name}=VALUE)")

    def find_in_map(self, args) -> Any:
        m, a, b = (self.resolve(x) for x in args)
        try:
            return self.t["Mappings"][m][a][b]
        except (KeyError, TypeError):
            raise _Unresolved(f"Fn::FindInMap {m}.{a}.{b} is not in Mappings") from None


def _is_no_value(v) -> bool:
    return isinstance(v, dict) and v == {"Ref": "AWS::NoValue"}


def _truthy(v) -> bool:
    return v is True or str(v).lower() == "true"


def _get_att(r: Resolver, args):
    logical, attr = args.split(".", 1) if isinstance(args, str) else r.resolve(args)
    return r.get_att(logical, attr)


_FUNCTIONS = {
    "Ref": lambda r, a: r.ref(r.resolve(a)),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": lambda r, a: str(r.resolve(a[0])).join(str(x) for x in r.resolve(a[1])),
    "Fn::Select": lambda r, a: r.resolve(a[1])[int(r.resolve(a[0]))],
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(r.resolve(a[0])),
    "Fn::If": lambda r, a: r.resolve(a[1] if r.condition(a[0]) else a[2]),
    "Fn::ImportValue": lambda r, a: r.import_value(a),
    "Fn::FindInMap": lambda r, a: r.find_in_map(a),
    "Fn::Base64": lambda r, a: r.resolve(a),
    "Fn::GetAZs": lambda r, a: [f"{arns.REGION}{z}" for z in "abc"],
}


# -- resources ------------------------------------------------------------------------------------

QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                    "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds", "RedrivePolicy",
                    "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
                    "FifoThroughputLimit", "SqsManagedSseEnabled", "KmsMasterKeyId",
                    "KmsDataKeyReusePeriodSeconds", "RedriveAllowPolicy")
FUNCTION_KEYS = ("Timeout", "ReservedConcurrentExecutions", "MemorySize")
IGNORED_FUNCTION_KEYS = ("Handler", "Runtime", "CodeUri", "Code", "Role", "Policies",
                         "Layers", "VpcConfig", "Architectures", "Tracing", "Description",
                         "InlineCode", "PackageType", "ImageUri", "Tags",
                         "DeadLetterQueue", "DeadLetterConfig", "EventInvokeConfig",
                         "AutoPublishAlias", "LoggingConfig", "SnapStart")


def read_template(path: Path, parameters: dict[str, str], ask=None) -> Plan:
    template = load_template(path)
    plan = Plan(source=str(path))
    resolver = Resolver(template, plan, parameters, stack=path.stem, ask=ask)
    globals_ = ((template.get("Globals") or {}).get("Function") or {})
    functions: dict[str, str] = {}   # logical id -> function name
    for logical, r in template["Resources"].items():
        kind = (r or {}).get("Type", "")
        if "Condition" in (r or {}) and not _holds(resolver, r["Condition"], plan, logical):
            continue
        reader = _READERS.get(kind)
        if reader is None:
            plan.not_modelled.append(f"{logical} ({kind})")
            continue
        props = dict(globals_) if kind == "AWS::Serverless::Function" else {}
        props.update((r.get("Properties") or {}))
        try:
            made = reader(resolver, plan, logical, props)
        except _Unresolved as why:
            plan.not_modelled.append(f"{logical} ({kind}): {why}")
            continue
        if kind in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
            functions[logical] = made
    for logical, r in template["Resources"].items():
        if (r or {}).get("Type") == "AWS::Serverless::Function" and logical in functions:
            _sam_events(resolver, plan, logical, functions[logical],
                        (r.get("Properties") or {}).get("Events") or {})
    plan.attach_consumers()
    plan.keep_mappings_with_sources()
    return plan


def _holds(resolver: Resolver, name: str, plan: Plan, logical: str) -> bool:
    try:
        if resolver.condition(name):
            return True
    except _Unresolved as why:
        plan.notes.append(f"{logical}: {why}; created anyway")
        return True
    plan.notes.append(f"{logical} left out: its Condition {name} is false")
    return False


def _resolved(resolver: Resolver, plan: Plan, where: str, props: dict, keys) -> dict:
    """The given keys of `props`, resolved; a value that cannot be resolved
    is left out and said."""
    out = {}
    for key in keys:
        if key not in props:
            continue
        try:
            out[key] = resolver.resolve(props[key])
        except _Unresolved as why:
            plan.not_modelled.append(f"{where}.{key}: {why}")
    return out


def _queue(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    name = r.physical_name(logical)
    attributes = _resolved(r, plan, logical, props, QUEUE_ATTRIBUTES)
    redrive = attributes.get("RedrivePolicy")
    if isinstance(redrive, str):
        redrive = json.loads(redrive)
    if isinstance(redrive, dict):
        # CloudFormation accepts the count as text; SQS stores a number.
        attributes["RedrivePolicy"] = {"deadLetterTargetArn": redrive.get("deadLetterTargetArn"),
                                       "maxReceiveCount": int(redrive.get("maxReceiveCount", 10))}
    if name.endswith(".fifo"):
        attributes.setdefault("FifoQueue", True)
    entry: dict = {"QueueName": name}
    if attributes:
        entry["Attributes"] = attributes
    plan.add("queues", entry)
    return name


def _stream(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    name = r.physical_name(logical)
    entry: dict = {"StreamName": name}
    given = _resolved(r, plan, logical, props, ("ShardCount", "RetentionPeriodHours",
                                                "StreamModeDetails"))
    mode = (given.get("StreamModeDetails") or {}).get("StreamMode")
    if mode == "ON_DEMAND":
        entry["ShardCount"] = 4
        plan.assumed.append(f"{name}: an ON_DEMAND stream starts with 4 shards on AWS; the lab "
                            "makes 4 and does not add shards as traffic grows")
    elif "ShardCount" in given:
        entry["ShardCount"] = int(given["ShardCount"])
    if "RetentionPeriodHours" in given:
        entry["RetentionPeriodHours"] = int(given["RetentionPeriodHours"])
    plan.add("streams", entry)
    return name


def _stream_consumer(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    stream, name = r._consumer(logical)
    plan.consumers.append((stream, name, logical))
    return name


def _table(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    name = r.physical_name(logical)
    given = _resolved(r, plan, logical, props, ("KeySchema", "AttributeDefinitions",
                                                "StreamSpecification"))
    entry = {"TableName": name, "KeySchema": given.get("KeySchema") or []}
    if given.get("AttributeDefinitions"):
        entry["AttributeDefinitions"] = given["AttributeDefinitions"]
    spec = given.get("StreamSpecification")
    if spec and spec.get("StreamViewType"):
        entry["StreamSpecification"] = {"StreamEnabled": True,
                                        "StreamViewType": spec["StreamViewType"]}
    plan.add("tables", entry)
    return name


def _function(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    name = r.physical_name(logical)
    entry = {"FunctionName": name, **{k: int(v) for k, v in _resolved(
        r, plan, logical, props, FUNCTION_KEYS).items()}}
    variables = (_resolved(r, plan, logical, props, ("Environment",)).get("Environment")
                 or {}).get("Variables")
    if variables:   # the handler sees them as Lambda sets them
        entry["Environment"] = {"Variables": {k: str(v) for k, v in variables.items()}}
    plan.add("functions", entry)
    left = [k for k in IGNORED_FUNCTION_KEYS if k in props]
    if left:
        plan.not_modelled.append(f"{name}: {', '.join(left)} (the lab runs its built-in "
                                 "behaviour 'succeed'; set another, or your handler, in the lab)")
    return name


def _topic(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    name = r.physical_name(logical)
    plan.add("topics", {"Name": name})
    return name


def _bucket(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    name = r.physical_name(logical)
    plan.add("buckets", {"Bucket": name})
    return name


def _mapping(r: Resolver, plan: Plan, logical: str, props: dict) -> str:
    params = _resolved(r, plan, logical, props, list(props))
    params["FunctionName"] = _function_name(params.get("FunctionName", ""))
    plan.add("mappings", {"id": logical, **mapping_params(plan, logical, params)})
    return logical


def _function_name(value: str) -> str:
    value = str(value)
    return value.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in value else value


def _sam_events(r: Resolver, plan: Plan, logical: str, function: str, events: dict) -> None:
    for event_id, event in events.items():
        kind = (event or {}).get("Type")
        if kind not in SOURCE_EVENT_TYPES:
            plan.not_modelled.append(f"{logical}.Events.{event_id} (type {kind}: not an event "
                                     "source mapping)")
            continue
        props = dict(event.get("Properties") or {})
        source_key = SAM_EVENT_SOURCE_KEY[kind]
        params = _resolved(r, plan, f"{logical}.Events.{event_id}", props, list(props))
        if source_key not in params:
            plan.not_modelled.append(f"{logical}.Events.{event_id}: no {source_key}")
            continue
        params["EventSourceArn"] = params.pop(source_key)
        on_failure = ((params.get("DestinationConfig") or {}).get("OnFailure") or {})
        on_failure.pop("Type", None)  # SAM's own hint of the destination's kind
        params["FunctionName"] = function
        # Labelled by its source, as the screen labels a new mapping (the
        # event's own name when two events read one source).
        source = arns.name_of(str(params["EventSourceArn"])).replace("/consumer/", "/")
        taken = {m["id"] for m in plan.resources["mappings"]}
        label = source if source and source not in taken else f"{source}-{event_id}"
        plan.add("mappings", {"id": label, **mapping_params(plan, event_id, params)})


_READERS = {
    "AWS::SQS::Queue": _queue,
    "AWS::Kinesis::Stream": _stream,
    "AWS::Kinesis::StreamConsumer": _stream_consumer,
    "AWS::DynamoDB::Table": _table,
    "AWS::Lambda::Function": _function,
    "AWS::Serverless::Function": _function,
    "AWS::SNS::Topic": _topic,
    "AWS::S3::Bucket": _bucket,
    "AWS::Lambda::EventSourceMapping": _mapping,
}
