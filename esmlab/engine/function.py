"""Lambda functions: configuration, behaviours, concurrency and invocations.

An invocation is decided when it starts (the behaviour, or the user's own
handler, is evaluated then) and completes on the virtual clock after its
duration, or at its timeout. While it runs it holds one unit of the
function's concurrency. Throttles never reach the function: they are
recorded as throttled invocations and counted in `Throttles`, not in
`Invocations` or `Errors` (reference section 1.10).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from esmlab.engine import arns, event_store, roles
from esmlab.errors import AwsError, invalid

MODES = ("succeed", "fail", "fail_first", "poison", "flaky", "timeout", "partial", "handler",
         "resend", "respond")
# What a behaviour's `match` may name: the record's text and keys, and the
# delivery it is on (bounds {at_least, at_most} on a message's
# ApproximateReceiveCount, or on the invocation's attempt number).
MATCH_KEYS = ("text", "partition_key", "group_id", "receive_count", "attempt")
DEFAULT_DURATION = {"fixed_ms": 100, "per_record_ms": 0}
# Variables Lambda sets itself; CreateFunction refuses them in Environment.
RESERVED_VARIABLES = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)
VARIABLE_NAME = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")
ENVIRONMENT_LIMIT_BYTES = 4096  # all keys and values together


@dataclass
class Item:
    """What a behaviour may look at in one record of a batch."""
    id: str            # the batchItemFailures identifier (messageId / sequence number)
    text: str          # body, decoded data, or item JSON
    key: str | None    # partition key / item key
    group: str | None  # FIFO message group
    receive_count: int | None = None  # SQS: the message's ApproximateReceiveCount now


@dataclass
class Outcome:
    status: str        # "success" | "error" | "timeout"
    response: Any = None
    error: dict | None = None
    duration_ms: int = 0
    why: str = ""
    # A user handler's captured output, as CloudWatch events (each ends in
    # "\n"): what it wrote while it ran, and at a cold start while it was
    # imported.
    logs: list = field(default_factory=list)
    init_logs: list = field(default_factory=list)
    # Messages a user handler sent with context.send_message: [{QueueName,
    # MessageBody}], applied when the invocation ends.
    sends: list = field(default_factory=list)


class Functions:
    def __init__(self, engine):
        self.engine = engine
        self.conn = engine.conn
        # Parsed config and behaviour per function. Every change goes through
        # this class, and a rolled-back call reloads the engine (and so this
        # cache), so it never disagrees with the table.
        self._cache: dict[str, tuple[dict, dict]] = {}
        # Invocation count and running invocations per function: read once,
        # kept here while a command runs (two of them change per invocation)
        # and written back once per command by flush() (Engine.flush).
        self._tallies: dict[str, list[int]] | None = None
        self._changed: set[str] = set()
        engine.agenda.on("invoke.done", self._done)

    # -- configuration ---------------------------------------------------

    def create(self, name: str, timeout: int = 3, reserved: int | None = None,
               memory: int = 128, duration: dict | None = None,
               behaviour: dict | None = None, environment: dict | None = None) -> dict:
        if not name or len(name) > 64:
            # AWS's text (recorded, LocalStack test_lambda_api test_function_arns).
            raise invalid(f"1 validation error detected: Value '{name}' at 'functionName' "
                          "failed to satisfy constraint: Member must have length less than or "
                          "equal to 64")
        if self.exists(name):
            raise AwsError("ResourceConflictException", f"Function already exist: {name}", 409)
        config = {"FunctionName": name, "FunctionArn": arns.function_arn(name),
                  "Timeout": 3, "MemorySize": memory, "ReservedConcurrentExecutions": None,
                  "duration": dict(DEFAULT_DURATION)}
        self._apply_config(config, timeout=timeout, reserved=reserved, duration=duration,
                           environment=environment)
        behaviour = check_behaviour(behaviour or {"mode": "succeed"})
        self.conn.execute("INSERT INTO functions (name, config, behaviour) VALUES (?, ?, ?)",
                          (name, json.dumps(config), json.dumps(behaviour)))
        if self._tallies is not None:
            self._tallies[name] = [0, 0]
        self.engine.log("function.created", name,
                        f"function {name} created: Timeout {config['Timeout']} s, "
                        f"behaviour {describe_behaviour(behaviour)}")
        self.engine.mappings.on_function_change(name)  # mappings left by a deleted one
        return config

    def update(self, name: str, **changes) -> dict:
        config = dict(self.config(name))
        self._apply_config(config, **changes)
        self.conn.execute("UPDATE functions SET config=? WHERE name=?", (json.dumps(config), name))
        self._cache.pop(name, None)
        self.engine.log("function.updated", name, f"function {name} configuration changed: "
                        + ", ".join(f"{k}={v}" for k, v in changes.items()))
        return config

    def _apply_config(self, config: dict, timeout=None, reserved="keep", duration=None,
                      environment=None, **unknown) -> None:
        if unknown:
            raise invalid(f"Unknown function setting: {', '.join(unknown)}", own=True)
        if environment is not None:
            config["Environment"] = {"Variables": check_environment(environment)}
        if timeout is not None:
            if not isinstance(timeout, int) or not 1 <= timeout <= 900:
                raise invalid(f"1 validation error detected: Value '{timeout}' at 'timeout' "
                              "failed to satisfy constraint: Member must have value less than "
                              "or equal to 900")
            config["Timeout"] = timeout
        if reserved != "keep":
            if reserved is not None and (not isinstance(reserved, int) or reserved < 0):
                raise invalid(f"1 validation error detected: Value '{reserved}' at "
                              "'reservedConcurrentExecutions' failed to satisfy constraint: "
                              "Member must have value greater than or equal to 0")
            if reserved is not None and reserved > self.engine.account_concurrency - 100:
                raise invalid(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    "UnreservedConcurrentExecution below its minimum value of [100].")
            config["ReservedConcurrentExecutions"] = reserved
        if duration is not None:
            merged = dict(config.get("duration") or DEFAULT_DURATION)
            merged.update(duration)
            if any(not isinstance(v, int) or v < 0 for v in merged.values()):
                raise invalid("duration values must be whole milliseconds >= 0", own=True)
            config["duration"] = merged

    # -- delete, role, versions and aliases (the control plane) -------------

    def delete(self, name: str) -> None:
        """DeleteFunction: the function goes; its mappings stay (Enabled, as
        on AWS) and fail to invoke until a function of that name exists again."""
        self.config(name)  # ResourceNotFoundException when there is none
        self.conn.execute("DELETE FROM functions WHERE name=?", (name,))
        self._cache.pop(name, None)
        self.engine.log("function.deleted", name,
                        f"function {name} deleted; mappings that invoke it stay Enabled and "
                        "fail until it exists again")
        self.engine.mappings.on_function_change(name)

    def role(self, name: str) -> dict:
        """{RoleArn, Actions}: the function's execution role (labs made before
        roles existed get the default role)."""
        return self.config(name).get("Role") or roles.default_role(name)

    def update_role(self, name: str, grant: list | None = None, revoke: list | None = None) -> dict:
        role = roles.changed(self.role(name), grant, revoke)
        self._save_config(name, {**self.config(name), "Role": role})
        words = [f"+{a}" for a in grant or []] + [f"-{a}" for a in revoke or []]
        self.engine.log("function.role", name, f"role {role['RoleArn']} of {name}: "
                        + ", ".join(words))
        self.engine.mappings.on_function_change(name)
        return role

    def publish_version(self, name: str, description: str = "") -> dict:
        config = self.config(name)
        versions = dict(config.get("Versions") or {})
        version = str(len(versions) + 1)
        versions[version] = {"Description": description, "Timeout": config["Timeout"]}
        self._save_config(name, {**config, "Versions": versions})
        self.engine.log("function.version", name, f"version {version} of {name} published")
        return {"FunctionName": name, "FunctionArn": f"{config['FunctionArn']}:{version}",
                "Version": version, "Description": description, "Timeout": config["Timeout"]}

    def create_alias(self, name: str, alias: str, version: str, description: str = "") -> dict:
        config = self.config(name)
        aliases = dict(config.get("Aliases") or {})
        if alias in aliases:
            raise AwsError("ResourceConflictException",
                           f"Alias already exists: {config['FunctionArn']}:{alias}", 409)
        self._check_version(config, version)
        aliases[alias] = {"FunctionVersion": version, "Description": description}
        self._save_config(name, {**config, "Aliases": aliases})
        self.engine.log("function.alias", name, f"alias {alias} of {name} -> version {version}")
        return self._alias_out(config, alias, aliases[alias])

    def update_alias(self, name: str, alias: str, version: str | None = None,
                     description: str | None = None) -> dict:
        config = self.config(name)
        aliases = dict(config.get("Aliases") or {})
        if alias not in aliases:
            raise AwsError("ResourceNotFoundException",
                           f"Alias not found: {config['FunctionArn']}:{alias}", 404)
        entry = dict(aliases[alias])
        if version is not None:
            self._check_version(config, version)
            entry["FunctionVersion"] = version
        if description is not None:
            entry["Description"] = description
        aliases[alias] = entry
        self._save_config(name, {**config, "Aliases": aliases})
        self.engine.log("function.alias", name,
                        f"alias {alias} of {name} -> version {entry['FunctionVersion']}")
        return self._alias_out(config, alias, entry)

    def _check_version(self, config: dict, version: str) -> None:
        if version != "$LATEST" and version not in (config.get("Versions") or {}):
            raise AwsError("ResourceNotFoundException",
                           f"Function not found: {config['FunctionArn']}:{version}", 404)

    @staticmethod
    def _alias_out(config: dict, alias: str, entry: dict) -> dict:
        return {"AliasArn": f"{config['FunctionArn']}:{alias}", "Name": alias,
                "FunctionVersion": entry["FunctionVersion"],
                "Description": entry.get("Description", "")}

    def resolve(self, ref: str) -> tuple[str, str | None] | None:
        """(name, qualifier) for a name, name:qualifier or (partial) ARN whose
        function and qualifier exist; None otherwise."""
        if ref.startswith("arn:"):
            parts = ref.split(":")
            name, qualifier = (parts[6] if len(parts) > 6 else ""), (
                parts[7] if len(parts) > 7 else None)
        elif ":function:" in ref:
            name, _, qualifier = ref.split(":function:", 1)[1].partition(":")
            qualifier = qualifier or None
        else:
            name, _, qualifier = ref.partition(":")
            qualifier = qualifier or None
        if not self.exists(name):
            return None
        config = self.config(name)
        if qualifier not in (None, "$LATEST") and qualifier not in (config.get("Versions") or {}) \
                and qualifier not in (config.get("Aliases") or {}):
            return None
        return name, qualifier

    def executed_version(self, name: str, qualifier: str | None) -> str:
        """What an invoke through `qualifier` runs: a version number or $LATEST."""
        if qualifier is None or not self.exists(name):
            return "$LATEST"
        alias = (self.config(name).get("Aliases") or {}).get(qualifier)
        return alias["FunctionVersion"] if alias else qualifier

    def _save_config(self, name: str, config: dict) -> None:
        self.conn.execute("UPDATE functions SET config=? WHERE name=?", (json.dumps(config), name))
        self._cache.pop(name, None)

    def set_behaviour(self, name: str, behaviour: dict) -> dict:
        self.config(name)
        behaviour = check_behaviour(behaviour)
        self.conn.execute("UPDATE functions SET behaviour=? WHERE name=?",
                          (json.dumps(behaviour), name))
        self._cache.pop(name, None)
        self.engine.log("function.behaviour", name,
                        f"function {name} now: {describe_behaviour(behaviour)}")
        return behaviour

    def exists(self, name: str) -> bool:
        # a cached config is dropped whenever its function's row changes
        return name in self._cache or self.conn.execute(
            "SELECT 1 FROM functions WHERE name=?", (name,)).fetchone() is not None

    def _load(self, name: str) -> tuple[dict, dict]:
        hit = self._cache.get(name)
        if hit is None:
            row = self.conn.execute("SELECT config, behaviour FROM functions WHERE name=?",
                                    (name,)).fetchone()
            if row is None:
                raise AwsError("ResourceNotFoundException",
                               f"Function not found: {arns.function_arn(name)}", 404)
            hit = self._cache[name] = (json.loads(row[0]), json.loads(row[1]))
        return hit

    def config(self, name: str) -> dict:
        """The function's configuration (shared: copy before changing it)."""
        return self._load(name)[0]

    def behaviour(self, name: str) -> dict:
        return self._load(name)[1]

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM functions ORDER BY name")]

    def name_for(self, name_or_arn: str) -> str:
        """Accept a function name or ARN (as CreateEventSourceMapping does)."""
        if name_or_arn.startswith("arn:"):
            return name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        return name_or_arn

    def _counts(self) -> dict[str, list[int]]:
        """name -> [invocations, running]."""
        if self._tallies is None:
            self._tallies = {n: [i, r] for n, i, r in self.conn.execute(
                "SELECT name, invocations, running FROM functions")}
        return self._tallies

    def flush(self) -> None:
        if self._changed:
            counts = self._counts()
            self.conn.executemany("UPDATE functions SET invocations=?, running=? WHERE name=?",
                                  [(*counts[n], n) for n in sorted(self._changed)])
            self._changed.clear()

    def running(self, name: str) -> int:
        return self._counts()[name][1]

    def summary(self, name: str) -> dict:
        row = self.conn.execute(
            "SELECT config, behaviour, invocations, running FROM functions WHERE name=?",
            (name,)).fetchone()
        config, behaviour, invocations, running = row
        invocations, running = self._counts().get(name, (invocations, running))
        return {"config": json.loads(config), "behaviour": json.loads(behaviour),
                "invocations": invocations, "running": running}

    # -- invoking ----------------------------------------------------------

    def throttle_reason(self, name: str) -> str | None:
        """Why an invoke now would be throttled (TooManyRequestsException), or None."""
        reserved = self.config(name)["ReservedConcurrentExecutions"]
        running = self.running(name)
        if reserved is not None:
            if running >= reserved:
                return "ReservedFunctionConcurrentInvocationLimitExceeded"
            return None
        total_reserved = unreserved_running = 0
        for other, (_, running_other) in self._counts().items():
            other_reserved = self.config(other)["ReservedConcurrentExecutions"]
            if other_reserved is None:
                unreserved_running += running_other
            else:
                total_reserved += other_reserved
        if unreserved_running >= self.engine.account_concurrency - total_reserved:
            return "ConcurrentInvocationLimitExceeded"
        return None

    def invoke(self, name: str, event: dict, items: list[Item], *, mapping: str,
               source: str, attempt: int, detail: dict | None = None,
               request_id: str | None = None) -> tuple[int, str | None]:
        """Start a synchronous invoke. Returns (invocation id, throttle reason or None).

        A throttled invoke is recorded (status 'throttled') and never reaches
        the function; the caller decides what to do with its batch.
        `request_id` is the invocation's aws_request_id: a caller passes the
        one of an earlier invocation to retry an unchanged batch under it
        (it is also kept in the invocation's detail); None gives a new one
        (deterministic: from the seed, the function, the mapping, the time,
        the attempt and the records).
        """
        now = self.engine.now_ms
        # A step's work budget (engine/clock.py): one unit per batch and one
        # per 10 records in it, so a step holds about as many records whether
        # batches are of 10 SQS messages or 100 Kinesis records.
        self.engine.agenda.charge(1 + len(items) // 10)
        if request_id is not None:
            detail = dict(detail or {}, request_id=request_id)
        ids = [it.id for it in items]
        records_json = json.dumps(ids)
        reason = self.throttle_reason(name)
        if reason:
            cur = self.conn.execute(
                "INSERT INTO invocations (function, mapping, source, start_ms, end_ms, status, "
                "attempt, size, records, error, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (name, mapping, source, now, now, "throttled", attempt, len(items), records_json,
                 json.dumps({"errorType": "TooManyRequestsException", "Reason": reason}),
                 json.dumps(detail) if detail else None))
            self.engine.journal.note_batch(cur.lastrowid, ids)
            self.engine.journal.metric(name, "Throttles", 1)
            return cur.lastrowid, reason
        config = self.config(name)
        if request_id is None:
            from esmlab.engine.runtime import request_id as derive
            request_id = derive(self.engine.seed, name, mapping, now, attempt, records_json)
        # The event is stored packed (engine/event_store.py): what varies, not
        # the ARNs, MD5s and key names every record repeats; readers rebuild
        # it byte for byte. The poller's notes on SQS messages lose what the
        # event already holds.
        stored_detail = event_store.pack_detail(detail, event)
        parts = event_store.pack(event, ids)   # before the behaviour runs: what it was given
        # The row is written whole once the outcome is known: a row that grows
        # after its insert splits its page and leaves the table a third empty.
        inv_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM invocations"
                                   ).fetchone()[0]
        self.engine.journal.metric(name, "Invocations", 1)
        tally = self._counts()[name]
        tally[0] += 1
        tally[1] += 1
        self._changed.add(name)
        count = tally[0]
        outcome = self._decide(name, config, event, items, count, inv_id, request_id, attempt)
        end = now + outcome.duration_ms
        if outcome.logs or outcome.init_logs:
            self.conn.execute("INSERT INTO invocation_logs (invocation, events) VALUES (?, ?)",
                              (inv_id, json.dumps({"init": outcome.init_logs,
                                                   "run": outcome.logs})))
        self.conn.execute(
            "INSERT INTO invocations (id, function, mapping, source, start_ms, end_ms, status, "
            "attempt, size, records, event_parts, response, error, detail, request_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (inv_id, name, mapping, source, now, end, "running", attempt, len(items),
             records_json, parts,
             json.dumps({"status": outcome.status, "response": outcome.response,
                         "why": outcome.why, **({"sends": outcome.sends} if outcome.sends else {})}),
             json.dumps(outcome.error) if outcome.error else None,
             json.dumps(stored_detail) if stored_detail else None, request_id))
        self.engine.journal.note_batch(inv_id, ids)   # an event naming these ids can point here
        self.engine.agenda.schedule("invoke.done", f"inv:{inv_id}", end, inv_id)
        return inv_id, None

    def _decide(self, name, config, event, items, count, inv_id, request_id,
                attempt: int = 1) -> Outcome:
        behaviour = self.behaviour(name)
        timeout_ms = config["Timeout"] * 1000
        duration = config["duration"]["fixed_ms"] + config["duration"]["per_record_ms"] * len(items)
        if behaviour["mode"] == "handler":
            # The JSON text the handler gets; a built-in behaviour needs none.
            outcome = self._user_handler(behaviour["handler"], config, event_text(event), inv_id,
                                         request_id)
        else:
            outcome = decide(behaviour, items, count, self.engine.rng, event, attempt)
        if outcome.status == "timeout" or duration > timeout_ms:
            why = outcome.why if outcome.status == "timeout" else (
                f"the batch of {len(items)} needs {duration} ms, past the {config['Timeout']} s "
                "Timeout")
            return Outcome("timeout", None,
                           timeout_error(config["Timeout"], self.engine.now_ms + timeout_ms,
                                         request_id),
                           timeout_ms, why, outcome.logs, outcome.init_logs)
        outcome.duration_ms = duration
        return outcome

    def _user_handler(self, spec: str, config: dict, event_json: str, inv_id: int,
                      request_id: str) -> Outcome:
        # Replays reuse what the handler returned the first time, logs
        # included (the handler may read the clock or call out; the lab must
        # replay identically). A stored result answers only the same call:
        # after a rewind the same invocation number can go to a different
        # batch, so the key is the number plus a digest of what the handler
        # was given. (A result stored before lab schema 3 has no digest: it
        # cannot say which call it answered, so the handler is called again.)
        digest = call_digest(spec, config, event_json, request_id)
        row = self.conn.execute("SELECT result, digest FROM handler_results WHERE ordinal=?",
                                (inv_id,)).fetchone()
        if row and row[1] == digest:
            return Outcome(**json.loads(row[0]))
        from esmlab.engine.runtime import log_stream_name
        outcome = run_user_handler(spec, config, event_json, request_id=request_id,
                                   now_ms=self.engine.now_ms,
                                   stream=log_stream_name(self.engine.seed, config["FunctionName"],
                                                          self.engine.start_ms))
        self.conn.execute(
            "INSERT OR REPLACE INTO handler_results (ordinal, result, digest) VALUES (?, ?, ?)",
            (inv_id, json.dumps(outcome.__dict__), digest))
        return outcome

    def _done(self, key: str, inv_id: int) -> None:
        # One read of what the pollers need (not the stored event, which can
        # be megabytes), then the outcome goes to the mapping. SQS notes cut
        # to their visibility ends come back from the packed event, without
        # rebuilding it.
        row = self.conn.execute(
            "SELECT function, mapping, source, start_ms, end_ms, attempt, size, response, "
            "error, detail FROM invocations WHERE id=?", (inv_id,)).fetchone()
        name, mapping, source, start, end, attempt, size, response, error, detail = row
        detail = json.loads(detail) if detail else None
        if event_store.needs_event(detail):
            parts, ids = self.conn.execute(
                "SELECT event_parts, records FROM invocations WHERE id=?", (inv_id,)).fetchone()
            detail = event_store.unpack_detail_from_parts(detail, parts, json.loads(ids))
        result = json.loads(response)
        self.conn.execute("UPDATE invocations SET status=? WHERE id=?", (result["status"], inv_id))
        self._counts()[name][1] -= 1
        self._changed.add(name)
        # Function metrics (reference 1.10): Duration of every invocation that
        # ran, Errors for exceptions and timeouts (throttles are in Throttles).
        self.engine.journal.metric(name, "Duration", end - start)
        if result["status"] in ("error", "timeout"):
            self.engine.journal.metric(name, "Errors", 1)
        inv = {"id": inv_id, "function": name, "mapping": mapping, "source": source,
               "start_ms": start, "end_ms": end, "status": result["status"],
               "attempt": attempt, "size": size, "detail": detail}
        if result.get("sends"):
            self._send(inv, result["sends"])
        self.engine.mappings.on_invocation_done(inv, result["status"], result["response"],
                                                json.loads(error) if error else None,
                                                result.get("why", ""))

    def _send(self, inv: dict, sends: list[dict]) -> None:
        """What the function sent while it ran, with the invocation's X-Ray
        header (AWSTraceHeader), so recursive loop detection can follow the
        chain (mappings/recursion.py). A send to a queue that does not exist
        fails in the function, as SendMessage would; the journal says so."""
        queues = self.engine.queues
        trace = (inv["detail"] or {}).get("trace")
        for s in sends:
            ref = str(s.get("QueueName", ""))
            name = queues.name_for_arn(ref) or ref.rsplit("/", 1)[-1]
            try:
                queues.send(name, s.get("MessageBody"), trace_header=trace)
            except AwsError as e:
                self.engine.log("function.send_failed", inv["function"],
                                f"invocation {inv['id']} could not send to {ref}: {e.code}: "
                                f"{e.message}", data={"invocation": inv["id"]})

    def recursion_config(self, name: str) -> dict:
        """GetFunctionRecursionConfig."""
        from esmlab.engine.mappings import recursion
        return {"RecursiveLoop": self.config(name).get("RecursiveLoop", recursion.DEFAULT)}

    def put_recursion_config(self, name: str, value) -> dict:
        """PutFunctionRecursionConfig {RecursiveLoop: Allow | Terminate}."""
        from esmlab.engine.mappings import recursion
        config = dict(self.config(name))
        if value not in recursion.VALUES:
            raise AwsError("ValidationException", f"1 validation error detected: Value "
                           f"'{value}' at 'recursiveLoop' failed to satisfy constraint: Member "
                           "must satisfy enum value set: [Terminate, Allow]")  # as recorded
        config["RecursiveLoop"] = value
        self.conn.execute("UPDATE functions SET config=? WHERE name=?", (json.dumps(config), name))
        self._cache.pop(name, None)
        self.engine.log("function.recursion", name, f"function {name}: RecursiveLoop {value}"
                        + (" (Lambda lets a recursive loop run)" if value == "Allow" else
                           " (Lambda stops a recursive loop after about 16 invocations)"))
        return {"RecursiveLoop": value}

    def invocation(self, inv_id: int) -> dict:
        row = self.conn.execute(
            f"SELECT {', '.join(INVOCATION_COLUMNS)} FROM invocations WHERE id=?",
            (inv_id,)).fetchone()
        return invocation_dict(row) if row else None

    def logs(self, inv_id: int) -> list[dict]:
        """The invocation's CloudWatch-style log events (see engine/logs.py)."""
        from esmlab.engine import logs
        inv = self.invocation(inv_id)
        if inv is None:
            return []
        config = self.config(inv["function"])
        return logs.events(self.conn, inv, config.get("MemorySize", 128), config["Timeout"],
                           self.engine.now_ms)


