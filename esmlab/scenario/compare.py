"""`esmlab compare`: play a lesson twice, as written and with changed
settings, and show what the change did.

A change is `PATH=VALUE`, e.g. `mappings.orders.BisectBatchOnFunctionError=true`,
`queues.orders.VisibilityTimeout=180`, `functions.worker.Timeout=30` or
`profile=classic`. The changed lesson is validated like any scenario file,
so a value the format refuses is reported with its reason and nothing runs.
Both runs start from the same seed, so every difference comes from the
change: the report names the first journal event where the two runs part.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from esmlab.scenario.durations import format_duration
from esmlab.scenario.loader import ScenarioError, load_scenario_text

# Top-level settings a change may name directly.
TOP_LEVEL = ("seed", "profile", "start")
# Resource lists and the key that names an entry of each.
NAME_KEYS = {"functions": "FunctionName", "queues": "QueueName", "streams": "StreamName",
             "tables": "TableName", "topics": "Name", "buckets": "Bucket"}
KINDS = (*NAME_KEYS, "mappings")
# Queue settings that live under Attributes in a scenario (and in AWS's API).
QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                    "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize", "RedrivePolicy",
                    "FifoQueue", "ContentBasedDeduplication")


class CompareError(Exception):
    """A change that cannot be applied; the message says why in one sentence."""


@dataclass
class Change:
    path: str
    value: Any


def parse_change(text: str) -> Change:
    """`PATH=VALUE`; VALUE is read as YAML (true, 180, classic, {Filters: []})."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise CompareError(f"--set {text!r}: expected PATH=VALUE, e.g. "
                           "mappings.orders.BatchSize=5")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return Change(path.strip(), value)


def _mapping_names(entry: dict) -> set[str]:
    """What a change may call a mapping: its id, its function, or its source."""
    names = {entry.get("id"), entry.get("FunctionName")}
    arn = entry.get("EventSourceArn") or ""
    if arn:
        tail = arn.rsplit(":", 1)[-1]
        names.add(tail.split("/")[1] if tail.startswith(("stream/", "table/")) else tail)
    return {n for n in names if n}


def _find_entry(data: dict, kind: str, name: str, change: Change) -> dict:
    entries = data.get("resources", {}).get(kind) or []
    if kind == "mappings":
        found = [e for e in entries if name in _mapping_names(e)]
    else:
        found = [e for e in entries if e.get(NAME_KEYS[kind]) == name]
    if not found:
        known = sorted({n for e in entries for n in (
            _mapping_names(e) if kind == "mappings" else {e.get(NAME_KEYS[kind])})} - {None})
        raise CompareError(f"--set {change.path}: the lesson has no {kind[:-1]} {name!r}"
                           + (f" (it has {', '.join(known)})" if known else ""))
    if len(found) > 1:
        raise CompareError(f"--set {change.path}: {name!r} names {len(found)} {kind}; "
                           "use a mapping's id")
    return found[0]


def apply_change(data: dict, change: Change) -> None:
    """Apply one change to a scenario's plain data (as yaml.safe_load gives it)."""
    parts = change.path.split(".")
    if len(parts) == 1:
        if parts[0] not in TOP_LEVEL:
            raise CompareError(f"--set {change.path}: a top-level setting is one of "
                               f"{', '.join(TOP_LEVEL)}; a resource setting is "
                               "KIND.NAME.PARAMETER, e.g. mappings.orders.BatchSize")
        data[parts[0]] = change.value
        return
    if len(parts) < 3 or parts[0] not in KINDS:
        raise CompareError(f"--set {change.path}: expected KIND.NAME.PARAMETER with KIND one "
                           f"of {', '.join(KINDS)}")
    kind, name, keys = parts[0], parts[1], parts[2:]
    target = _find_entry(data, kind, name, change)
    if kind == "queues" and keys[0] in QUEUE_ATTRIBUTES:
        target = target.setdefault("Attributes", {})
    for key in keys[:-1]:
        nested = target.setdefault(key, {})
        if not isinstance(nested, dict):
            raise CompareError(f"--set {change.path}: {key} is not a map")
        target = nested
    target[keys[-1]] = change.value


def changed_text(text: str, changes: list[Change]) -> str:
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise CompareError("the lesson is not a map of settings")
    data = copy.deepcopy(data)
    for change in changes:
        apply_change(data, change)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# -- one run, summarised -----------------------------------------------------------------------

@dataclass
class RunSummary:
    """What one run showed, in the terms the comparison is made of."""
    label: str
    checks_passed: int = 0
    checks_total: int = 0
    error: str | None = None
    clock_ms: int = 0
    invocations: int = 0
    outcomes: dict = field(default_factory=dict)
    records_per_invocation: dict = field(default_factory=dict)   # mean, max
    dead_letters: dict = field(default_factory=dict)   # queue -> [bodies]
    destinations: dict = field(default_factory=dict)   # queue or sink -> count
    concurrency: dict = field(default_factory=dict)    # mapping -> {peak, by_minute}
    journal: list = field(default_factory=list)        # (at, kind, resource, reason)


