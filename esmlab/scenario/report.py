"""`esmlab play`: play scenario files headless and report what happened.

Every file is loaded (and so checked) before anything is played: a file
with a mistake prints its `file:line: message` and nothing runs (exit 2).
Each scenario then plays on a fresh temporary lab, or on `--lab PATH` (a
new file, kept afterwards; only with a single scenario).

Rich report: the title and "what you will see", then a timeline in virtual
time (T+...): narration, each step, the invocations and key journal events
in plain words, each expect check marked ✓ or ✗ with its message; a verdict
line per file. JSON report (`--report json`): one document per scenario
(a list of them for several files), see `scenario_document`.

Exit code: 0 when every expect holds, 1 when one fails or a step fails, 2
for invalid files or a refused --lab.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from esmlab import __version__
from esmlab.errors import LabError
from esmlab.scenario.durations import format_duration
from esmlab.scenario.loader import ScenarioError, load_scenario
from esmlab.scenario.player import PlayResult, Player, StepResult
from esmlab.scenario.predictions import answers_for, load_answers, score

# Routine journal kinds left out of the rich timeline (they are in the JSON
# report): the sends, receives, deletes and writes every lesson is full of.
QUIET_KINDS = {"sqs.sent", "sqs.received", "sqs.deleted", "stream.put", "dynamodb.write",
               "dynamodb.no_change", "function.created", "sqs.queue_created",
               "stream.created", "table.created", "sink.created"}
MAX_EVENTS_PER_STEP = 25
PAGE = 1000


def _t(ms: int) -> str:
    return "T+" + ("0s" if ms <= 0 else format_duration(ms))


# -- the rich report ---------------------------------------------------------------------------


class RichReport:
    def __init__(self, console: Console, quiet: bool, asked: bool = False):
        self.out = console
        self.quiet = quiet
        self.asked = asked  # --quiz: the questions were printed when asked

    def print(self, text: str = "", **kw) -> None:
        self.out.print(text, soft_wrap=True, highlight=False, **kw)

    def begin(self, scenario) -> None:
        if self.quiet:
            return
        self.print(f"[bold]▶ {escape(scenario.title)}[/bold]  [dim]({escape(scenario.name)}, "
                   f"{escape(scenario.path)}, seed {scenario.seed}, profile "
                   f"{scenario.profile}, esmlab {__version__})[/dim]")
        self.print("[bold]What you will see:[/bold] " + escape(" ".join(scenario.see.split())))
        self.print()

    def step(self, player: Player, result: StepResult) -> None:
        if self.quiet:
            return
        start = player.start_ms
        when = _t(result.started - start).ljust(9)
        if result.kind == "say":
            self.print(f"{when} [italic]💬 {escape(result.narration or '')}[/italic]")
            return
        label = "setup" if result.index == 0 else f"{result.index}."
        p = result.prediction
        if p is not None and not self.asked:
            self.print(f"{' ' * 10}[bold]❓ step {result.index}: {escape(p.question)}[/bold]"
                       + (f"  [dim]({escape(', '.join(map(str, p.choices)))})[/dim]"
                          if p.choices else ""))
        line = f"{when} [bold]{label}[/bold] {escape(result.summary)}"
        if result.note:
            line += f"  [dim]— {escape(result.note)}[/dim]"
        self.print(line)
        shown = [e for e in result.events if e["kind"] not in QUIET_KINDS]
        for event in shown[:MAX_EVENTS_PER_STEP]:
            self.print(f"{_t(event['at_ms'] - start).ljust(9)}    [dim]{escape(event['kind'])}"
                       f"[/dim] {escape(event['reason'])}")
        if len(shown) > MAX_EVENTS_PER_STEP:
            self.print(" " * 13 + f"[dim]… and {len(shown) - MAX_EVENTS_PER_STEP} more events "
                       "(--report json has them all)[/dim]")
        for check in result.checks:
            mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
            self.print(f"{' ' * 13}{mark} {escape(check.message)}")
        if p is not None:
            said = "" if p.right is None else (
                f"  [green]✓ you said {escape(str(p.given))}[/green]" if p.right else
                f"  [red]✗ you said {escape(str(p.given))}[/red]")
            self.print(f"{' ' * 13}💡 answer: [bold]{escape(_answer(p.answer))}[/bold] — "
                       f"{escape(p.explain)}{said}")
        if result.error is not None:
            self.print(f"{' ' * 13}[red]✗ {escape(str(result.error))}[/red]")
            if result.error.traceback:
                self.print(escape(result.error.traceback), style="dim")

    def verdict(self, play: PlayResult) -> None:
        s = play.scenario
        checks = [c for step in play.steps for c in step.checks]
        failed = [c for c in checks if not c.ok]
        end = play.steps[-1].clock if play.steps else play.start_ms
        if play.ok:
            self.print(f"[green]✓ {escape(s.name)}: all {len(checks)} expect checks hold[/green] "
                       f"({len(play.steps)} steps, {_t(end - play.start_ms)})")
        else:
            reasons = []
            if failed:
                reasons.append(f"{len(failed)} of {len(checks)} expect checks failed")
            if play.error is not None:
                reasons.append(f"stopped at {play.error}")
            self.print(f"[red]✗ {escape(s.name)}: {escape('; '.join(reasons))}[/red] "
                       f"[dim](replay: seed {s.seed}, esmlab {__version__})[/dim]")
            if self.quiet:
                for check in failed:
                    self.print(f"  [red]✗[/red] {escape(check.message)}")
        tally = score(play.predictions)
        if tally["answered"]:
            self.print(f"  score: {tally['right']} of {tally['answered']} predictions right"
                       + (f" ({tally['asked'] - tally['answered']} not answered)"
                          if tally["asked"] > tally["answered"] else ""))
        if not self.quiet:
            self.print()

    def ask(self, question: dict):
        """--quiz: ask the next step's question on the terminal."""
        choices = question.get("choices")
        self.print(f"{' ' * 10}[bold]❓ step {question['step']}: "
                   f"{escape(question['question'])}[/bold]"
                   + (f"  [dim]({escape(', '.join(map(str, choices)))})[/dim]" if choices else ""))
        try:
            answer = input(" " * 13 + "your answer: ").strip()
        except EOFError:
            return None
        return answer or None