# The columns invocation_dict reads, in order. `event` and `event_parts`
# together give the dict's "event" (event_store.event_of).
INVOCATION_COLUMNS = ("id", "function", "mapping", "source", "start_ms", "end_ms", "status",
                      "attempt", "size", "records", "event", "response", "error", "detail",
                      "request_id", "event_parts")


def invocation_dict(row) -> dict:
    """An invocation row as a dict, its event rebuilt: the one way the lab
    reads an invocation's event (and the SQS notes in its detail)."""
    inv = dict(zip(INVOCATION_COLUMNS, row))
    for key in ("records", "response", "error", "detail"):
        if inv[key] is not None:
            inv[key] = json.loads(inv[key])
    inv["event"] = event_store.event_of(inv["event"], inv.pop("event_parts"), inv["records"])
    inv["detail"] = event_store.unpack_detail(inv["detail"], inv["event"])
    return inv


def event_text(event: dict) -> str:
    """The JSON text a function is given for `event` (compact, as Lambda's
    runtime API hands it over); a rebuilt event gives the same text."""
    return json.dumps(event, separators=(",", ":"))


def timeout_error(timeout_s: int, at_ms: int, request_id: str) -> dict:
    from esmlab.engine.payloads import iso
    return {"errorType": "Sandbox.Timedout",
            "errorMessage": f"{iso(at_ms)} {request_id} Task timed out after {timeout_s:.2f} "
                            "seconds"}


