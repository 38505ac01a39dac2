"""Bring your own system: build a lab from a SAM or CloudFormation template
or a Terraform module.

Each reader turns its file into a `Plan`: the lab's resources in the
scenario format (`resources:` of docs/scenarios.md), plus notes saying what
was assumed and what the lab does not model. The plan becomes an ordinary
scenario with no steps, so the resources are validated and created exactly
as a lesson's are, and `esmlab export scenario` can turn the lab into a
lesson file afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("topics", "buckets", "queues", "streams", "tables", "functions", "mappings")


class TemplateError(Exception):
    """A file that cannot be imported; the message says why in one sentence."""


@dataclass
class Plan:
    source: str
    resources: dict = field(default_factory=lambda: {k: [] for k in KINDS})
    assumed: list[str] = field(default_factory=list)      # values the file did not give
    not_modelled: list[str] = field(default_factory=list)  # resources or settings left out
    notes: list[str] = field(default_factory=list)         # everything else worth saying
    # (stream name, consumer name, where) of each enhanced fan-out consumer
    # the file declares, in any order; attach_consumers() puts them on the
    # stream entries (their `Consumers` key).
    consumers: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, kind: str, entry: dict) -> None:
        self.resources[kind].append(entry)

    def attach_consumers(self) -> None:
        streams = {s["StreamName"]: s for s in self.resources["streams"]}
        for stream, consumer, where in self.consumers:
            if stream in streams:
                streams[stream].setdefault("Consumers", []).append(consumer)
            else:
                self.not_modelled.append(f"{where}: its stream {stream} is not created by the "
                                         "file")

    def keep_mappings_with_sources(self) -> None:
        """Leave out (and say so) a mapping whose source the file does not
        create: the lab can only read its own queues, streams and tables."""
        from esmlab.engine import arns

        r = self.resources
        known = {arns.queue_arn(q["QueueName"]) for q in r["queues"]}
        known |= {arns.stream_arn(s["StreamName"]) for s in r["streams"]}
        # A consumer ARN (without the creation time: the lab's consumer of
        # that name stands for it) reads its stream.
        known |= {f"{arns.stream_arn(s['StreamName'])}/consumer/{c}" for s in r["streams"]
                  for c in s.get("Consumers", [])}
        known |= {arns.table_arn(t["TableName"]) for t in r["tables"]}
        kept = []
        for m in r["mappings"]:
            arn = str(m.get("EventSourceArn", ""))
            if (arn.split("/stream/", 1)[0] if ":dynamodb:" in arn else arn) in known:
                kept.append(m)
            else:
                self.not_modelled.append(f"mapping {m['id']}: its source {arn or '(none)'} is "
                                         "not created by the file, so the lab has nothing to read")
        r["mappings"] = kept

    def scenario(self) -> dict:
        """The plan as a scenario document with no steps."""
        name = Path(self.source).stem or "imported"
        return {"name": name, "title": f"Imported from {Path(self.source).name}",
                "see": "The resources of " + Path(self.source).name + " as a lab; add steps "
                       "(traffic, behaviours, advances) to make it a lesson.",
                "seed": 1, "resources": {k: v for k, v in self.resources.items() if v},
                "steps": [{"say": "The resources of " + Path(self.source).name
                           + " are in place; nothing has been sent yet."}]}


def mapping_params(plan: Plan, where: str, params: dict) -> dict:
    """The parameters the lab's mapping format takes; the others are named
    in the plan's notes instead of being dropped silently."""
    from esmlab.scenario.schema import MAPPING_RESOURCE

    known = set(MAPPING_RESOURCE.keys)
    left = sorted(set(params) - known)
    if left:
        plan.not_modelled.append(f"mapping {where}: {', '.join(left)}")
    return {k: v for k, v in params.items() if k in known}


def read_plan(path: str, parameters: dict[str, str] | None = None, ask=None) -> Plan:
    """The plan of a template or module, by its kind (.tf or a folder is
    Terraform; anything else CloudFormation or SAM). `ask(name)` is called
    for a parameter or variable that has no value (None: assume one)."""
    p = Path(path)
    if not p.exists():
        raise TemplateError(f"{path}: no such file or folder")
    if p.is_dir() or p.suffix == ".tf":
        from esmlab.imports.terraform import read_terraform
        return read_terraform(p, parameters or {}, ask)
    from esmlab.imports.cloudformation import read_template
    return read_template(p, parameters or {}, ask)


def build_lab(plan: Plan, path: str):
    """Create the plan's resources in a new lab at `path`, one command each,
    in the order a lesson's are made. A resource AWS would refuse (say a
    queue whose visibility timeout is shorter than its function's timeout)
    is left out with AWS's message in the plan's notes. Returns the open Lab."""
    import yaml

    from esmlab.errors import AwsError, LabError
    from esmlab.scenario.loader import ScenarioError, load_scenario_text
    from esmlab.scenario.player import SETUP_ORDER, Player, sorted_queues

    try:
        scenario = load_scenario_text(yaml.safe_dump(plan.scenario(), sort_keys=False),
                                      plan.source)
    except ScenarioError as error:
        raise TemplateError(f"{plan.source}: the template's resources do not fit the lab: "
                            f"{error.message}") from None
    player = Player.new(scenario, path)
    for kind in SETUP_ORDER:
        entries = scenario.resources.get(kind, [])
        for entry in sorted_queues(entries) if kind == "queues" else entries:
            try:
                player.create(kind, entry)
            except (AwsError, LabError) as error:
                name = entry.get("id") or next(iter(entry.values()))
                plan.notes.append(f"{kind[:-1]} {name} was not created: {error}")
    return player.lab
