"""Create and edit lab resources in forms: queues, Kinesis streams,
functions and event source mappings.

A `ResourceForm` calls its `submit(values)` when the user confirms. When
the engine refuses (AwsError: AWS's exception name and message, or a
LabError), the form stays open and shows the message, with every field as
the user left it; the Lab rolled the command back, so nothing changed.

Rules the forms follow:

- An empty field means "AWS's default": it is not sent.
- Numbers are sent as numbers when they parse; otherwise the text is sent
  as typed, so the engine answers as AWS (or the AWS SDK) would
  (e.g. botocore's ``ParamValidationError: Invalid type for parameter``).
- Editing sends only what changed (UpdateEventSourceMapping,
  SetQueueAttributes, UpdateFunctionConfiguration); fields AWS lets you set
  only at create time are shown read-only. In an edit form an emptied field
  is left as it is, except those that can be removed: a mapping's OnFailure
  destination and MaximumConcurrency, a queue's DLQ (RedrivePolicy), a
  function's reserved concurrency.

The `*_fields` functions build the fields, the `*_submit` functions turn
values into Lab commands and return the line the app notifies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from esmlab import readmodels as rm
from esmlab.engine import arns
from esmlab.errors import AwsError, LabError
from esmlab.tui.said import said

DEFAULT = ""          # the "AWS default" choice of a Select


class FormError(ValueError):
    """A mistake the form itself catches (before any Lab call)."""


@dataclass
class Field:
    name: str
    label: str
    default: str = ""
    kind: str = "text"            # text | choice | json | readonly
    options: tuple = ()           # choice: ((text, value), ...)
    placeholder: str = ""


class ResourceForm(ModalScreen):
    """A form whose OK runs `submit(values) -> str`; on AwsError/LabError the
    form stays open and shows the message; on success it closes with the
    returned line."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict], str],
                 ok: str = "Create", note: str = ""):
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.submit = submit
        self.ok_label = ok
        self.note = note
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        # fixed height: the fields scroll, the error and the buttons stay in view
        with Vertical(classes="dialog form"):
            yield Label(self.form_title, classes="dialog-title")
            if self.note:
                yield Static(self.note, classes="form-note")
            yield Static("", id="form-error")
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    yield Label(f.label, classes="form-label")
                    if f.kind == "choice":
                        options = list(f.options)
                        if f.default not in [v for _, v in options]:
                            options.append((str(f.default), f.default))
                        yield Select(options, value=f.default, allow_blank=False,
                                     id=f"f-{f.name}")
                    elif f.kind == "json":
                        yield TextArea(f.default, id=f"f-{f.name}", classes="form-json")
                    elif f.kind == "readonly":
                        yield Static(str(f.default) or "-", id=f"f-{f.name}",
                                     classes="form-readonly")
                    else:
                        yield Input(value=str(f.default), placeholder=f.placeholder,
                                    id=f"f-{f.name}")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok_label, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        first = self.query("Input, Select, TextArea")
        if first:
            first.first().focus()

    def values(self) -> dict:
        out = {}
        for f in self.fields:
            if f.kind == "readonly":
                continue
            w = self.query_one(f"#f-{f.name}")
            out[f.name] = w.text if f.kind == "json" else w.value
        return out

    def confirm(self) -> None:
        try:
            line = self.submit(self.values())
        except (AwsError, LabError, ValueError) as exc:
            self.show_error(said(exc))
            return
        self.dismiss(line)

    def show_error(self, text: str) -> None:
        self.error = text
        box = self.query_one("#form-error", Static)
        box.update("✗ " + text)
        box.display = True
        self.app.bell()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.confirm()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.confirm()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen):
    """Yes / no; returns True or None."""

    BINDINGS = [Binding("escape,n", "cancel", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, title: str, text: str, yes: str = "Delete"):
        super().__init__()
        self.form_title, self.text, self.yes = title, text, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.form_title, classes="dialog-title")
            yield Static(self.text)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(True if event.button.id == "yes" else None)

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(None)


# -- values -------------------------------------------------------------------------------