def check_environment(environment: dict) -> dict:
    """`Environment: {Variables: {...}}` checked as CreateFunction checks it."""
    if not isinstance(environment, dict) or set(environment) - {"Variables"}:
        raise invalid("Environment takes one key, Variables: a map of names to strings",
                      own=True)
    variables = environment.get("Variables") or {}
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise invalid("Environment Variables must map names to strings", own=True)
    if not all(isinstance(k, str) and VARIABLE_NAME.fullmatch(k) for k in variables):
        raise AwsError("ValidationException",
                       "1 validation error detected: Value at 'environment.variables' failed to "
                       "satisfy constraint: Map keys must satisfy constraint: [Member must "
                       "satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]", own=True)
    reserved = [k for k in variables if k in RESERVED_VARIABLES]
    if reserved:
        raise invalid("Lambda was unable to configure your environment variables because the "
                      "environment variables you have provided contains reserved keys that are "
                      "currently not supported for modification. Reserved keys used in this "
                      f"request: {', '.join(reserved)}")
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode("utf-8")) > ENVIRONMENT_LIMIT_BYTES:
        raise invalid("Lambda was unable to configure your environment variables because the "
                      "environment variables you have provided exceeded the 4KB limit. String "
                      f"measured: {measured}")
    return dict(variables)


