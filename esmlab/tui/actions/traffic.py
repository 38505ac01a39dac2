"""Traffic and the function's behaviour: push records or messages, break and heal the
selected function, throttle it."""

from __future__ import annotations

from esmlab import readmodels as rm
from esmlab.errors import AwsError, LabError
from esmlab.tui import bindings
from esmlab.tui.said import said
from esmlab.tui.screens.forms import AskScreen

BEHAVIOURS = {
    "fail": {"mode": "fail"},
    "poison": {"mode": "poison", "match": {"text": "poison"}},
    "flaky": {"mode": "flaky", "probability": 0.5},
    "timeout": {"mode": "timeout"},
    "partial": {"mode": "partial", "match": {"text": "bad"}},
    "succeed": {"mode": "succeed"},
}
BINDING_KEYS = {k.id: k.keys.split(",")[0] for k in bindings.TABLE}


def _push_title(values: dict) -> str:
    kind, name = str(values.get("target", ":")).split(":", 1)
    return f"Push records to stream {name}" if kind == "stream" else \
        f"Push messages to queue {name}"


class TrafficActions:
    """Mixed into EsmlabApp; uses its lab, selection and refresh_view()."""

    def action_push(self) -> None:
        if not self._guard():
            return
        targets = [(f"stream {s['name']}", f"stream:{s['name']}")
                   for s in self._model["streams"] if s["kind"] == "kinesis"]
        targets += [(f"queue {q['name']}", f"queue:{q['name']}") for q in self._model["queues"]]
        if not targets:
            self.notify("no stream or queue to push to", severity="error")
            return
        src = self.selected_source()
        values = [v for _, v in targets]
        last = self._push_last
        if last.get("target") in values:
            default = last["target"]
        elif src and f"{src[0]}:{src[1]}" in values:
            default = f"{src[0]}:{src[1]}"
        else:
            default = targets[0][1]
        kind, name = default.split(":", 1)
        key = last.get("key", "user-1" if kind == "stream" or name.endswith(".fifo") else "")
        notes = ["The key is a stream record's partition key, or a FIFO queue's "
                 "MessageGroupId (leave it empty for a standard queue)."]
        fifo_cbd = [q for q in self._model["queues"] if q["name"].endswith(".fifo")
                    and rm.queue_settings(self.lab, q["name"]).get("content_dedup")]
        if fifo_cbd:
            notes.append(", ".join(q["name"] for q in fifo_cbd) + " has "
                         "ContentBasedDeduplication: identical bodies within 5 minutes are "
                         "deduplicated, as on AWS (use {i} in the body to make them differ).")
        form = AskScreen("Push records / messages", [
            ("target", "target", default, targets),
            ("key", "partition key (stream) / MessageGroupId (FIFO queue)", key),
            ("body", "body ({i} = the number of the record)", last.get("body", "hello {i}")),
            ("count", "how many", last.get("count", "1")),
        ], ok="Push", validate=self._push_error, note=" ".join(notes), focus="target",
            title_for=_push_title)
        self.push_screen(form, self.push_values)

    @staticmethod
    def _push_error(values: dict) -> str | None:
        try:
            count = int(values["count"])
        except ValueError:
            return "how many: a whole number, please"
        if count < 1:
            return "how many: 1 or more"
        kind, name = values["target"].split(":", 1)
        if kind == "queue" and name.endswith(".fifo") and not values["key"].strip():
            return "a FIFO queue needs a MessageGroupId: fill in the key field"
        return None

    def push_values(self, values: dict | None) -> None:
        """Push `count` records/messages described by the push form's values."""
        if not values:
            return
        error = self._push_error(values)
        if error:
            self.notify(error, severity="error")
            return
        self._push_last = dict(values)
        count = int(values["count"])
        kind, name = values["target"].split(":", 1)
        key, body = values["key"].strip(), values["body"]
        bodies = [body.replace("{i}", str(i)) for i in range(1, count + 1)]
        lab = self.lab
        deduplicated = 0
        try:
            if kind == "stream":
                for i in range(0, count, 500):
                    lab.put_records(name, [{"PartitionKey": key or "key", "Data": b}
                                           for b in bodies[i:i + 500]])
            else:
                fifo = name.endswith(".fifo")
                content_dedup = fifo and rm.queue_settings(lab, name).get("content_dedup")
                before = lab.journal(newest_first=True, limit=1)
                after_id = before[0]["id"] if before else 0
                # Unique across pushes: the lab's command count grows with every push.
                prefix = f"esmlab-push-{len(lab.commands())}" if fifo and not content_dedup \
                    else None
                for i in range(0, count, 10):
                    entries = []
                    for j, b in enumerate(bodies[i:i + 10]):
                        e = {"Id": str(j), "MessageBody": b}
                        if fifo:
                            e["MessageGroupId"] = key
                            if prefix:
                                e["MessageDeduplicationId"] = f"{prefix}-{i + j}"
                        entries.append(e)
                    lab.send_message_batch(name, entries)
                if fifo:
                    deduplicated = len(lab.journal(resource=name, kind="sqs.deduplicated",
                                                   after_id=after_id, limit=count + 1))
        except (AwsError, LabError) as exc:
            self.notify(said(exc), title="refused", severity="error")
        else:
            if deduplicated:
                self.notify(f"pushed {count} to {kind} {name}: {count - deduplicated} enqueued, "
                            f"{deduplicated} deduplicated (same body within 5 minutes, "
                            "ContentBasedDeduplication; the Why-log says which)",
                            severity="warning")
            else:
                self.notify(f"pushed {count} to {kind} {name}"
                            + (f": {count} enqueued" if kind == "queue" else ""))
        self.refresh_view()

    def action_behaviour(self, mode: str) -> None:
        if not self._guard():
            return
        fn = self.selected_function()
        if fn is None:
            return
        current = rm.function_card(self.lab, fn)["mode"]
        wanted = BEHAVIOURS["succeed"] if current == mode else BEHAVIOURS[mode]
        if self._call(self.lab.set_behaviour, fn, **wanted) is not None:
            card = rm.function_card(self.lab, fn)
            if wanted["mode"] == "succeed":
                self.notify(f"{fn} {card['describe']} again")
            else:
                keys = bindings.load_keymap_safe()
                line = (f"{fn} now {card['describe']}. Step "
                        f"({bindings.key_for('step', keys)}) or run "
                        f"({bindings.key_for('autoplay', keys)}) to watch its mapping "
                        f"retry; press {bindings.display_keys(keys.get(mode, BINDING_KEYS[mode]))}"
                        f" again to heal.")
                severity = "information"
                if mode == "partial":
                    deaf = self._mappings_without_item_failures(fn)
                    if deaf:
                        severity = "warning"
                        line += " But " + "; ".join(
                            f"mapping {m} ignores batchItemFailures: its FunctionResponseTypes "
                            "is empty" for m in deaf) + \
                            f"; edit it ({bindings.key_for('edit', keys)}) to add " \
                            "ReportBatchItemFailures (until then a partial response counts " \
                            "as a success)."
                self.notify(line, severity=severity, timeout=8 if severity == "warning" else 4)
        self.refresh_view()

    def _mappings_without_item_failures(self, fn: str) -> list[str]:
        """Labels of the function's mappings whose FunctionResponseTypes lacks
        ReportBatchItemFailures (they ignore a partial batch response)."""
        out = []
        for m in self._model["mappings"]:
            if m["function"] != fn:
                continue
            try:
                config = rm.mapping_settings(self.lab, m["label"])["config"] or {}
            except (AwsError, LabError):
                continue
            if "ReportBatchItemFailures" not in (config.get("FunctionResponseTypes") or []):
                out.append(m["label"])
        return out

    def action_behaviour_form(self) -> None:
        if not self._guard():
            return
        fn = self.selected_function()
        if fn is None:
            return
        from esmlab.tui.screens import behaviour as form
        before = rm.function_card(self.lab, fn)["behaviour"]

        def check(values) -> str | None:
            # the form stays open with the reason (and what was typed)
            try:
                form.behaviour_of(values, before)
            except ValueError as exc:
                return str(exc)
            return None

        def done(values):
            if not values:
                return
            wanted = form.behaviour_of(values, before)
            if self._call(self.lab.set_behaviour, fn, **wanted) is not None:
                self.notify(f"{fn} now {rm.function_card(self.lab, fn)['describe']}")
            self.refresh_view()

        self.push_screen(AskScreen(f"Behaviour of {fn}", form.fields(before), ok="Set",
                                   validate=check,
                                   note="Only the options the mode takes are used "
                                        "(docs/scenarios.md, Behaviour)."), done)

    def action_throttle(self) -> None:
        if not self._guard():
            return
        fn = self.selected_function()
        if fn is None:
            return
        reserved = rm.function_card(self.lab, fn)["reserved"]
        new = None if reserved == 0 else 0
        if self._call(self.lab.update_function, fn, ReservedConcurrentExecutions=new) is not None:
            self.notify(f"{fn}: ReservedConcurrentExecutions={new}"
                        + (" (every invoke is throttled)" if new == 0 else " (unreserved)"))
        self.refresh_view()

