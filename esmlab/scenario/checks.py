"""The `expect` checks of a scenario, evaluated against a lab.

Each check kind of `schema.CHECKS` has one function here that reads the
lab's read models (invocations, journal, queue counts and pages, sinks,
mapping rows and metric series) and returns a `CheckResult`. A failed
check's message names the scenario, the step (number and file:line), what
was expected, what the lab showed, and the records involved.

Record identity, used by `invocation.records`, `in_order` and the
"records involved" of messages:
- SQS: the message body;
- Kinesis: the record's data as text (UTF-8);
- DynamoDB Streams: the item key as JSON with sorted names, as
  `json.dumps(Keys, sort_keys=True)` writes it: `{"id": {"S": "a"}}`
  (an expected key is compared after the same normalisation, so spacing
  and key order in the file do not matter).

Counting rules (also in docs/scenarios.md):
- An invocation's outcome is `success`, `error`, `timeout`, `throttled`,
  `partial` (the function returned a non-empty `batchItemFailures`) or
  `running`. `success` means success without failures reported.
- `invocations` without `outcome` counts the invocations that reached the
  function: throttled attempts never do (as in AWS's Invocations metric);
  count them with `outcome: throttled`.
- `invocation.nth` numbers every attempt the lab recorded for that
  function/mapping, throttled ones included, so with one mapping `nth: 3`
  is the lab's "invocation 3".
- A record is *processed* when it reached the handler in an invocation that
  succeeded; in a partial invocation, SQS messages not named in
  batchItemFailures and stream records before the lowest failed sequence
  number count (what the mapping then deletes or checkpoints).
"""

from __future__ import annotations

import base64
import fnmatch
import json
from dataclasses import dataclass
from typing import Any, Callable

from esmlab.engine.payloads import iso
from esmlab.errors import AwsError
from esmlab.scenario.durations import format_duration
from esmlab.scenario.player import CheckResult
from esmlab.scenario.schema import CHECKS, NO_DEFAULT, Duration, Key, Map, function_name_of

BOUND_KEYS = ("count", "at_least", "at_most", "value")
SHOWN_RECORDS = 10
PAGE = 1000


# -- records and invocations -------------------------------------------------------------


@dataclass
class Rec:
    """One record of an invocation, as the checks see it."""

    id: str                   # messageId, or the sequence number for streams
    key: str                  # identity: body, data text, or item key JSON
    partition_key: str | None
    group: str | None
    receive_count: int | None
    order: tuple              # written order (sequence number, or sent time for standard SQS)
    source: str               # "sqs", "kinesis", "dynamodb"


def _int(text, default=0) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def item_key_text(keys: Any) -> str:
    return json.dumps(keys, sort_keys=True)


