"""Read a Terraform module (one `.tf` file, or every `.tf` file of a folder)
into a `Plan`.

python-hcl2 parses the HCL2 syntax; it hands expressions back as text
(`${aws_sqs_queue.orders.arn}`, `${jsonencode({...})}`), so this module
evaluates the small part of Terraform's expression language a module of
queues, streams, tables, functions and event source mappings uses:
references to those resources' attributes, `var.` (defaults, or
`--parameter`), `local.`, string interpolation and `jsonencode` of a
literal. Anything else is named in the plan's notes, not guessed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from esmlab.engine import arns
from esmlab.imports import Plan, TemplateError, mapping_params


class _Unresolved(Exception):
    pass


# -- reading ------------------------------------------------------------------------------------

def _parse(path: Path) -> list[dict]:
    import hcl2

    files = sorted(path.glob("*.tf")) if path.is_dir() else [path]
    if not files:
        raise TemplateError(f"{path}: no .tf files")
    out = []
    for f in files:
        try:
            with open(f, encoding="utf-8") as handle:
                out.append(hcl2.load(handle))
        except OSError as error:
            raise TemplateError(f"{f}: cannot read the file ({error.strerror})") from None
        except Exception as error:  # python-hcl2 raises lark's errors for bad syntax
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise TemplateError(f"{f}: not readable HCL2: {first}") from None
    return out


def _unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


def _blocks(docs: list[dict], kind: str) -> list[tuple[str, dict]]:
    """(label, body) of every `kind` block (variable, locals, ...)."""
    out = []
    for doc in docs:
        for block in doc.get(kind, []):
            for label, body in block.items():
                out.append((_unquote(label), body))
    return out


def _resources(docs: list[dict]) -> list[tuple[str, str, dict]]:
    out = []
    for doc in docs:
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    out.append((_unquote(rtype), _unquote(name), body))
    return out


# -- expressions -------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|'
                    r'(?P<ref>[A-Za-z_][\w.\-\[\]]*)|(?P<sym>[{}\[\]=:,()]))')


class Evaluator:
    def __init__(self, plan: Plan, variables: dict, locals_: dict, attributes: dict):
        self.plan = plan
        self.variables = variables
        self.locals = locals_
        self.attributes = attributes   # "aws_sqs_queue.orders" -> {"arn": ..., ...}

    def value(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {_unquote(k): self.value(x) for k, x in v.items() if k != "__is_block__"}
        if not isinstance(v, str):
            return v
        if v.startswith("${") and v.endswith("}") and v.count("${") == 1:
            return self.expression(v[2:-1])
        if len(v) >= 2 and v[0] == v[-1] == '"':
            return re.sub(r"\$\{([^}]*)\}", lambda m: str(self.expression(m.group(1))), v[1:-1])
        return v

    def expression(self, text: str) -> Any:
        text = text.strip()
        if text.startswith("jsonencode(") and text.endswith(")"):
            return json.dumps(self.literal(text[len("jsonencode("):-1]), separators=(",", ":"))
        return self.reference(text)

    def reference(self, ref: str) -> Any:
        parts = ref.split(".")
        if parts[0] == "var" and len(parts) == 2:
            if parts[1] not in self.variables:
                raise _Unresolved(f"var.{parts[1]} is not declared")
            return self.variables[parts[1]]
        if parts[0] == "local" and len(parts) == 2:
            if parts[1] not in self.locals:
                raise _Unresolved(f"local.{parts[1]} is not defined")
            return self.value(self.locals[parts[1]])
        if parts[0] == "data":
            raise _Unresolved(f"{ref} reads a data source, which the lab cannot query")
        if len(parts) == 3:
            attrs = self.attributes.get(f"{parts[0]}.{parts[1]}")
            if attrs is None:
                raise _Unresolved(f"{ref} names no resource of the module")
            if parts[2] not in attrs:
                raise _Unresolved(f"{ref}: attribute {parts[2]} is not modelled by the lab")
            return attrs[parts[2]]
        raise _Unresolved(f"the expression {ref} is beyond what the lab evaluates")

    def literal(self, text: str) -> Any:
        tokens = [m for m in _TOKEN.finditer(text)]
        pos = 0

        def take():
            nonlocal pos
            if pos >= len(tokens):
                raise _Unresolved(f"jsonencode({text}) ends early")
            pos += 1
            return tokens[pos - 1]

        def parse():
            t = take()
            if t.group("sym") == "{":
                out = {}
                while tokens[pos].group("sym") != "}":
                    key = take()
                    name = json.loads(key.group("str")) if key.group("str") else key.group("ref")
                    if take().group("sym") not in ("=", ":"):
                        raise _Unresolved(f"jsonencode({text}): expected = after {name}")
                    out[name] = parse()
                    if tokens[pos].group("sym") == ",":
                        take()
                take()
                return out
            if t.group("sym") == "[":
                items = []
                while tokens[pos].group("sym") != "]":
                    items.append(parse())
                    if tokens[pos].group("sym") == ",":
                        take()
                take()
                return items
            if t.group("str"):
                return self.value(t.group("str").replace('\\"', '"'))
            if t.group("num"):
                return json.loads(t.group("num"))
            word = t.group("ref")
            if word in ("true", "false", "null"):
                return json.loads(word)
            return self.reference(word)
        return parse()


# -- resources -------------------------------------------------------------------------------------

def _attributes(rtype: str, name: str, body: dict, ev: Evaluator) -> dict | None:
    """The attributes other resources may reference, by the physical name."""
    def given(key, default):
        try:
            return ev.value(body[key]) if key in body else default
        except _Unresolved:
            return default
    if rtype == "aws_sqs_queue":
        q = given("name", name + (".fifo" if given("fifo_queue", False) is True else ""))
        return {"arn": arns.queue_arn(q), "id": arns.queue_url(q), "url": arns.queue_url(q),
                "name": q}
    if rtype == "aws_kinesis_stream":
        s = given("name", name)
        return {"arn": arns.stream_arn(s), "id": arns.stream_arn(s), "name": s}
    if rtype == "aws_kinesis_stream_consumer":
        # The ARN without its creation time (unknown until the lab registers
        # the consumer) names the lab's consumer of that name.
        c = given("name", name)
        stream = arns.name_of(str(given("stream_arn", "")))
        arn = f"{arns.stream_arn(stream)}/consumer/{c}"
        return {"arn": arn, "id": arn, "name": c, "stream_arn": arns.stream_arn(stream)}
    if rtype == "aws_dynamodb_table":
        t = given("name", name)
        return {"arn": arns.table_arn(t), "stream_arn": arns.table_arn(t), "name": t, "id": t}
    if rtype == "aws_lambda_function":
        f = given("function_name", name)
        return {"arn": arns.function_arn(f), "function_name": f, "id": f,
                "qualified_arn": arns.function_arn(f) + ":$LATEST"}
    if rtype == "aws_sns_topic":
        t = given("name", name)
        return {"arn": arns.topic_arn(t), "id": arns.topic_arn(t), "name": t}
    if rtype == "aws_s3_bucket":
        b = given("bucket", name)
        return {"arn": arns.bucket_arn(b), "id": b, "bucket": b}
    return None


QUEUE_KEYS = {"visibility_timeout_seconds": "VisibilityTimeout",
              "message_retention_seconds": "MessageRetentionPeriod",
              "delay_seconds": "DelaySeconds", "max_message_size": "MaximumMessageSize",
              "receive_wait_time_seconds": "ReceiveMessageWaitTimeSeconds",
              "fifo_queue": "FifoQueue", "content_based_deduplication": "ContentBasedDeduplication",
              "deduplication_scope": "DeduplicationScope",
              "fifo_throughput_limit": "FifoThroughputLimit", "redrive_policy": "RedrivePolicy"}
MAPPING_KEYS = {"event_source_arn": "EventSourceArn", "function_name": "FunctionName",
                "batch_size": "BatchSize", "enabled": "Enabled",
                "maximum_batching_window_in_seconds": "MaximumBatchingWindowInSeconds",
                "starting_position": "StartingPosition",
                "starting_position_timestamp": "StartingPositionTimestamp",
                "parallelization_factor": "ParallelizationFactor",
                "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
                "maximum_retry_attempts": "MaximumRetryAttempts",
                "maximum_record_age_in_seconds": "MaximumRecordAgeInSeconds",
                "tumbling_window_in_seconds": "TumblingWindowInSeconds",
                "function_response_types": "FunctionResponseTypes",
                "kms_key_arn": "KMSKeyArn", "tags": "Tags"}


def _one_block(body: dict, key: str) -> dict:
    blocks = body.get(key) or []
    return blocks[0] if isinstance(blocks, list) and blocks else {}


def _queue(plan, ev, name, body, attrs) -> None:
    attributes = {}
    for tf_key, aws_key in QUEUE_KEYS.items():
        if tf_key in body:
            attributes[aws_key] = ev.value(body[tf_key])
    if isinstance(attributes.get("RedrivePolicy"), str):
        attributes["RedrivePolicy"] = json.loads(attributes["RedrivePolicy"])
    if attrs["name"].endswith(".fifo"):
        attributes.setdefault("FifoQueue", True)
    plan.add("queues", {"QueueName": attrs["name"], **({"Attributes": attributes}
                                                       if attributes else {})})


def _stream(plan, ev, name, body, attrs) -> None:
    entry = {"StreamName": attrs["name"]}
    mode = ev.value(_one_block(body, "stream_mode_details").get("stream_mode", '"PROVISIONED"'))
    if mode == "ON_DEMAND":
        entry["ShardCount"] = 4
        plan.assumed.append(f"{attrs['name']}: an ON_DEMAND stream starts with 4 shards on AWS; "
                            "the lab makes 4 and does not add shards as traffic grows")
    elif "shard_count" in body:
        entry["ShardCount"] = int(ev.value(body["shard_count"]))
    if "retention_period" in body:
        entry["RetentionPeriodHours"] = int(ev.value(body["retention_period"]))
    plan.add("streams", entry)


def _table(plan, ev, name, body, attrs) -> None:
    keys = [{"AttributeName": ev.value(body["hash_key"]), "KeyType": "HASH"}]
    if "range_key" in body:
        keys.append({"AttributeName": ev.value(body["range_key"]), "KeyType": "RANGE"})
    entry = {"TableName": attrs["name"], "KeySchema": keys,
             "AttributeDefinitions": [{"AttributeName": ev.value(a["name"]),
                                       "AttributeType": ev.value(a["type"])}
                                      for a in body.get("attribute", [])]}
    if ev.value(body.get("stream_enabled", False)) is True:
        entry["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": ev.value(body.get("stream_view_type", '"KEYS_ONLY"'))}
    plan.add("tables", entry)


def _function(plan, ev, name, body, attrs) -> None:
    entry = {"FunctionName": attrs["function_name"]}
    for tf_key, aws_key in (("timeout", "Timeout"), ("memory_size", "MemorySize"),
                            ("reserved_concurrent_executions", "ReservedConcurrentExecutions")):
        if tf_key in body:
            value = int(ev.value(body[tf_key]))
            if not (aws_key == "ReservedConcurrentExecutions" and value == -1):  # -1: unreserved
                entry[aws_key] = value
    variables = _one_block(body, "environment").get("variables")
    if variables:   # the handler sees them as Lambda sets them
        entry["Environment"] = {"Variables": {k: str(v) for k, v in ev.value(variables).items()}}
    plan.add("functions", entry)
    left = [k for k in ("handler", "runtime", "filename", "s3_bucket", "image_uri", "role",
                        "layers", "vpc_config") if k in body]
    if left:
        plan.not_modelled.append(f"{attrs['function_name']}: {', '.join(left)} (the lab runs its "
                                 "built-in behaviour 'succeed'; set another, or your handler, "
                                 "in the lab)")


def _mapping(plan, ev, name, body, attrs) -> None:
    params = {aws: ev.value(body[tf]) for tf, aws in MAPPING_KEYS.items() if tf in body}
    fn = str(params.get("FunctionName", ""))
    params["FunctionName"] = fn.split(":function:", 1)[1].split(":", 1)[0] \
        if ":function:" in fn else fn
    destination = _one_block(_one_block(body, "destination_config"), "on_failure")
    if destination.get("destination_arn"):
        params["DestinationConfig"] = {"OnFailure": {
            "Destination": ev.value(destination["destination_arn"])}}
    filters = _one_block(body, "filter_criteria").get("filter") or []
    if filters:
        params["FilterCriteria"] = {"Filters": [{"Pattern": ev.value(f["pattern"])}
                                                for f in filters]}
    scaling = _one_block(body, "scaling_config")
    if scaling.get("maximum_concurrency") is not None:
        params["ScalingConfig"] = {"MaximumConcurrency": int(ev.value(
            scaling["maximum_concurrency"]))}
    metrics = _one_block(body, "metrics_config")
    if metrics.get("metrics"):
        params["MetricsConfig"] = {"Metrics": ev.value(metrics["metrics"])}
    plan.add("mappings", {"id": name, **mapping_params(plan, name, params)})


def _sink(kind, key):
    def add(plan, ev, name, body, attrs) -> None:
        plan.add(kind, {key: attrs[{"topics": "name", "buckets": "bucket"}[kind]]})
    return add


def _stream_consumer(plan, ev, name, body, attrs) -> None:
    plan.consumers.append((arns.name_of(attrs["stream_arn"]), attrs["name"],
                           f"aws_kinesis_stream_consumer.{name}"))


_READERS = {"aws_sqs_queue": _queue, "aws_kinesis_stream": _stream,
            "aws_kinesis_stream_consumer": _stream_consumer,
            "aws_dynamodb_table": _table, "aws_lambda_function": _function,
            "aws_lambda_event_source_mapping": _mapping, "aws_sns_topic": _sink("topics", "Name"),
            "aws_s3_bucket": _sink("buckets", "Bucket")}


def read_terraform(path: Path, parameters: dict[str, str], ask=None) -> Plan:
    docs = _parse(path)
    plan = Plan(source=str(path))
    variables = {}
    for name, body in _blocks(docs, "variable"):
        if name in parameters:
            variables[name] = parameters[name]
        elif "default" in body:
            variables[name] = body["default"]
        elif ask and (answer := ask(name)) not in (None, ""):
            variables[name] = answer
        else:
            variables[name] = name
            plan.assumed.append(f"variable {name} has no default: assumed {name!r} "
                                f"(give --parameter {name}=VALUE)")
    locals_: dict = {}
    for doc in docs:  # python-hcl2 keeps each `locals` block as a dict in a list
        for block in doc.get("locals", []):
            locals_.update({k: v for k, v in block.items() if k != "__is_block__"})
    ev = Evaluator(plan, variables, locals_, {})
    resources = _resources(docs)
    for rtype, name, body in resources:
        attrs = _attributes(rtype, name, body, ev)
        if attrs is not None:
            ev.attributes[f"{rtype}.{name}"] = attrs
    for rtype, name, body in resources:
        reader = _READERS.get(rtype)
        if reader is None:
            plan.not_modelled.append(f"{rtype}.{name}")
            continue
        try:
            reader(plan, ev, name, body, ev.attributes.get(f"{rtype}.{name}", {}))
        except _Unresolved as why:
            plan.not_modelled.append(f"{rtype}.{name}: {why}")
    plan.attach_consumers()
    plan.keep_mappings_with_sources()
    return plan
