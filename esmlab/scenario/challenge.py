"""Challenges: lesson files that start broken.

A challenge is a scenario file with a `challenge:` block: the resources and
the traffic (the steps) are given, the `goal` is a list of named expect
checks evaluated after the last step, `settings` lists what the learner may
change (paths as `esmlab compare --set` writes them), `hints` unlock one by
one as attempts fail, and the `explanation` unlocks when the goal holds.

A solution is the challenge with changed settings: `--set PATH=VALUE`
changes, a YAML file of `PATH: VALUE` changes, or an edited copy of the
challenge file. A copy is compared with the library's challenge of the same
name and refused when it changes anything else (the steps, the goal, a
setting not listed), so a goal is met by the settings, never by editing the
traffic away.

Progress (attempts, solved) lives in the user's config folder
($XDG_CONFIG_HOME/esmlab/challenges.json, else ~/.config/esmlab/), never in
a lab: a lab is a deterministic function of its commands, and a learner's
history is not part of it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from esmlab.errors import AwsError, LabError
from esmlab.progress import config_dir, write_json
from esmlab.scenario.compare import (NAME_KEYS, Change, CompareError,
                                     changed_text, parse_change)
from esmlab.scenario.loader import ScenarioError, Step, load_scenario, load_scenario_text

# Resource kinds whose entries a solution may change, and the key naming one.
ENTRY_NAMES = {**NAME_KEYS, "mappings": "id"}


class ChallengeError(Exception):
    """A solution that cannot be checked; the message says why in one sentence."""


# -- the library -------------------------------------------------------------------------------

def challenge_dir() -> Path | None:
    from esmlab.lessons import lesson_dir
    folder = lesson_dir()
    if folder is None or not (folder / "challenges").is_dir():
        return None
    return folder / "challenges"


def list_challenges() -> list[Path]:
    """The shipped challenges (scenarios/challenges/*.yaml), by name."""
    folder = challenge_dir()
    return sorted(folder.glob("*.yaml")) if folder else []


def resolve_challenge(name_or_path: str) -> Path:
    """A challenge file by path, or by its bare name in the library."""
    if Path(name_or_path).is_file():
        return Path(name_or_path)
    stem = Path(name_or_path).name.removesuffix(".yaml")
    for path in list_challenges():
        if path.stem == stem:
            return path
    names = ", ".join(p.stem for p in list_challenges()) or "none shipped"
    raise ChallengeError(f"no challenge named {name_or_path!r} (the challenges: {names})")


def library_original(name: str) -> Path | None:
    """The library's challenge of this scenario name, if there is one."""
    for path in list_challenges():
        try:
            if load_scenario(path).name == name:
                return path
        except ScenarioError:
            continue
    return None


# -- progress in the user's config folder ------------------------------------------------------

def progress_path() -> Path:
    return config_dir() / "challenges.json"      # beside the lessons' progress.json


def progress() -> dict:
    """{challenge name: {"attempts": failed attempts, "solved": bool}}; a
    missing or unreadable file is no progress (it is the learner's, not ours
    to refuse)."""
    try:
        data = json.loads(progress_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_attempt(name: str, solved: bool) -> dict:
    """Count one attempt at `name`; returns its progress entry. Written to a
    temporary file and renamed, so a crash never leaves half a file."""
    data = progress()
    entry = data.get(name) if isinstance(data.get(name), dict) else {}
    entry = {**entry, "attempts": int(entry.get("attempts", 0)),
             "solved": bool(entry.get("solved"))}     # keeps the hints asked for
    if solved:
        entry["solved"] = True
    else:
        entry["attempts"] += 1
    data[name] = entry
    write_json(progress_path(), data)
    return entry


def hints_unlocked(challenge: dict, entry: dict | None) -> list[str]:
    """One hint per failed attempt, in order, or as many as the learner
    asked for on screen (`reveal_hint`), whichever is more."""
    hints = challenge["hints"]
    entry = entry or {}
    shown = max(int(entry.get("attempts", 0)), int(entry.get("hints", 0)))
    return hints[:min(shown, len(hints))]


def reveal_hint(challenge: dict, name: str) -> dict:
    """The learner asks for the next hint (the screen's key): one more is
    unlocked and kept with the attempts; returns the progress entry."""
    data = progress()
    entry = dict(data.get(name)) if isinstance(data.get(name), dict) else {}
    shown = len(hints_unlocked(challenge, entry))
    entry["hints"] = min(shown + 1, len(challenge["hints"]))
    data[name] = entry
    write_json(progress_path(), data)
    return entry


# -- the goal, checked after the last step -----------------------------------------------------

def goal_results(player, line: int, index: int) -> list:
    """One CheckResult per goal check (kind "goal"): it holds when all its
    expect checks hold; a failed one names the goal check and the first
    expect check that failed, with what it expected and what the lab showed."""
    from esmlab.scenario.checks import evaluate_all
    from esmlab.scenario.player import CheckResult

    s = player.scenario
    out = []
    for goal in s.challenge["goal"]:
        probe = Step(kind="expect", args=goal["expect"], line=line, index=index, note=None)
        results = evaluate_all(player, probe)
        failed = [r for r in results if not r.ok]
        # the records involved; a failed check about one record that names
        # none (a `message` not found where the goal wants it) names its own
        records = [rec for r in failed for rec in r.records]
        if not records and len(results) == len(goal["expect"]):
            records = [repr(c.args[key]) for c, r in zip(goal["expect"], results) if not r.ok
                       for key in ("body", "record") if isinstance(c.args.get(key), str)]
        where = f"{s.path}:{goal['expect'][0].line}"
        if failed:
            # the check's own message, without the scenario and step it repeats
            inner = failed[0].message
            head = f"scenario {s.name}, step {index} ({s.path}:{failed[0].line}): "
            inner = inner[len(head):] if inner.startswith(head) else inner
            message = f"{s.name}: goal check '{goal['name']}' ({where}) is not met: {inner}"
        else:
            message = f"goal check '{goal['name']}' holds"
        out.append(CheckResult(kind="goal", line=goal["expect"][0].line, ok=not failed,
                               expected=goal["name"], actual=[r.actual for r in results],
                               message=message, records=records[:50]))
    return out


# -- solutions ---------------------------------------------------------------------------------

def _plain(text: str, where: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:   # one sentence, with the line, as the loader words it
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ChallengeError(f"{where}{line}: not YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ChallengeError(f"{where}: expected a map")
    return data


def _entry_name(kind: str, entry: dict) -> str | None:
    if kind == "mappings":
        from esmlab.scenario.schema import function_name_of
        fn = entry.get("FunctionName") or entry.get("FunctionArn") or ""
        return entry.get("id") or (function_name_of(fn) if fn else None)
    return entry.get(ENTRY_NAMES[kind])


def _leaves(a: Any, b: Any, path: str) -> list[str]:
    """The dotted paths where `a` and `b` differ (a missing map counts as {})."""
    if isinstance(a, dict) or isinstance(b, dict):
        a = a if isinstance(a, dict) else ({} if a is None else a)
        b = b if isinstance(b, dict) else ({} if b is None else b)
        if isinstance(a, dict) and isinstance(b, dict):
            return [leaf for key in dict.fromkeys([*a, *b])
                    for leaf in _leaves(a.get(key), b.get(key), f"{path}.{key}")]
    return [] if a == b else [path]


def changed_paths(original: dict, copy: dict) -> tuple[list[str], list[str]]:
    """(setting paths a copy changes, parts it changes that are no setting)."""
    from esmlab.scenario.schema import QUEUE_ATTRIBUTES

    settings, other = [], []
    for key in dict.fromkeys([*original, *copy]):
        if key == "resources":
            continue
        if original.get(key) != copy.get(key):
            (settings if key == "profile" else other).append(key)
    res_a, res_b = original.get("resources") or {}, copy.get("resources") or {}
    for kind in dict.fromkeys([*res_a, *res_b]):
        if kind not in ENTRY_NAMES:
            other.append(f"resources.{kind}")
            continue
        a = {_entry_name(kind, e): e for e in res_a.get(kind) or [] if isinstance(e, dict)}
        b = {_entry_name(kind, e): e for e in res_b.get(kind) or [] if isinstance(e, dict)}
        for name in dict.fromkeys([*a, *b]):
            if name not in a or name not in b:
                other.append(f"{kind}.{name} ({'added' if name in b else 'removed'})")
                continue
            for leaf in _leaves(a[name], b[name], f"{kind}.{name}"):
                parts = leaf.split(".")
                if kind == "queues" and len(parts) > 3 and parts[2] == "Attributes" \
                        and parts[3] in QUEUE_ATTRIBUTES.keys:
                    leaf = ".".join(parts[:2] + parts[3:])
                settings.append(leaf)
    return settings, other


def _allowed(path: str, settings: list[str]) -> bool:
    """A changed leaf is allowed when a listed setting is it or holds it."""
    return any(path == s or path.startswith(s + ".") for s in settings)


def _without_nulls(text: str, changes: list[Change]) -> str:
    """A change to null (`--set mappings.x.DestinationConfig=null`) removes
    the key, as deleting its lines from a copy would."""
    if not any(c.value is None for c in changes):
        return text
    data = yaml.safe_load(text)

    def drop(node):
        if isinstance(node, dict):
            for key in [k for k, v in node.items() if v is None]:
                del node[key]
            for value in node.values():
                drop(value)
        elif isinstance(node, list):
            for value in node:
                drop(value)
    drop(data.get("resources"))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _refuse(not_allowed: list[str], settings: list[str]) -> None:
    if not_allowed:
        raise ChallengeError(
            f"the solution changes {', '.join(not_allowed)}, which this challenge gives; "
            f"change only: {', '.join(settings)}")


@dataclass
class Attempt:
    """A challenge ready to play: the scenario (with the learner's changes)
    and what was changed (empty: the challenge as given)."""

    scenario: Any
    original: Path | None
    changed: list[str] = field(default_factory=list)

    @property
    def counts(self) -> bool:
        """Whether playing it is an attempt: the challenge as given is not."""
        return bool(self.changed) or self.original is None


def with_changes(path: Path, changes: list[Change]) -> Attempt:
    """The library challenge at `path` with --set style changes."""
    text = path.read_text(encoding="utf-8")
    scenario = load_scenario_text(text, str(path))
    if scenario.challenge is None:
        raise ChallengeError(f"{path} is not a challenge (it has no challenge: block)")
    try:
        changed = _without_nulls(changed_text(text, changes), changes)
    except CompareError as error:
        raise ChallengeError(str(error).replace("--set ", "").replace(
            "the lesson has", "the challenge has")) from None
    # What the changes did, leaf by leaf, measured as an edited copy is: a
    # change that reaches past the listed settings is refused either way.
    settings = scenario.challenge["settings"]
    paths, other = changed_paths(_plain(text, str(path)), _plain(changed, str(path)))
    _refuse(other + [p for p in paths if not _allowed(p, settings)], settings)
    try:
        scenario = load_scenario_text(changed, str(path))
    except ScenarioError as error:   # its line is in the changed text, not the file: leave it out
        raise ChallengeError(f"with {', '.join(c.path for c in changes)}, the challenge is "
                             f"refused: {error.message}") from None
    # A change reaches only resources and top-level settings; the steps, the
    # checks and the goal are the original's, so their lines point into the
    # file the learner reads (the changed text is laid out anew).
    original = load_scenario(path)
    scenario.path, scenario.lines, scenario.steps = original.path, original.lines, original.steps
    scenario.always, scenario.sometimes = original.always, original.sometimes
    scenario.challenge = original.challenge
    return Attempt(scenario, path, paths)


def from_file(path: Path, solution: Path) -> Attempt:
    """A solution file: an edited copy of the challenge, or a map of
    PATH: VALUE changes."""
    try:
        text = solution.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ChallengeError(f"cannot read the solution file {solution}: {reason}") from None
    data = _plain(text, str(solution))
    if "steps" not in data and "challenge" not in data:
        return with_changes(path, [Change(str(k), v) for k, v in data.items()])
    return as_copy(load_scenario_text(text, str(solution)), path)


def as_copy(scenario, original: Path | None) -> Attempt:
    """A played challenge file measured against the library's: what it
    changes, refused when it changes more than the settings."""
    if original is None or Path(original).resolve() == Path(scenario.path).resolve():
        return Attempt(scenario, original, [])
    with open(scenario.path, encoding="utf-8") as handle:
        copy = _plain(handle.read(), scenario.path)
    given = load_scenario(original)
    settings, other = changed_paths(_plain(Path(original).read_text(encoding="utf-8"),
                                           str(original)), copy)
    allowed = given.challenge["settings"]
    _refuse(other + [p for p in settings if not _allowed(p, allowed)], allowed)
    return Attempt(scenario, original, settings)


def attempt_of(scenario) -> Attempt | None:
    """For `esmlab play`: a challenge file as an attempt (None for a lesson)."""
    if scenario.challenge is None:
        return None
    return as_copy(scenario, library_original(scenario.name))


def changes_from_lab(lab) -> list[Change]:
    """The settings a learner changed in a challenge's lab (on screen, after
    its setup): read from the lab's command log, so what counts is exactly
    what was asked for. Traffic and clock commands are ignored: the
    challenge gives its own. Later changes of a setting win."""
    from esmlab.scenario.durations import format_duration

    found: dict[str, Any] = {}
    for command in lab.commands():
        name, args = command["name"], command["args"]
        if name == "update_mapping":
            label = lab.mapping(args["ref"])["label"]
            for key, value in args["params"].items():
                found[f"mappings.{label}.{key}"] = value
        elif name == "update_function":
            function = args["FunctionName"]
            for key, value in args.items():
                if key == "duration":   # the engine's ms -> the file's durations
                    value = {k.removesuffix("_ms"): format_duration(v) for k, v in value.items()}
                if key != "FunctionName":
                    found[f"functions.{function}.{key}"] = value
        elif name == "set_behaviour":
            found[f"functions.{args['FunctionName']}.behaviour"] = args["behaviour"]
        elif name == "set_queue_attributes":
            for key, value in args["Attributes"].items():   # "" removes (the screen's form)
                found[f"queues.{args['QueueName']}.{key}"] = None if value == "" else value
    return [Change(path, value) for path, value in found.items()]


def check(path: str | Path, changes: list[Change], record: bool = True,
          keep: Path | None = None) -> Verdict:
    """Play the challenge at `path` with `changes` on a temporary lab and
    judge it (a screen's "check my solution": `changes_from_lab(lab)`).
    With `keep`, the played lab is left there (replacing an older one), so
    the screen can x-ray what the goal checks name."""
    from esmlab.scenario.report import play_one

    attempt = with_changes(Path(path), changes)
    with tempfile.TemporaryDirectory(prefix="esmlab-challenge-") as tmp:
        lab_path = Path(tmp) / "lab.db"
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(str(keep) + suffix).unlink(missing_ok=True)
            lab_path = keep
        player, play = play_one(attempt.scenario, lab_path)
        try:
            return judge(attempt, play, player, record=record)
        finally:
            player.lab.close()


def attempt_lab_path(stem: str) -> Path:
    """Where the screen keeps the lab of the last check of a challenge (the
    challenge played with the learner's changes), beside its lab."""
    return challenge_lab_path(stem).with_name(f"{stem}.attempt.lab.db")


# -- on screen: the board beside the lab -------------------------------------------------------

SETTING_COMMANDS = ("update_mapping", "update_function", "set_behaviour", "set_queue_attributes")


def settings_version(lab) -> tuple:
    """Changes when a setting command is added to (or rewound out of) the
    lab's log, so the screen re-reads `changes_from_lab` only then, not on
    every step of the clock."""
    marks = ",".join("?" * len(SETTING_COMMANDS))
    row = lab.store.conn.execute(
        f"SELECT count(*), max(seq) FROM commands WHERE name IN ({marks})",
        SETTING_COMMANDS).fetchone()
    return (tuple(row), lab.store.get_meta("rewind_head") is not None)


def board(scenario, stem: str, changes: list[Change], verdict: Verdict | None = None,
          checked: list[Change] | None = None, entry: dict | None = None) -> dict:
    """What the screen shows beside a challenge's lab, as plain data: each
    goal check with its state ("met", "not met", or "unchecked": no check
    yet, or the settings changed since), the learner's changes, the hints
    unlocked, and the explanation once the goal holds."""
    c = scenario.challenge
    entry = entry if isinstance(entry, dict) else {}
    current = verdict is not None and checked is not None and \
        [(x.path, x.value) for x in checked] == [(x.path, x.value) for x in changes]
    goals = []
    for i, g in enumerate(c["goal"]):
        judged = verdict.goal[i] if current and i < len(verdict.goal) else None
        why = None
        if judged is not None and not judged["ok"]:
            why = judged["message"].split(" is not met: ", 1)[-1]
            why = re.sub(r"\s*\[replay: [^\]]*\]$", "", why)   # the header says it once
        goals.append({"name": g["name"], "why": why,
                      "state": "unchecked" if judged is None else
                      "met" if judged["ok"] else "not met",
                      "xray": judged.get("xray") if judged else None})
    hints = hints_unlocked(c, entry)
    solved = bool(current and verdict.solved)
    return {"name": scenario.name, "stem": stem, "title": scenario.title,
            "goal": goals, "changes": [(x.path, x.value) for x in changes],
            "stale": verdict is not None and not current,
            "last": None if verdict is None else
            (sum(1 for g in verdict.goal if g["ok"]), len(verdict.goal)),
            "stopped": verdict.stopped if current else None,
            "solved": solved, "solved_before": bool(entry.get("solved")),
            "hints": hints, "total_hints": len(c["hints"]),
            "explanation": " ".join(c["explanation"].split())
            if solved or entry.get("solved") else None,
            "settings": list(c["settings"])}


# -- the verdict -------------------------------------------------------------------------------

@dataclass
class Verdict:
    name: str
    solved: bool
    goal: list[dict]          # [{name, ok, message}] in the file's order
    stopped: str | None       # the step error that stopped the play, if any
    attempts: int             # failed attempts so far (after this one)
    hints: list[str]          # the hints unlocked
    total_hints: int
    explanation: str | None   # only when solved
    counted: bool             # whether this play was counted as an attempt

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def judge(attempt: Attempt, play, player=None, record: bool = True) -> Verdict:
    """The verdict of a played attempt; counts it in the learner's progress
    (when it changed something and `record`). A play that stopped early
    (AWS refused the setup or a step) gets its goal checked where it
    stopped, when the `player` is given, so the verdict still names the
    goal checks that fail."""
    s = attempt.scenario
    goals = [c for step in play.steps for c in step.checks if c.kind == "goal"]
    if not goals and player is not None:
        last = (play.steps or [play.setup])[-1]
        goals = goal_results(player, last.line if last else 1, last.index if last else 0)
    goal = [{"name": g.expected, "ok": g.ok, "message": g.message,
             "xray": _xray(player, g)} for g in goals]
    stopped = str(play.error) if play.error is not None else None
    solved = play.ok and stopped is None and bool(goals) and all(g.ok for g in goals)
    counted = record and attempt.counts
    entry = record_attempt(s.name, solved) if counted else progress().get(s.name)
    entry = entry if isinstance(entry, dict) else {}
    hints = hints_unlocked(s.challenge, entry)
    return Verdict(name=s.name, solved=solved, goal=goal, stopped=stopped,
                   attempts=int(entry.get("attempts", 0)), hints=hints,
                   total_hints=len(s.challenge["hints"]),
                   explanation=s.challenge["explanation"] if solved else None, counted=counted)


def _xray(player, result) -> str | None:
    """The story id of a failed goal check's first record involved, in the
    lab it was played on (None when it passed or names none)."""
    if result.ok or player is None:
        return None
    from esmlab.scenario.involved import first_ref
    return first_ref(player.lab, result.records)


def verdict_lines(v: Verdict, given: bool) -> list[str]:
    """The verdict in plain words (rich markup escaped by the caller)."""
    lines = []
    if v.solved:
        lines.append(f"🎯 challenge {v.name} solved: every goal check holds")
    elif v.stopped:
        lines.append(f"🎯 challenge {v.name} not solved: the play stopped at {v.stopped}")
    else:
        failed = [g for g in v.goal if not g["ok"]]
        lines.append(f"🎯 challenge {v.name} not solved: {len(failed)} of {len(v.goal)} "
                     "goal checks fail" + (" (as given: the challenge starts broken)"
                                           if given else ""))
    for g in v.goal:
        lines.append(f"  {'✓' if g['ok'] else '✗'} {g['name']}")
    if not v.solved:
        for number, hint in enumerate(v.hints, 1):
            lines.append(f"💡 hint {number} of {v.total_hints}: {hint}")
        left = v.total_hints - len(v.hints)
        if left:
            lines.append(f"  ({left} more hint{'s' if left > 1 else ''}: one unlocks with "
                         "each attempt that does not meet the goal)")
    if v.explanation:
        lines.append(f"📖 {' '.join(v.explanation.split())}")
    return lines


def report(attempt: Attempt, play, printer=None, player=None) -> Verdict:
    """After `esmlab play` (or `esmlab challenge`) played an attempt: judge
    it, count it, and print the verdict with the hints unlocked."""
    from rich.markup import escape
    v = judge(attempt, play, player)
    if printer is not None:
        for line in verdict_lines(v, given=not attempt.counts):
            printer(escape(line))
    return v


# -- the command -------------------------------------------------------------------------------

def list_lines() -> list[str]:
    entries = progress()
    out = []
    paths = list_challenges()
    width = max((len(p.stem) for p in paths), default=0) + 1   # the longest name, then a space
    for path in paths:
        try:
            s = load_scenario(path)
            title = s.title
        except ScenarioError as error:
            out.append(f"{path.stem:{width}} (invalid: {error.message})")
            continue
        entry = entries.get(s.name) if isinstance(entries.get(s.name), dict) else {}
        status = ("solved" if entry.get("solved") else
                  f"{entry['attempts']} attempt(s)" if entry.get("attempts") else "new")
        out.append(f"{path.stem:{width}} {status:14} {title}")
    return out


def brief_lines(path: Path) -> list[str]:
    """What the challenge asks, what may change, the hints unlocked so far."""
    s = load_scenario(path)
    c = s.challenge
    entry = progress().get(s.name)
    lines = [s.title, "", " ".join(s.see.split()), "", "Goal (checked after the last step):"]
    lines += [f"  - {g['name']}" for g in c["goal"]]
    lines += ["", "You may change:"] + [f"  - {p}" for p in c["settings"]]
    for number, hint in enumerate(hints_unlocked(c, entry if isinstance(entry, dict) else {}),
                                  1):
        lines.append(f"💡 hint {number} of {len(c['hints'])}: {hint}")
    lines += ["", f"The file: {path}",
              f"Try a change:   esmlab challenge {path.stem} --set {c['settings'][0]}=VALUE",
              f"Or edit a copy: esmlab challenge {path.stem} --solution MY-COPY.yaml "
              "(or esmlab play MY-COPY.yaml)",
              f"See it broken:  esmlab challenge {path.stem} --play"]
    return lines


def run_command(name: str | None, solution: str | None = None, sets: list[str] | None = None,
                play: bool = False, report_kind: str = "rich", quiet: bool = False,
                console=None, screen=None, fresh: bool = False) -> int:
    """`esmlab challenge [NAME] [--solution FILE | --set PATH=VALUE ... | --play]`:
    exit 0 when solved (or for a listing or a brief), 1 when the goal is not
    met, 2 for a challenge or solution that cannot be used. With none of
    them and a `screen` (a terminal), the challenge opens on screen."""
    import sys

    from rich.console import Console
    from rich.markup import escape

    console = console or Console()
    if name is None:
        lines = list_lines()
        if not lines:
            print("no challenges found", file=sys.stderr)
            return 2
        for line in lines:
            console.print(escape(line), highlight=False, soft_wrap=True)
        console.print(f"\n{len(lines)} challenges; start one with: esmlab challenge NAME",
                      highlight=False)
        return 0
    try:
        path = resolve_challenge(name)
        if solution is not None and sets:
            raise ChallengeError("give either --solution FILE or --set changes, not both")
        if solution is not None:
            attempt = from_file(path, Path(solution))
        elif sets or play:
            attempt = with_changes(path, [parse_change(s) for s in sets or []])
        else:
            if load_scenario(path).challenge is None:
                raise ChallengeError(f"{path} is not a challenge (it has no challenge: block)")
            if screen is not None:
                return on_screen(path, screen, fresh, console)
            for line in brief_lines(path):
                console.print(escape(line), highlight=False, soft_wrap=True)
            return 0
    except (ChallengeError, CompareError, ScenarioError, OSError) as error:
        print(f"esmlab challenge: {error}", file=sys.stderr)
        return 2
    return play_attempt(attempt, report_kind, quiet, console)


def challenge_lab_path(stem: str) -> Path:
    """Where `esmlab challenge NAME` keeps a challenge's lab on screen: the
    user's state folder ($XDG_STATE_HOME/esmlab/challenges, else
    ~/.local/state/esmlab/challenges), beside the lessons' labs."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "esmlab" / "challenges" / f"{stem}.lab.db"


def prepare_lab(path: Path, lab_path: Path) -> None:
    """A new lab holding the challenge's resources as given (its setup, and
    the one instant that enables its mappings), for the learner to change;
    the challenge's traffic is not sent: checking plays it."""
    from esmlab.scenario.player import Player

    lab_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(lab_path) + suffix).unlink(missing_ok=True)
    scenario = load_scenario(path)
    player = Player.new(scenario, lab_path)
    try:
        if player.setup().ok:
            player.lab.advance_ms(0)
            return
    finally:
        player.lab.close()
    # AWS refused part of the setup (a challenge may be exactly that: "the
    # mapping will not even be created"). The setup is one command, so
    # nothing was kept; build the lab one resource at a time instead, so the
    # learner has what AWS accepts to change on screen.
    for suffix in ("", "-wal", "-shm"):
        Path(str(lab_path) + suffix).unlink(missing_ok=True)
    player = Player.new(scenario, lab_path)
    try:
        for kind, entry in setup_entries(scenario.resources):
            try:
                player.create(kind, entry)
            except (AwsError, LabError):
                continue            # the one AWS refuses: the checks will say why
        player.lab.advance_ms(0)
    finally:
        player.lab.close()


def setup_entries(resources: dict) -> list[tuple[str, dict]]:
    """The declared resources in the order the player's setup creates them."""
    from esmlab.scenario.player import SETUP_ORDER, sorted_queues
    out = []
    for kind in SETUP_ORDER:
        entries = resources.get(kind) or []
        if kind == "queues":
            entries = sorted_queues(entries)
        out += [(kind, entry) for entry in entries]
    return out


def on_screen(path: Path, screen, fresh: bool = False, console=None) -> int:
    """`esmlab challenge NAME` on a terminal: open the challenge's lab on
    screen (`screen(lab_path)` runs the app); when the learner quits, the
    settings changed there are checked like `--set` changes."""
    import sys

    from rich.markup import escape

    from esmlab.lab import Lab

    lab_path = challenge_lab_path(path.stem)
    if fresh or not lab_path.exists():
        prepare_lab(path, lab_path)
    for line in brief_lines(path)[:-4]:
        console.print(escape(line), highlight=False, soft_wrap=True)
    console.print(escape(f"Opening {lab_path} on screen: change the settings with the forms, "
                         "then quit (ctrl+q) and the challenge is played with them."),
                  highlight=False, soft_wrap=True)
    code = screen(str(lab_path))
    if code:
        return code
    lab = Lab.open(lab_path, readonly=True)
    try:
        changes = changes_from_lab(lab)
    finally:
        lab.close()
    if not changes:
        console.print(f"No setting was changed on screen; {lab_path} is kept for next time "
                      f"(esmlab challenge {path.stem} --fresh starts afresh).", highlight=False)
        return 1
    try:
        attempt = with_changes(path, changes)
    except (ChallengeError, ScenarioError) as error:
        print(f"esmlab challenge: {error}", file=sys.stderr)
        return 2
    return play_attempt(attempt, "rich", True, console)


def play_attempt(attempt: Attempt, report_kind: str = "rich", quiet: bool = False,
                 console=None) -> int:
    import json
    import sys

    from esmlab.errors import LabError
    from esmlab.scenario.report import RichReport, _json_default, play_one, scenario_document

    rich = RichReport(console, quiet) if report_kind == "rich" else None
    with tempfile.TemporaryDirectory(prefix="esmlab-challenge-") as tmp:
        if rich:
            rich.begin(attempt.scenario)
            if attempt.changed:
                rich.print("changed: " + ", ".join(attempt.changed))
        try:
            player, play = play_one(attempt.scenario, Path(tmp) / "lab.db",
                                    rich.step if rich else None)
        except (LabError, OSError) as error:
            print(f"esmlab challenge: {error}", file=sys.stderr)
            return 2
        try:
            if rich:
                rich.verdict(play)
            verdict = report(attempt, play, rich.print if rich else None, player)
            if not rich:
                document = scenario_document(player, play)
                document["challenge"] = verdict.to_dict()
                print(json.dumps(document, indent=2, default=_json_default, ensure_ascii=False))
        finally:
            player.lab.close()
    return 0 if verdict.solved else 1