def _outcome(inv: dict) -> str:
    if inv["status"] == "success":
        response = (inv.get("response") or {}).get("response")
        if isinstance(response, dict) and response.get("batchItemFailures"):
            return "partial"
    return inv["status"]


def summarise(label: str, player, play) -> RunSummary:
    from esmlab import readmodels

    lab = player.lab
    out = RunSummary(label=label, clock_ms=lab.now_ms - player.start_ms)
    checks = [c for s in play.steps for c in s.checks]
    out.checks_total = len(checks)
    out.checks_passed = sum(c.ok for c in checks)
    out.error = f"{play.error.code}: {play.error.message}" if play.error else None
    invocations = lab.invocations()
    out.invocations = len(invocations)
    for inv in invocations:
        kind = _outcome(inv)
        out.outcomes[kind] = out.outcomes.get(kind, 0) + 1
    sizes = [inv["size"] for inv in invocations if inv["status"] != "throttled"]
    if sizes:
        out.records_per_invocation = {"mean": round(sum(sizes) / len(sizes), 2),
                                      "max": max(sizes)}
    letters = readmodels.dead_letters(lab, limit=50)
    for q in letters["queues"]:
        bodies = [r["body"] for r in q["rows"]]
        if q["sources"]:
            out.dead_letters[q["name"]] = bodies
        if q["destination"]:
            out.destinations[q["name"]] = q["counts"]["total"]
    for sink in letters["sinks"]:
        out.destinations[sink["name"]] = sink["count"]
    labels = {m["uuid"]: m["label"] for m in lab.engine.mappings.all_rows()}
    for uuid, label in labels.items():
        runs = [inv for inv in invocations if inv["mapping"] == uuid and inv["status"] != "throttled"]
        out.concurrency[label] = concurrency_over_time(runs, player.start_ms)
    out.journal = [(at - player.start_ms, kind, resource, reason)
                   for at, kind, resource, _subject, reason, _data in lab.journal_signature()]
    return out


def concurrency_over_time(invocations: list[dict], start_ms: int) -> dict:
    """The peak number of invocations running at once, overall and in each
    minute of lab time (an invocation holds concurrency from start to end)."""
    edges = sorted([(inv["start_ms"], 1) for inv in invocations]
                   + [(inv["end_ms"] or inv["start_ms"], -1) for inv in invocations])
    running = peak = 0
    by_minute: dict[int, int] = {}
    level_after: dict[int, int] = {}   # running after a minute's last edge
    for at, step in edges:  # at one instant, ends (-1) sort before starts
        minute = (at - start_ms) // 60_000
        # what ran into the minute counts for it, as well as each change in it
        by_minute[minute] = max(by_minute.get(minute, running), running + step)
        running += step
        peak = max(peak, running)
        level_after[minute] = running
    series, level = [], 0
    for minute in range(max(by_minute, default=-1) + 1):
        # a minute without starts or ends keeps what was running before it
        series.append(by_minute.get(minute, level))
        level = level_after.get(minute, level)
    return {"peak": peak, "by_minute": series}


def first_divergence(a: RunSummary, b: RunSummary) -> dict | None:
    """The first journal event where the runs part, or None if they never do."""
    for index, (x, y) in enumerate(zip(a.journal, b.journal)):
        if x != y:
            return {"index": index + 1, "as_written": _event(x), "changed": _event(y)}
    if len(a.journal) != len(b.journal):
        index = min(len(a.journal), len(b.journal))
        longer = a if len(a.journal) > len(b.journal) else b
        return {"index": index + 1,
                "as_written": _event(a.journal[index]) if longer is a else None,
                "changed": _event(b.journal[index]) if longer is b else None}
    return None


def _event(e) -> dict:
    at, kind, resource, reason = e
    return {"at": "T+" + (format_duration(at) if at > 0 else "0s"), "kind": kind,
            "resource": resource, "reason": reason}


# -- the comparison ------------------------------------------------------------------------------

@dataclass
class Comparison:
    lesson: str
    title: str
    seed: int
    changes: list[Change]
    runs: tuple[RunSummary, RunSummary]
    parted: dict | None

    def to_dict(self) -> dict:
        def run(r: RunSummary) -> dict:
            d = {k: v for k, v in r.__dict__.items() if k != "journal"}
            d["journal_events"] = len(r.journal)
            return d
        from esmlab import __version__
        return {"lesson": self.lesson, "title": self.title, "seed": self.seed,
                "esmlab_version": __version__,
                "changes": [{"path": c.path, "value": c.value} for c in self.changes],
                "as_written": run(self.runs[0]), "changed": run(self.runs[1]),
                "first_difference": self.parted}


