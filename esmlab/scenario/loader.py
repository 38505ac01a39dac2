"""Load a scenario file: parse it safely, validate all of it, return plain data.

The YAML is composed into a node tree (safe: no object construction) and
walked against the declarative tables in `schema.py`, so every value has a
line number. The first problem found is raised as one `ScenarioError` naming
the file and line; nothing from a file that does not validate is returned.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from os import PathLike
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from esmlab.scenario import schema as S
from esmlab.scenario.durations import DurationError, parse_duration

_TAG = "tag:yaml.org,2002:"
STR_TAG, INT_TAG, FLOAT_TAG = _TAG + "str", _TAG + "int", _TAG + "float"
BOOL_TAG, NULL_TAG, MERGE_TAG = _TAG + "bool", _TAG + "null", _TAG + "merge"


class ScenarioError(Exception):
    """A scenario file that cannot be used; str() is "<file>:<line>: <message>".

    `line` is 1-based, or 0 when the file could not be read at all."""

    def __init__(self, file: str, line: int, message: str):
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")
        self.file, self.line, self.message = file, line, message


class Check(NamedTuple):
    """One check of an `expect` step."""

    kind: str
    args: dict
    line: int


@dataclass
class Step:
    kind: str  # the action key, e.g. "send_message"
    args: Any  # validated, defaults applied, durations in ms
    line: int  # 1-based line of the step in the file
    index: int  # 1-based position in steps
    note: str | None
    fails_with: str | None = None  # the AWS error the step is meant to raise
    name: str | None = None  # `as:` - the name its response or error is read by
    predict: dict | None = None    # a question asked before the step plays


@dataclass
class Scenario:
    path: str
    name: str
    title: str
    see: str
    seed: int
    profile: str
    start: str | None
    resources: dict
    steps: list[Step]
    lines: dict  # {("mappings", 0): 14, ...}: line of each resources entry
    evidence: dict | None = None  # a conformance case's evidence block
    always: list = field(default_factory=list)     # invariant names checked after each step
    sometimes: list = field(default_factory=list)  # check lists that must hold once
    challenge: dict | None = None  # goal, settings, hints, explanation (scenario/challenge.py)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves unquoted dates as text: a scenario's plain data
    should hold only str/int/float/bool/None, lists and dicts."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TAG + "timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_scenario(path: str | PathLike) -> Scenario:
    name = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ScenarioError(name, 0, f"cannot read the file: {reason}") from None
    return load_scenario_text(text, name)


# Bounds on what a file may ask of the loader (documented in docs/scenarios.md):
# deeper nesting would exhaust Python's stack in the composer, and anchors and
# aliases can make a short file expand to billions of values.
MAX_NESTING = 64
MAX_VALUES = 1_000_000
# libyaml's event parser when PyYAML has it: the pure-Python scanner takes
# quadratic time on thousands of nested brackets before the bound is reached.
_EVENTS = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
_EVENTS = _EVENTS or yaml.SafeLoader


def check_size(text: str, path: str) -> None:
    """Refuse a file nested deeper than MAX_NESTING or expanding (through
    &anchors and *aliases) to more than MAX_VALUES values. PyYAML's event
    parser is not recursive, so this is safe on any input; a syntax error is
    left for the composer to report with its line."""
    stack: list[list] = []          # [anchor, values so far] per open map or list
    sizes: dict[str, int] = {}      # anchor -> values it expands to
    try:
        for event in yaml.parse(text, Loader=_EVENTS):
            line = event.start_mark.line + 1
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append([event.anchor, 1])
                if len(stack) > MAX_NESTING:
                    raise ScenarioError(path, line, f"nested more than {MAX_NESTING} levels "
                                                    f"deep; esmlab reads at most {MAX_NESTING}")
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                anchor, n = stack.pop()
            elif isinstance(event, yaml.ScalarEvent):
                anchor, n = event.anchor, 1
            elif isinstance(event, yaml.AliasEvent):
                anchor, n = None, sizes.get(event.anchor, 1)
            else:
                continue
            if anchor:
                sizes[anchor] = n
            if stack:
                stack[-1][1] += n
                n = stack[-1][1]
            if n > MAX_VALUES:
                raise ScenarioError(path, line, f"the file expands to more than {MAX_VALUES:,} "
                                                "values (through its &anchors and *aliases); "
                                                f"esmlab reads at most {MAX_VALUES:,}")
    except yaml.YAMLError as error:   # a syntax error: the composer words it better,
        if "nesting depth" in str(error):   # but libyaml stops at 1,000 levels itself
            mark = getattr(error, "problem_mark", None)
            raise ScenarioError(path, mark.line + 1 if mark else 1,
                                f"nested more than {MAX_NESTING} levels deep; esmlab reads at "
                                f"most {MAX_NESTING}") from None


def load_scenario_text(text: str, path: str = "<text>") -> Scenario:
    check_size(text, path)
    try:
        return _load(text, path)
    except RecursionError:  # a safety net: check_size bounds the nesting first
        raise ScenarioError(path, 1, "nested too deep for esmlab to read") from None


def _load(text: str, path: str) -> Scenario:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None
    if root is None:
        raise ScenarioError(path, 1, "the file is empty; expected a map with name, title, "
                                     "see and steps")
    validator = _Validator(path)
    try:
        data = validator.value(S.SCENARIO, root, "")
    except yaml.YAMLError as error:  # e.g. an unknown !tag in passed-through data
        raise _yaml_error(path, error) from None
    return Scenario(path=path, name=data["name"], title=data["title"], see=data["see"],
                    seed=data["seed"], profile=data["profile"], start=data.get("start"),
                    resources=data["resources"], steps=data["steps"], lines=validator.lines,
                    evidence=data.get("evidence"), always=data.get("always") or [],
                    sometimes=data.get("sometimes") or [], challenge=data.get("challenge"))


def _yaml_error(path: str, error: yaml.YAMLError) -> ScenarioError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        context += f" that starts on line {context_mark.line + 1}"
    detail = f"{problem} ({context})" if context else problem
    if isinstance(error, yaml.constructor.ConstructorError):
        return ScenarioError(path, line, f"YAML error: {detail}")
    # Most syntax errors in hand-written scenarios are indentation slips;
    # say so in plain words before PyYAML's own wording.
    hint = ("the indentation of this line does not fit the lines above it; "
            if "expected <block end>" in problem or "mapping values are not allowed" in problem
            else "")
    return ScenarioError(path, line, f"YAML syntax error: {hint}{detail}")


def suggest(word: str, known) -> str:
    """' (did you mean 'BatchSize'?)' for a near miss, else ''."""
    by_lower = {name.lower(): name for name in known}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a map"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == NULL_TAG:
        return "nothing"
    if node.tag in (INT_TAG, FLOAT_TAG):
        return f"the number {node.value}"
    if node.tag == BOOL_TAG:
        return f"the boolean {node.value}"
    text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"'{text}'"


def _plain(node: Node) -> Any:
    """The node as plain Python data (safe constructors only)."""
    return SafeConstructor().construct_object(node, deep=True)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _label(where: str) -> str:
    return where or "the top level"


class _Validator:
    """Walks a node tree against a schema spec, returning plain data."""

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[tuple[str, int], int] = {}
        self.names: dict[str, dict[str, int]] = defaultdict(dict)  # kind -> name -> line
        self.in_steps = False
        self.fixed_line: int | None = None  # set while checking JSON text inside a string

    # -- plumbing

    def line_of(self, node: Node) -> int:
        return self.fixed_line or node.start_mark.line + 1

    def fail(self, node: Node, message: str):
        raise ScenarioError(self.file, self.line_of(node), message)

    def value(self, spec: S.Spec, node: Node, where: str) -> Any:
        return getattr(self, "_" + type(spec).__name__.lower())(spec, node, where)

    def mismatch(self, node: Node, where: str, what: str, hint: str = ""):
        self.fail(node, f"{_label(where)}: expected {what}, found {_describe(node)}{hint}")

    def scalar(self, node: Node, where: str, tags: tuple[str, ...], what: str,
               text: bool = False) -> Any:
        """The value of a scalar node with one of `tags`; `text` marks a place
        where quoting is the likely fix (`{n}` or `no` written bare)."""
        if not isinstance(node, ScalarNode) or node.tag not in tags:
            quote = text and (isinstance(node, ScalarNode) or node.flow_style)
            self.mismatch(node, where, what, " (put text in quotes)" if quote else "")
        return _plain(node)

    def pairs(self, node: Node, where: str, what: str) -> dict[str, tuple[Node, Node]]:
        """The map's entries by key, refusing non-text and repeated keys."""
        if not isinstance(node, MappingNode):
            self.mismatch(node, where, what)
        own: dict[str, Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, f"{_label(where)}: a key must be text")
            key = str(key_node.value)
            if key in own and key_node.tag != MERGE_TAG:
                self.fail(key_node, f"{_label(where)}: key '{key}' appears twice "
                                    f"(first on line {self.line_of(own[key])})")
            own[key] = key_node
        # Apply YAML merge keys (<<); the map's own keys override merged ones,
        # so later entries win below.
        SafeConstructor().flatten_mapping(node)
        return {str(key_node.value): (key_node, value_node) for key_node, value_node in node.value}

    def unknown(self, key_node: Node, key: str, known, where: str):
        hint = suggest(key, known) or f" (known keys: {', '.join(known)})"
        place = f"in {where}" if where else "at the top level"
        self.fail(key_node, f"unknown key '{key}' {place}{hint}")

    # -- scalars

    def _str(self, spec: S.Str, node: Node, where: str) -> str:
        text = self.scalar(node, where, (STR_TAG,), spec.what, text=True)
        if spec.pattern and not re.fullmatch(spec.pattern, text):
            self.mismatch(node, where, spec.what)
        return text

    def _int(self, spec: S.Int, node: Node, where: str) -> int:
        tags = (INT_TAG, STR_TAG) if spec.lenient else (INT_TAG,)
        value = self.scalar(node, where, tags, "a whole number")
        if isinstance(value, str):
            if not value.strip().lstrip("-").isdigit():
                self.mismatch(node, where, "a whole number")
            value = int(value)
        self.in_range(node, where, value, spec.min, spec.max, "a whole number")
        return value

    def _float(self, spec: S.Float, node: Node, where: str) -> float:
        value = self.scalar(node, where, (INT_TAG, FLOAT_TAG), "a number")
        self.in_range(node, where, value, spec.min, spec.max, "a number")
        return float(value)

    def in_range(self, node, where, value, low, high, what):
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                self.mismatch(node, where, f"{what} from {low} to {high}")
            side = f"at least {low}" if low is not None else f"at most {high}"
            self.mismatch(node, where, f"{what} {side}")

    def _bool(self, spec: S.Bool, node: Node, where: str) -> bool:
        tags = (BOOL_TAG, STR_TAG) if spec.lenient else (BOOL_TAG,)
        value = self.scalar(node, where, tags, "true or false")
        if isinstance(value, str):
            if value.lower() not in ("true", "false"):
                self.mismatch(node, where, "true or false")
            value = value.lower() == "true"
        return value

    def _enum(self, spec: S.Enum, node: Node, where: str) -> str:
        choices = ", ".join(spec.values)
        value = self.scalar(node, where, (STR_TAG,), f"one of {choices}")
        if value not in spec.values:
            self.fail(node, f"{_label(where)}: expected one of {choices}, found '{value}'"
                            f"{suggest(value, spec.values)}")
        return value

    def _duration(self, spec: S.Duration, node: Node, where: str) -> int:
        value = self.scalar(node, where, (STR_TAG, INT_TAG, FLOAT_TAG),
                            "a duration like 90s, 500ms or 5m")
        try:
            return parse_duration(value)
        except DurationError as error:
            self.fail(node, f"{_label(where)}: {error}")

    def _timestamp(self, spec: S.Timestamp, node: Node, where: str) -> str:
        what = "an ISO-8601 UTC timestamp like 2024-05-01T09:00:00Z"
        text = self.scalar(node, where, (STR_TAG,), what)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.mismatch(node, where, what)
        if moment.utcoffset() != timedelta(0):  # naive (None) or another zone
            self.mismatch(node, where, what + " (end it with Z)")
        return text

    def _text(self, spec: S.Text, node: Node, where: str) -> str:
        return str(self.scalar(node, where, (STR_TAG, INT_TAG), "text or a whole number"))

    def _json(self, spec: S.Json, node: Node, where: str) -> str:
        if isinstance(node, (MappingNode, SequenceNode)):
            return json.dumps(_plain(node))
        text = self.scalar(node, where, (STR_TAG,), "JSON text or a map")
        try:
            json.loads(text)
        except ValueError as error:
            self.fail(node, f"{_label(where)}: not valid JSON: {error}")
        except RecursionError:
            self.fail(node, f"{_label(where)}: JSON nested too deep to read")
        return text

    def _anything(self, spec: S.Anything, node: Node, where: str) -> Any:
        kinds = {"map": MappingNode, "list": SequenceNode, "scalar": ScalarNode, "any": Node}
        if not isinstance(node, kinds[spec.kind]):
            self.mismatch(node, where, "a " + spec.kind)
        return _plain(node)

    def _ref(self, spec: S.Ref, node: Node, where: str) -> str:
        text = self._str(S.STR, node, where)
        name = spec.resolve(text) if spec.resolve else text
        known = [n for kind in spec.kinds for n in self.names[kind]]
        if name not in known:
            kinds = " or ".join(spec.kinds)
            listed = f"; declared: {', '.join(known)}" if known else f"; no {kinds} is declared"
            self.fail(node, f"{_label(where)}: no {kinds} named '{name}'"
                            f"{suggest(name, known)}{listed}")
        return text

    def _setting(self, spec: S.Setting, node: Node, where: str) -> str:
        """A challenge setting: a declared resource and a key it has."""
        text = self._str(S.STR, node, where)
        parts = text.split(".")
        if len(parts) == 1:
            if text not in S.TOP_LEVEL_SETTINGS:
                self.fail(node, f"{_label(where)}: '{text}' is not a setting; write "
                                "KIND.NAME.PARAMETER (e.g. mappings.orders.BatchSize) or "
                                f"one of {', '.join(S.TOP_LEVEL_SETTINGS)}")
            return text
        kinds = S.RESOURCE_SETTINGS
        if len(parts) < 3 or parts[0] not in kinds:
            self.fail(node, f"{_label(where)}: '{text}' is not a setting; write "
                            f"KIND.NAME.PARAMETER with KIND one of {', '.join(kinds)}"
                            f"{suggest(parts[0], kinds) if len(parts) >= 3 else ''}")
        kind, resource = kinds[parts[0]]
        known = list(self.names[kind])
        if parts[1] not in known:
            listed = f"; declared: {', '.join(known)}" if known else ""
            self.fail(node, f"{_label(where)}: no {kind} named '{parts[1]}'"
                            f"{suggest(parts[1], known)}{listed}")
        current: S.Spec = resource
        for depth, key in enumerate(parts[2:]):
            if isinstance(current, S.Nullable):
                current = current.inner
            if not isinstance(current, S.Map):
                break   # a free-form value (a map of tags, a behaviour's text): any key
            refused = depth == 0 and (key == resource.name_key or
                                      key in S.READ_ONLY_MAPPING_KEYS)
            if key not in current.keys or refused:
                keys = [k for k in current.keys if depth or (
                    k != resource.name_key and k not in S.READ_ONLY_MAPPING_KEYS)]
                self.fail(node, f"{_label(where)}: '{text}': a {kind} has no setting "
                                f"'{key}' to change{suggest(key, keys)}")
            current = current.keys[key].spec
        return text

    # -- containers

    def _nullable(self, spec: S.Nullable, node: Node, where: str) -> Any:
        if isinstance(node, ScalarNode) and node.tag == NULL_TAG:
            return None
        return self.value(spec.inner, node, where)

    def _listof(self, spec: S.ListOf, node: Node, where: str) -> list:
        if not isinstance(node, SequenceNode):
            self.mismatch(node, where, "a list")
        if spec.non_empty and not node.value:
            self.fail(node, f"{_label(where)}: expected at least one entry")
        items = []
        for index, item in enumerate(node.value):
            items.append(self.value(spec.item, item, where))
            if isinstance(spec.item, S.Map) and spec.item.kind:  # a declared resource
                self.lines[(where.rsplit(".", 1)[-1], index)] = self.line_of(item)
        return items

    def _mapof(self, spec: S.MapOf, node: Node, where: str) -> dict:
        return {key: self.value(spec.value, value_node, _join(where, key))
                for key, (_, value_node) in self.pairs(node, where, "a map").items()}

    def _map(self, spec: S.Map, node: Node, where: str) -> dict:
        if spec.json_ok and isinstance(node, ScalarNode) and node.tag == STR_TAG:
            return self.json_map(spec, node, where)
        found = self.pairs(node, where, f"{spec.what} with keys {', '.join(spec.keys)}")
        for key, (key_node, _) in found.items():
            if key in spec.refused:
                self.fail(key_node, f"{_label(where)}: {key} {spec.refused[key]}")
            if key not in spec.keys:
                self.unknown(key_node, key, list(spec.keys), where)
        variant = self.variant(spec, found, where)
        out = {}
        for key, rule in spec.keys.items():
            if key in found:
                self.check_option(spec, variant, found[key][0], key, where)
                out[key] = self.value(rule.spec, found[key][1], _join(where, key))
            elif rule.required or (variant is not None and key in variant.required):
                self.fail(node, f"{_label(where)}: missing required key '{key}'")
        self.check_groups(spec, found, node, where)
        apply_defaults(spec, out)
        if spec.kind:
            self.declare(spec.kind, out[spec.name_key], node)
        return out

    def json_map(self, spec: S.Map, node: ScalarNode, where: str) -> dict:
        """A map written as a JSON string (as AWS returns RedrivePolicy)."""
        try:
            check_size(node.value, self.file)
        except ScenarioError as error:
            self.fail(node, f"{_label(where)}: {error.message}")
        try:
            inner = yaml.compose(node.value, Loader=_Loader)  # JSON is YAML
        except yaml.YAMLError:
            inner = None
        if not isinstance(inner, MappingNode):
            self.mismatch(node, where, f"{spec.what} (a map or JSON text)")
        self.fixed_line = self.line_of(node)  # inner marks count from the string
        try:
            return self._map(spec, inner, where)
        finally:
            self.fixed_line = None

    def variant(self, spec: S.Map, found, where: str) -> S.Variant | None:
        if spec.tag is None or spec.tag not in found:
            return None
        tag_value = self.value(spec.keys[spec.tag].spec, found[spec.tag][1],
                               _join(where, spec.tag))
        return spec.variants.get(tag_value)

    def check_option(self, spec: S.Map, variant, key_node: Node, key: str, where: str):
        """An option that the chosen variant ignores is an error, not a no-op."""
        if variant is None or key in variant.options:
            return
        if any(key in other.options for other in spec.variants.values()):
            tag_value = next(name for name, v in spec.variants.items() if v is variant)
            takes = ", ".join(variant.options) or "no options"
            self.fail(key_node, f"{_label(where)}: '{key}' does not apply to {spec.tag} "
                                f"'{tag_value}' (it takes: {takes})")

    def check_groups(self, spec: S.Map, found, node: Node, where: str):
        for group in spec.groups:
            given = [key for key in group.keys if key in found]
            names = " or ".join(f"'{key}'" for key in group.keys)
            if group.exclusive and len(given) > 1:
                self.fail(found[given[1]][0],
                          f"{_label(where)}: give only one of {names}, not both "
                          f"'{given[0]}' and '{given[1]}'")
            if group.required and not given:
                self.fail(node, f"{_label(where)}: missing {names}")

    def declare(self, kind: str, name: str, node: Node):
        known = self.names[kind]
        # Two resources of one name would make every reference ambiguous; a
        # step may re-create a mapping that an earlier step deleted.
        if name in known and not self.in_steps:
            hint = " (give it its own 'id')" if kind == "mapping" else ""
            self.fail(node, f"{kind} '{name}' is declared twice (first on line "
                            f"{known[name]}){hint}")
        known.setdefault(name, self.line_of(node))

    # -- steps

    def _checks(self, spec: S.Checks, node: Node, where: str) -> list[Check]:
        found = self.pairs(node, where, "a map of checks")
        if not found:
            self.fail(node, f"{where}: expected at least one check ({', '.join(spec.table)})")
        checks = []
        for kind, (key_node, value_node) in found.items():
            if kind not in spec.table:
                self.unknown(key_node, kind, list(spec.table), where)
            args = self.value(spec.table[kind], value_node, _join(where, kind))
            checks.append(Check(kind, args, self.line_of(key_node)))
        return checks

    def _steps(self, spec: S.Steps, node: Node, where: str) -> list[Step]:
        if not isinstance(node, SequenceNode):
            self.mismatch(node, where, "a list of steps")
        if not node.value:
            self.fail(node, "steps: expected at least one step")
        self.in_steps = True
        return [self.step(spec, item, index) for index, item in enumerate(node.value, 1)]

    def step(self, spec: S.Steps, node: Node, index: int) -> Step:
        where = f"step {index}"
        found = self.pairs(node, where, f"a map with one action ({', '.join(spec.table)})")
        actions = [key for key in found if key not in S.STEP_OPTIONS]
        for key in actions:
            if key not in spec.table:
                self.unknown(found[key][0], key, [*spec.table, *S.STEP_OPTIONS], where)
        if not actions:
            self.fail(node, f"{where} has no action; expected one of {', '.join(spec.table)}")
        if len(actions) > 1:
            first, second = actions[:2]
            self.fail(found[second][0], f"{where} has two actions, '{first}' and '{second}'; "
                                        "a step has exactly one (split it into two steps)")
        kind = actions[0]
        rule, value_node = spec.table[kind], found[kind][1]
        if _is_null(value_node) and rule.default is not S.NO_DEFAULT:
            args = copy.deepcopy(rule.default)
        else:
            args = self.value(rule.spec, value_node, kind)
        options = {key: self.value(option, found[key][1], f"{where}.{key}")
                   for key, option in S.STEP_OPTIONS.items() if key in found}
        if "as" in options:
            self.declare("step", options["as"], found["as"][1])
        if "predict" in options:
            from esmlab.scenario.predictions import problem
            why = problem(options["predict"])
            if why:
                self.fail(found["predict"][1], f"{where}: {why}")
        return Step(kind=kind, args=args, line=self.line_of(node), index=index,
                    note=options.get("note"), fails_with=options.get("fails_with"),
                    name=options.get("as"), predict=options.get("predict"))


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def apply_defaults(spec: S.Map, values: dict) -> dict:
    """Fill in the defaults of `spec` that `values` leaves out (in place)."""
    variant = spec.variants.get(values.get(spec.tag)) if spec.tag else None
    varied = {key for v in spec.variants.values() for key in v.options}
    for key, rule in spec.keys.items():
        if key in values:
            continue
        if variant is not None and key in variant.defaults:
            values[key] = copy.deepcopy(variant.defaults[key])
        elif key in varied and (variant is None or key not in variant.options):
            continue  # an option of another variant
        elif rule.default_from is not None:
            values[key] = rule.default_from(values)
        elif rule.default is not S.NO_DEFAULT:
            values[key] = copy.deepcopy(rule.default)
            if isinstance(rule.spec, S.Map) and isinstance(values[key], dict):
                apply_defaults(rule.spec, values[key])
    for group in spec.groups:
        if group.default and not any(key in values for key in group.keys):
            values[group.default[0]] = group.default[1]
    return values
