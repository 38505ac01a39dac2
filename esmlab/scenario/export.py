"""Export a lab: its command log as a scenario file, an invocation's event as JSON.

`export_scenario(lab, name)` turns `lab.commands()` into scenario YAML that,
played, rebuilds the same lab: the same journal, event for event
(`lab.journal_signature()`). Commands are kept in their exact order, since
the order of creations is part of the journal and of the lab's seeded
choices:
- the leading creations that already follow the player's setup order
  (topics, buckets, queues, streams, tables, functions, mappings) become
  `resources`; every later command becomes a step (`create_queue`,
  `create_function`, ... exist as steps for this);
- clock commands become `advance`, `step` and `run_until_idle`;
- consecutive sends or puts that differ only by a running number
  ("order 1", "order 2", ...) become one step with `{n}` and `count`;
- mapping references become the mapping's label (its `id` in the file).

Not reproduced: the `lab.rewound` / `lab.restored` events a rewind or a
snapshot restore adds to the journal (they are not commands), and the
results of a user's own handler (a replay calls the handler again).

`export_event(lab, invocation_id)` gives the event the function received,
as indented JSON that `sam local invoke -e` takes.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from esmlab.engine import payloads
from esmlab.errors import LabError
from esmlab.scenario import schema as S
from esmlab.scenario.durations import format_duration
from esmlab.scenario.player import SETUP_ORDER

# command -> (resources list, the command's args -> the resource entry)
CREATES = {
    "create_topic": "topics", "create_bucket": "buckets", "create_queue": "queues",
    "create_stream": "streams", "create_table": "tables", "create_function": "functions",
    "create_mapping": "mappings",
}
MAPPING_KEYS = set(S.MAPPING_RESOURCE.keys) - {"id"}
IGNORED_MAPPING_KEYS = {"FilterCriteriaError", "KMSKeyArn", "ProvisionedPollerConfig", "Tags"}


def _scenario_name(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    return text or "exported-lab"


def _duration(model: dict | None) -> dict | None:
    """The engine's {fixed_ms, per_record_ms} -> the file's {fixed, per_record}."""
    if not model:
        return None
    names = {"fixed_ms": "fixed", "per_record_ms": "per_record"}
    return {names[k]: format_duration(v) for k, v in model.items() if k in names}


def _behaviour(behaviour: dict | None) -> dict:
    """A behaviour with only the options its mode takes (the file refuses others)."""
    behaviour = dict(behaviour or {"mode": "succeed"})
    variant = S.BEHAVIOUR_VARIANTS.get(behaviour.get("mode"))
    if variant is None:
        return behaviour
    return {k: v for k, v in behaviour.items() if k == "mode" or k in variant.options}


def _without_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


class _Exporter:
    def __init__(self, lab):
        self.lab = lab
        self.commands = lab.commands()
        created = self._all_events("mapping.created")
        self.created = iter([(e["resource"], (e["data"] or {}).get("uuid")) for e in created])
        self.labels: dict[str, str] = {}  # uuid or label -> label (the file's mapping id)
        self.resources: dict[str, list] = {kind: [] for kind in SETUP_ORDER}
        self.steps: list[dict] = []

    def _all_events(self, kind: str) -> list[dict]:
        out: list[dict] = []
        while True:
            page = self.lab.journal(kind=kind, after_id=out[-1]["id"] if out else 0, limit=1000)
            out.extend(page)
            if len(page) < 1000:
                return out

    # -- one command at a time ---------------------------------------------------------------

    def run(self) -> None:
        in_prefix, rank = True, -1
        i = 0
        cmds = self.commands
        while i < len(cmds):
            c = cmds[i]
            name, args = c["name"], c["args"]
            if in_prefix and name in CREATES:
                kind = CREATES[name]
                if SETUP_ORDER.index(kind) >= rank:
                    rank = SETUP_ORDER.index(kind)
                    self.resources[kind].append(self.entry(name, args))
                    i += 1
                    continue
            if name == "compact":   # what history the lab keeps, not what it does
                i += 1
                continue
            in_prefix = False
            if name in ("send_message", "put_record"):
                i = self.templated(i)
                continue
            self.steps.append(self.step(c))
            i += 1

    def entry(self, name: str, a: dict) -> dict:
        """The resource entry (also a create_* step's value) for a create command."""
        if name == "create_topic":
            return {"Name": a["Name"]}
        if name == "create_bucket":
            return {"Bucket": a["Bucket"]}
        if name == "create_queue":
            entry = {"QueueName": a["QueueName"]}
            if a.get("Attributes"):
                entry["Attributes"] = dict(a["Attributes"])
            if a.get("duplicate_rate"):
                entry["duplicate_rate"] = a["duplicate_rate"]
            return entry
        if name == "create_stream":
            return _without_none({"StreamName": a["StreamName"],
                                  "ShardCount": a.get("ShardCount"),
                                  "RetentionPeriodHours": a.get("RetentionPeriodHours")})
        if name == "create_table":
            return _without_none({k: a.get(k) for k in (
                "TableName", "KeySchema", "AttributeDefinitions", "StreamSpecification")})
        if name == "create_function":
            return _without_none({
                "FunctionName": a["FunctionName"], "Timeout": a.get("Timeout"),
                "ReservedConcurrentExecutions": a.get("ReservedConcurrentExecutions"),
                "MemorySize": a.get("MemorySize"), "duration": _duration(a.get("duration")),
                "behaviour": _behaviour(a.get("behaviour")),
                "Environment": a.get("Environment")})
        if name == "create_mapping":
            return self.mapping_entry(a)
        raise LabError(f"cannot export command {name!r}")  # pragma: no cover

    def mapping_entry(self, a: dict) -> dict:
        params = dict(a.get("params") or {})
        label, uuid = next(self.created, (None, None))
        if label is None:  # no journal to learn it from: the lab's own default
            label = a.get("label") or S.function_name_of(
                params.get("FunctionName") or params.get("FunctionArn") or "mapping")
        self.labels[label] = label
        if uuid:
            self.labels[uuid] = label
        entry = {"id": label}
        for key, value in params.items():
            if key in IGNORED_MAPPING_KEYS:
                continue
            entry[key] = value
        return entry

    def ref(self, ref: str) -> str:
        return self.labels.get(ref, ref)

    def step(self, c: dict) -> dict:
        name, a, at = c["name"], c["args"], c["at_ms"]
        if name in CREATES:
            return {name: self.entry(name, a)}
        if name == "advance_to":
            return {"advance": format_duration(max(0, a["until_ms"] - at))}
        if name == "run_until_idle":
            return {"run_until_idle": format_duration(max(0, a["until_ms"] - at))}
        if name == "step":
            return {"step": a.get("count", 1)}
        if name == "set_behaviour":
            return {"behaviour": {"function": a["FunctionName"], **_behaviour(a["behaviour"])}}
        if name == "update_function":
            value = dict(a)
            if "duration" in value:
                value["duration"] = _duration(value["duration"]) or {}
            return {"update_function": value}
        if name == "update_mapping":
            params = dict(a.get("params") or {})
            mapping_id = self.ref(a["ref"])
            if params == {"Enabled": True}:
                return {"enable_mapping": mapping_id}
            if params == {"Enabled": False}:
                return {"disable_mapping": mapping_id}
            return {"update_mapping": {"id": mapping_id, **params}}
        if name == "delete_mapping":
            return {"delete_mapping": self.ref(a["ref"])}
        if name == "set_profile":
            return {"set_profile": a["profile"]}
        if name == "set_account_concurrency":
            return {"set_account_concurrency": a["ConcurrentExecutions"]}
        if name == "set_duplicate_rate":
            return {"set_duplicate_rate": {"QueueName": a["QueueName"], "rate": a["rate"]}}
        if name in ("send_message_batch", "put_records", "put_item", "update_item",
                    "delete_item", "set_queue_attributes", "split_shard", "merge_shards",
                    "set_retention", "receive_message", "delete_message",
                    "change_message_visibility", "start_message_move_task",
                    "put_function_recursion_config",
                    "cancel_message_move_task", "register_stream_consumer", "put_aggregated_record",
                    "deregister_stream_consumer"):
            return {name: _without_none(dict(a))}
        deletes = {"delete_function": "FunctionName", "delete_queue": "QueueName",
                   "delete_stream": "StreamName", "delete_table": "TableName"}
        if name in deletes:
            return {name: a[deletes[name]]}
        if name in ("update_role", "publish_version", "create_alias", "update_alias"):
            return {name: _without_none(dict(a))}
        raise LabError(f"cannot export the command {name!r} as a scenario step")

    def templated(self, i: int) -> int:
        """send_message / put_record at i, joined with the following ones that
        differ only by a running number into one `count` step. Returns the
        index of the next command to export."""
        cmds = self.commands
        first = cmds[i]
        name = first["name"]
        field = "MessageBody" if name == "send_message" else "Data"
        body = first["args"][field]
        rest = {k: v for k, v in first["args"].items() if k != field}
        best_template, best_count = None, 1
        if "{n}" not in body:
            for pos in [m.start() for m in re.finditer("1", body)]:
                tmpl = body[:pos] + "{n}" + body[pos + 1:]
                count = 1
                while i + count < len(cmds):
                    c = cmds[i + count]
                    if c["name"] != name or c["at_ms"] != first["at_ms"]:
                        break
                    args = c["args"]
                    if {k: v for k, v in args.items() if k != field} != rest or \
                            args.get(field) != tmpl.replace("{n}", str(count + 1)):
                        break
                    count += 1
                if count > best_count:
                    best_template, best_count = tmpl, count
        value = _without_none(dict(first["args"]))
        if best_template is not None:
            value[field] = best_template
            value["count"] = best_count
        self.steps.append({name: value})
        return i + best_count

    # -- the file ---------------------------------------------------------------------------

    def document(self, name: str) -> dict:
        initial = self.lab.initial
        doc: dict[str, Any] = {
            "name": _scenario_name(name),
            "title": f"Lab '{initial.get('name', name)}', exported",
            "see": ("Everything that was done in this lab, replayed command by command: the "
                    "same resources, the same traffic and the same clock moves give the same "
                    "journal, event for event."),
            "seed": initial["seed"],
            "profile": initial["profile"],
            "start": payloads.iso(initial["start_ms"]),
        }
        resources = {k: v for k, v in self.resources.items() if v}
        if resources:
            doc["resources"] = resources
        doc["steps"] = self.steps or [{"say": "Nothing was done in this lab yet."}]
        return doc


class _Block(dict):
    """A map written in block style (steps and resource entries), whatever it holds."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Block, lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=False))


def export_scenario(lab, name: str) -> str:
    """The lab's command log as scenario YAML that replays to the same journal."""
    exporter = _Exporter(lab)
    exporter.run()
    doc = exporter.document(name)
    # Keys stay in the order the commands were given (the log keeps it): the
    # order of a behaviour's match, of message attributes or of an item's
    # attributes shows in the journal and the events, so the file must not
    # reorder them. Entries already put their name (id, function) first.
    resources = doc.get("resources") or {}
    for kind, entries in resources.items():
        resources[kind] = [_Block(entry) for entry in entries]
    doc["steps"] = [_Block(step) for step in doc["steps"]]
    header = (f"# Exported by `esmlab export scenario` from the lab {lab.initial.get('name')}\n"
              f"# ({len(exporter.commands)} commands). Play it with: esmlab play FILE\n")
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                              default_flow_style=None, width=100)


def export_event(lab, invocation_id: int) -> str:
    """The event invocation `invocation_id` received, as indented JSON for
    `sam local invoke -e`."""
    inv = lab.engine.functions.invocation(int(invocation_id))
    if inv is None:
        from esmlab.compaction import missing_invocation_note
        raise LabError(f"no invocation {invocation_id} in this lab"
                       + missing_invocation_note(lab, int(invocation_id)))
    if inv.get("event") is None:
        raise LabError(f"invocation {invocation_id} was throttled: it never reached the "
                       "function, so it has no event")
    return payloads.sam_event(inv["event"])