# -- behaviours ----------------------------------------------------------------

def check_behaviour(behaviour: dict) -> dict:
    mode = behaviour.get("mode")
    if mode not in MODES:
        raise invalid(f"behaviour mode must be one of {', '.join(MODES)}, not {mode!r}")
    known = {"mode", "count", "match", "probability", "handler", "error", "response"}
    extra = set(behaviour) - known
    if extra:
        raise invalid(f"unknown behaviour setting(s): {', '.join(sorted(extra))}")
    if mode == "fail_first" and not isinstance(behaviour.get("count"), int):
        raise invalid("fail_first needs a whole-number count")
    if mode == "flaky":
        p = behaviour.get("probability")
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise invalid("flaky needs a probability between 0 and 1")
    if mode in ("poison", "partial") and not behaviour.get("match"):
        raise invalid(f"{mode} needs a match (text, partition_key, group_id, receive_count "
                      "or attempt)")
    _check_match(behaviour.get("match"))
    if mode == "respond":
        if "response" not in behaviour:
            raise invalid("respond needs a response (the JSON the function returns)")
        try:
            json.dumps(behaviour["response"])
        except (TypeError, ValueError):
            raise invalid("respond's response must be JSON (maps, lists, text, numbers, "
                          "true/false, null)") from None
    if mode == "handler" and ":" not in str(behaviour.get("handler", "")):
        raise invalid("handler needs 'module:function'")
    return dict(behaviour)