def normal_key(text: str) -> str:
    """An expected record identity, normalised like item keys when it is JSON."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            return item_key_text(json.loads(stripped))
        except ValueError:
            pass
    return text


def _event_rec(r: dict) -> Rec:
    if "kinesis" in r:
        k = r["kinesis"]
        try:
            text = base64.b64decode(k.get("data", "")).decode("utf-8", "replace")
        except ValueError:
            text = k.get("data", "")
        seq = k.get("sequenceNumber", "")
        return Rec(seq, text, k.get("partitionKey"), None, None, (_int(seq),), "kinesis")
    if "dynamodb" in r:
        d = r["dynamodb"]
        seq = d.get("SequenceNumber", "")
        key = item_key_text(d.get("Keys"))
        return Rec(seq, key, key, None, None, (_int(seq),), "dynamodb")
    attrs = r.get("attributes") or {}
    if "SequenceNumber" in attrs:
        order = (_int(attrs["SequenceNumber"]),)
    else:
        order = (_int(attrs.get("SentTimestamp")),)
    return Rec(r.get("messageId", ""), r.get("body", ""), None, attrs.get("MessageGroupId"),
               _int(attrs.get("ApproximateReceiveCount"), None), order, "sqs")


def records_of(inv: dict) -> list[Rec]:
    """The records of an invocation, in the order the function got them."""
    cached = inv.get("_recs")
    if cached is not None:
        return cached
    event = inv.get("event")
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        recs = [_event_rec(r) for r in event["Records"]]
    else:  # a throttled attempt stores no event: use what the poller noted
        msgs = (inv.get("detail") or {}).get("msgs")
        if msgs:
            recs = [Rec(m.get("mid", ""), m.get("body", ""), None, m.get("g"), m.get("rc"),
                        (), "sqs") for m in msgs]
        else:
            recs = [Rec(str(i), str(i), None, None, None, (_int(i),), "stream")
                    for i in inv.get("records") or []]
    inv["_recs"] = recs
    return recs


def outcome_of(inv: dict) -> str:
    status = inv["status"]
    if status == "success":
        response = (inv.get("response") or {}).get("response")
        if isinstance(response, dict):
            failures = response.get("batchItemFailures")
            if isinstance(failures, list) and failures:
                return "partial"
    return status


def describe_invocation(player, inv: dict, start_ms: int) -> dict:
    """An invocation as reports show it (plain data)."""
    recs = records_of(inv)
    error = inv.get("error") or None
    return {
        "id": inv["id"], "time": iso(inv["start_ms"]), "at_ms": inv["start_ms"],
        "t": f"T+{_t(inv['start_ms'] - start_ms)}",
        "end_ms": inv["end_ms"], "mapping": player.mapping_label(inv["mapping"]),
        "function": inv["function"], "source": inv["source"], "attempt": inv["attempt"],
        "size": inv["size"], "records": list(inv.get("records") or []),
        "keys": [r.key for r in recs], "outcome": outcome_of(inv),
        "error": error,
    }


def _t(ms: int) -> str:
    return "0s" if ms == 0 else format_duration(ms)


# -- the context of one expect step ------------------------------------------------------


class Context:
    """What the checks of one `expect` step share: the lab, the player's
    mapping ids, and the invocations read once."""

    def __init__(self, player, step):
        self.player = player
        self.lab = player.lab
        self.scenario = player.scenario
        self.step = step
        self._invocations: list[dict] | None = None
        self._reports_failures: dict[str, bool] = {}

    def where(self, line: int) -> str:
        return f"{self.scenario.path}:{line}"

    def invocations(self) -> list[dict]:
        if self._invocations is None:
            out: list[dict] = []
            while True:
                page = self.lab.invocations(offset=len(out), limit=PAGE)
                out.extend(page)
                if len(page) < PAGE:
                    break
            self._invocations = out
        return self._invocations

    def mapping_uuid(self, mapping_id: str) -> str:
        ref = self.player.mapping_ref(mapping_id)
        if ref in self.player.labels:
            return ref
        return self.lab.mapping(ref)["uuid"]

    def mapping_row(self, mapping_id: str) -> dict | None:
        try:
            return self.lab.mapping(self.mapping_uuid(mapping_id))
        except AwsError:
            return None

    def matching(self, args: dict) -> list[dict]:
        """Invocations of args' function and mapping (either may be absent)."""
        function = function_name_of(args["function"]) if args.get("function") else None
        uuid = self.mapping_uuid(args["mapping"]) if args.get("mapping") else None
        return [inv for inv in self.invocations()
                if (function is None or inv["function"] == function)
                and (uuid is None or inv["mapping"] == uuid)]

    def reports_failures(self, uuid: str | None) -> bool:
        """Whether the mapping has ReportBatchItemFailures (unknown -> True)."""
        if uuid is None:
            return True
        if uuid not in self._reports_failures:
            try:
                types = self.lab.mapping(uuid)["config"].get("FunctionResponseTypes") or []
                self._reports_failures[uuid] = "ReportBatchItemFailures" in types
            except AwsError:
                self._reports_failures[uuid] = True
        return self._reports_failures[uuid]

    def processed(self, inv: dict) -> list[Rec]:
        """The records of `inv` that count as processed (see the module doc)."""
        outcome = outcome_of(inv)
        recs = records_of(inv)
        if outcome == "success":
            return recs
        if outcome != "partial":
            return []
        if not self.reports_failures(inv["mapping"]):
            return recs
        failures = inv["response"]["response"]["batchItemFailures"]
        failed = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
        if recs and recs[0].source == "sqs":
            return [r for r in recs if r.id not in failed]
        lowest = min((_int(f) for f in failed if f is not None), default=None)
        if lowest is None:
            return []
        return [r for r in recs if _int(r.id) < lowest]


# -- helpers for messages ----------------------------------------------------------------


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(repr(v) if isinstance(v, str) else _value_text(v)
                               for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _flow_text(value: dict) -> str:
    """A map as the file would write it in flow style: {nth: 2, record: order 3}."""
    return "{" + ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items()) + "}"


def _arg_text(spec: Key | None, value: Any) -> str:
    # Durations are held in milliseconds; show them as the file writes them.
    if spec is not None and isinstance(spec.spec, Duration) and isinstance(value, int):
        return format_duration(value)
    if spec is not None and isinstance(spec.spec, Map) and isinstance(value, dict):
        return _flow_text(value)
    return _value_text(value)


def _args_text(kind: str, args: dict) -> str:
    """The check's own keys, without the bound, the note and values left at
    their defaults (`present: true`, `of: actual`, ...)."""
    spec = CHECKS[kind].keys
    shown = [f"{k}: {_arg_text(spec.get(k), v)}" for k, v in args.items()
             if k not in BOUND_KEYS and k != "note"
             and not (k in spec and spec[k].default is not NO_DEFAULT and spec[k].default == v)]
    return "{" + ", ".join(shown) + "}" if shown else ""


def bound_text(args: dict) -> str:
    for key, words in (("count", "exactly"), ("value", "exactly"), ("at_least", "at least"),
                       ("at_most", "at most")):
        if key in args:
            return f"{words} {args[key]}"
    return "at least 1"


