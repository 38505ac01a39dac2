"""Play a loaded scenario on a lab, one step at a time.

`Player(scenario, lab)` drives a Lab through the scenario: `setup()` creates
the declared resources, `steps()` yields one `StepResult` per step (so a
screen can advance one step at a time), `run()` plays everything and returns
a `PlayResult`. Every change goes through `lab.do(...)` (the Lab's command
log), so a played scenario is an ordinary lab: it can be inspected, rewound,
snapshotted and exported again.

Each step runs in one transaction: a step that sends 1,000 messages commits
once, and a step that fails leaves the lab exactly as it was before it. A
step that raises an AWS error is a failed step and playing stops there
(unless the step declares `fails_with`: then raising that error is what it
is for). A failed `expect` check does not stop the scenario: every check is
reported.
"""

from __future__ import annotations

import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from esmlab.engine import arns
from esmlab.engine.sources.consumers import parse_consumer_arn
from esmlab.engine.world import DEFAULT_START_MS
from esmlab.errors import AwsError, LabError
from esmlab.scenario.durations import format_duration
from esmlab.scenario.schema import function_name_of

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Resource kinds in the order setup() creates them: sinks and queues before
# the mappings that name them as destinations or sources; functions last
# before mappings.
SETUP_ORDER = ("topics", "buckets", "queues", "streams", "tables", "functions", "mappings")


# -- results -----------------------------------------------------------------------------


@dataclass
class CheckResult:
    """One `expect` check after evaluation."""

    kind: str                 # the check's name, e.g. "invocations"
    line: int                 # its line in the file
    ok: bool
    expected: Any             # what the check asked for (plain data)
    actual: Any               # what the lab showed (plain data)
    message: str              # one paragraph; for a failed check it names the scenario,
                              # the step (index and file:line), expected, actual, records
    records: list[str] = field(default_factory=list)  # the records involved
    note: str | None = None   # the check's own note, shown when it fails

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StepError:
    """Why a step (or the setup) could not be done."""

    code: str                 # AWS's exception name, "LabError", or the Python exception's
    message: str
    where: str                # "file:line"
    traceback: str | None = None  # for errors that are not AWS's or the lab's (engine bugs)
    status: int | None = None     # the HTTP status of an AWS error
    hint: str | None = None       # the lab's advice, shown beside AWS's message

    def __str__(self) -> str:
        text = f"{self.where}: {self.code}: {self.message}"
        return text + (f" (lab hint: {self.hint})" if self.hint else "")


@dataclass
class StepResult:
    index: int                # 1-based step number; 0 for the setup
    line: int                 # the step's line in the file
    kind: str                 # the action ("send_message", "expect", ..., or "setup")
    note: str | None = None
    narration: str | None = None  # the text of a `say` step
    summary: str = ""         # what the step did, in plain words
    ok: bool = True
    checks: list[CheckResult] = field(default_factory=list)
    error: StepError | None = None      # set when the step failed (playing stops)
    raised: StepError | None = None     # the error a `fails_with` step raised as expected
    result: Any = None        # what the lab returned (e.g. "idle" for run_until_idle)
    clock: int = 0            # virtual time (epoch ms) after the step
    started: int = 0          # virtual time (epoch ms) before the step
    events: list[dict] = field(default_factory=list)       # journal events of this step
    invocations: list[dict] = field(default_factory=list)  # invocations begun in this step
    prediction: Any = None    # the step's Prediction (question, answer, given, right)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["error"] = asdict(self.error) if self.error else None
        out["raised"] = asdict(self.raised) if self.raised else None
        out["prediction"] = self.prediction.to_dict() if self.prediction else None
        return out