def number(text: str):
    """A whole number or a decimal when the text is one; else the text as
    typed, so the engine answers as AWS would to a wrong type."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _s(value) -> str:
    return "" if value is None else str(value)


BOOL_CHOICES = (("(AWS default)", DEFAULT), ("true", "true"), ("false", "false"))


# -- queues ---------------------------------------------------------------------------------

QUEUE_ATTRS = ("VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod")


def queue_fields(current: dict | None = None) -> list[Field]:
    c = current or {}
    fields = [Field("QueueName", "QueueName (a name ending .fifo makes a FIFO queue)",
                    placeholder="orders or orders.fifo")] if current is None else [
        Field("QueueName", "QueueName", c["QueueName"], kind="readonly")]
    fields += [
        Field("VisibilityTimeout", "VisibilityTimeout, seconds (default 30, 0-43200)",
              _s(c.get("VisibilityTimeout"))),
        Field("DelaySeconds", "DelaySeconds (default 0, 0-900)", _s(c.get("DelaySeconds"))),
        Field("MessageRetentionPeriod",
              "MessageRetentionPeriod, seconds (default 345600 = 4 days, 60-1209600)",
              _s(c.get("MessageRetentionPeriod"))),
        Field("dlq", "DLQ name: RedrivePolicy deadLetterTargetArn (created if missing)",
              _s(c.get("dlq")), placeholder="e.g. orders-dlq (empty: no DLQ)"),
        Field("maxReceiveCount", "maxReceiveCount: receives before a message moves to the DLQ",
              _s(c.get("maxReceiveCount"))),
        Field("duplicate_rate", "duplicate rate 0-1 (lab: chance a receive leaves a duplicate; "
              "standard queues)", "" if not c.get("duplicate_rate") else _s(c["duplicate_rate"])),
    ]
    return fields


def _redrive(values: dict, fifo: bool) -> str | None:
    dlq = values["dlq"].strip()
    mrc = values["maxReceiveCount"].strip()
    if not dlq:
        if mrc:
            raise FormError("maxReceiveCount needs a DLQ name (RedrivePolicy has both)")
        return None
    policy: dict = {"deadLetterTargetArn": arns.queue_arn(dlq)}
    if mrc:
        policy["maxReceiveCount"] = number(mrc)
    return json.dumps(policy)


def queue_create_submit(lab, values: dict) -> str:
    name = values["QueueName"].strip()
    if not name:
        raise FormError("QueueName is required")
    fifo = name.endswith(".fifo")
    attrs = {k: values[k].strip() for k in QUEUE_ATTRS if values[k].strip()}
    if fifo:
        attrs["FifoQueue"] = "true"
    policy = _redrive(values, fifo)
    rate = values["duplicate_rate"].strip()
    existing = set(lab.engine.queues.names())
    made = []
    if policy is not None:
        dlq = values["dlq"].strip()
        if dlq not in existing:
            if fifo != dlq.endswith(".fifo"):
                raise FormError(f"the DLQ of a {'FIFO' if fifo else 'standard'} queue must be "
                                f"a {'FIFO' if fifo else 'standard'} queue too "
                                f"({'end' if fifo else 'not end'} its name with .fifo)")
            lab.create_queue(dlq, {"FifoQueue": "true"} if fifo else {})
            made.append(dlq)
        attrs["RedrivePolicy"] = policy
    try:
        lab.create_queue(name, attrs, duplicate_rate=number(rate) if rate else 0.0)
    except AwsError as exc:
        if made:
            # Leave nothing behind: the DLQ this form made first goes again
            # (DeleteQueue, when the lab has it); AWS's message stays as AWS says it.
            delete = getattr(lab, "delete_queue", None)
            undone = False
            if delete is not None:
                try:
                    delete(made[0])
                    undone = True
                except (AwsError, LabError):
                    pass
            hint = (f"the DLQ {made[0]} this form created first was deleted again" if undone
                    else f"the DLQ {made[0]} was created first and stays")
            raise AwsError(exc.code, exc.message, exc.status, exc.operation,
                           hint=hint) from exc
        raise
    line = f"queue {name} " + ("exists already with these attributes (CreateQueue returns "
                               "its URL)" if name in existing else "created")
    if made:
        line += f", with its DLQ {made[0]}"
    return line


def queue_edit_submit(lab, current: dict, values: dict) -> str:
    name = current["QueueName"]
    attrs = {}
    for k in QUEUE_ATTRS:
        v = values[k].strip()
        if v and v != current[k]:
            attrs[k] = v
    dlq, mrc = values["dlq"].strip(), values["maxReceiveCount"].strip()
    if (dlq, mrc) != (current["dlq"], current["maxReceiveCount"]):
        attrs["RedrivePolicy"] = _redrive(values, current["fifo"]) or ""
    rate = values["duplicate_rate"].strip()
    rate_value = number(rate) if rate else 0.0
    changed = []
    if attrs:
        lab.do("set_queue_attributes", QueueName=name, Attributes=attrs)
        changed += sorted(attrs)
    if rate_value != current["duplicate_rate"]:
        lab.do("set_duplicate_rate", QueueName=name, rate=rate_value)
        changed.append("duplicate rate")
    return f"queue {name}: " + (", ".join(changed) + " changed" if changed else "nothing changed")


# -- streams --------------------------------------------------------------------------------

def stream_fields(current: dict | None = None) -> list[Field]:
    if current is not None:
        return [Field("StreamName", "StreamName", current["name"], kind="readonly"),
                Field("RetentionPeriodHours", "RetentionPeriodHours (24-8760)",
                      _s(current.get("retention_hours")))]
    return [Field("StreamName", "StreamName (Kinesis data stream)", placeholder="clicks"),
            Field("ShardCount", "ShardCount (default 1)"),
            Field("RetentionPeriodHours", "RetentionPeriodHours (default 24, 24-8760)")]


def stream_create_submit(lab, values: dict) -> str:
    name = values["StreamName"].strip()
    if not name:
        raise FormError("StreamName is required")
    args = {k: number(values[k]) for k in ("ShardCount", "RetentionPeriodHours")
            if values[k].strip()}
    lab.do("create_stream", StreamName=name, **args)
    return f"stream {name} created"


def stream_edit_submit(lab, current: dict, values: dict) -> str:
    v = values["RetentionPeriodHours"].strip()
    if not v or v == _s(current.get("retention_hours")):
        return f"stream {current['name']}: nothing changed"
    lab.do("set_retention", StreamName=current["name"], RetentionPeriodHours=number(v))
    return f"stream {current['name']}: RetentionPeriodHours {v}"


# -- functions ------------------------------------------------------------------------------

def function_fields(current: dict | None = None) -> list[Field]:
    c = current or {}
    head = [Field("FunctionName", "FunctionName", placeholder="my-handler")] if current is None \
        else [Field("FunctionName", "FunctionName", c["FunctionName"], kind="readonly")]
    return head + [
        Field("Timeout", "Timeout, seconds (default 3, 1-900)", _s(c.get("Timeout"))),
        Field("ReservedConcurrentExecutions",
              "ReservedConcurrentExecutions (empty: unreserved; 0 throttles every invoke)",
              _s(c.get("ReservedConcurrentExecutions"))),
        Field("fixed_ms", "duration: fixed ms per invocation (lab; default 100)",
              _s(c.get("fixed_ms"))),
        Field("per_record_ms", "duration: ms per record (lab; default 0)",
              _s(c.get("per_record_ms"))),
    ]


def function_create_submit(lab, values: dict) -> str:
    name = values["FunctionName"].strip()
    if not name:
        raise FormError("FunctionName is required")
    args: dict = {}
    for k in ("Timeout", "ReservedConcurrentExecutions"):
        if values[k].strip():
            args[k] = number(values[k])
    duration = {k: number(values[k]) for k in ("fixed_ms", "per_record_ms") if values[k].strip()}
    if duration:
        args["duration"] = duration
    lab.create_function(name, **args)
    return f"function {name} created"


def function_edit_submit(lab, current: dict, values: dict) -> str:
    name = current["FunctionName"]
    args: dict = {}
    t = values["Timeout"].strip()
    if t and t != _s(current["Timeout"]):
        args["Timeout"] = number(t)
    r = values["ReservedConcurrentExecutions"].strip()
    if r != _s(current["ReservedConcurrentExecutions"]):
        args["ReservedConcurrentExecutions"] = number(r) if r else None
    duration = {}
    for k in ("fixed_ms", "per_record_ms"):
        v = values[k].strip()
        if v and v != _s(current[k]):
            duration[k] = number(v)
    if duration:
        args["duration"] = duration
    if not args:
        return f"function {name}: nothing changed"
    lab.update_function(name, **args)
    shown = {k: v for k, v in args.items() if k != "duration"} | duration
    return f"function {name}: " + ", ".join(f"{k}={v}" for k, v in shown.items())


# -- event source mappings ------------------------------------------------------------------

MAPPING_INTS = ("BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor",
                "MaximumRetryAttempts", "MaximumRecordAgeInSeconds")
STREAM_ONLY = ("StartingPosition", "StartingPositionTimestamp", "ParallelizationFactor",
               "BisectBatchOnFunctionError", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
               "OnFailure")
QUEUE_ONLY = ("MaximumConcurrency",)
CREATE_ONLY = ("EventSourceArn", "StartingPosition", "StartingPositionTimestamp")
CLEARABLE = ("OnFailure", "MaximumConcurrency")
LABELS = {
    "BatchSize": "BatchSize (default 100 streams, 10 queues; 1-10000)",
    "MaximumBatchingWindowInSeconds": "MaximumBatchingWindowInSeconds (default 0, 0-300)",
    "StartingPosition": "StartingPosition (streams: required)",
    "StartingPositionTimestamp": "StartingPositionTimestamp (AT_TIMESTAMP: epoch seconds)",
    "ParallelizationFactor": "ParallelizationFactor (streams; default 1, 1-10)",
    "BisectBatchOnFunctionError": "BisectBatchOnFunctionError (streams)",
    "MaximumRetryAttempts": "MaximumRetryAttempts (streams; default -1 = until expiry, "
                            "0-10000)",
    "MaximumRecordAgeInSeconds": "MaximumRecordAgeInSeconds (streams; default -1, 60-604800)",
    "OnFailure": "DestinationConfig OnFailure destination (streams)",
    "ReportBatchItemFailures": "FunctionResponseTypes ReportBatchItemFailures",
    "MaximumConcurrency": "ScalingConfig MaximumConcurrency (SQS; 2-1000)",
    "Enabled": "Enabled",
}


def mapping_values(config: dict) -> dict:
    """A stored mapping configuration as the form's strings."""
    out = {k: _s(config.get(k)) for k in MAPPING_INTS}
    out["StartingPosition"] = _s(config.get("StartingPosition"))
    out["StartingPositionTimestamp"] = _s(config.get("StartingPositionTimestamp"))
    for k in ("BisectBatchOnFunctionError", "Enabled"):
        out[k] = "" if k not in config else ("true" if config[k] else "false")
    out["OnFailure"] = _s(((config.get("DestinationConfig") or {}).get("OnFailure") or {})
                          .get("Destination"))
    out["ReportBatchItemFailures"] = (
        "true" if "ReportBatchItemFailures" in (config.get("FunctionResponseTypes") or [])
        else "false")
    out["MaximumConcurrency"] = _s((config.get("ScalingConfig") or {}).get("MaximumConcurrency"))
    out["FunctionName"] = _s(config.get("FunctionName"))
    out["EventSourceArn"] = _s(config.get("EventSourceArn"))
    return out