def _answer(answer) -> str:
    return ", ".join(map(str, answer)) if isinstance(answer, list) else str(answer)


# -- the JSON report ------------------------------------------------------------------------


def _all_pages(fetch) -> list:
    out: list = []
    while True:
        page = fetch(len(out))
        out.extend(page)
        if len(page) < PAGE:
            return out


def scenario_document(player: Player, play: PlayResult) -> dict:
    """The JSON report of one played scenario:
    {"scenario": {name, title, see, file, seed, profile, start_ms, esmlab_version}, "ok",
     "error" (with "replay": the seed and version),
     "setup": step, "steps": [step, ...] (events and invocations as ids),
     "invocations": [{id, at_ms, t, mapping, function, records (ids), keys, outcome, ...,
                      logs: [{at_ms, message}] as CloudWatch Logs holds them}],
     "queues": {name: [messages as they are at the end]},
     "destinations": {topic or bucket: [items]}, "journal": [events],
     "predictions": {asked, answered, right}}"""
    from esmlab.scenario.checks import describe_invocation

    lab = player.lab
    s = play.scenario
    engine = lab.engine

    def step_doc(result: StepResult | None) -> dict | None:
        if result is None:
            return None
        doc = result.to_dict()
        doc["events"] = [e["id"] for e in result.events]
        doc["invocations"] = [i["id"] for i in result.invocations]
        doc["t"] = _t(result.clock - play.start_ms)
        return doc

    invocations = _all_pages(lambda offset: lab.invocations(offset=offset, limit=PAGE))
    journal: list[dict] = []
    while True:
        page = lab.journal(after_id=journal[-1]["id"] if journal else 0, limit=PAGE)
        journal.extend(page)
        if len(page) < PAGE:
            break
    queues = {name: _all_pages(lambda offset, name=name: engine.queues.page(
        name, offset=offset, limit=PAGE)) for name in engine.queues.names()}
    destinations = {name: _all_pages(lambda offset, name=name: engine.sinks.items(
        name, offset=offset, limit=PAGE)) for name, _kind in engine.sinks.names()}
    error = play.error
    return {
        "scenario": {"name": s.name, "title": s.title, "see": s.see, "file": s.path,
                     "seed": s.seed, "profile": s.profile, "start_ms": play.start_ms,
                     "esmlab_version": __version__},
        "ok": play.ok,
        "error": None if error is None else {"code": error.code, "message": error.message,
                                             "where": error.where,
                                             "replay": player.replay_tag()},
        "setup": step_doc(play.setup),
        "steps": [step_doc(r) for r in play.steps],
        "invocations": [dict(describe_invocation(player, inv, play.start_ms),
                             logs=lab.invocation_logs(inv["id"])) for inv in invocations],
        "queues": queues,
        "destinations": destinations,
        "journal": journal,
        "predictions": score(play.predictions),
    }


# -- playing files -----------------------------------------------------------------------------


def load_all(files: list[str]) -> tuple[list, list[ScenarioError]]:
    scenarios, errors = [], []
    for file in files:
        try:
            scenarios.append(load_scenario(file))
        except ScenarioError as error:
            errors.append(error)
    return scenarios, errors


def play_one(scenario, path: Path, on_step=None, ask=None,
             answers: dict | None = None) -> tuple[Player, PlayResult]:
    """Play a scenario on a new lab at `path`; `on_step(player, result)` is
    called after the setup and after every step; `ask(question)` before a
    step that asks for a prediction (its answer is graded); `answers` gives
    the predictions up front (step number -> answer)."""
    player = Player.new(scenario, path)
    player.predicted.update(answers or {})
    setup = player.setup()
    if on_step:
        on_step(player, setup)
    while not player.done:
        question = player.next_prediction()
        if question and ask and question["step"] not in player.predicted:
            answer = ask(question)
            if answer is not None:
                player.predicted[question["step"]] = answer
        result = player.play_next()
        if on_step:
            on_step(player, result)
    return player, player.result()


