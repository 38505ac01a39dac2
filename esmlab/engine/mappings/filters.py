"""FilterCriteria: Lambda event filtering for event source mappings.

A pure module: no database, no clock. The mapping code calls
`parse_filter_criteria` once at create/update time and `matches` once per
record in the poller's loop; `explain` gives the journal a sentence saying why.

Semantics follow reference section 5.3 (Lambda's subset of EventBridge
patterns). Choices the reference leaves open, taken as it recommends:

- UNCERTAIN (#7): top-level metadata keys are matchable for every source,
  e.g. ``eventName`` on DynamoDB and ``partitionKey`` on Kinesis, although the
  current per-service pages say only ``body``/``data``/``dynamodb``.
- UNCERTAIN: EventBridge-only operators (``wildcard``, ``cidr``,
  ``anything-but`` with ``prefix``/``suffix``/``equals-ignore-case``/
  ``wildcard``, and ``prefix``/``suffix`` with ``equals-ignore-case``) are
  rejected, because Lambda's operator list does not include them.

What a pattern is matched against (the "view" of a record):

- SQS: the record's keys (``messageId``, ``attributes``, ``messageAttributes``,
  ...) with ``body`` parsed as JSON when it is JSON.
- Kinesis: the top-level keys plus the fields inside ``kinesis``
  (``partitionKey``, ...), with ``data`` base64-decoded and parsed as JSON.
- DynamoDB: the record as is; typed values such as ``{"N": "101"}`` are strings.

A JSON pattern on a non-JSON payload, or a plain-string pattern on a JSON
body, drops the record (reference 5.3, "format mismatches").

Other choices, made here and marked UNCERTAIN where they are not documented:

- UNCERTAIN: the error for a pattern over 4,096 characters is AWS's model
  constraint form (``ValidationException``); the wording for more filters than
  the quota allows is the lab's own.

- A body (SQS) or decoded data (Kinesis) counts as JSON when it parses to a
  JSON object or array; bare JSON scalars such as ``42`` or ``"x"`` are treated
  as plain text. UNCERTAIN.
- Record arrays: a value pattern matches if any element matches; an object
  pattern matches if any object element matches the whole sub-pattern.
- A present field whose value is an object (or an empty array) is not a leaf:
  ``exists: true`` fails on it and ``exists: false`` passes.
"""
from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal

from esmlab.errors import AwsError, invalid

SOURCE_KINDS = ("kinesis", "dynamodb", "sqs", "sqs-fifo")
# The key that holds the record's payload, per source (reference 5.3).
DATA_KEYS = {"kinesis": "data", "dynamodb": "dynamodb", "sqs": "body", "sqs-fifo": "body"}
DEFAULT_MAX_FILTERS = 5      # quota; AWS raises it to 10 on request
MAX_PATTERN_LENGTH = 4096    # Filter.Pattern max length in the API model

INVALID_PATTERN = "Invalid filter pattern definition."

_LOWER = (">", ">=")
_UPPER = ("<", "<=")
_NUMERIC_OPS = ("=",) + _LOWER + _UPPER
_EVENTBRIDGE_ONLY = ("wildcard", "cidr")


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

class ParsedPattern(dict):
    """One filter's pattern: the parsed JSON (a plain dict, JSON-serialisable)
    carrying its compiled matcher, so `matches` never re-parses."""

    __slots__ = ("source", "compiled")