def compare(lesson_path: str, changes: list[Change]) -> Comparison:
    """Play the lesson as written and with `changes`; raises ScenarioError
    for a lesson (or changed lesson) that does not validate, CompareError for
    a change that names nothing in the lesson."""
    from esmlab.scenario.report import play_one

    text = Path(lesson_path).read_text(encoding="utf-8")
    original = load_scenario_text(text, lesson_path)
    changed = load_scenario_text(changed_text(text, changes),
                                 f"{lesson_path} (with {', '.join(c.path for c in changes)})")
    summaries = []
    with tempfile.TemporaryDirectory(prefix="esmlab-compare-") as tmp:
        for label, scenario in (("as written", original), ("changed", changed)):
            player, play = play_one(scenario, Path(tmp) / f"{len(summaries)}.db")
            summaries.append(summarise(label, player, play))
            player.lab.close()
    a, b = summaries
    return Comparison(lesson=original.name, title=original.title, seed=original.seed,
                      changes=changes, runs=(a, b), parted=first_divergence(a, b))


__all__ = ["Change", "CompareError", "Comparison", "ScenarioError", "apply_change",
           "compare", "parse_change"]


# -- the report ------------------------------------------------------------------------------------

def _outcomes_text(r: RunSummary) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(r.outcomes.items())) or "none"


def _letters_text(r: RunSummary) -> str:
    if not r.dead_letters:
        return "no DLQ"
    return "; ".join(f"{q}: {len(b)}" + (f" ({', '.join(map(repr, b[:4]))}"
                                         f"{' ...' if len(b) > 4 else ''})" if b else "")
                     for q, b in r.dead_letters.items())


def rows(cmp: Comparison) -> list[tuple[str, str, str]]:
    """(what, as written, changed) for the side-by-side table."""
    a, b = cmp.runs

    def both(fn) -> tuple[str, str]:
        return fn(a), fn(b)

    out = [
        ("checks", *both(lambda r: f"{r.checks_passed}/{r.checks_total} hold"
                         + (f" (stopped: {r.error})" if r.error else ""))),
        ("invocations", *both(lambda r: str(r.invocations))),
        ("outcomes", *both(_outcomes_text)),
        ("records per invocation", *both(lambda r: (
            f"mean {r.records_per_invocation['mean']:g}, max {r.records_per_invocation['max']}"
            if r.records_per_invocation else "-"))),
        ("DLQ contents", *both(_letters_text)),
        ("destination contents", *both(lambda r: "; ".join(
            f"{d}: {n}" for d, n in r.destinations.items()) or "no destination")),
    ]
    for label in sorted(set(a.concurrency) | set(b.concurrency)):
        out.append((f"concurrency of {label} (peak; per minute)", *both(
            lambda r, label=label: _concurrency_text(r.concurrency.get(label)))))
    out.append(("lab time at the end", *both(
        lambda r: "T+" + (format_duration(r.clock_ms) if r.clock_ms > 0 else "0s"))))
    out.append(("journal events", *both(lambda r: str(len(r.journal)))))
    return out


def _concurrency_text(c: dict | None) -> str:
    if not c:
        return "-"
    minutes = c["by_minute"]
    shown = " ".join(map(str, minutes[:12])) + (" ..." if len(minutes) > 12 else "")
    return f"{c['peak']}; {shown}" if minutes else str(c["peak"])


def print_comparison(cmp: Comparison, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    from esmlab import __version__

    changes = ", ".join(f"{c.path}={c.value!r}" for c in cmp.changes)
    console.print(f"[bold]{escape(cmp.title)}[/bold]  [dim]({escape(cmp.lesson)}, seed "
                  f"{cmp.seed}, esmlab {__version__})[/dim]", highlight=False)
    table = Table(show_lines=True)
    table.add_column("")
    table.add_column("as written")
    table.add_column("changed")
    for what, left, right in rows(cmp):
        style = None if left == right else "bold"
        table.add_row(escape(what), escape(left), escape(right), style=style)
    console.print(f"changed: {escape(changes)}", highlight=False)
    console.print(table)
    if cmp.parted is None:
        console.print("The two runs never part: the change made no difference to the journal.")
        return
    console.print(f"[bold]The runs part at journal event {cmp.parted['index']}:[/bold]",
                  highlight=False)
    for label, key in (("as written", "as_written"), ("changed", "changed")):
        e = cmp.parted[key]
        text = (f"{e['at']} {e['kind']} ({e['resource']}): {e['reason']}" if e
                else "(no more events)")
        console.print(f"  {label:10} {escape(text)}", highlight=False)


def run_compare(lesson: str, settings: list[str], as_json: bool = False, console=None) -> int:
    """The command: exit 0 with the comparison, 2 for a lesson or change
    that cannot be used (the reason on stderr, nothing played)."""
    import json
    import sys

    from rich.console import Console

    from esmlab.lessons import resolve

    path = resolve(lesson)
    try:
        changes = [parse_change(s) for s in settings]
        if not changes:
            raise CompareError("give at least one change: --set PATH=VALUE, e.g. "
                               "--set mappings.orders.BisectBatchOnFunctionError=true")
        if not Path(path).is_file():
            raise CompareError(f"no lesson or file named {lesson!r} (see esmlab lessons)")
        cmp = compare(path, changes)
    except (CompareError, ScenarioError, OSError) as error:
        print(f"esmlab compare: {error}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(cmp.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print_comparison(cmp, console or Console())
    return 0
