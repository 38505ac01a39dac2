"""Paste anything real: turn what AWS printed into a request the lab takes.

People paste the JSON of `aws lambda get-event-source-mapping` (or a whole
`list-event-source-mappings`), or a CloudFormation `Properties` block, as a
mapping. The lab lives in one account and Region, so every ARN of the paste
is mapped onto the lab's (a queue `orders` in any account is the lab's
`orders`); a DynamoDB stream ARN carries the label of the stream it was
taken from, which the lab's table does not have, so it becomes the table's
current stream. Read-only fields are dropped and named; fields of sources
the lab does not model (Kafka, MQ, DocumentDB) are dropped and named. Each
such change is a note the face shows beside the result, never silently.
"""

from __future__ import annotations

from esmlab.engine import arns

# Fields AWS returns that a CreateEventSourceMapping request does not take.
READ_ONLY = ("UUID", "State", "StateTransitionReason", "LastModified", "LastProcessingResult",
             "EventSourceMappingArn", "FilterCriteriaError", "FunctionArn")
# Fields of event sources the lab does not model.
NOT_MODELLED = ("Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
                "SelfManagedKafkaEventSourceConfig", "AmazonManagedKafkaEventSourceConfig",
                "DocumentDBEventSourceConfig")
# CloudFormation spells some parameters its own way.
CFN_NAMES = {"KmsKeyArn": "KMSKeyArn"}


def mappings_of(pasted) -> list[dict]:
    """The mappings in a paste: one Get output, a List output or a Properties block."""
    if isinstance(pasted, dict) and isinstance(pasted.get("EventSourceMappings"), list):
        return [m for m in pasted["EventSourceMappings"] if isinstance(m, dict)]
    if isinstance(pasted, dict) and isinstance(pasted.get("Properties"), dict):
        return [pasted["Properties"]]
    return [pasted] if isinstance(pasted, dict) else []


def _lab_arn(arn: str) -> str | None:
    """The lab's ARN for the same resource in any account and Region."""
    service = arns.service_of(arn)
    name = arns.name_of(arn)
    if service == "sqs":
        return arns.queue_arn(name)
    if service == "kinesis":
        return arns.stream_arn(name)
    if service == "dynamodb":
        return arns.table_arn(name)   # the lab gives a table ARN its current stream
    if service == "sns":
        return arns.topic_arn(name)
    if service == "s3":
        return arns.bucket_arn(name)
    return None


def _same_place(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) > 4 and parts[3] in (arns.REGION, "") and parts[4] in (arns.ACCOUNT, "")


def normalise(params: dict, stream_arn_of_table=None) -> tuple[dict, list[str]]:
    """A request the lab takes, and the notes saying what was changed.
    `stream_arn_of_table(name)` gives a lab table's current stream ARN."""
    out, notes = {}, []
    dropped = [k for k in params if k in READ_ONLY and k != "FunctionArn"]
    for key, value in params.items():
        key = CFN_NAMES.get(key, key)
        if key in READ_ONLY or key in NOT_MODELLED:
            continue
        out[key] = value
    if params.get("State") in ("Disabled", "Disabling") and "Enabled" not in out:
        out["Enabled"] = False   # a Get output has no Enabled: its State says it
    if dropped:
        notes.append(f"read-only field(s) ignored: {', '.join(dropped)}")
    left = [k for k in params if k in NOT_MODELLED]
    if left:
        notes.append(f"not modelled by the lab, left out: {', '.join(left)}")
    fn = out.get("FunctionName") or params.get("FunctionArn")
    if isinstance(fn, str) and ":function:" in fn:
        name = fn.split(":function:", 1)[1]
        qualifier = name.split(":", 1)[1] if ":" in name else None
        name = name.split(":", 1)[0]
        if not _same_place(fn):
            notes.append(f"function {fn} is the lab's function {name} (the lab has one account "
                         f"and Region, {arns.ACCOUNT} {arns.REGION})")
            fn = arns.function_arn(name) + (f":{qualifier}" if qualifier else "")
        out["FunctionName"] = fn if qualifier else name
    source = out.get("EventSourceArn")
    if isinstance(source, str) and source.startswith("arn:"):
        out["EventSourceArn"] = _source(source, notes, stream_arn_of_table)
    on_failure = ((out.get("DestinationConfig") or {}).get("OnFailure") or {})
    dest = on_failure.get("Destination")
    if isinstance(dest, str) and not _same_place(dest) and _lab_arn(dest):
        on_failure["Destination"] = _lab_arn(dest)
        notes.append(f"destination {dest} is the lab's {on_failure['Destination']}")
    if "DestinationConfig" in out and not dest and not (out["DestinationConfig"] or {}).get(
            "OnSuccess"):
        out.pop("DestinationConfig")   # AWS prints an empty OnFailure for "none"
    tags = out.get("Tags")
    if isinstance(tags, list):   # CloudFormation writes tags as [{Key, Value}]
        out["Tags"] = {t.get("Key"): t.get("Value") for t in tags if isinstance(t, dict)}
    return out, notes


def _source(arn: str, notes: list[str], stream_arn_of_table) -> str:
    service = arns.service_of(arn)
    lab = _lab_arn(arn)
    if lab is None:
        return arn
    if service == "dynamodb":
        table = arns.name_of(arn)
        current = stream_arn_of_table(table) if stream_arn_of_table else None
        if current and current != arn:
            notes.append(f"{arn} is the lab's table {table}, whose stream is {current} "
                         "(a stream's label is the time it was created)")
            return current
        return arn if current == arn else lab
    if not _same_place(arn):
        notes.append(f"{arn} is the lab's {lab} (the lab has one account and Region, "
                     f"{arns.ACCOUNT} {arns.REGION})")
        return lab
    return arn