def bound_ok(args: dict, actual: int) -> bool:
    if "count" in args:
        return actual == args["count"]
    if "value" in args:
        return actual == args["value"]
    if "at_least" in args:
        return actual >= args["at_least"]
    if "at_most" in args:
        return actual <= args["at_most"]
    return actual >= 1


def _cap(items: list, limit: int = 50) -> list:
    """At most `limit` of the records involved are kept with a check."""
    return items[:limit]


def _records_text(records: list[str]) -> str:
    shown = ", ".join(records[:SHOWN_RECORDS])
    more = len(records) - SHOWN_RECORDS
    return shown + (f" and {more} more" if more > 0 else "")


def _inv_text(inv: dict, ctx: Context) -> str:
    keys = [r.key for r in records_of(inv)]
    label = ctx.player.mapping_label(inv["mapping"]) or inv["function"]
    return (f"invocation {inv['id']} ({label}, {outcome_of(inv)}: "
            f"{_records_text([repr(k) for k in keys]) or 'no records'})")


def _result(ctx: Context, check, ok: bool, expected: Any, actual: Any, expected_text: str,
            actual_text: str, records: list[str] | None = None) -> CheckResult:
    records = records or []
    note = check.args.get("note")
    head = f"expect {check.kind} {_args_text(check.kind, check.args)}".rstrip()
    if ok:
        message = f"{head}: {expected_text} (found {actual_text})"
    else:
        message = (f"scenario {ctx.scenario.name}, step {ctx.step.index} "
                   f"({ctx.where(check.line)}): {head}: expected {expected_text}, "
                   f"actual {actual_text}")
        if records:
            message += f"; records involved: {_records_text(records)}"
        if note:
            message += f" (note: {note})"
    return CheckResult(kind=check.kind, line=check.line, ok=ok, expected=expected,
                       actual=actual, message=message, records=records, note=note)


def _unusable(ctx: Context, check, why: str) -> CheckResult:
    """A check that cannot be evaluated (a mapping that no longer exists, ...)."""
    return _result(ctx, check, False, None, None, "a check the lab can answer", why)


# -- the checks ---------------------------------------------------------------------------


def check_invocations(ctx: Context, check) -> CheckResult:
    a = check.args
    invs = ctx.matching(a)
    if a.get("outcome"):
        hits = [i for i in invs if outcome_of(i) == a["outcome"]]
    else:
        hits = [i for i in invs if i["status"] != "throttled"]
    ok = bound_ok(a, len(hits))
    records = [_inv_text(i, ctx) for i in _cap(hits or invs)]
    by_outcome: dict[str, int] = {}
    for inv in invs:
        by_outcome[outcome_of(inv)] = by_outcome.get(outcome_of(inv), 0) + 1
    actual_text = str(len(hits))
    if by_outcome:
        actual_text += " (all matching: " + ", ".join(
            f"{n} {o}" for o, n in sorted(by_outcome.items())) + ")"
    return _result(ctx, check, ok, bound_text(a), len(hits), bound_text(a), actual_text,
                   records)


def check_invocation(ctx: Context, check) -> CheckResult:
    a = check.args
    invs = ctx.matching(a)
    nth = a["nth"]
    want = {k: a[k] for k in ("outcome", "size", "records", "receive_counts", "groups",
                              "start", "end") if k in a}
    if nth > len(invs):
        return _result(ctx, check, False, want, None, f"invocation number {nth} to exist",
                       f"only {len(invs)} matching invocation(s)",
                       [_inv_text(i, ctx) for i in _cap(invs)])
    inv = invs[nth - 1]
    recs = records_of(inv)
    got: dict[str, Any] = {}
    if "outcome" in want:
        got["outcome"] = outcome_of(inv)
    if "size" in want:
        got["size"] = inv["size"]
    if "records" in want:
        # JSON identities are compared in one canonical form on both sides,
        # so a body written with its keys in any order matches.
        got["records"] = [normal_key(r.key) for r in recs]
        want["records"] = [normal_key(k) for k in want["records"]]
    if "receive_counts" in want:
        got["receive_counts"] = [r.receive_count for r in recs]
    if "groups" in want:
        groups: list[str] = []
        for r in recs:
            if r.group is not None and r.group not in groups:
                groups.append(r.group)
        got["groups"] = groups
    # start and end are times since the scenario began, as reports print them (T+).
    if "start" in want:
        got["start"] = inv["start_ms"] - ctx.player.start_ms
    if "end" in want:
        end = _ended_at(inv)
        got["end"] = None if end is None else end - ctx.player.start_ms
    wrong = [k for k in want if got[k] != want[k]]
    expected_text = ", ".join(f"{k} {_invocation_value(k, want[k])}" for k in want) \
        or "it to exist"
    actual_text = ", ".join(f"{k} {_invocation_value(k, got[k])}" for k in (wrong or want)) or \
        f"invocation {inv['id']}"
    return _result(ctx, check, not wrong, want, got, f"invocation {inv['id']} with "
                   + expected_text if want else expected_text, actual_text,
                   [_inv_text(inv, ctx)])