def parse_filter_criteria(criteria: dict | None, source_kind: str,
                          max_filters: int = DEFAULT_MAX_FILTERS) -> list[dict]:
    """Validate AWS-shaped ``{"Filters": [{"Pattern": "<json>"}, ...]}`` and
    return the parsed patterns (``ParsedPattern`` dicts) in filter order.

    None, ``{}`` or an empty ``Filters`` list mean "no filtering" and give ``[]``.
    Invalid patterns raise ``InvalidParameterValueException`` with AWS's message
    "Invalid filter pattern definition."; the lab's own explanation of what is
    wrong is on the error's ``detail`` attribute. A pattern over 4,096
    characters breaks an API-model constraint, which AWS reports as a
    ``ValidationException`` ("1 validation error detected: ...").
    """
    _check_kind(source_kind)
    if criteria is not None and not isinstance(criteria, dict):
        raise _bad_pattern("FilterCriteria must be an object with a Filters list.")
    filters = (criteria or {}).get("Filters") or []
    if not isinstance(filters, list):
        raise _bad_pattern("FilterCriteria.Filters must be a list of {\"Pattern\": ...} objects.")
    if len(filters) > max_filters:
        # UNCERTAIN wording: AWS documents only that it "returns an error".
        error = invalid(f"The number of filters in FilterCriteria ({len(filters)}) exceeds "
                        f"the quota of {max_filters} filters per event source mapping.",
                        own=True)
        error.detail = "AWS raises this quota to at most 10 on request."
        raise error
    return [_parse_filter(f, i, source_kind) for i, f in enumerate(filters, start=1)]


def matches(patterns: list[dict], record: dict, source_kind: str) -> bool:
    """True when the record (exactly as the function would receive it) passes
    at least one filter; filters are ORed. No patterns means everything passes."""
    if not patterns:
        return True
    view = _view(record, source_kind)
    return any(_match_object(_compiled(p, source_kind), view) is None for p in patterns)


def explain(patterns: list[dict], record: dict, source_kind: str) -> str:
    """One plain-words sentence saying why the record was kept or dropped."""
    if not patterns:
        return "Kept: the mapping has no FilterCriteria, so every record goes to the function."
    view = _view(record, source_kind)
    misses = []
    for number, pattern in enumerate(patterns, start=1):
        miss = _match_object(_compiled(pattern, source_kind), view)
        if miss is None:
            return f"Kept: the record matches filter {number} of {len(patterns)}."
        misses.append(f"filter {number}: {_describe_miss(miss, (), source_kind)}")
    fate = ("Lambda deletes the message from the queue" if source_kind.startswith("sqs")
            else "the checkpoint moves past the record")
    return f"Dropped ({fate}): no filter matched; " + "; ".join(misses) + "."


# --------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------

class _PatternError(Exception):
    """A pattern is invalid; the message says why in plain words."""


def _check_kind(source_kind: str) -> None:
    if source_kind not in DATA_KEYS:
        raise ValueError(f"unknown source kind {source_kind!r}; expected one of {SOURCE_KINDS}")


def _bad_pattern(detail: str) -> AwsError:
    error = invalid(INVALID_PATTERN)
    error.detail = detail
    return error


def _too_long(pattern: str, number: int) -> AwsError:
    # The API model caps Filter.Pattern at 4,096 characters; model constraints
    # come back as a ValidationException in AWS's "1 validation error" form.
    error = AwsError(
        "ValidationException",
        f"1 validation error detected: Value '{pattern}' at "
        f"'filterCriteria.filters.{number}.member.pattern' failed to satisfy "
        f"constraint: Member must have length less than or equal to {MAX_PATTERN_LENGTH}")
    error.detail = f"Filter {number}'s pattern is {len(pattern)} characters long."
    return error


def _parse_filter(entry, number: int, source_kind: str) -> ParsedPattern:
    text = entry.get("Pattern") if isinstance(entry, dict) else None
    if not isinstance(text, str):
        raise _bad_pattern(f"Filter {number} has no Pattern string.")
    if len(text) > MAX_PATTERN_LENGTH:
        raise _too_long(text, number)
    try:
        # Decimal keeps a number's written form: equality compares 300 and
        # 300.0 as different strings, as AWS does.
        exact = _loads(text)
        compiled = _compile_root(exact, source_kind)
    except _PatternError as error:
        raise _bad_pattern(f"Filter {number}: {error}") from None
    parsed = ParsedPattern(json.loads(text))   # plain floats: safe to json.dumps
    parsed.source = text
    parsed.compiled = compiled
    return parsed


def _loads(text: str):
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as error:
        raise _PatternError(f"the pattern is not valid JSON ({error})") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


# One decoder, built once: json.loads(..., parse_float=...) builds a new one per call.
# Decimal keeps a number's written form (300.0 stays "300.0").
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)