def mapping_params(values: dict, names) -> dict:
    """UpdateEventSourceMapping / CreateEventSourceMapping parameters for
    the given form fields (their empty values mean: remove, for the
    clearable ones)."""
    p: dict = {}
    for k in names:
        v = values.get(k, "").strip()
        if k in MAPPING_INTS:
            p[k] = number(v)
        elif k in ("FunctionName", "EventSourceArn", "StartingPosition"):
            p[k] = v
        elif k == "StartingPositionTimestamp":
            p[k] = number(v)
        elif k in ("BisectBatchOnFunctionError", "Enabled"):
            p[k] = v == "true"
        elif k == "OnFailure":
            p["DestinationConfig"] = {"OnFailure": {"Destination": v}}
        elif k == "ReportBatchItemFailures":
            p["FunctionResponseTypes"] = ["ReportBatchItemFailures"] if v == "true" else []
        elif k == "MaximumConcurrency":
            p["ScalingConfig"] = {"MaximumConcurrency": number(v)} if v else {}
    return p


def mapping_fields(lab, current: dict | None = None, selected_function: str | None = None,
                   selected_source: str | None = None) -> list[Field]:
    choices = rm.form_choices(lab)
    destinations = (("(none)", DEFAULT),) + tuple(choices["destinations"])
    positions = (("(none: required for streams)", DEFAULT), ("LATEST", "LATEST"),
                 ("TRIM_HORIZON", "TRIM_HORIZON"), ("AT_TIMESTAMP", "AT_TIMESTAMP"))
    functions = tuple((f, f) for f in choices["functions"])
    if current is None:
        v: dict = {}
        fields = [
            Field("label", "label in the lab (optional; default: the function's name)"),
            Field("FunctionName", "FunctionName", selected_function or (
                choices["functions"][0] if choices["functions"] else ""), "choice", functions),
            Field("EventSourceArn", "EventSourceArn (a stream, queue or table stream of the lab)",
                  selected_source or (choices["sources"][0][1] if choices["sources"] else ""),
                  "choice", tuple(choices["sources"])),
        ]
        kind = None
    else:
        v = mapping_values(current["config"])
        kind = current["kind"]
        fields = [Field("label", "label", current["label"], "readonly"),
                  Field("FunctionName", "FunctionName", v["FunctionName"], "choice", functions),
                  Field("EventSourceArn", "EventSourceArn (create only)", v["EventSourceArn"],
                        "readonly")]
    stream = kind in ("kinesis", "dynamodb")
    queue = kind in ("sqs", "sqs-fifo")
    for name in ("BatchSize", "MaximumBatchingWindowInSeconds", "StartingPosition",
                 "StartingPositionTimestamp", "ParallelizationFactor",
                 "BisectBatchOnFunctionError", "MaximumRetryAttempts",
                 "MaximumRecordAgeInSeconds", "OnFailure", "ReportBatchItemFailures",
                 "MaximumConcurrency", "Enabled"):
        if (queue and name in STREAM_ONLY) or (stream and name in QUEUE_ONLY):
            continue
        label = LABELS[name]
        default = v.get(name, "")
        if current is not None and name in CREATE_ONLY:
            if stream:
                fields.append(Field(name, label.split(" (")[0] + " (create only)", default,
                                    "readonly"))
            continue
        if name == "StartingPosition":
            fields.append(Field(name, label, default, "choice", positions))
        elif name in ("BisectBatchOnFunctionError", "ReportBatchItemFailures", "Enabled"):
            fields.append(Field(name, label, default, "choice", BOOL_CHOICES))
        elif name == "OnFailure":
            fields.append(Field(name, label, default, "choice", destinations))
        else:
            fields.append(Field(name, label, default))
    if current is None:
        fields.append(Field(
            "json", "…or paste the JSON of `aws lambda get-event-source-mapping` (used instead "
            "of the fields above; ARNs are matched to the lab's resources by name)", "", "json"))
    return fields