def _check_match(match) -> None:
    if match is None:
        return
    if not isinstance(match, dict) or not match:
        raise invalid("a behaviour's match must be a map naming text, partition_key, group_id, "
                      "receive_count or attempt")
    extra = set(match) - set(MATCH_KEYS)
    if extra:
        raise invalid(f"unknown match setting(s): {', '.join(sorted(extra))}")
    for name in ("receive_count", "attempt"):
        bound = match.get(name)
        if bound is None:
            continue
        if not isinstance(bound, dict) or not bound or set(bound) - {"at_least", "at_most"} or \
                not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                        for v in bound.values()):
            raise invalid(f"match {name} must be {{at_least: N, at_most: N}} (either or both, "
                          "whole numbers from 1)")


def _bound_text(bound: dict) -> str:
    low, high = bound.get("at_least"), bound.get("at_most")
    if low is not None and high is not None:
        return f"{low}" if low == high else f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _match_text(match: dict) -> str:
    parts = []
    for k, v in match.items():
        if k in ("receive_count", "attempt"):
            parts.append(f"{'receive count' if k == 'receive_count' else 'attempt'} "
                         f"{_bound_text(v)}")
        else:
            parts.append(f"{k.replace('_', ' ')} {v!r}")
    return " and ".join(parts)


def describe_behaviour(b: dict) -> str:
    mode = b["mode"]
    match = b.get("match") or {}
    what = _match_text(match)
    return {
        "succeed": "succeeds",
        "fail": "fails every invocation",
        "fail_first": f"fails its first {b.get('count')} invocations",
        "poison": f"fails any batch holding a record with {what}",
        "flaky": f"fails with probability {b.get('probability')}",
        "timeout": f"runs past its timeout{' on batches with ' + what if match else ''}",
        "partial": f"reports records with {what} in batchItemFailures",
        "handler": f"runs your handler {b.get('handler')}",
        "resend": "succeeds and sends each SQS message's body back to the queue it came from",
        "respond": "returns " + json.dumps(b.get("response"))[:80]
                   + (f" on batches with {what}" if match else ""),
    }[mode]