def _compile_root(pattern, source_kind: str) -> "_Object":
    if not isinstance(pattern, dict):
        raise _PatternError("a pattern must be a JSON object")
    compiled = _compile_object(pattern, ())
    if source_kind in ("kinesis", "dynamodb"):
        _require_json_data_pattern(pattern, DATA_KEYS[source_kind])
    return compiled


def _require_json_data_pattern(pattern: dict, data_key: str) -> None:
    # Streams: a non-JSON pattern for the data key is an error at create/update.
    if data_key in pattern and not isinstance(pattern[data_key], dict):
        raise _PatternError(f'"{data_key}" must be matched with a JSON object pattern, '
                            f"because stream filtering needs JSON data")
    for alternative in pattern.get("$or", ()):
        _require_json_data_pattern(alternative, data_key)


def _compile_object(pattern: dict, path: tuple) -> "_Object":
    if not pattern:
        raise _PatternError(f"{_where(path)}is an empty object")
    fields, alternatives = [], None
    for key, value in pattern.items():
        if key == "$or":
            alternatives = _compile_or(value, path)
        elif isinstance(value, dict):
            fields.append((key, _compile_object(value, path + (key,))))
        elif isinstance(value, list):
            fields.append((key, _compile_leaf(value, path + (key,))))
        else:
            raise _PatternError(f"{_where(path + (key,))}must be an array of match values "
                                f"or an object, not {_show(value)}")
    return _Object(tuple(fields), alternatives)


def _compile_or(value, path: tuple) -> tuple:
    if not isinstance(value, list) or len(value) < 2 or not all(
            isinstance(item, dict) for item in value):
        raise _PatternError(f"{_where(path)}$or must be an array of at least two objects")
    return tuple(_compile_object(item, path) for item in value)


def _compile_leaf(values: list, path: tuple) -> "_Leaf":
    if not values:
        raise _PatternError(f"{_where(path)}has an empty array of match values")
    leaf = _Leaf()
    for value in values:
        _add_value(leaf, value, path)
    leaf.freeze()
    return leaf


def _add_value(leaf: "_Leaf", value, path: tuple) -> None:
    if value is None:
        leaf.null = True
    elif isinstance(value, bool):
        leaf.bools.add(value)
    elif isinstance(value, str):
        leaf.strings.add(value)
    elif isinstance(value, (int, Decimal)):
        leaf.numbers.add(_number_text(value))
    elif isinstance(value, dict):
        leaf.operators.append(_compile_operator(value, path))
    else:
        raise _PatternError(f"{_where(path)}contains a nested array")


def _compile_operator(spec: dict, path: tuple) -> "_Operator":
    if len(spec) != 1:
        raise _PatternError(f"{_where(path)}has an operator object with {len(spec)} keys; "
                            f"it must have exactly one")
    (name, argument), = spec.items()
    builder = _OPERATORS.get(name)
    if builder is None:
        if name in _EVENTBRIDGE_ONLY:
            raise _PatternError(f'{_where(path)}uses "{name}", an EventBridge operator that '
                                f"Lambda event filtering does not support")
        raise _PatternError(f'{_where(path)}uses unknown operator "{name}"')
    return builder(argument, path)


def _string_operator(name: str, test):
    def build(argument, path):
        if isinstance(argument, dict):
            raise _PatternError(f'{_where(path)}"{name}" with an object argument is an '
                                f"EventBridge form that Lambda event filtering does not support")
        if not isinstance(argument, str):
            raise _PatternError(f'{_where(path)}"{name}" needs a string, not {_show(argument)}')
        return _Operator(name, argument, test)
    return build


def _build_exists(argument, path):
    if not isinstance(argument, bool):
        raise _PatternError(f'{_where(path)}"exists" needs true or false, not {_show(argument)}')
    return _Exists(argument)


def _build_anything_but(argument, path):
    if isinstance(argument, dict):
        raise _PatternError(f'{_where(path)}"anything-but" with an object ({_show(argument)}) '
                            f"is an EventBridge form that Lambda event filtering does not support")
    values = argument if isinstance(argument, list) else [argument]
    if not values or not all(_is_string_or_number(v) for v in values):
        raise _PatternError(f'{_where(path)}"anything-but" needs a string, a number or a '
                            f"non-empty array of them, not {_show(argument)}")
    excluded = frozenset(v if isinstance(v, str) else ("#", _number_text(v)) for v in values)
    return _AnythingBut(excluded, values)