@dataclass
class PlayResult:
    scenario: Any             # the loaded Scenario
    start_ms: int
    setup: StepResult | None = None
    steps: list[StepResult] = field(default_factory=list)

    @property
    def error(self) -> StepError | None:
        for result in [self.setup, *self.steps]:
            if result is not None and result.error is not None:
                return result.error
        return None

    @property
    def failed_checks(self) -> list[tuple[StepResult, CheckResult]]:
        return [(s, c) for s in self.steps for c in s.checks if not c.ok]

    @property
    def predictions(self) -> list:
        return [s.prediction for s in self.steps if s.prediction is not None]

    @property
    def ok(self) -> bool:
        results = [self.setup, *self.steps]
        return all(r is not None and r.ok for r in results) and \
            len(self.steps) == len(self.scenario.steps)


# -- helpers -----------------------------------------------------------------------------


def start_ms_of(scenario) -> int:
    """The lab clock's start for a scenario: its `start`, or the lab default."""
    if not scenario.start:
        return DEFAULT_START_MS
    moment = datetime.fromisoformat(scenario.start.replace("Z", "+00:00"))
    return (moment - EPOCH) // timedelta(milliseconds=1)


def template(text: str, n: int) -> str:
    """`{n}` templating: the exact text {n} becomes the record's number."""
    return text.replace("{n}", str(n))


def _duration_model(duration: dict) -> dict:
    """Scenario `{fixed, per_record}` (ms) -> the engine's `{fixed_ms, per_record_ms}`."""
    names = {"fixed": "fixed_ms", "per_record": "per_record_ms"}
    return {names[key]: value for key, value in duration.items() if key in names}


def sorted_queues(queues: list[dict]) -> list[dict]:
    """Queues in file order, except that a dead-letter queue declared in the
    file comes before every queue whose RedrivePolicy names it."""
    by_name = {q["QueueName"]: q for q in queues}
    done: list[dict] = []
    seen: set[str] = set()

    def visit(queue: dict, path: tuple[str, ...]) -> None:
        name = queue["QueueName"]
        if name in seen or name in path:  # a cycle is left for the engine to refuse
            return
        policy = (queue.get("Attributes") or {}).get("RedrivePolicy") or {}
        target = arns.name_of(policy.get("deadLetterTargetArn", "")) if policy else None
        if target in by_name:
            visit(by_name[target], path + (name,))
        if name not in seen:
            seen.add(name)
            done.append(queue)

    for queue in queues:
        visit(queue, ())
    return done


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- the player ----------------------------------------------------------------------------