def _within(value: int | None, bound: dict | None) -> bool:
    if bound is None:
        return True
    if value is None:
        return False  # a stream record has no receive count
    return bound.get("at_least", value) <= value <= bound.get("at_most", value)


def _matches(item: Item, match: dict, attempt: int = 1) -> bool:
    if not _within(item.receive_count, match.get("receive_count")):
        return False
    if not _within(attempt, match.get("attempt")):
        return False
    if "text" in match and match["text"] not in item.text:
        return False
    if "partition_key" in match and item.key != match["partition_key"]:
        return False
    if "group_id" in match and item.group != match["group_id"]:
        return False
    return True


def decide(b: dict, items: list[Item], count: int, rng, event: dict, attempt: int = 1) -> Outcome:
    """The built-in behaviours. `count` is this invocation's number (1-based)
    among the function's invocations that reached it; `attempt` the
    invocation's attempt number (a stream batch's invoke count, retries of
    the same batch included)."""
    mode, match = b["mode"], b.get("match") or {}
    message = b.get("error") or "simulated failure"
    hits = [it for it in items if match and _matches(it, match, attempt)]
    fail = Outcome("error", None, {"errorType": "Error", "errorMessage": message})
    if mode == "fail":
        fail.why = "the function fails every invocation"
        return fail
    if mode == "fail_first" and count <= b["count"]:
        fail.why = f"invocation {count} of the first {b['count']} that fail"
        return fail
    if mode == "flaky" and rng.chance(b["probability"]):
        fail.why = f"a flaky failure (probability {b['probability']})"
        return fail
    if mode == "poison" and hits:
        fail.why = f"the batch holds the poison record {hits[0].id}"
        if "receive_count" in match or "attempt" in match:
            fail.why += f" ({_match_text(match)})"
        return fail
    if mode == "timeout" and (hits or not match):
        return Outcome("timeout", why="the function runs past its Timeout"
                       + (f" on record {hits[0].id}" if hits else ""))
    if mode == "resend":
        # A recursive loop: each SQS record goes back to its own queue.
        sends = [{"QueueName": r["eventSourceARN"], "MessageBody": r["body"]}
                 for r in event.get("Records", []) if "body" in r and "eventSourceARN" in r]
        return Outcome("success", None, None, why="the function sent its messages back to their "
                       "queue", sends=sends)
    if mode == "respond" and (hits or not match):
        return Outcome("success", b["response"], None, why="the function returned its fixed "
                       "response" + (f" (a record with {_match_text(match)})" if match else ""))
    response = None
    if mode == "partial" and hits:
        failed = hits
        if items and items[0].group is not None:
            # FIFO: report the first failure and everything after it, as AWS
            # asks, so the group's order survives the retry.
            failed = items[items.index(hits[0]):]
        response = {"batchItemFailures": [{"itemIdentifier": it.id} for it in failed]}
    if "state" in event:
        # Tumbling windows: the function must hand the state back; the lab's
        # built-in handler keeps a running count of records in the window.
        state = dict(event.get("state") or {})
        state["count"] = int(state.get("count", 0)) + len(items)
        response = dict(response or {}, state=state)
    return Outcome("success", response, None, why="the function succeeded")