def _build_numeric(argument, path):
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise _PatternError(f'{_where(path)}"numeric" needs [op, number] or '
                            f"[op, number, op, number], not {_show(argument)}")
    pairs = [(argument[i], argument[i + 1]) for i in range(0, len(argument), 2)]
    for op, number in pairs:
        if op not in _NUMERIC_OPS:
            raise _PatternError(f'{_where(path)}"numeric" has unknown comparison {_show(op)}; '
                                f"use one of {', '.join(_NUMERIC_OPS)}")
        if not _is_number(number):
            raise _PatternError(f'{_where(path)}"numeric" compares against {_show(number)}, '
                                f"which is not a number")
    if len(pairs) == 2:
        _check_range(pairs, path)
    return _Numeric(tuple((op, float(number)) for op, number in pairs), argument)


def _check_range(pairs: list, path: tuple) -> None:
    ops = sorted(op for op, _ in pairs)
    kinds = {op in _LOWER for op in ops}
    if "=" in ops or kinds != {True, False}:
        raise _PatternError(f'{_where(path)}"numeric" with two comparisons needs one lower bound '
                            f"(> or >=) and one upper bound (< or <=)")
    low = next(pair for pair in pairs if pair[0] in _LOWER)
    high = next(pair for pair in pairs if pair[0] in _UPPER)
    if low[1] > high[1] or (low[1] == high[1] and (low[0], high[0]) != (">=", "<=")):
        raise _PatternError(f'{_where(path)}"numeric" range {low[0]} {low[1]} and '
                            f"{high[0]} {high[1]} can never match")


def _where(path: tuple) -> str:
    return f'"{".".join(path)}" ' if path else "the pattern "


# --------------------------------------------------------------------------
# Compiled matchers
# --------------------------------------------------------------------------

class _Object:
    """An object pattern: every field must match (AND), plus one `$or`."""
    __slots__ = ("fields", "alternatives")

    def __init__(self, fields: tuple, alternatives: tuple | None):
        self.fields = fields
        self.alternatives = alternatives


class _Leaf:
    """An array of match values: any one may match (OR). Exact values sit in
    sets so the common case is one hash lookup."""
    __slots__ = ("strings", "numbers", "bools", "null", "operators", "allows_missing")

    def __init__(self):
        self.strings, self.numbers, self.bools = set(), set(), set()
        self.null = False
        self.operators = []
        self.allows_missing = False

    def freeze(self) -> None:
        self.strings, self.numbers = frozenset(self.strings), frozenset(self.numbers)
        self.bools, self.operators = frozenset(self.bools), tuple(self.operators)
        self.allows_missing = any(isinstance(op, _Exists) and not op.wanted
                                  for op in self.operators)

    def test(self, value) -> bool:
        kind = type(value)
        if kind is str:
            if value in self.strings:
                return True
        elif kind is bool:
            if value in self.bools:
                return True
        elif value is None:
            if self.null:
                return True
        elif _number_text(value) in self.numbers:
            return True
        return any(op.test(value) for op in self.operators)

    def describe(self) -> str:
        wanted = ([_show(s) for s in sorted(self.strings)] + sorted(self.numbers)
                  + [_show(b) for b in sorted(self.bools)] + (["null"] if self.null else [])
                  + [op.describe() for op in self.operators])
        return wanted[0] if len(wanted) == 1 else "one of: " + ", ".join(wanted)


class _Operator:
    """prefix / suffix / equals-ignore-case: string values only."""
    __slots__ = ("name", "argument", "_test", "_folded")

    def __init__(self, name: str, argument: str, test):
        self.name, self.argument, self._test = name, argument, test
        self._folded = argument.casefold()

    def test(self, value) -> bool:
        return type(value) is str and self._test(self, value)

    def describe(self) -> str:
        words = {"prefix": "starting with", "suffix": "ending with",
                 "equals-ignore-case": "equal ignoring case to"}[self.name]
        return f"{words} {_show(self.argument)}"