def _ended_at(inv: dict) -> int | None:
    """When an invocation ended; None while it runs (the lab already knows
    when it will end, but a check reads what has happened)."""
    return None if inv["status"] == "running" else inv["end_ms"]


def _invocation_value(key: str, value: Any) -> str:
    if key in ("start", "end"):
        return "(still running)" if value is None else f"T+{_t(value)}"
    return _value_text(value)


def check_in_order(ctx: Context, check) -> CheckResult:
    a = check.args
    by = a["by"]
    first_seen: dict[tuple, None] = {}
    sequences: dict[str, list[Rec]] = {}
    for inv in ctx.matching(a):
        for rec in ctx.processed(inv):
            ident = (rec.source, rec.id)
            if ident in first_seen:
                continue  # a redelivery: order is judged by first processing
            first_seen[ident] = None
            key = {"partition_key": rec.partition_key, "group_id": rec.group,
                   "item_key": rec.partition_key if rec.source == "dynamodb" else None}[by]
            if key is None:
                continue
            sequences.setdefault(key, []).append(rec)
    violations: list[str] = []
    for key, recs in sequences.items():
        for before, after in zip(recs, recs[1:]):
            if after.order < before.order:
                violations.append(f"{by} {key}: {after.key!r} ({after.id}) was processed after "
                                  f"{before.key!r} ({before.id}), which was written later")
    checked = sum(len(v) for v in sequences.values())
    actual_text = (f"{checked} record(s) of {len(sequences)} key(s), all in order"
                   if not violations else f"{len(violations)} out-of-order record(s)")
    ok = not violations
    if not sequences:  # a check that checks nothing is more likely a mistake
        actual_text = f"no processed records with a {by}"
        ok = False
    return _result(ctx, check, ok, "in order", "in order" if not violations
                   else "out of order", f"every {by}'s records processed in written order",
                   actual_text, violations)


def check_blocked(ctx: Context, check) -> CheckResult:
    a = check.args
    m = ctx.mapping_row(a["mapping"])
    if m is None:
        return _unusable(ctx, check, f"mapping {a['mapping']} does not exist (any more)")
    if m["source_kind"].startswith("sqs"):
        return _unusable(ctx, check, f"mapping {a['mapping']} reads a queue; `blocked` checks "
                                     "stream mappings (Kinesis, DynamoDB)")
    shards = ctx.lab.engine.mappings.streams.blocked(m)
    blocked_now = sorted(s for s, b in shards.items() if b)
    if a.get("shard"):
        if a["shard"] not in shards:
            return _unusable(ctx, check, f"mapping {a['mapping']} has no shard {a['shard']} "
                                         f"(its shards: {', '.join(sorted(shards))})")
        actual = shards[a["shard"]]
        what = a["shard"]
    else:
        actual = bool(blocked_now)
        what = f"mapping {a['mapping']}"
    expected_text = f"{what} {'blocked' if a['value'] else 'not blocked'}"
    actual_text = ("blocked" if actual else "not blocked") + (
        f" (blocked shards: {', '.join(blocked_now)})" if blocked_now else "")
    return _result(ctx, check, actual == a["value"], a["value"], actual, expected_text,
                   actual_text, blocked_now)


def _queue_messages(ctx: Context, queue: str) -> list[dict]:
    out: list[dict] = []
    while True:
        page = ctx.lab.engine.queues.page(queue, offset=len(out), limit=PAGE)
        out.extend(page)
        if len(page) < PAGE:
            return out


def check_queue(ctx: Context, check) -> CheckResult:
    a = check.args
    counts = ctx.lab.engine.queues.counts(a["QueueName"])
    want = {k: a[k] for k in ("visible", "in_flight", "delayed", "total") if k in a}
    got = {k: counts[k] for k in ("visible", "in_flight", "delayed", "total")}
    wrong = [k for k in want if got[k] != want[k]]
    records = []
    if wrong:
        records = [f"{m['body']!r} ({m['state']}, received {m['receive_count']}x)"
                   for m in ctx.lab.engine.queues.page(a["QueueName"], limit=SHOWN_RECORDS + 1)]
    expected_text = ", ".join(f"{k} {v}" for k, v in want.items()) or "any counts"
    actual_text = ", ".join(f"{k} {v}" for k, v in got.items())
    return _result(ctx, check, not wrong, want, got, f"{a['QueueName']}: {expected_text}",
                   actual_text, records)


def check_message(ctx: Context, check) -> CheckResult:
    a = check.args
    present = a.get("present", True)
    msgs = [m for m in _queue_messages(ctx, a["QueueName"]) if m["body"] == a["body"]]
    counts = [m["receive_count"] for m in msgs]
    if present:
        if "receive_count" in a:
            ok = a["receive_count"] in counts
            expected_text = f"{a['body']!r} in {a['QueueName']} with receive count " \
                            f"{a['receive_count']}"
        else:
            ok = bool(msgs)
            expected_text = f"{a['body']!r} in {a['QueueName']}"
    else:
        ok = not msgs
        expected_text = f"no {a['body']!r} in {a['QueueName']}"
    if msgs:
        actual_text = f"{len(msgs)} such message(s), receive count(s) " + \
            ", ".join(map(str, counts)) + ", state(s) " + ", ".join(m["state"] for m in msgs)
    else:
        actual_text = "no such message"
    records = [f"{m['message_id']} ({m['state']}, received {m['receive_count']}x)"
               for m in _cap(msgs)]
    expected = {k: v for k, v in a.items() if k != "note"}
    return _result(ctx, check, ok, expected, {"count": len(msgs), "receive_counts": counts},
                   expected_text, actual_text, records)