def pasted_params(lab, text: str, notes: list[str]) -> dict:
    """The request a pasted get-/list-event-source-mapping output or
    CloudFormation Properties block makes (esmlab/paste.py maps it onto the
    lab's account and Region); what it changed goes to `notes`."""
    from esmlab.paste import mappings_of, normalise

    try:
        pasted = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(f"the pasted JSON does not parse: {exc}") from exc
    found = mappings_of(pasted)
    if not found:
        raise FormError("paste one JSON object: the output of get-event-source-mapping (or "
                        "list-event-source-mappings, or a CloudFormation Properties block)")
    if len(found) > 1:
        notes.append(f"the paste holds {len(found)} mappings: the first is created")
    tables = lab.engine.tables
    params, changed = normalise(
        found[0], lambda t: tables.info(t)["stream_arn"] if t in tables.names() else None)
    notes.extend(changed)
    return params


def _label_from_source(lab, arn: str) -> str | None:
    """A new mapping is labelled by its source (the queue, stream or table
    name; name-2, name-3… when taken), as the tree lists it."""
    try:
        base = arns.name_of(arn)
    except Exception:      # an ARN AWS will refuse: let create_mapping say why
        return None
    taken = {m["label"] for m in lab.engine.mappings.all_rows()}
    label, n = base, 1
    while label in taken:
        n += 1
        label = f"{base}-{n}"
    return label