class _Exists:
    __slots__ = ("wanted",)

    def __init__(self, wanted: bool):
        self.wanted = wanted

    def test(self, value) -> bool:
        return self.wanted   # only called on a present leaf value

    def describe(self) -> str:
        return "present" if self.wanted else "absent"


class _AnythingBut:
    __slots__ = ("excluded", "values")

    def __init__(self, excluded: frozenset, values: list):
        self.excluded, self.values = excluded, values

    def test(self, value) -> bool:
        if type(value) is str:
            return value not in self.excluded
        if _is_number(value):
            return ("#", _number_text(value)) not in self.excluded
        return True

    def describe(self) -> str:
        return "anything but " + " or ".join(_show(v) for v in self.values)


class _Numeric:
    __slots__ = ("comparisons", "argument")

    def __init__(self, comparisons: tuple, argument: list):
        self.comparisons, self.argument = comparisons, argument

    def test(self, value) -> bool:
        if not _is_number(value):
            return False       # strings never match, e.g. DynamoDB's {"N": "101"}
        number = float(value)
        return all(_COMPARE[op](number, bound) for op, bound in self.comparisons)

    def describe(self) -> str:
        return "numeric " + " and ".join(f"{op} {_number_text(b)}" for op, b in
                                         zip(self.argument[::2], self.argument[1::2]))


_COMPARE = {
    "=": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}

_OPERATORS = {
    "prefix": _string_operator("prefix", lambda op, v: v.startswith(op.argument)),
    "suffix": _string_operator("suffix", lambda op, v: v.endswith(op.argument)),
    "equals-ignore-case": _string_operator(
        "equals-ignore-case", lambda op, v: v.casefold() == op._folded),
    "exists": _build_exists,
    "anything-but": _build_anything_but,
    "numeric": _build_numeric,
}


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _is_string_or_number(value) -> bool:
    return isinstance(value, str) or _is_number(value)


def _number_text(value) -> str:
    # The written form decides equality (AWS: 300, 300.0 and 3.0e2 differ).
    return repr(value) if isinstance(value, float) else str(value)


def _compiled(pattern: dict, source_kind: str) -> _Object:
    if isinstance(pattern, ParsedPattern):
        return pattern.compiled
    # A plain dict (e.g. reloaded from storage): compile it now. Callers in
    # hot loops should keep the parse_filter_criteria result instead.
    try:
        return _compile_root(_loads(json.dumps(pattern)), source_kind)
    except _PatternError as error:
        raise _bad_pattern(str(error)) from None


# --------------------------------------------------------------------------
# The view a pattern is matched against
# --------------------------------------------------------------------------

class _PlainText(str):
    """A body/data payload that is not JSON: JSON patterns on it drop the record."""


class _JsonObject(dict):
    """A body/data payload that was JSON: value patterns on it drop the record."""


class _JsonArray(list):
    """As _JsonObject, for a JSON array payload."""


def _view(record: dict, source_kind: str) -> dict:
    if source_kind == "dynamodb":
        return record        # already JSON; typed values stay strings
    if source_kind == "kinesis":
        view = {k: v for k, v in record.items() if k != "kinesis"}
        inner = record.get("kinesis") or {}
        view.update(inner)
        if "data" in inner:
            view["data"] = _payload(_decode_base64(inner["data"]))
        return view
    view = dict(record)
    if "body" in record:
        view["body"] = _payload(record["body"])
    return view


def _decode_base64(data):
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        return data          # not decodable text: leave it as it came


def _payload(text):
    if not isinstance(text, str):
        return text
    try:
        parsed = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return _PlainText(text)
    if isinstance(parsed, dict):
        return _JsonObject(parsed)
    if isinstance(parsed, list):
        return _JsonArray(parsed)
    return _PlainText(text)  # UNCERTAIN: a bare JSON scalar counts as plain text


# --------------------------------------------------------------------------
# Matching: None means "matched"; a _Miss says where and why it did not
# --------------------------------------------------------------------------

class _Miss:
    __slots__ = ("path", "reason", "value", "leaf", "alternatives")

    def __init__(self, reason: str, value=None, leaf=None, alternatives=()):
        self.path = []          # keys, innermost first (appended on the way out)
        self.reason, self.value, self.leaf = reason, value, leaf
        self.alternatives = alternatives