def failure_records(ctx: Context, name: str) -> list[dict]:
    """On-failure records that reached a queue, topic or bucket:
    [{"condition", "body", "where"}]."""
    lab = ctx.lab
    out = []
    if name in lab.engine.queues.names():
        for m in _queue_messages(ctx, name):
            try:
                body = json.loads(m["body"])
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("requestContext"), dict):
                out.append({"condition": body["requestContext"].get("condition"),
                            "body": body})
        return out
    offset = 0
    while True:
        page = lab.engine.sinks.items(name, offset=offset, limit=PAGE)
        for item in page:
            body = item["body"]
            condition = (body.get("requestContext") or {}).get("condition") \
                if isinstance(body, dict) else None
            out.append({"condition": condition or item.get("reason"), "body": body})
        offset += len(page)
        if len(page) < PAGE:
            return out


def _failure_text(record: dict) -> str:
    body = record["body"]
    for key in ("KinesisBatchInfo", "DDBStreamBatchInfo"):
        info = body.get(key) if isinstance(body, dict) else None
        if info:
            return (f"{info.get('shardId')} {info.get('startSequenceNumber')}.."
                    f"{info.get('endSequenceNumber')} ({record['condition']}, "
                    f"{info.get('batchSize')} record(s))")
    return str(record["condition"])


def check_destination(ctx: Context, check) -> CheckResult:
    a = check.args
    found = failure_records(ctx, a["name"])
    hits = [r for r in found if not a.get("condition") or r["condition"] == a["condition"]]
    ok = bound_ok(a, len(hits))
    what = "on-failure record(s)" + (f" with condition {a['condition']}"
                                      if a.get("condition") else "")
    conditions: dict[str, int] = {}
    for r in found:
        conditions[str(r["condition"])] = conditions.get(str(r["condition"]), 0) + 1
    actual_text = f"{len(hits)}" + (" (all: " + ", ".join(
        f"{n} {c}" for c, n in sorted(conditions.items())) + ")" if found else "")
    return _result(ctx, check, ok, bound_text(a), len(hits),
                   f"{bound_text(a)} {what} in {a['name']}", actual_text,
                   [_failure_text(r) for r in _cap(hits or found)])


def concurrency_of(ctx: Context, m: dict, of: str) -> int:
    label = m["label"]
    rt = m["runtime"] or {}
    streams = ctx.lab.engine.mappings.streams
    queue_mapping = m["source_kind"].startswith("sqs")
    if of == "actual":
        if queue_mapping:
            return int(rt.get("busy", 0)) - len(rt.get("throttled") or [])
        return sum(1 for *_, st in streams.lanes(m["uuid"]) if st.get("inflight"))
    if of == "target":
        if queue_mapping:
            return int(rt.get("target", 0))
        return sum(1 for *_, st in streams.lanes(m["uuid"]) if st.get("status") == "active")
    series = ctx.lab.metric_series(label, "ConcurrentExecutions")
    peak = max((int(v) for _, v in series), default=0)
    return max(peak, int(rt.get("peak", 0)))  # the queue poller also counts its exact peak


def check_concurrency(ctx: Context, check) -> CheckResult:
    a = check.args
    m = ctx.mapping_row(a["mapping"])
    if m is None:
        return _unusable(ctx, check, f"mapping {a['mapping']} does not exist (any more)")
    of = a.get("of", "actual")
    value = concurrency_of(ctx, m, of)
    words = {"actual": "concurrent batches now", "target": "target concurrency",
             "peak": "peak concurrency"}[of]
    return _result(ctx, check, bound_ok(a, value), bound_text(a), value,
                   f"{a['mapping']} {words} {bound_text(a)}", str(value))


def _journal_matches(kind: str) -> Callable[[str], bool]:
    if any(c in kind for c in "*?["):
        return lambda k: fnmatch.fnmatchcase(k, kind)
    return lambda k: k == kind


