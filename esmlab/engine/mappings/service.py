"""Event source mappings: create, update, delete, states, and the wake-ups
that drive their pollers.

A mapping's configuration is validated by `config.py` (AWS's names,
defaults, ranges and messages); polling is done by `stream_poller.py`
(Kinesis, DynamoDB) and `queue_poller.py` (SQS, SQS FIFO).

State changes take one agenda instant, so a user stepping the clock sees
`Creating` before `Enabled` (reference 5.2; the transition graph is the
reference's recommended one, and UNCERTAIN). The lab makes the transition
at once rather than after the minutes AWS may take.
"""

from __future__ import annotations

import json
import re

from esmlab.engine import arns, roles
from esmlab.engine import request_model as model
from esmlab.engine.mappings import config as cfg
from esmlab.engine.sources import consumers
from esmlab.errors import AwsError, invalid

STEADY = {"Creating": "Enabled", "Enabling": "Enabled", "Disabling": "Disabled"}


class Mappings:
    def __init__(self, engine):
        from esmlab.engine.mappings.queue_poller import QueuePoller
        from esmlab.engine.mappings.stream_poller import StreamPoller

        self.engine = engine
        self.conn = engine.conn
        self.streams = StreamPoller(engine, self)
        self.queues = QueuePoller(engine, self)
        engine.agenda.on("mapping.state", self._transition)
        self._configs: dict[str, dict] = {}
        # Hot state: every poll and completion reads its mapping and writes
        # its runtime back. Rows read are kept here (uuid -> the row's
        # values, runtime as JSON text) and a changed runtime is written
        # once per command (flush), not once per invocation. Any other
        # change to a mapping's row (config, state, delete) writes the
        # pending runtime and forgets the row. A reload (rollback, another
        # process's commit) builds a new Mappings, so nothing outlives it.
        self._rows: dict[str, list] = {}
        self._dirty: set[str] = set()

    # -- lookups ---------------------------------------------------------------

    def _row(self, ref: str) -> dict:
        row = self._rows.get(ref)
        if row is None:
            found = self.conn.execute(
                "SELECT uuid, label, function, source_arn, source_kind, config, state, "
                "transition_reason, last_result, last_modified_ms, runtime FROM mappings "
                "WHERE uuid=? OR label=? ORDER BY uuid=? DESC LIMIT 1", (ref, ref, ref)).fetchone()
            if found is None:
                # AWS wording (recorded): nothing appended, the UUID is not repeated.
                raise AwsError("ResourceNotFoundException",
                               "The resource you requested does not exist.", 404,
                               hint=f"no mapping has the UUID or label {ref!r}")
            # (a label finds a row that may already be here, newer than the table)
            row = self._rows.setdefault(found[0], list(found))
        keys = ("uuid", "label", "function", "source_arn", "source_kind", "config", "state",
                "transition_reason", "last_result", "last_modified_ms", "runtime")
        m = dict(zip(keys, row))
        m["config"] = self._config(m["config"])
        m["runtime"] = json.loads(m["runtime"])
        return m

    def _config(self, text: str) -> dict:
        """The parsed config for its JSON text, parsed once per process. A
        config dict is never changed in place (an update builds a new one),
        so sharing it is safe; it is read on every poll and completion."""
        config = self._configs.get(text)
        if config is None:
            config = self._configs[text] = json.loads(text)
        return config

    def get_row(self, ref: str) -> dict:
        return self._row(ref)

    def all_rows(self) -> list[dict]:
        uuids = [r[0] for r in self.conn.execute("SELECT uuid FROM mappings ORDER BY created_seq")]
        return [self._row(u) for u in uuids]

    def on_source(self, source_arn: str) -> list[dict]:
        prefix = source_arn + "/consumer/"
        uuids = [r[0] for r in self.conn.execute(
            # A stream's mappings include those reading it through one of
            # its enhanced fan-out consumers (<stream arn>/consumer/<name>:<t>).
            "SELECT uuid FROM mappings WHERE source_arn=? OR substr(source_arn, 1, ?)=? "
            "ORDER BY created_seq", (source_arn, len(prefix), prefix))]
        return [self._row(u) for u in uuids]

    def save_runtime(self, m: dict) -> None:
        text = json.dumps(m["runtime"])
        row = self._rows.get(m["uuid"])
        if row is None:
            self.conn.execute("UPDATE mappings SET runtime=? WHERE uuid=?", (text, m["uuid"]))
        else:
            row[10] = text
            self._dirty.add(m["uuid"])

    def set_result(self, m: dict, result: str) -> None:
        if m["last_result"] != result:
            m["last_result"] = result
            self.conn.execute("UPDATE mappings SET last_result=? WHERE uuid=?", (result, m["uuid"]))
            row = self._rows.get(m["uuid"])
            if row is not None:
                row[8] = result

    def flush(self) -> None:
        """Write the runtimes and lanes changed since the last flush (Engine.flush)."""
        self.streams.flush_lanes()
        if self._dirty:
            self.conn.executemany("UPDATE mappings SET runtime=? WHERE uuid=?",
                                  [(self._rows[u][10], u) for u in sorted(self._dirty)])
            self._dirty.clear()

    def _forget(self, uuid: str) -> None:
        """Before any other change to a mapping's row: write its pending
        runtime, and read the row afresh next time."""
        if uuid in self._dirty:
            self._dirty.discard(uuid)
            self.conn.execute("UPDATE mappings SET runtime=? WHERE uuid=?",
                              (self._rows[uuid][10], uuid))
        self._rows.pop(uuid, None)

    def describe(self, m: dict) -> dict:
        return cfg.describe(m["config"], {
            "UUID": m["uuid"], "State": m["state"],
            "StateTransitionReason": m["transition_reason"],
            "LastModified": m["last_modified_ms"] / 1000,
            "LastProcessingResult": m["last_result"]})

    def get(self, ref: str) -> dict:
        return self.describe(self._row(ref))

    def list(self, EventSourceArn: str | None = None,
             FunctionName: str | None = None) -> list[dict]:
        """ListEventSourceMappings: the filters are exact (a source ARN, a
        function name or ARN, qualified or not); a filter naming nothing
        that exists matches nothing, without an error (reference 8.5)."""
        rows = self.all_rows()
        if EventSourceArn is not None:
            rows = [m for m in rows if m["source_arn"] == EventSourceArn]
        if FunctionName is not None:
            rows = [m for m in rows if self._names_function(m, FunctionName)]
        return [self.describe(m) for m in rows]

    def list_tags(self, ref: str) -> dict:
        """ListTags on an event source mapping: the Tags given at create. An
        ARN is checked as AWS checks the `resource` (recorded texts): one that
        is not a Lambda resource ARN fails validation, an unknown mapping's is
        not found."""
        if ref.startswith("arn:"):
            pattern = model.member_shape("ListTags", "Resource")["pattern"]
            if not re.fullmatch(pattern, ref):
                raise model.validation(ref, "resource", "Member must satisfy regular expression "
                                       f"pattern: {pattern}")
            uuid = ref.rpartition(":")[2]
            if not self.conn.execute("SELECT 1 FROM mappings WHERE uuid=?", (uuid,)).fetchone():
                raise AwsError("ResourceNotFoundException",
                               f"Event source mapping not found: {ref}", status=404)
            ref = uuid
        return {"Tags": dict(self._row(ref)["config"].get("Tags") or {})}

    def list_response(self, **filters) -> dict:
        """The ListEventSourceMappings response body."""
        return {"EventSourceMappings": self.list(**filters)}

    def _names_function(self, m: dict, ref: str) -> bool:
        arn = m["config"].get("FunctionArn", "")
        if ref.startswith("arn:"):
            return ref == arn or ref == arns.unqualified(arn)
        name, _, qualifier = ref.partition(":")
        if name != m["function"]:
            return False
        return not qualifier or arn.endswith(f":{qualifier}")

    # -- the source and function a request names ------------------------------

    def source_info(self, arn: str | None) -> cfg.SourceInfo | None:
        if not arn:
            return None
        e = self.engine
        service = arns.service_of(arn)
        if service == "sqs":
            name = e.queues.name_for_arn(arn)
            if name is None:
                return None
            q = e.queues.info(name)
            return cfg.SourceInfo("sqs-fifo" if q.fifo else "sqs", arn, q.visibility_timeout)
        if service == "kinesis" and consumers.is_consumer_arn(arn):
            # An enhanced fan-out consumer: a Kinesis source read through it.
            return cfg.SourceInfo("kinesis", arn) if e.consumers.get(arn) else None
        if service in ("kinesis", "dynamodb"):
            name = e.streams.name_for_arn(arn)
            kind = None if name is None else e.streams.kind(name)
            return None if kind is None else cfg.SourceInfo(kind, arn)
        return None

    def function_info(self, ref: str | None) -> cfg.FunctionInfo | None:
        """The function a request names, with its qualifier kept in the ARN
        (a mapping on worker:live invokes through the alias); None when the
        function or the qualifier does not exist."""
        if not ref:
            return None
        functions = self.engine.functions
        found = functions.resolve(ref)
        if found is None:
            return None
        name, qualifier = found
        c = functions.config(name)
        arn = c["FunctionArn"] + (f":{qualifier}" if qualifier else "")
        return cfg.FunctionInfo(name, arn, c["Timeout"], functions.role(name))

    def executed_version(self, m: dict) -> str:
        """The version an invoke of the mapping runs ($LATEST, or the version
        its qualifier names): `executedVersion` in failure records."""
        qualifier = arns.qualifier_of(m["config"].get("FunctionArn", ""))
        return self.engine.functions.executed_version(m["function"], qualifier)

    # -- when a mapping cannot work: its function, source or role is gone ------

    def problem(self, m: dict) -> str | None:
        """Why the mapping cannot poll now (lab wording, in the form of AWS's
        LastProcessingResult texts), or None."""
        e = self.engine
        if not e.functions.exists(m["function"]):
            return f"PROBLEM: Function not found: {m['config'].get('FunctionArn')}"
        if self.source_info(m["source_arn"]) is None:
            if m["source_kind"].startswith("sqs"):
                return ("PROBLEM: Error occurred while ReceiveMessage. SQS Error Code: "
                        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
                        "The specified queue does not exist.")
            return f"PROBLEM: Stream not found: {m['source_arn']}"
        if consumers.is_consumer_arn(m["source_arn"]):
            status = e.consumers.get(m["source_arn"])["status"]
            if status != "ACTIVE":
                # Lab wording in the form of AWS's texts: a consumer "can't read
                # data while in the CREATING or DELETING states" (API reference).
                return f"PROBLEM: Consumer {m['source_arn']} is not in ACTIVE status."
        return roles.problem_text(e.functions.role(m["function"]), m["source_kind"],
                                  m["source_arn"])

    def blocked_by_problem(self, m: dict) -> bool:
        """The pollers ask this before reading: True (nothing is read, nothing
        is processed, the journal says why once) while a problem lasts. The
        mapping stays Enabled, as on AWS."""
        text = self.problem(m)
        rt = m["runtime"]
        if text is None:
            if rt.pop("problem", None) is not None:
                self.engine.log("mapping.recovered", m["label"],
                                f"mapping {m['label']} can read and invoke again")
                self.save_runtime(m)
            return False
        if rt.get("problem") != text:
            rt["problem"] = text
            self.save_runtime(m)
            self.engine.log("mapping.problem", m["label"],
                            f"mapping {m['label']} stays {m['state']} but cannot process: "
                            f"{text}; records are not read", data={"problem": text})
        self.set_result(m, text)
        return True

    def on_function_change(self, name: str) -> None:
        """A function was created, deleted or its role changed: its enabled
        mappings look again at once (a fixed problem resumes polling)."""
        for m in self.all_rows():
            if m["function"] == name and m["state"] == "Enabled":
                self.poller(m).wake_all(m)

    def on_source_change(self, arn: str) -> None:
        """A queue or stream was deleted: its enabled mappings look at once,
        so their LastProcessingResult and the journal say so."""
        for m in self.on_source(arn):
            if m["state"] == "Enabled":
                self.poller(m).wake_all(m)

    def _check_role(self, source: cfg.SourceInfo, function: cfg.FunctionInfo) -> None:
        text = roles.create_refusal(function.role or {}, source.kind, source.arn)
        if text:
            raise invalid(text, hint=f"the role of {function.name} lacks "
                          + ", ".join(roles.missing(function.role or {}, source.kind,
                                                    source.arn))
                          + "; widen it with the update_role command")

    def _existing(self) -> list[dict]:
        return [{"UUID": m["uuid"], **m["config"]} for m in self.all_rows()]

    # -- create / update / delete ---------------------------------------------

    def create(self, params: dict, label: str | None = None) -> dict:
        e = self.engine
        params = dict(params)
        source = self.source_info(params.get("EventSourceArn"))
        function = self.function_info(cfg.function_ref(params))
        config = cfg.validate_create(params, source, function, self._existing(),
                                     e.sinks.kind_of_arn, now_ms=e.now_ms)
        self._check_role(source, function)
        uuid = e.rng.uuid()
        label = self._label(label or function.name)
        seq = self.conn.execute("SELECT coalesce(max(created_seq), 0) + 1 FROM mappings").fetchone()[0]
        target = "Enabled" if config.get("Enabled", True) else "Disabled"
        # Reference 8.4 (recorded): an SQS mapping created with Enabled false
        # answers Disabled at once; streams answer Creating either way.
        first = "Disabled" if source.kind.startswith("sqs") and target == "Disabled" else "Creating"
        m = {"uuid": uuid, "label": label, "function": function.name,
             "source_arn": source.arn, "source_kind": source.kind, "config": config,
             "state": first, "transition_reason": "USER_INITIATED"
             if source.kind.startswith("sqs") else "User action",
             "last_result": "No records processed", "last_modified_ms": e.now_ms, "runtime": {}}
        self.conn.execute(
            "INSERT INTO mappings (uuid, label, function, source_arn, source_kind, config, state, "
            "transition_reason, last_result, last_modified_ms, runtime, created_seq) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (uuid, label, m["function"], m["source_arn"], m["source_kind"], json.dumps(config),
             m["state"], m["transition_reason"], m["last_result"], e.now_ms, "{}", seq))
        self.poller(m).on_create(m)
        self.save_runtime(m)
        e.log("mapping.created", label,
              f"mapping {label} ({uuid}) created: {function.name} <- {source.kind} "
              f"{arns.name_of(source.arn)}, BatchSize {config['BatchSize']}; state {first}",
              data={"uuid": uuid})
        for warning in cfg.warnings(config, source, function):
            e.log("mapping.warning", label, warning)
        if first == "Creating":
            self._begin(m, "Creating", target)
        return self.describe(m)

    def _label(self, wanted: str) -> str:
        taken = {r[0] for r in self.conn.execute("SELECT label FROM mappings")}
        label, n = wanted, 2
        while label in taken:
            label, n = f"{wanted}-{n}", n + 1
        return label

    def update(self, ref: str, params: dict) -> dict:
        e = self.engine
        m = self._row(ref)
        if m["state"] in ("Creating", "Updating", "Deleting", "Enabling", "Disabling"):
            raise AwsError("ResourceInUseException",
                           f"Cannot update the event source mapping '{m['uuid']}' because it is "
                           f"in use. (state {m['state']})", 400, own=True)
        params = dict(params)
        named = params.get("FunctionName")
        function = self.function_info(named or m["config"].get("FunctionArn") or m["function"])
        if function is None and named is None:
            # The mapping's function was deleted: the mapping can still be
            # changed (disabled, say), as on AWS.
            function = cfg.FunctionInfo(m["function"], m["config"].get("FunctionArn", ""), 3)
        if function is None:
            raise AwsError("ResourceNotFoundException",
                           f"Function not found: {arns.function_arn(named)}", 404)
        found = self.source_info(m["source_arn"])
        source = found or cfg.SourceInfo(m["source_kind"], m["source_arn"])
        if named is not None and found is not None:
            self._check_role(source, function)
        existing = [x for x in self._existing() if x["UUID"] != m["uuid"]]
        old = m["config"]
        new = cfg.validate_update(old, params, source, function, existing, e.sinks.kind_of_arn)
        m["config"], m["function"] = new, function.name
        self._forget(m["uuid"])
        self.conn.execute("UPDATE mappings SET config=?, function=?, last_modified_ms=? WHERE uuid=?",
                          (json.dumps(new), function.name, e.now_ms, m["uuid"]))
        changed = sorted(k for k in new if new.get(k) != old.get(k))
        e.log("mapping.updated", m["label"], f"mapping {m['label']} updated: "
              + (", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in changed) or "no change"))
        self.poller(m).on_update(m, old)
        self.save_runtime(m)
        was_enabled = old.get("Enabled", True)
        now_enabled = new.get("Enabled", True)
        if now_enabled and not was_enabled:
            self._begin(m, "Enabling", "Enabled")
        elif was_enabled and not now_enabled:
            self._begin(m, "Disabling", "Disabled")
        else:
            self._begin(m, "Updating", m["state"])
        return self.describe(m)

    def delete(self, ref: str) -> dict:
        m = self._row(ref)
        if m["state"] == "Deleting":
            raise AwsError("ResourceInUseException",
                           f"The event source mapping '{m['uuid']}' is already being deleted.", 400,
                           own=True)
        self._begin(m, "Deleting", None)
        return self.describe(m)

    def _begin(self, m: dict, state: str, target: str | None) -> None:
        self._set_state(m, state, "USER_INITIATED" if m["source_kind"].startswith("sqs")
                        else "User action")
        self.engine.agenda.reschedule("mapping.state", f"state:{m['uuid']}", self.engine.now_ms,
                                      {"uuid": m["uuid"], "target": target})

    def _set_state(self, m: dict, state: str, reason: str) -> None:
        m["state"], m["transition_reason"] = state, reason
        self._forget(m["uuid"])
        self.conn.execute("UPDATE mappings SET state=?, transition_reason=?, last_modified_ms=? "
                          "WHERE uuid=?", (state, reason, self.engine.now_ms, m["uuid"]))

    def _transition(self, key: str, data: dict) -> None:
        m = self._row(data["uuid"])
        target = data["target"]
        if target is None:
            self.poller(m).on_delete(m)
            self._forget(m["uuid"])
            self.conn.execute("DELETE FROM mappings WHERE uuid=?", (m["uuid"],))
            self.streams.forget_lanes()
            self.conn.execute("DELETE FROM lanes WHERE mapping=?", (m["uuid"],))
            self.engine.log("mapping.deleted", m["label"], f"mapping {m['label']} deleted")
            return
        before = m["state"]
        self._set_state(m, target, m["transition_reason"])
        self.engine.log("mapping.state", m["label"], f"mapping {m['label']}: {before} -> {target}"
                        + ("; polling starts" if target == "Enabled" else "")
                        + ("; polling stops, checkpoints are kept" if target == "Disabled" else ""))
        if target == "Enabled":
            self.poller(m).wake_all(m)
            self.ensure_sampling(m)

    def poller(self, m: dict):
        return self.queues if m["source_kind"].startswith("sqs") else self.streams

    # -- wake-ups from sources and functions ---------------------------------------

    def on_queue_ready(self, queue: str, at_ms: int) -> None:
        self.queues.on_ready(queue, at_ms)

    def on_stream_write(self, stream: str, shard_id: str, at_ms: int) -> None:
        self.streams.on_write(stream, shard_id, at_ms)

    def on_stream_writes(self, stream: str, shard_ids: list[str], at_ms: int) -> None:
        self.streams.on_write(stream, shard_ids, at_ms)

    def on_stream_reshard(self, stream: str) -> None:
        self.streams.on_reshard(stream)

    def on_invocation_done(self, inv: dict, status: str, response, error, why: str) -> None:
        if inv["mapping"] is None:
            return
        try:
            m = self._row(inv["mapping"])
        except AwsError:
            return  # the mapping was deleted while its batch ran
        self.poller(m).on_done(m, inv, status, response, error, why)
        self.ensure_sampling(m)

    # -- metrics on the virtual clock ------------------------------------------

    def ensure_sampling(self, m: dict) -> None:
        """Record a metric sample for a mapping whose state just changed, at
        most once a virtual second. Samples follow events instead of a
        ticking timer, so a shard blocked for a day costs one sample per
        retry, not 86,400."""
        # The last sample time comes from the metrics table (read once per
        # series, then kept by the journal), so a reopened lab samples exactly
        # as a running one would.
        last = self.engine.journal.last_sample_ms(m["label"], "ConcurrentExecutions")
        if last is None or self.engine.now_ms - last >= 1000:
            self.poller(m).sample(m)