_EMPTY: dict = {}


def _match_object(pattern: _Object, value):
    if isinstance(value, _PlainText):
        return _Miss("plain_text")
    if isinstance(value, list):
        return _match_any_element(pattern, value)
    if not isinstance(value, dict):
        value = _EMPTY          # a scalar has no sub-fields
    for key, node in pattern.fields:
        if type(node) is _Leaf:
            miss = _match_leaf(node, key in value, value.get(key))
        else:
            miss = _match_object(node, value.get(key, _EMPTY))
        if miss is not None:
            miss.path.append(key)
            return miss
    if pattern.alternatives is not None:
        return _match_or(pattern.alternatives, value)
    return None


def _match_any_element(pattern: _Object, items: list):
    objects = [item for item in items if isinstance(item, dict)] or [_EMPTY]
    first = None
    for item in objects:
        miss = _match_object(pattern, item)
        if miss is None:
            return None
        first = first or miss
    return first


def _match_or(alternatives: tuple, value: dict):
    misses = []
    for alternative in alternatives:
        miss = _match_object(alternative, value)
        if miss is None:
            return None
        misses.append(miss)
    return _Miss("or", alternatives=misses)


def _match_leaf(leaf: _Leaf, present: bool, value):
    if not present:
        return None if leaf.allows_missing else _Miss("missing", leaf=leaf)
    if not isinstance(value, (dict, list)):          # the common case: one scalar
        if type(value) is _PlainText:
            value = str(value)      # leaf tests check for exactly `str`
        return None if leaf.test(value) else _Miss("value", value, leaf)
    if isinstance(value, (_JsonObject, _JsonArray)):
        return _Miss("json_payload", leaf=leaf)
    candidates = _leaf_values(value)
    if not candidates:
        return None if leaf.allows_missing else _Miss("not_leaf", value, leaf)
    for candidate in candidates:
        if leaf.test(candidate):
            return None
    return _Miss("value", value, leaf)


def _leaf_values(value) -> list:
    if isinstance(value, dict):
        return []
    if not isinstance(value, list):
        return [value]
    flat = []
    for item in value:
        if isinstance(item, list):
            flat.extend(_leaf_values(item))
        elif not isinstance(item, dict):
            flat.append(item)
    return flat


# --------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------

def _describe_miss(miss: _Miss, prefix: tuple, source_kind: str) -> str:
    path = prefix + tuple(reversed(miss.path))
    name = ".".join(path) or "the record"
    if miss.reason == "or":
        parts = [_describe_miss(m, path, source_kind) for m in miss.alternatives]
        return "none of the $or alternatives matched (" + " / ".join(parts) + ")"
    if miss.reason == "plain_text":
        return f"{name} is not JSON, but the filter matches fields inside it"
    if miss.reason == "json_payload":
        return f"{name} is JSON, but the filter matches it as a plain string"
    if miss.reason == "missing":
        return f"{name} is missing (it must exist to match {miss.leaf.describe()})"
    if miss.reason == "not_leaf":
        return f"{name} is {_show(miss.value)}, which has no plain value to match"
    wanted = miss.leaf.describe()
    if isinstance(miss.value, list):
        text = f"{name} is {_show(miss.value)}, and no element of it is {wanted}"
    else:
        text = f"{name} is {_show(miss.value)}, not {wanted}"
    return text + _numeric_hint(miss, source_kind)


def _numeric_hint(miss: _Miss, source_kind: str) -> str:
    has_numeric = any(isinstance(op, _Numeric) for op in miss.leaf.operators)
    if not has_numeric or not any(isinstance(v, str) for v in _leaf_values(miss.value)):
        return ""
    if source_kind == "dynamodb":
        return (" (DynamoDB values such as {\"N\": \"101\"} are strings, "
                "so numeric filters never match them)")
    return " (numeric filters only match JSON numbers, not strings)"


def _show(value, limit: int = 60) -> str:
    text = json.dumps(value, default=_plain, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _plain(value):
    # Payload numbers are Decimals (to keep their written form); show them as numbers.
    return float(value) if isinstance(value, Decimal) else str(value)
