"""The behaviour form's fields (7 / b): how a lab function answers, as the
`behaviour:` map of docs/scenarios.md, from text fields and back.

Every behaviour key has a field: the mode, the match (text, partition key,
group id, and the receive_count / attempt bounds), probability, count,
error, the handler and respond's fixed JSON response. A key this form does
not know (a future option) is kept as it was, so saving never drops it.
Only the options the chosen mode takes are sent (the scenario schema's
variants), so switching from poison to fail does not leave a match the
mode would ignore. The checks are the engine's own (`check_behaviour`), so
the form says exactly what a scenario file would be told.
"""

from __future__ import annotations

import json
import re

from esmlab.engine.function import MATCH_KEYS, MODES, check_behaviour
from esmlab.errors import AwsError
from esmlab.scenario.schema import BEHAVIOUR_VARIANTS
from esmlab.tui.said import said

TEXT_MATCH = ("text", "partition_key", "group_id")
BOUNDS = ("receive_count", "attempt")
BOUND_HELP = "N, N-M, >=N or <=N"
OPTIONS = ("probability", "count", "error", "handler", "response")


def bound_text(bound: dict | None) -> str:
    """{at_least: 1, at_most: 2} -> "1-2" (the form's short way to write it)."""
    if not isinstance(bound, dict) or not bound:
        return ""
    low, high = bound.get("at_least"), bound.get("at_most")
    if low is not None and high is not None:
        return str(low) if low == high else f"{low}-{high}"
    return f">={low}" if low is not None else f"<={high}"


def parse_bound(name: str, text: str) -> dict | None:
    """"2" / "1-3" / ">=2" / "<=2" -> {at_least, at_most}; "" -> None. A bad
    one raises ValueError in the engine's words."""
    text = text.strip().replace(" ", "")
    if not text:
        return None
    found = re.fullmatch(r"(\d+)-(\d+)|>=(\d+)|<=(\d+)|(\d+)", text)
    if found is None:
        raise ValueError(f"match {name} must be {{at_least: N, at_most: N}} (either or both, "
                         f"whole numbers from 1); here: {BOUND_HELP}, not {text!r}")
    low, high, only_low, only_high, exact = found.groups()
    if exact is not None:
        bound = {"at_least": int(exact), "at_most": int(exact)}
    elif low is not None:
        bound = {"at_least": int(low), "at_most": int(high)}
    elif only_low is not None:
        bound = {"at_least": int(only_low)}
    else:
        bound = {"at_most": int(only_high)}
    if any(v < 1 for v in bound.values()):
        raise ValueError(f"match {name} must be {{at_least: N, at_most: N}} (either or both, "
                         "whole numbers from 1)")
    return bound


def fields(behaviour: dict) -> list[tuple]:
    """The form's fields, prefilled with the function's behaviour."""
    match = behaviour.get("match") or {}
    response = behaviour.get("response")
    return [
        ("mode", "mode", behaviour["mode"], [(m, m) for m in MODES]),
        ("text", "match: text contains (poison, partial, timeout, respond)",
         match.get("text", "")),
        ("partition_key", "match: partition key", match.get("partition_key", "")),
        ("group_id", "match: message group id", match.get("group_id", "")),
        ("receive_count", f"match: SQS receive count ({BOUND_HELP})",
         bound_text(match.get("receive_count"))),
        ("attempt", f"match: attempt, 1 = the batch's first try ({BOUND_HELP})",
         bound_text(match.get("attempt"))),
        ("probability", "probability 0-1 (flaky)", str(behaviour.get("probability", ""))),
        ("count", "count (fail_first: fail the first N invocations)",
         str(behaviour.get("count", ""))),
        ("error", "error message raised (fail, fail_first, poison, flaky)",
         behaviour.get("error", "")),
        ("handler", "your handler module:function (handler)", behaviour.get("handler", "")),
        ("response", 'response JSON (respond), e.g. {"batchItemFailures": []}',
         "" if response is None else json.dumps(response, ensure_ascii=False)),
    ]


def behaviour_of(values: dict, before: dict) -> dict:
    """The behaviour the form's values ask for; raises ValueError with one
    sentence when a value cannot be used (checked as the engine checks)."""
    mode = values["mode"]
    takes = set(BEHAVIOUR_VARIANTS[mode].options) if mode in BEHAVIOUR_VARIANTS else set()
    old_match = before.get("match") or {}
    match = {k: v for k, v in old_match.items() if k not in MATCH_KEYS}   # kept: unknown keys
    for key in MATCH_KEYS:
        if key in BOUNDS:
            bound = parse_bound(key, values[key])
            if bound is not None:
                match[key] = bound
        elif values[key].strip():
            match[key] = values[key].strip()
    wanted: dict = {"mode": mode}
    if match and "match" in takes:
        wanted["match"] = match
    if "probability" in takes and values["probability"].strip():
        try:
            wanted["probability"] = float(values["probability"])
        except ValueError:
            raise ValueError("probability: a number from 0 to 1, e.g. 0.5") from None
    if "count" in takes and values["count"].strip():
        try:
            wanted["count"] = int(values["count"])
        except ValueError:
            raise ValueError("count: a whole number, e.g. 2") from None
    if "error" in takes and values["error"].strip():
        wanted["error"] = values["error"].strip()
    if "handler" in takes and values["handler"].strip():
        wanted["handler"] = values["handler"].strip()
    if "response" in takes and values["response"].strip():
        try:
            wanted["response"] = json.loads(values["response"])
        except ValueError as exc:
            raise ValueError(f"response: not JSON ({exc}); write it as JSON, e.g. "
                             '{"batchItemFailures": []}') from None
    for key, value in before.items():      # an option this form does not know is kept
        if key not in ("mode", "match", *OPTIONS):
            wanted[key] = value
    if mode == "fail_first" and "count" not in wanted:
        wanted["count"] = 1                # the scenario schema's default
    try:
        return check_behaviour(wanted)
    except AwsError as exc:
        raise ValueError(said(exc)) from None