class Player:
    """Plays `scenario` on `lab` (normally a fresh lab: see `Player.new`)."""

    def __init__(self, scenario, lab):
        self.scenario = scenario
        self.lab = lab
        self.start_ms = lab.engine.start_ms
        self.refs: dict[str, str] = {}     # mapping id in the file -> mapping UUID
        self.labels: dict[str, str] = {}   # mapping UUID -> the lab's label
        self.setup_result: StepResult | None = None
        self.results: list[StepResult] = []
        self.stopped = False               # a step failed: nothing more is played
        latest = lab.journal(newest_first=True, limit=1)
        self._journal_id = latest[0]["id"] if latest else 0
        self._invocations_seen = self._count_invocations()
        self._position = 0                 # steps played so far
        self.answers: dict[str, dict] = {}  # `as:` name -> {"response", "error"}
        self.predicted: dict[int, Any] = {}  # step number -> the learner's prediction
        self.notes: list[str] = []         # what pasted mappings needed changed to fit the lab
        self._invariants = None            # the `always:` checker, made at the first step
        self._sometimes: list[int] | None = None  # `sometimes:` checks not yet seen to hold

    @classmethod
    def new(cls, scenario, path: str | Path) -> "Player":
        """A player on a fresh lab at `path`, made from the scenario's name,
        seed, profile and start."""
        from esmlab.lab import Lab

        lab = Lab.create(path, name=scenario.name, seed=scenario.seed,
                         profile=scenario.profile, start_ms=start_ms_of(scenario))
        return cls(scenario, lab)

    # -- where things are -------------------------------------------------------------

    def where(self, line: int) -> str:
        return f"{self.scenario.path}:{line}"

    def replay_tag(self) -> str:
        """What replays this run exactly: the seed and the esmlab version
        (every report header and failure message carries it)."""
        from esmlab import __version__
        return f"seed {self.scenario.seed}, esmlab {__version__}"

    def mapping_ref(self, mapping_id: str) -> str:
        """The lab reference (UUID) of a mapping id used in the file."""
        return self.refs.get(mapping_id, mapping_id)

    def mapping_label(self, uuid: str | None) -> str | None:
        if uuid is None:
            return None
        if uuid not in self.labels:
            try:
                self.labels[uuid] = self.lab.mapping(uuid)["label"]
            except AwsError:
                return uuid
        return self.labels[uuid]

    # -- playing -------------------------------------------------------------------------

    def setup(self) -> StepResult:
        """Create the declared resources (once). A resource the lab refuses
        makes a failed setup: its error names the resource's line."""
        if self.setup_result is not None:
            return self.setup_result
        s = self.scenario
        first_line = min(s.lines.values(), default=1)
        result = StepResult(index=0, line=first_line, kind="setup", started=self.lab.now_ms)
        created: list[str] = []
        current = {"line": first_line}

        def run():
            res = s.resources
            for kind in SETUP_ORDER:
                entries = list(enumerate(res.get(kind, [])))
                if kind == "queues":
                    order = {id(q): i for i, q in entries}
                    entries = [(order[id(q)], q) for q in sorted_queues(res[kind])]
                for index, entry in entries:
                    current["line"] = s.lines.get((kind, index), first_line)
                    created.append(self._create(kind, entry))

        self._attempt(result, run, line_of=lambda: current["line"])
        counts: dict[str, int] = {}
        for kind in created:
            counts[kind] = counts.get(kind, 0) + 1
        result.summary = ("created " + ", ".join(_plural(n, k) for k, n in counts.items())
                          if counts else "no resources declared")
        if self.notes:   # what a pasted mapping needed to fit the lab
            result.summary += " (" + "; ".join(self.notes) + ")"
        self._finish(result)
        self.setup_result = result
        if not result.ok:
            self.stopped = True
        return result

    def create(self, kind: str, entry: dict) -> str:
        """Create one declared resource now (one command); an imported
        template creates its resources one by one with this, so a mapping AWS
        would refuse is reported alone."""
        return self._create(kind, entry)

    def _create(self, kind: str, entry: dict) -> str:
        lab = self.lab
        if kind == "topics":
            lab.do("create_topic", Name=entry["Name"])
            return "topic"
        if kind == "buckets":
            lab.do("create_bucket", Bucket=entry["Bucket"])
            return "bucket"
        if kind == "queues":
            self._create_queue(entry)
            return "queue"
        if kind == "streams":
            lab.do("create_stream", StreamName=entry["StreamName"],
                   ShardCount=entry.get("ShardCount", 1),
                   RetentionPeriodHours=entry.get("RetentionPeriodHours", 24))
            if entry.get("MaxRecordSizeInKiB"):
                lab.do("update_max_record_size", StreamName=entry["StreamName"],
                       MaxRecordSizeInKiB=entry["MaxRecordSizeInKiB"])
            for consumer in entry.get("Consumers") or []:
                lab.do("register_stream_consumer", StreamARN=arns.stream_arn(entry["StreamName"]),
                       ConsumerName=consumer)
            return "stream"
        if kind == "tables":
            self._create_table(entry)
            return "table"
        if kind == "functions":
            self._create_function(entry)
            return "function"
        self._create_mapping(entry)
        return "mapping"

    def _create_queue(self, entry: dict) -> None:
        attributes = dict(entry.get("Attributes") or {})
        if entry["QueueName"].endswith(".fifo"):
            # The format says a .fifo name makes a FIFO queue; AWS also wants
            # the FifoQueue attribute, so the player adds it.
            attributes.setdefault("FifoQueue", True)
        self.lab.do("create_queue", QueueName=entry["QueueName"], Attributes=attributes,
                    duplicate_rate=entry.get("duplicate_rate", 0.0))

    def _create_table(self, entry: dict) -> None:
        args = {k: entry[k] for k in ("TableName", "KeySchema", "AttributeDefinitions",
                                      "StreamSpecification") if k in entry}
        self.lab.do("create_table", **args)

    def _create_function(self, entry: dict) -> None:
        args = {"FunctionName": function_name_of(entry["FunctionName"]),
                "Timeout": entry.get("Timeout", 3),
                "behaviour": entry.get("behaviour") or {"mode": "succeed"}}
        for key in ("ReservedConcurrentExecutions", "MemorySize", "Environment"):
            if entry.get(key) is not None:
                args[key] = entry[key]
        if entry.get("duration"):
            args["duration"] = _duration_model(entry["duration"])
        self.lab.do("create_function", **args)

    def _create_mapping(self, entry: dict, result: StepResult | None = None) -> str:
        mapping_id = entry.get("id") or function_name_of(
            entry.get("FunctionName") or entry["FunctionArn"])
        from esmlab.paste import normalise
        params, notes = normalise({k: v for k, v in entry.items() if k != "id"},
                                  self._current_stream)
        self.notes.extend(f"mapping {mapping_id}: {note}" for note in notes)
        if "EventSourceArn" in params:
            params["EventSourceArn"] = self._consumer_arn(
                self._stream_of_table(params["EventSourceArn"]))
        made = self.lab.do("create_mapping", params=params, label=mapping_id)
        if result is not None:
            result.result = made
        uuid = made["UUID"]
        self.refs[mapping_id] = uuid
        self.labels[uuid] = self.lab.mapping(uuid)["label"]
        return uuid

    def _current_stream(self, table: str) -> str | None:
        tables = self.lab.engine.tables
        return tables.info(table)["stream_arn"] if table in tables.names() else None

    def _stream_of_table(self, arn: str | None) -> str | None:
        """A DynamoDB *table* ARN -> the table's current stream ARN. AWS takes
        only the stream ARN (arn:...:table/T/stream/<label>), whose label is
        the stream's creation time; a lesson may name the table instead."""
        if not arn or arns.service_of(arn) != "dynamodb" or "/stream/" in arn:
            return arn
        tables = self.lab.engine.tables
        name = arns.name_of(arn)
        if name in tables.names():
            return tables.info(name)["stream_arn"] or arn
        return arn

    def _consumer_arn(self, arn: str | None) -> str | None:
        """A lesson may name a stream consumer without the creation time AWS
        puts at the end of its ARN (arn:...:stream/S/consumer/C): the
        consumer C registered on S now, as the table ARN stands for its
        current stream above."""
        if not arn or "/consumer/" not in arn or parse_consumer_arn(arn) is not None:
            return arn
        base, _, name = arn.rpartition("/consumer/")
        stream = arns.name_of(base)
        consumers = self.lab.engine.consumers
        if stream in self.lab.engine.streams.names("kinesis") and name in consumers.names(stream):
            return consumers.describe(StreamARN=arns.stream_arn(stream), ConsumerName=name)[
                "ConsumerDescription"]["ConsumerARN"]
        return arn

    def steps(self) -> Iterator[StepResult]:
        """Play the remaining steps, yielding each result as it is done.
        Runs setup() first if it has not run. Stops after a failed step."""
        if self.setup_result is None:
            self.setup()
        while not self.stopped and self._position < len(self.scenario.steps):
            yield self.play_next()

    def next_prediction(self) -> dict | None:
        """The question the next step asks before it plays, if any (a face
        asks it and puts the learner's answer in `predicted`)."""
        if self.done:
            return None
        step = self.scenario.steps[self._position]
        return dict(step.predict, step=step.index) if step.predict else None

    def play_next(self) -> StepResult:
        """Play the next step and return its result."""
        if self.setup_result is None:
            self.setup()
        if self.stopped:
            raise LabError("the scenario stopped at a failed step; nothing more is played")
        step = self.scenario.steps[self._position]
        self._position += 1
        result = StepResult(index=step.index, line=step.line, kind=step.kind, note=step.note,
                            started=self.lab.now_ms)
        if step.predict:
            from esmlab.scenario.predictions import make
            result.prediction = make(step.predict, self.predicted.get(step.index))
        if step.kind == "say":
            result.narration = step.args
            result.summary = step.args
        elif step.kind == "expect":
            from esmlab.scenario.checks import evaluate_all
            result.checks = evaluate_all(self, step)
            result.ok = all(c.ok for c in result.checks)
            failed = sum(1 for c in result.checks if not c.ok)
            result.summary = (f"expect: {_plural(len(result.checks), 'check')}, all hold"
                              if not failed else
                              f"expect: {failed} of {_plural(len(result.checks), 'check')} "
                              "failed")
        else:
            self._attempt(result, lambda: self._act(step, result), line_of=lambda: step.line,
                          fails_with=step.fails_with)
        self._finish(result)
        self._watch(result)
        self.results.append(result)
        if step.name:
            self.answers[step.name] = {"response": result.result,
                                       "error": result.raised or result.error}
        if result.error is not None:
            self.stopped = True
        return result

    def _watch(self, result: StepResult) -> None:
        """`always:` invariants after every step; `sometimes:` checks until
        each has held once (one that never held fails the last step)."""
        s = self.scenario
        if s.always:
            if self._invariants is None:
                from esmlab.scenario.invariants import Invariants
                self._invariants = Invariants(self, s.always)
            result.checks.extend(self._invariants.check(
                result, f"{s.name}, step {result.index} ({self.where(result.line)})"))
        if self._sometimes is None:
            self._sometimes = list(range(len(s.sometimes)))
        if self._sometimes:
            from esmlab.scenario.checks import evaluate_all
            from esmlab.scenario.loader import Step
            still = []
            for i in self._sometimes:
                probe = Step(kind="expect", args=s.sometimes[i], line=result.line,
                             index=result.index, note=None)
                if not all(c.ok for c in evaluate_all(self, probe)):
                    still.append(i)
            self._sometimes = still
            if still and self._position >= len(s.steps):
                for i in still:
                    kinds = "; ".join(f"{c.kind} {c.args}" for c in s.sometimes[i])
                    result.checks.append(CheckResult(
                        kind="sometimes", line=s.sometimes[i][0].line, ok=False,
                        expected=f"sometimes {kinds} holds after at least one step",
                        actual="it never held", message=(
                            f"{s.name}: sometimes {kinds} ({self.where(s.sometimes[i][0].line)}) "
                            "never held after any step: the lesson's point did not happen")))
        if s.challenge and self._position >= len(s.steps):   # a challenge's goal, at the end
            from esmlab.scenario.challenge import goal_results
            result.checks.extend(goal_results(self, result.line, result.index))
        tag = f" [replay: {self.replay_tag()}]"
        for check in result.checks:
            if not check.ok and not check.message.endswith(tag):
                check.message += tag
        result.ok = result.ok and all(c.ok for c in result.checks)

    def run(self) -> PlayResult:
        """Play the whole scenario (what is left of it)."""
        for _ in self.steps():
            pass
        return self.result()

    def result(self) -> PlayResult:
        return PlayResult(scenario=self.scenario, start_ms=self.start_ms,
                          setup=self.setup_result, steps=list(self.results))

    @property
    def done(self) -> bool:
        return self.stopped or (self.setup_result is not None
                                and self._position >= len(self.scenario.steps))

    # -- one step -----------------------------------------------------------------------

    def _attempt(self, result: StepResult, action, line_of, fails_with: str | None = None):
        """Run `action` in one transaction; turn an exception into a failed
        step (or, with `fails_with`, check it is the expected error)."""
        lab = self.lab
        try:
            with lab.store.transaction():
                action()
        except AwsError as exc:
            lab.engine.load()
            error = StepError(exc.code, exc.message, self.where(line_of()), status=exc.status,
                              hint=getattr(exc, "hint", None))
        except LabError as exc:
            lab.engine.load()
            error = StepError("LabError", str(exc), self.where(line_of()))
        except Exception as exc:  # an engine bug: report it, with where it came from
            lab.engine.load()
            error = StepError(type(exc).__name__, str(exc) or repr(exc),
                              self.where(line_of()), traceback.format_exc())
        else:
            if fails_with:
                result.ok = False
                result.error = StepError(
                    "NoError", f"the step was expected to fail with {fails_with}, "
                    "but it succeeded", self.where(line_of()))
            return
        if fails_with and (error.code == fails_with
                           or fails_with in f"{error.code}: {error.message}"):
            result.raised = error
            result.summary = (result.summary + "; " if result.summary else "") + \
                f"refused as expected: {error.code}: {error.message}" + \
                (f" (lab hint: {error.hint})" if error.hint else "")
            return
        result.ok = False
        result.error = error

    def _finish(self, result: StepResult) -> None:
        result.clock = self.lab.now_ms
        result.events = self._new_events()
        result.invocations = self._new_invocations()

    def _new_events(self) -> list[dict]:
        events: list[dict] = []
        while True:
            page = self.lab.journal(after_id=self._journal_id, limit=1000)
            if not page:
                return events
            events.extend(page)
            self._journal_id = page[-1]["id"]

    def _count_invocations(self) -> int:
        total = 0
        while True:
            page = self.lab.invocations(offset=total, limit=1000)
            total += len(page)
            if len(page) < 1000:
                return total

    def _new_invocations(self) -> list[dict]:
        from esmlab.scenario.checks import describe_invocation
        out: list[dict] = []
        while True:
            page = self.lab.invocations(offset=self._invocations_seen, limit=1000)
            if not page:
                return out
            self._invocations_seen += len(page)
            out.extend(describe_invocation(self, inv, self.start_ms) for inv in page)

    def _act(self, step, result: StepResult) -> None:
        """Map one step to lab commands; sets result.summary and result.result."""
        lab, a, kind = self.lab, step.args, step.kind
        if kind == "advance":
            lab.advance_ms(a)
            result.summary = f"advance the clock {format_duration(a)}"
        elif kind == "step":
            ran = lab.step(a)
            result.result = ran
            result.summary = f"step {_plural(a, 'instant')} on the agenda ({ran} ran)"
        elif kind == "run_until_idle":
            result.result = lab.run_until_idle(a)
            result.summary = (f"run until idle (at most {format_duration(a)}): "
                              + ("idle" if result.result == "idle" else
                                 "stopped at the limit, work is still pending"))
        elif kind in ("put_record", "send_message"):
            self._templated(kind, a, result)
        elif kind == "put_records":
            result.result = lab.do("put_records", StreamName=a["StreamName"], Records=a["Records"])
            result.summary = f"put {_plural(len(a['Records']), 'record')} on {a['StreamName']}"
        elif kind == "put_aggregated_record":
            result.result = lab.do(kind, **a)
            result.summary = (f"put one KPL-aggregated record of "
                              f"{_plural(len(a['Records']), 'user record')} on {a['StreamName']}")
        elif kind == "send_message_batch":
            result.result = lab.do("send_message_batch", QueueName=a["QueueName"],
                                   Entries=a["Entries"])
            result.summary = (f"send a batch of {_plural(len(a['Entries']), 'message')} "
                              f"to {a['QueueName']}")
        elif kind in ("put_item", "update_item", "delete_item"):
            result.result = lab.do(kind, **a)
            result.summary = f"{kind.replace('_', ' ')} on {a['TableName']}"
        elif kind == "behaviour":
            name = function_name_of(a["function"])
            behaviour = {k: v for k, v in a.items() if k != "function"}
            lab.do("set_behaviour", FunctionName=name, behaviour=behaviour)
            result.summary = f"function {name}: behaviour {behaviour['mode']}"
        elif kind == "update_function":
            args = dict(a, FunctionName=function_name_of(a["FunctionName"]))
            if "duration" in args:
                args["duration"] = _duration_model(args["duration"])
            lab.do("update_function", **args)
            result.summary = f"update function {args['FunctionName']}"
        elif kind == "create_mapping":
            uuid = self._create_mapping(a, result)
            result.summary = f"create mapping {self.labels[uuid]}"
        elif kind == "update_mapping":
            params = {k: v for k, v in a.items() if k != "id"}
            result.result = lab.do("update_mapping", ref=self.mapping_ref(a["id"]), params=params)
            result.summary = f"update mapping {a['id']}: " + ", ".join(params)
        elif kind == "get_mapping":
            result.result = lab.engine.mappings.get(self.mapping_ref(a))
            result.summary = f"get mapping {a}"
        elif kind == "list_tags":
            ref = a.rsplit(":event-source-mapping:", 1)[-1]
            result.result = lab.engine.mappings.list_tags(self.mapping_ref(ref))
            result.summary = f"list tags of mapping {a}"
        elif kind == "list_mappings":
            result.result = lab.engine.mappings.list_response(**a)
            result.summary = "list mappings" + (" (" + ", ".join(
                f"{k} {v}" for k, v in a.items()) + ")" if a else "")
        elif kind in ("enable_mapping", "disable_mapping"):
            enabled = kind == "enable_mapping"
            lab.do("update_mapping", ref=self.mapping_ref(a), params={"Enabled": enabled})
            result.summary = f"{'enable' if enabled else 'disable'} mapping {a}"
        elif kind == "delete_mapping":
            result.result = lab.do("delete_mapping", ref=self.mapping_ref(a))
            result.summary = f"delete mapping {a}"
        elif kind == "set_queue_attributes":
            lab.do("set_queue_attributes", QueueName=a["QueueName"], Attributes=a["Attributes"])
            result.summary = f"set attributes of {a['QueueName']}: " + ", ".join(a["Attributes"])
        elif kind == "split_shard":
            lab.do("split_shard", **a)
            result.summary = f"split {a['ShardToSplit']} of {a['StreamName']}"
        elif kind == "merge_shards":
            lab.do("merge_shards", **a)
            result.summary = (f"merge {a['ShardToMerge']} and {a['AdjacentShardToMerge']} "
                              f"of {a['StreamName']}")
        elif kind.startswith("create_") and kind != "create_alias":
            plural = {"create_function": "functions", "create_queue": "queues",
                      "create_stream": "streams", "create_table": "tables",
                      "create_topic": "topics", "create_bucket": "buckets"}[kind]
            self._create(plural, a)
            name = next(v for k, v in a.items() if k in (
                "FunctionName", "QueueName", "StreamName", "TableName", "Name", "Bucket"))
            result.summary = f"create {kind[7:]} {name}"
        elif kind == "set_duplicate_rate":
            lab.do("set_duplicate_rate", QueueName=a["QueueName"], rate=a["rate"])
            result.summary = f"duplicate rate of {a['QueueName']}: {a['rate']:g}"
        elif kind == "set_retention":
            lab.do("set_retention", **a)
            result.summary = f"retention of {a['StreamName']}: {a['RetentionPeriodHours']} h"
        elif kind in ("receive_message", "delete_message", "change_message_visibility"):
            result.result = lab.do(kind, **a)
            result.summary = f"{kind.replace('_', ' ')} on {a['QueueName']}"
        elif kind in ("delete_function", "delete_queue", "delete_stream", "delete_table"):
            key = {"delete_function": "FunctionName", "delete_queue": "QueueName",
                   "delete_stream": "StreamName", "delete_table": "TableName"}[kind]
            name = function_name_of(a) if kind == "delete_function" else a
            result.result = lab.do(kind, **{key: name})
            result.summary = f"{kind.replace('_', ' ')} {name} (its mappings stay)"
        elif kind in ("update_role", "publish_version", "create_alias", "update_alias"):
            args = dict(a, FunctionName=function_name_of(a["FunctionName"]))
            if kind == "update_role":
                args = {"grant": [], "revoke": [], **args}
            result.result = lab.do(kind, **args)
            result.summary = f"{kind.replace('_', ' ')} of {args['FunctionName']}" + (
                f" {a['Name']}" if "Name" in a else "")
        elif kind == "put_function_recursion_config":
            name = function_name_of(a["FunctionName"])
            result.result = lab.do(kind, FunctionName=name, RecursiveLoop=a["RecursiveLoop"])
            result.summary = f"function {name}: RecursiveLoop {a['RecursiveLoop']}"
        elif kind == "start_message_move_task":
            result.result = lab.do(kind, **a)
            result.summary = f"start a message move task on {a['SourceArn'].split(':')[-1]}"
        elif kind == "list_message_move_tasks":
            result.result = lab.list_message_move_tasks(a["SourceArn"], a.get("MaxResults"))
            result.summary = (f"list the message move tasks of {a['SourceArn'].split(':')[-1]}: "
                              f"{len(result.result['Results'])}")
        elif kind == "cancel_message_move_task":
            handle = a.get("TaskHandle") or self._running_move_task(a.get("SourceArn"))
            result.result = lab.do(kind, TaskHandle=handle)
            result.summary = "cancel the message move task"
        elif kind == "register_stream_consumer":
            result.result = lab.do(kind, **a)
            result.summary = (f"register consumer {a['ConsumerName']} on "
                              f"{arns.name_of(a['StreamARN'])} (enhanced fan-out)")
        elif kind in ("describe_stream_consumer", "deregister_stream_consumer"):
            args = dict(a)
            if "ConsumerARN" in args:
                args["ConsumerARN"] = self._consumer_arn(args["ConsumerARN"])
            result.result = (lab.describe_stream_consumer(**args)
                             if kind == "describe_stream_consumer" else lab.do(kind, **args))
            result.summary = f"{kind.replace('_', ' ')} " + (
                a.get("ConsumerName") or a.get("ConsumerARN", "").rsplit("/", 1)[-1])
        elif kind == "list_stream_consumers":
            result.result = lab.list_stream_consumers(a["StreamARN"])
            result.summary = (f"list the consumers of {arns.name_of(a['StreamARN'])}: "
                              f"{len(result.result['Consumers'])}")
        elif kind == "set_profile":
            lab.do("set_profile", profile=a)
            result.summary = f"SQS scaling profile: {a}"
        elif kind == "set_account_concurrency":
            lab.do("set_account_concurrency", ConcurrentExecutions=a)
            result.summary = f"account concurrency quota: {a}"
        else:  # pragma: no cover - the loader accepts only known kinds
            raise LabError(f"the player does not know the step kind {kind!r}")

    def _running_move_task(self, source_arn: str | None) -> str:
        """The TaskHandle of the running message move task on a queue."""
        if source_arn:
            for task in self.lab.list_message_move_tasks(source_arn, 10)["Results"]:
                if task["Status"] == "RUNNING":
                    return task["TaskHandle"]
        raise LabError("cancel_message_move_task needs a TaskHandle, or the SourceArn of a queue "
                       f"with a RUNNING message move task (none on {source_arn})")

    def _templated(self, kind: str, a: dict, result: StepResult) -> None:
        """put_record / send_message, `count` times, with `{n}` templating
        (only when the step gives `count`)."""
        field_name = "Data" if kind == "put_record" else "MessageBody"
        count = a.get("count")
        pad = a.get("pad_to_kib")
        args = {k: v for k, v in a.items() if k not in ("count", "pad_to_kib")}
        for n in range(1, (count or 1) + 1):
            if count is not None:
                args[field_name] = template(a[field_name], n)
            if pad:
                args[field_name] = args[field_name].ljust(pad * 1024, ".")
            result.result = self.lab.do(kind, **args)
        total = count or 1
        if kind == "put_record":
            result.summary = (f"put {_plural(total, 'record')} on {a['StreamName']} "
                              f"(partition key {a['PartitionKey']})")
        else:
            result.summary = f"send {_plural(total, 'message')} to {a['QueueName']}"