def mapping_create_submit(lab, values: dict) -> tuple[str, str]:
    """Returns (the notice, the new mapping's label)."""
    label = values.get("label", "").strip() or None
    notes: list[str] = []
    if values.get("json", "").strip():
        params = pasted_params(lab, values["json"], notes)
    else:
        given = [k for k in values if k not in ("label", "json") and values[k].strip()]
        params = mapping_params(values, given)
    if label is None and params.get("EventSourceArn"):
        label = _label_from_source(lab, params["EventSourceArn"])
    made = lab.create_mapping(label=label, **params)
    new_label = lab.mapping(made["UUID"])["label"]
    line = (f"mapping {new_label} created ({made['UUID']}), state {made['State']}: "
            "step the clock to enable it")
    if notes:
        line += " (" + "; ".join(notes) + ")"
    return line, new_label


def mapping_edit_submit(lab, current: dict, values: dict) -> str:
    old = mapping_values(current["config"])
    changed = []
    for k, v in values.items():
        if k in ("label", "json") or k in CREATE_ONLY:
            continue
        v = v.strip()
        if v == old.get(k, ""):
            continue
        if not v and k not in CLEARABLE:
            continue                       # emptied: left as it is
        changed.append(k)
    if not changed:
        return f"mapping {current['label']}: nothing changed"
    params = mapping_params(values, changed)
    lab.update_mapping(current["label"], **params)
    return (f"mapping {current['label']} updated (UpdateEventSourceMapping "
            + ", ".join(sorted(params)) + ")")