def check_journal(ctx: Context, check) -> CheckResult:
    a = check.args
    kind = a["kind"]
    exact = not any(c in kind for c in "*?[")
    match = _journal_matches(kind)
    contains = (a.get("contains") or "").lower()
    hits: list[dict] = []
    after = 0
    while True:
        page = ctx.lab.journal(kind=kind if exact else None, after_id=after, limit=PAGE)
        for e in page:
            if not match(e["kind"]):
                continue
            if contains:
                text = " ".join(str(x) for x in (e["reason"], e["resource"], e["subject"] or "",
                                                  json.dumps(e["data"]) if e["data"] else ""))
                if contains not in text.lower():
                    continue
            hits.append(e)
        if len(page) < PAGE:
            break
        after = page[-1]["id"]
    what = f"journal events of kind {kind}" + (f" containing {a['contains']!r}"
                                                 if a.get("contains") else "")
    return _result(ctx, check, bound_ok(a, len(hits)), bound_text(a), len(hits),
                   f"{bound_text(a)} {what}", str(len(hits)),
                   [f"T+{_t(e['at_ms'] - ctx.player.start_ms)} {e['reason']}" for e in _cap(hits)])


def check_processed(ctx: Context, check) -> CheckResult:
    a = check.args
    recs: list[Rec] = []
    for inv in ctx.matching(a):
        recs.extend(ctx.processed(inv))
    if a.get("distinct"):
        unique: dict[tuple, Rec] = {}
        for r in recs:
            unique.setdefault((r.source, r.id), r)
        recs = list(unique.values())
    what = "distinct records processed" if a.get("distinct") else "records processed"
    return _result(ctx, check, bound_ok(a, len(recs)), bound_text(a), len(recs),
                   f"{bound_text(a)} {what}", str(len(recs)), [repr(r.key) for r in _cap(recs)])


def check_mapping_state(ctx: Context, check) -> CheckResult:
    a = check.args
    want = {k: a[k] for k in ("State", "LastProcessingResult") if k in a}
    try:
        # The mapping row, not GetEventSourceMapping: for SQS mappings AWS's
        # response has no LastProcessingResult, but the lab still tracks it.
        row = ctx.lab.mapping(ctx.mapping_uuid(a["mapping"]))
        got = {"State": row["state"], "LastProcessingResult": row["last_result"]}
    except AwsError:
        got = {"State": "Deleted (the mapping no longer exists)",
               "LastProcessingResult": None}
    wrong = [k for k in want if got[k] != want[k]]
    expected_text = f"{a['mapping']}: " + (", ".join(f"{k} {v!r}" for k, v in want.items())
                                           or "exists")
    actual_text = ", ".join(f"{k} {got[k]!r}" for k in (wrong or want or got))
    return _result(ctx, check, not wrong, want, got, expected_text, actual_text)


_MISSING = object()


def dig(value: Any, path: str) -> Any:
    """Follow a dotted path (list indexes as numbers) into JSON data."""
    for part in path.split("."):
        if isinstance(value, list) and part.lstrip("-").isdigit() and \
                -len(value) <= int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def context_of(inv: dict) -> dict:
    """The parts of the Lambda context the function got that a check can read."""
    return {"aws_request_id": inv.get("request_id"), "function_name": inv["function"]}


def _invocation_docs(ctx: Context, args: dict) -> list[dict]:
    """The events (`of: invocation`) or contexts (`of: context`) of the
    matching invocations that reached the function, in order."""
    reached = [i for i in ctx.matching(args) if i.get("event") is not None]
    if args["of"] == "context":
        return [context_of(i) for i in reached]
    return [i["event"] for i in reached]


def check_field(ctx: Context, check) -> CheckResult:
    a = check.args
    nth = a["nth"]
    if a["of"] in ("invocation", "context"):
        docs = _invocation_docs(ctx, a)
        where = f"invocation {nth}'s {'event' if a['of'] == 'invocation' else 'context'}"
    else:
        if not a.get("name"):
            return _unusable(ctx, check, "a destination field needs `name`")
        docs = [r["body"] for r in failure_records(ctx, a["name"])]
        where = f"record {nth} in {a['name']}"
    if nth > len(docs):
        return _result(ctx, check, False, a["path"], None, f"{where} to exist",
                       f"only {len(docs)}")
    got = dig(docs[nth - 1], a["path"])
    present = got is not _MISSING
    if "exists" in a and "equals" not in a:
        return _result(ctx, check, present == a["exists"], a["exists"], present,
                       f"{a['path']} {'present' if a['exists'] else 'absent'} in {where}",
                       "present" if present else "absent")
    want = a.get("equals")
    ok = present and got == want
    return _result(ctx, check, ok, want, None if not present else got,
                   f"{a['path']} = {_value_text(want)} in {where}",
                   _value_text(got) if present else "absent")


def _answer(ctx: Context, name: str) -> dict | None:
    return ctx.player.answers.get(name)


def _paths_text(paths: dict) -> str:
    return ", ".join(f"{p} = {_value_text(v)}" for p, v in paths.items())