# -- the user's own handler ----------------------------------------------------

def call_digest(spec: str, config: dict, event_json: str, request_id: str | None) -> str:
    """What identifies one call of a user's handler: the function, the
    handler, what its context shows (Timeout, memory, request id), and the
    event."""
    what = json.dumps([config["FunctionName"], spec, config["Timeout"], config.get("MemorySize"),
                       request_id], separators=(",", ":"))
    return hashlib.sha256(f"{what}\n{event_json}".encode()).hexdigest()


def run_user_handler(spec: str, config: dict, event_json: str, *, request_id: str,
                     now_ms: int, stream: str) -> Outcome:
    """Call `module:function` as handler(event, context) in the function's
    worker process, the way the Lambda runtime would: an exception is a
    function error, a hang is a timeout, a crash of the process is
    Runtime.ExitError, a return value that cannot be serialised is
    Runtime.MarshalError, one over 6 MB is Function.ResponseSizeTooLarge."""
    from esmlab.engine.runtime import RUNTIME, environment
    reply = RUNTIME.run(spec, config, event_json, request_id=request_id, now_ms=now_ms,
                        env=environment(config, spec, stream))
    logs = {"logs": reply.logs, "init_logs": reply.init_logs, "sends": reply.sends}
    if reply.status == "timeout":
        return Outcome("timeout", why=f"your handler {spec} did not return (it hangs)", **logs)
    if reply.status == "error":
        error = reply.error
        kind = error["errorType"]
        if kind.startswith(("Runtime.", "Function.")):
            why = f"your handler {spec} failed: {kind}: {error['errorMessage']}"
        else:
            why = f"your handler raised {kind}: {error['errorMessage']}"
        return Outcome("error", None, error, why=why, **logs)
    return Outcome("success", reply.response, None, why=f"your handler {spec} returned", **logs)