def play_files(files: list[str], lab: str | None = None, report: str = "rich",
               quiet: bool = False, console: Console | None = None, quiz: bool = False,
               answers: str | None = None) -> int:
    """Play scenario files; returns the exit code (0 ok, 1 a check or step
    failed, 2 an invalid file or a refused --lab)."""
    from esmlab.lessons import resolve
    scenarios, errors = load_all([resolve(f) for f in files])
    if errors:
        for error in errors:
            print(str(error) + _did_you_mean(error), file=sys.stderr)
        if report == "json":
            print(json.dumps({"ok": False, "errors": [
                {"file": e.file, "line": e.line, "message": e.message} for e in errors]},
                indent=2))
        print(f"esmlab play: {len(errors)} invalid scenario file(s); nothing was played",
              file=sys.stderr)
        return 2
    if lab is not None:
        if len(scenarios) != 1:
            print("esmlab play: --lab keeps one lab; give exactly one scenario file with it",
                  file=sys.stderr)
            return 2
        if Path(lab).exists():
            print(f"esmlab play: {lab} already exists; --lab makes a new lab file "
                  "(choose a new path or delete it)", file=sys.stderr)
            return 2
    if quiz and (report != "rich" or not sys.stdin.isatty()):
        print("esmlab play: --quiz asks on a terminal (with the rich report); to grade a "
              "learner's answers give --answers FILE", file=sys.stderr)
        return 2
    try:
        given = load_answers(answers) if answers else {}
    except ValueError as error:
        print(f"esmlab play: {error}", file=sys.stderr)
        return 2
    rich = RichReport(console or Console(), quiet, asked=quiz) if report == "rich" else None
    documents, all_ok, passed = [], True, 0
    for scenario in scenarios:
        attempt = _challenge_attempt(scenario)   # a challenge file: an attempt at it
        if attempt is False:
            all_ok = False
            continue
        with tempfile.TemporaryDirectory(prefix="esmlab-play-") as tmp:
            path = Path(lab) if lab is not None else Path(tmp) / "lab.db"
            if rich:
                rich.begin(scenario)
            try:
                player, play = play_one(scenario, path, rich.step if rich else None,
                                        ask=rich.ask if quiz else None,
                                        answers=answers_for(given, scenario.name))
            except (LabError, OSError, sqlite3.Error) as error:  # the lab file cannot be made
                print(f"esmlab play: {path}: {error}", file=sys.stderr)
                return 2
            try:
                _record_progress(scenario, play)
                all_ok &= play.ok
                passed += bool(play.ok)
                if rich:
                    rich.verdict(play)
                else:
                    documents.append(scenario_document(player, play))
                if attempt is not None:   # the goal's verdict, hints and explanation
                    from esmlab.scenario.challenge import report as challenge_report
                    verdict = challenge_report(attempt, play, rich.print if rich else None,
                                               player)
                    if not rich:
                        documents[-1]["challenge"] = verdict.to_dict()
            finally:
                player.lab.close()
    if rich and (quiet or len(scenarios) > 1):
        failed = len(scenarios) - passed
        rich.print(f"total: {len(scenarios)} scenario(s), {passed} passed, {failed} failed",
                   style="bold green" if not failed else "bold red")
    if report == "json":
        document: Any = documents[0] if len(documents) == 1 else documents
        print(json.dumps(document, indent=2, default=_json_default, ensure_ascii=False))
    return 0 if all_ok else 1


def _challenge_attempt(scenario):
    """A challenge file as an attempt (None for a lesson); False, with the
    reason printed, for a copy that changes more than the settings."""
    from esmlab.scenario.challenge import ChallengeError, attempt_of
    try:
        return attempt_of(scenario)
    except ChallengeError as error:
        print(f"esmlab play: {scenario.path}: {error}", file=sys.stderr)
        return False


def _did_you_mean(error: ScenarioError) -> str:
    """A name that is neither a file nor a lesson: the closest lesson or
    challenge, so a typo gets a suggestion rather than only "No such file"."""
    from esmlab.lessons import closest_name
    if error.line or Path(error.file).exists():
        return ""
    name = closest_name(error.file)
    return (f" (no lesson or challenge is named {Path(error.file).name!r}; did you mean "
            f"'{name}'? `esmlab lessons` lists them)") if name else ""


def _record_progress(scenario, play: PlayResult) -> None:
    """A lesson of the library played to its end counts in the learner's
    progress (esmlab/progress.py: the user's config folder, not the lab); a
    copy or any other scenario file does not."""
    from esmlab import progress
    from esmlab.lessons import list_lessons
    if Path(scenario.path).resolve() in {p.resolve() for p in list_lessons()}:
        progress.record_play(scenario.name, play.ok, score(play.predictions))


def _json_default(value):
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)