def check_response(ctx: Context, check) -> CheckResult:
    a = check.args
    answer = _answer(ctx, a["of"])
    if answer is None:
        return _unusable(ctx, check, f"step {a['of']!r} has not been played yet")
    response = answer["response"]
    if response is None:
        error = answer["error"]
        why = f"it raised {error.code}: {error.message}" if error else "it answered nothing"
        return _unusable(ctx, check, f"step {a['of']!r} has no response ({why})")
    wrong: list[str] = []
    got: dict[str, Any] = {}
    for path, want in (a.get("fields") or {}).items():
        value = dig(response, path)
        got[path] = None if value is _MISSING else value
        if value is _MISSING or value != want:
            wrong.append(f"{path} = " + ("(absent)" if value is _MISSING else _value_text(value)))
    for path in a.get("present") or []:
        if dig(response, path) is _MISSING:
            wrong.append(f"{path} absent")
    for path in a.get("absent") or []:
        value = dig(response, path)
        if value is not _MISSING:
            wrong.append(f"{path} present ({_value_text(value)})")
    want_text = "; ".join(part for part in (
        _paths_text(a.get("fields") or {}),
        "present: " + ", ".join(a["present"]) if a.get("present") else "",
        "absent: " + ", ".join(a["absent"]) if a.get("absent") else "") if part)
    actual_text = "; ".join(wrong) if wrong else "all as expected"
    expected = {k: a[k] for k in ("fields", "present", "absent") if k in a}
    return _result(ctx, check, not wrong, expected, got, f"{a['of']}'s response: {want_text}",
                   actual_text, [json.dumps(response, default=str)[:500]] if wrong else [])


def check_error(ctx: Context, check) -> CheckResult:
    a = check.args
    answer = _answer(ctx, a["of"])
    if answer is None:
        return _unusable(ctx, check, f"step {a['of']!r} has not been played yet")
    error = answer["error"]
    want = {k: a[k] for k in ("code", "message", "status") if k in a}
    if error is None:
        return _result(ctx, check, False, want, None, f"{a['of']} to raise an error",
                       "it succeeded")
    got = {"code": error.code, "message": error.message, "status": error.status}
    wrong = [k for k in want if got[k] != want[k]]
    expected_text = f"{a['of']} raised " + ", ".join(f"{k} {want[k]!r}" for k in want)
    actual_text = ", ".join(f"{k} {got[k]!r}" for k in (wrong or want))
    if error.hint:
        actual_text += f" (lab hint: {error.hint})"
    return _result(ctx, check, not wrong, want, got, expected_text, actual_text)


def check_appearances(ctx: Context, check) -> CheckResult:
    a = check.args
    wanted = normal_key(a["record"])
    hits = [inv for inv in ctx.matching(a) if inv["status"] != "throttled"
            and any(normal_key(r.key) == wanted for r in records_of(inv))]
    return _result(ctx, check, bound_ok(a, len(hits)), bound_text(a), len(hits),
                   f"{a['record']!r} in {bound_text(a)} payload(s)", str(len(hits)),
                   [_inv_text(i, ctx) for i in _cap(hits)])


def _field_value(ctx: Context, ref: dict) -> tuple[Any, str]:
    """The value a FIELD_REF points at (or _MISSING) and words for where it is."""
    nth = ref.get("nth", 1)
    if ref["of"] == "response":
        answer = _answer(ctx, ref.get("step") or "")
        where = f"the response of step {ref.get('step')!r}"
        docs = [answer["response"]] if answer and answer["response"] is not None else []
        nth = 1
    elif ref["of"] in ("invocation", "context"):
        docs = _invocation_docs(ctx, ref)
        where = f"invocation {nth}'s {'event' if ref['of'] == 'invocation' else 'context'}"
    else:
        docs = [r["body"] for r in failure_records(ctx, ref["name"])] if ref.get("name") else []
        where = f"record {nth} in {ref.get('name')}"
    if nth > len(docs):
        return _MISSING, f"{ref['path']} of {where} (which does not exist)"
    return dig(docs[nth - 1], ref["path"]), f"{ref['path']} of {where}"


def check_compare(ctx: Context, check) -> CheckResult:
    a = check.args
    left, left_where = _field_value(ctx, a["left"])
    right, right_where = _field_value(ctx, a["right"])
    equal = a.get("relation", "equal") == "equal"
    found = left is not _MISSING and right is not _MISSING
    ok = found and ((left == right) == equal)
    shown = [("absent" if v is _MISSING else _value_text(v)) for v in (left, right)]
    return _result(ctx, check, ok, a.get("relation", "equal"), shown,
                   f"{left_where} {'=' if equal else '!='} {right_where}",
                   f"{shown[0]} and {shown[1]}")


_ORDINAL = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else _ORDINAL.get(n % 10, 'th')}"


def _ref_text(ref: dict, nth: int) -> str:
    """An invocation reference in words: "2nd invocation of checkout holding 'order 3'"."""
    text = f"{_ordinal(nth)} invocation"
    if ref.get("function"):
        text += f" of {ref['function']}"
    if ref.get("mapping"):
        text += f" of mapping {ref['mapping']}"
    if ref.get("record"):
        text += f" holding {ref['record']!r}"
    return text


def _referenced(ctx: Context, ref: dict) -> list[dict]:
    """The attempts an INVOCATION_REF chooses among, in the lab's order."""
    invs = ctx.matching(ref)
    if ref.get("record"):
        wanted = normal_key(ref["record"])
        invs = [i for i in invs if any(normal_key(r.key) == wanted for r in records_of(i))]
    return invs


FILTERS = ("function", "mapping", "record")


def _gap_refs(a: dict) -> tuple[dict, int, dict, int]:
    """`from` and `to` with their nth; a `to` naming no filter takes `from`'s
    filters and, without its own nth, means the next one."""
    first, second = a["from"], a["to"]
    nth_first = first.get("nth", 1)
    if any(k in second for k in FILTERS):
        return first, nth_first, second, second.get("nth", 1)
    inherited = {k: first[k] for k in FILTERS if k in first}
    return first, nth_first, inherited, second.get("nth", nth_first + 1)


def _duration_bound_text(args: dict) -> str:
    for key, words in (("value", "exactly"), ("at_least", "at least"), ("at_most", "at most")):
        if key in args:
            return f"{words} {_t(args[key])}"
    return ""  # pragma: no cover - the schema requires one of them


def check_gap(ctx: Context, check) -> CheckResult:
    a = check.args
    since = a.get("since", "start")
    first, nth_first, second, nth_second = _gap_refs(a)
    bound = _duration_bound_text(a)
    what = (f"the gap from the {since} of the {_ref_text(first, nth_first)} to the start "
            f"of the {_ref_text(second, nth_second)}")
    picked = []
    for ref, nth in ((first, nth_first), (second, nth_second)):
        invs = _referenced(ctx, ref)
        if nth > len(invs):
            return _result(ctx, check, False, bound, None,
                           f"the {_ref_text(ref, nth)} to exist",
                           f"only {len(invs)} such invocation(s)",
                           [_inv_text(i, ctx) for i in _cap(invs)])
        picked.append(invs[nth - 1])
    inv_first, inv_second = picked
    records = [_inv_text(inv_first, ctx), _inv_text(inv_second, ctx)]
    begin = inv_first["start_ms"] if since == "start" else _ended_at(inv_first)
    if begin is None:
        return _result(ctx, check, False, bound, None, what,
                       f"invocation {inv_first['id']} is still running (it has no end)", records)
    gap = inv_second["start_ms"] - begin
    s0 = ctx.player.start_ms
    actual_text = (f"{_t(gap)} (from invocation {inv_first['id']}'s {since} at "
                   f"T+{_t(begin - s0)} to invocation {inv_second['id']}'s start at "
                   f"T+{_t(inv_second['start_ms'] - s0)}" + (", which is earlier" if gap < 0 else "")
                   + ")")
    return _result(ctx, check, bound_ok(a, gap), bound, gap, f"{what} {bound}", actual_text,
                   records)


def check_metric(ctx: Context, check) -> CheckResult:
    a = check.args
    if a.get("mapping"):
        m = ctx.mapping_row(a["mapping"])
        if m is None:
            return _unusable(ctx, check, f"mapping {a['mapping']} does not exist (any more)")
        resource, owner = m["label"], f"mapping {a['mapping']}"
    else:
        resource = function_name_of(a["function"])
        owner = f"function {resource}"
    series = ctx.lab.metric_series(resource, a["name"])
    total = sum(v for _, v in series)
    if "published" in a and not any(k in a for k in ("count", "at_least", "at_most")):
        ok = bool(series) == a["published"]
        return _result(ctx, check, ok, a["published"], bool(series),
                       f"{owner}: {a['name']} " + ("published" if a["published"]
                                                   else "not published (no datapoint)"),
                       f"{len(series)} datapoint(s)")
    shown = int(total) if float(total).is_integer() else total
    return _result(ctx, check, bound_ok(a, total), bound_text(a), shown,
                   f"{owner}: sum of {a['name']} {bound_text(a)}",
                   f"{shown} over {len(series)} datapoint(s)")


CHECKERS: dict[str, Callable[[Context, Any], CheckResult]] = {
    "metric": check_metric,
    "response": check_response,
    "error": check_error,
    "appearances": check_appearances,
    "compare": check_compare,
    "gap": check_gap,
    "field": check_field,
    "invocations": check_invocations,
    "invocation": check_invocation,
    "in_order": check_in_order,
    "blocked": check_blocked,
    "queue": check_queue,
    "message": check_message,
    "destination": check_destination,
    "concurrency": check_concurrency,
    "journal": check_journal,
    "processed": check_processed,
    "mapping_state": check_mapping_state,
}


def evaluate(ctx: Context, check) -> CheckResult:
    try:
        return CHECKERS[check.kind](ctx, check)
    except AwsError as exc:  # e.g. a queue or mapping that does not exist
        return _unusable(ctx, check, f"{exc.code}: {exc.message}")
    except Exception as exc:  # a bug in a read model: report it on the check, play on
        return _unusable(ctx, check, f"the check could not be evaluated "
                                     f"({type(exc).__name__}: {exc})")


def evaluate_all(player, step) -> list[CheckResult]:
    """Evaluate every check of an `expect` step, in file order."""
    ctx = Context(player, step)
    return [evaluate(ctx, check) for check in step.args]
