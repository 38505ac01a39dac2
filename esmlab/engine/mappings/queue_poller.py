"""The queue poller: SQS standard and FIFO mappings, with scaling.

The mapping runs up to `target` batches at once. Pollers long-poll: they
wake as soon as messages become visible. A batch is assembled from receives
of at most 10 messages, up to BatchSize, within the batching window and the
6 MB payload limit. Success deletes the batch; a function error deletes
nothing and the messages come back one by one when their visibility timeout
ends; the queue's RedrivePolicy moves them to the DLQ on a later receive.

Scaling (reference 2.5, two on-demand profiles, and provisioned mode per
mapping, see provisioned.py): `target` starts at 5 and, while
messages wait and every slot is busy, grows once a virtual minute by the
profile's step (+300, cap 1,250 for `current`; +60, cap 1,000 for
`classic`), never above ScalingConfig.MaximumConcurrency. It shrinks by one
after each function error unless ReportBatchItemFailures is on (reference
2.3: "gradually"; the lab's exact step is its own choice), after a throttle,
and falls back to 5 when the queue goes idle.

SQS mappings have no LastProcessingResult (reference 8.4, recorded: AWS
omits the field from Create, Get and List), so this poller never sets one.
"""

from __future__ import annotations

import json

from esmlab.engine import payloads
from esmlab.engine.function import Item
from esmlab.engine.mappings import event_metrics, provisioned, recursion
from esmlab.engine.mappings.filters import matches, parse_filter_criteria

PROFILES = {"current": {"start": 5, "step": 300, "cap": 1250},
            "classic": {"start": 5, "step": 60, "cap": 1000}}
SCALE_PERIOD_MS = 60_000
MIN_TARGET = 2
THROTTLE_RETRY_MS = 1000
# Batches one timer hands to the function before it leaves the rest of its
# work to a timer that fires next (Agenda.schedule_first): a scale-up that
# frees 300 slots becomes 300 small timers, so a step's work budget can stop
# between them (engine/clock.py), and everything happens in the same order
# as if the work had not been cut.
DISPATCHES_PER_POLL = 1
LOW_TRAFFIC_WAIT_MS = 20_000   # reference 2.1: may wait up to 20 s with a window
RECORD_OVERHEAD_BYTES = 620    # record JSON without body (measured: 558) + separator


class QueuePoller:
    def __init__(self, engine, mappings):
        self.engine = engine
        self.conn = engine.conn
        self.mappings = mappings
        self._filters: dict[str, list] = {}
        engine.agenda.on("queue.poll", self._poll)
        engine.agenda.on("queue.scale", self._scale)
        engine.agenda.on("queue.retry", self._retry_throttled)
        event_metrics.install(engine, mappings)

    # -- lifecycle -----------------------------------------------------------------

    def on_create(self, m: dict) -> None:
        m["runtime"] = {"queue": self.engine.queues.name_for_arn(m["source_arn"]),
                        "target": self._cap(m, self._start(m)), "busy": 0, "peak": 0,
                        "assembling": [], "since": None, "throttled": [],
                        "scale_at": None}
        self._publish_pollers(m)

    def on_update(self, m: dict, old: dict) -> None:
        self._set_target(m, self._cap(m, m["runtime"]["target"]))
        event_metrics.keep_minute_datapoints(self.engine, m)

    def on_delete(self, m: dict) -> None:
        for key in ("qpoll", "qmore", "scale", "qretry", "qretry-more", "esmmin"):
            self.engine.agenda.cancel(f"{key}:{m['uuid']}")

    def wake_all(self, m: dict) -> None:
        self._schedule_poll(m["uuid"], self.engine.now_ms)
        event_metrics.keep_minute_datapoints(self.engine, m)

    def _set_target(self, m: dict, value: int) -> None:
        """Change the concurrency target and record it (the ConcurrencyTarget
        series follows every change, not only the periodic samples)."""
        if m["runtime"]["target"] != value:
            m["runtime"]["target"] = value
            self.engine.journal.metric(m["label"], "ConcurrencyTarget", value)
            self._publish_pollers(m)

    def _publish_pollers(self, m: dict) -> None:
        ppc = provisioned.config_of(m["config"])
        if ppc is not None:
            self.engine.journal.metric(m["label"], "ProvisionedPollers",
                                       provisioned.pollers_for(m["runtime"]["target"]))

    def _start(self, m: dict) -> int:
        """The concurrency a mapping starts with, and returns to when idle."""
        ppc = provisioned.config_of(m["config"])
        if ppc is not None:
            return provisioned.start_target(ppc)
        return PROFILES[self.engine.profile]["start"]

    def _step(self, m: dict) -> int:
        ppc = provisioned.config_of(m["config"])
        return provisioned.STEP_PER_MINUTE if ppc else PROFILES[self.engine.profile]["step"]

    def _cap(self, m: dict, value: int) -> int:
        ppc = provisioned.config_of(m["config"])
        if ppc is not None:
            return max(provisioned.floor_target(ppc), min(value, provisioned.cap_target(ppc)))
        cap = PROFILES[self.engine.profile]["cap"]
        maximum = (m["config"].get("ScalingConfig") or {}).get("MaximumConcurrency")
        if maximum:
            cap = min(cap, maximum)
        return max(1, min(value, cap))

    def _lowered(self, m: dict, value: int) -> int:
        """A scale-down target: never under 2 (on-demand) or MinimumPollers
        x 10 (provisioned mode keeps its minimum pollers)."""
        ppc = provisioned.config_of(m["config"])
        floor = provisioned.floor_target(ppc) if ppc else MIN_TARGET
        return max(floor, value)

    def _over_poll_budget(self, m: dict) -> bool:
        """Provisioned mode's per-poller limits (10 polls and about 1 MB a
        second each): True when this second's receives are used up; the
        next poll is then scheduled at the next second."""
        ppc = provisioned.config_of(m["config"])
        if ppc is None:
            return False
        rt, now = m["runtime"], self.engine.now_ms
        second = now // 1000
        if rt.get("pp_second") != second:
            rt["pp_second"], rt["pp_polls"], rt["pp_bytes"] = second, 0, 0
        pollers = provisioned.pollers_for(rt["target"])
        if rt["pp_polls"] < pollers * provisioned.POLLS_PER_POLLER_PER_S and \
                rt["pp_bytes"] < pollers * provisioned.BYTES_PER_POLLER_PER_S:
            return False
        self._schedule_poll(m["uuid"], (second + 1) * 1000)
        return True

    def _spend_poll_budget(self, m: dict, msgs: list[dict]) -> None:
        if provisioned.config_of(m["config"]) is not None:
            rt = m["runtime"]
            rt["pp_polls"] += 1
            rt["pp_bytes"] += sum(len(msg["body"].encode()) for msg in msgs)

    def _schedule_poll(self, uuid: str, at_ms: int) -> None:
        self.engine.agenda.schedule("queue.poll", f"qpoll:{uuid}", at_ms, uuid)

    def on_ready(self, queue: str, at_ms: int) -> None:
        arn = self.engine.queues.info(queue).arn
        for uuid, state in self.conn.execute(
                "SELECT uuid, state FROM mappings WHERE source_arn=?", (arn,)).fetchall():
            if state == "Enabled":
                self._schedule_poll(uuid, at_ms)

    def _poll(self, key: str, uuid: str) -> None:
        try:
            m = self.mappings.get_row(uuid)
        except Exception:
            return
        self.pump(m)
        self.mappings.save_runtime(m)

    # -- receiving and batching ---------------------------------------------------------

    def _patterns(self, m: dict) -> list:
        c = m["config"]
        text = json.dumps(c.get("FilterCriteria"), sort_keys=True)
        if text not in self._filters:
            self._filters[text] = parse_filter_criteria(c.get("FilterCriteria"), m["source_kind"])
        return self._filters[text]

    def pump(self, m: dict) -> None:
        """Fill free concurrency slots: dispatch a closed batch, else receive
        (at most 10 per receive) into the batch being assembled."""
        if m["state"] != "Enabled":
            return
        if self.mappings.blocked_by_problem(m):  # function, queue or permission gone
            return
        e = self.engine
        rt, c = m["runtime"], m["config"]
        queue = rt["queue"]
        fifo = m["source_kind"] == "sqs-fifo"
        patterns = self._patterns(m)
        rt.setdefault("bytes", payloads.EMPTY_EVENT_BYTES)
        busy_before = rt["busy"]
        while rt["busy"] < rt["target"] and rt.get("released_at") != e.now_ms:
            if rt["busy"] - busy_before >= DISPATCHES_PER_POLL:
                e.agenda.schedule_first("queue.poll", f"qmore:{m['uuid']}", m["uuid"])
                return
            if rt["assembling"]:
                reason = self._closed(m)
                if reason:
                    self._dispatch(m, reason)
                    continue
            need = c["BatchSize"] - len(rt["assembling"])
            if self._over_poll_budget(m):
                break
            msgs = e.queues.receive(queue, min(10, need), holder=m["label"])
            self._spend_poll_budget(m, msgs)
            self._narrate_moves(m)
            if not msgs:
                break
            event_metrics.count(e, m, "PolledEventCount", len(msgs))
            vis_end = e.now_ms + e.queues.info(queue).visibility_timeout * 1000
            for msg in msgs:
                msg.setdefault("visible_ms", vis_end)
            for msg in self._filter(m, msgs, patterns, fifo):
                size = _record_bytes(msg, fifo)
                if rt["assembling"] and rt["bytes"] + size > payloads.MAX_PAYLOAD_BYTES:
                    # At most once per receive: 10 messages of at most 1 MiB
                    # never need more than two 6 MB batches.
                    rt["full"] = True
                    self._dispatch(m, f"the next message would take the event past the 6 MB "
                                   f"invoke payload limit ({len(rt['assembling'])} message(s), "
                                   f"about {rt['bytes'] // 1024} KiB)")
                rt["assembling"].append(msg)
                rt["bytes"] += size
                if rt["since"] is None:
                    rt["since"] = e.now_ms
        if rt["assembling"] and rt["busy"] < rt["target"]:
            self._wait_for_window(m)
        if rt["busy"] < rt["target"]:
            # Long polling: an idle poller picks messages up the moment they
            # become visible (delay ended, visibility timeout ended).
            nxt = e.queues.next_visible_ms(queue)
            if nxt is not None:
                self._schedule_poll(m["uuid"], nxt)
        elif e.queues.has_visible(queue):
            self._plan_scale(m)

    def _closed(self, m: dict) -> str | None:
        """Why the batch being assembled is complete now, or None."""
        rt, c = m["runtime"], m["config"]
        n = len(rt["assembling"])
        if n >= c["BatchSize"]:
            return f"BatchSize {c['BatchSize']} was reached"
        if rt.get("full"):
            return "the 6 MB invoke payload limit was reached"
        window_ms = c.get("MaximumBatchingWindowInSeconds", 0) * 1000
        if not window_ms:
            return (f"{n} message(s) were received and no batching window is set "
                    "(MaximumBatchingWindowInSeconds 0)")
        now = self.engine.now_ms
        if now < rt["since"] + window_ms:
            return None
        low_due = self._low_traffic_due(m, window_ms)
        if low_due is None:
            return (f"the batching window of {window_ms // 1000} s elapsed "
                    "(MaximumBatchingWindowInSeconds) before BatchSize was reached")
        if now >= low_due:
            return (f"the low-traffic wait ended: only {n} message(s) arrived, so Lambda "
                    "waited up to 20 s for more (it may, on a standard queue with a window)")
        return None

    def _low_traffic_due(self, m: dict, window_ms: int) -> int | None:
        """The low-traffic rule (reference 2.1): with a batching window under
        20 s, a poller that found fewer than 10 messages (one receive's worth)
        by the end of the window waits up to 20 s from the first message
        before invoking. UNCERTAIN: AWS says only that Lambda 'might wait up
        to 20 seconds'; the lab always waits the full 20 s then, but never
        past the moment the first assembled message would become visible
        again (its visibility timeout), so the wait cannot cause redelivery."""
        rt = m["runtime"]
        if window_ms >= LOW_TRAFFIC_WAIT_MS or len(rt["assembling"]) >= 10:
            return None
        due = rt["since"] + LOW_TRAFFIC_WAIT_MS
        vis = min(msg.get("visible_ms") or due for msg in rt["assembling"])
        due = min(due, max(vis - 1000, rt["since"] + window_ms))
        return due if due > rt["since"] + window_ms else None

    def _wait_for_window(self, m: dict) -> None:
        rt = m["runtime"]
        window_ms = m["config"].get("MaximumBatchingWindowInSeconds", 0) * 1000
        due = rt["since"] + window_ms
        if self.engine.now_ms >= due:
            due = self._low_traffic_due(m, window_ms)
            if not rt.get("low_traffic_logged"):
                self.engine.log("batch.waiting", m["label"],
                                f"low traffic: only {len(rt['assembling'])} message(s) by the end "
                                f"of the {window_ms // 1000} s batching window, so the poller "
                                f"keeps long-polling until {payloads.iso(due)} before invoking "
                                "(AWS: with a window on a low-traffic queue Lambda may wait up to "
                                "20 seconds)", data={"until_ms": due,
                                                     "messages": len(rt["assembling"])})
                rt["low_traffic_logged"] = True
        self._schedule_poll(m["uuid"], due)

    def _filter(self, m: dict, msgs: list[dict], patterns: list, fifo: bool) -> list[dict]:
        if not patterns:
            return msgs
        queue = m["runtime"]["queue"]
        kept, dropped = [], []
        for msg in msgs:
            record = payloads.sqs_record(msg, queue, fifo)
            (kept if matches(patterns, record, m["source_kind"]) else dropped).append(msg)
        if dropped:
            self.engine.queues.delete_many(queue, [d["receipt_handle"] for d in dropped])
            event_metrics.count(self.engine, m, "FilteredOutEventCount", len(dropped))
            self.engine.log("batch.filtered", m["label"],
                            f"{len(dropped)} message(s) did not match FilterCriteria and were "
                            "deleted from the queue without invoking the function",
                            data={"message_ids": [d["message_id"] for d in dropped]})
        return kept

    def _narrate_moves(self, m: dict) -> None:
        moved = getattr(self.engine.queues, "last_moved", None) or []
        if moved:
            self.engine.log("poll.moved_to_dlq", m["label"],
                            f"while {m['label']} polled, {len(moved)} message(s) had already been "
                            "received maxReceiveCount times, so SQS moved them to the DLQ instead "
                            "of delivering them", data=[mv["message_id"] for mv in moved])

    # -- invoking -------------------------------------------------------------------------

    def _dispatch(self, m: dict, reason: str) -> None:
        rt = m["runtime"]
        batch, rt["assembling"], rt["since"] = rt["assembling"], [], None
        rt["bytes"] = payloads.EMPTY_EVENT_BYTES
        rt.pop("low_traffic_logged", None)
        rt.pop("full", None)
        if not batch:
            return
        rt["busy"] += 1
        self._invoke(m, batch, reason, tries=0)

    def _invoke(self, m: dict, batch: list[dict], reason: str, tries: int) -> None:
        e = self.engine
        rt = m["runtime"]
        queue = rt["queue"]
        fifo = m["source_kind"] == "sqs-fifo"
        event = payloads.sqs_event([payloads.sqs_record(msg, queue, fifo) for msg in batch])
        items = [Item(msg["message_id"], msg["body"], None, msg.get("group_id"),
                      msg["receive_count"]) for msg in batch]
        descriptors = [{"mid": msg["message_id"], "rh": msg["receipt_handle"],
                        "rc": msg["receive_count"], "g": msg.get("group_id"),
                        "body": msg["body"][:80], "vis": msg.get("visible_ms")} for msg in batch]
        function_arn = e.functions.config(m["function"])["FunctionArn"]
        chain = recursion.chain_number(batch, function_arn)
        if recursion.stopped(chain, e.functions.recursion_config(m["function"])["RecursiveLoop"]):
            self._stop_recursion(m, batch, chain)
            return
        detail = {"msgs": descriptors, "reason": reason}
        # The invocation's X-Ray header, kept only where something can use it:
        # a chain already under way, or a function that may send messages.
        if chain > 1 or any(msg.get("trace_header") for msg in batch) or \
                e.functions.behaviour(m["function"])["mode"] in ("resend", "handler"):
            detail["trace"] = recursion.trace_header(batch, function_arn, chain)
        inv_id, throttled = e.functions.invoke(
            m["function"], event, items, mapping=m["uuid"], source=queue,
            attempt=tries + 1, detail=detail)
        # Reference 8.4 (recorded): every invoke attempt counts as invoked,
        # and a throttled one as failed too.
        event_metrics.count(e, m, "InvokedEventCount", len(batch))
        if throttled:
            event_metrics.count(e, m, "FailedInvokeEventCount", len(batch))
            self._throttled(m, batch, reason, tries, throttled, inv_id)
            return
        rt["peak"] = max(rt["peak"], running(rt))
        counts = [msg["receive_count"] for msg in batch]
        groups = sorted({msg["group_id"] for msg in batch if msg.get("group_id")})
        e.log("invoke.started", m["label"],
              f"invocation {inv_id}: {m['function']} gets {len(batch)} message(s) "
              f"(receive counts {_span(counts)}{', groups ' + ', '.join(groups) if groups else ''})"
              f"; the batch closed because {reason}; {rt['busy']} of {rt['target']} "
              "concurrent batches in use",
              data={"invocation": inv_id, "message_ids": [d["mid"] for d in descriptors],
                    "closed_because": reason})

    def _stop_recursion(self, m: dict, batch: list[dict], chain: int) -> None:
        """Recursive loop detection (recursion.py): the invocation that would
        be the chain's 17th is not made; the batch is not deleted, so its
        messages come back after their visibility timeout and reach the DLQ
        per the RedrivePolicy."""
        e, rt = self.engine, m["runtime"]
        rt["busy"] = max(0, rt["busy"] - 1)
        e.journal.metric(m["function"], recursion.METRIC, 1)
        vis = min(msg.get("visible_ms") or e.now_ms for msg in batch)
        e.log("recursion.stopped", m["label"],
              f"recursive loop detected: this would be invocation {chain} of {m['function']} in "
              f"one chain of requests (the messages' AWSTraceHeader Lineage), and Lambda stops a "
              f"loop after {recursion.LIMIT}, so {m['function']} is not invoked. The "
              f"{len(batch)} message(s) are not deleted: they return at {payloads.iso(vis)} and, "
              "received again, reach the DLQ per the queue's RedrivePolicy "
              "(PutFunctionRecursionConfig RecursiveLoop Allow lets the loop run)",
              data={"message_ids": [msg["message_id"] for msg in batch], "chain": chain})

    def _throttled(self, m, batch, reason, tries, why, inv_id) -> None:
        e = self.engine
        rt = m["runtime"]
        delay = THROTTLE_RETRY_MS * 2 ** min(tries, 5)
        vis_end = min(msg.get("visible_ms") or e.now_ms for msg in batch)
        old_target = rt["target"]
        self._set_target(m, self._lowered(m, min(rt["target"], rt["busy"]) - 1))
        if e.now_ms + delay >= vis_end:
            rt["busy"] -= 1
            rt["released_at"] = e.now_ms
            e.log("batch.released", m["label"],
                  f"invoke throttled ({why}); the messages' visibility timeout ends before the "
                  f"next retry, so Lambda lets them go: they return to the queue at "
                  f"{payloads.iso(vis_end)} and their ApproximateReceiveCount already went up "
                  "to " + _span([msg["receive_count"] for msg in batch])
                  + " — with a low maxReceiveCount they reach the DLQ without the function "
                  "ever running", data={"invocation": inv_id})
            return
        rt["throttled"].append({"batch": batch, "reason": reason, "tries": tries + 1,
                                "retry_at": e.now_ms + delay})
        e.log("invoke.throttled", m["label"],
              f"invoke of {len(batch)} message(s) throttled ({why}); Lambda backs off "
              f"(target {old_target} -> {rt['target']}) and retries in {delay / 1000:g} s while "
              f"the messages stay invisible (until {payloads.iso(vis_end)})",
              data={"invocation": inv_id})
        e.agenda.schedule("queue.retry", f"qretry:{m['uuid']}", e.now_ms + delay, m["uuid"])

    def _retry_throttled(self, key: str, uuid: str) -> None:
        try:
            m = self.mappings.get_row(uuid)
        except Exception:
            return
        rt = m["runtime"]
        now = self.engine.now_ms
        due_at = [i for i, t in enumerate(rt["throttled"]) if t["retry_at"] <= now]
        taken = set(due_at[:DISPATCHES_PER_POLL])
        due = [rt["throttled"][i] for i in sorted(taken)]
        rt["throttled"] = [t for i, t in enumerate(rt["throttled"]) if i not in taken]
        for t in due:
            self._invoke(m, t["batch"], t["reason"], t["tries"])
        if len(due_at) > len(taken):
            # More retries due now: the next timer does them (DISPATCHES_PER_POLL).
            self.engine.agenda.schedule_first("queue.retry", f"qretry-more:{uuid}", uuid)
            self.mappings.save_runtime(m)
            return
        if rt["throttled"]:
            nxt = min(t["retry_at"] for t in rt["throttled"])
            self.engine.agenda.schedule("queue.retry", f"qretry:{uuid}", nxt, uuid)
        self.pump(m)
        self.mappings.save_runtime(m)

    # -- outcomes ----------------------------------------------------------------------------

    def on_done(self, m, inv, status, response, error, why) -> None:
        e = self.engine
        rt = m["runtime"]
        rt["busy"] = max(0, rt["busy"] - 1)
        queue = rt["queue"]
        msgs = inv["detail"]["msgs"]
        late = [d for d in msgs if d.get("vis") is not None and inv["end_ms"] > d["vis"]]
        if late:
            e.log("invoke.outlived_visibility", m["label"],
                  f"invocation {inv['id']} ran past the visibility timeout of {len(late)} "
                  "message(s): they became visible again while the handler was still running, "
                  "so another batch may process them a second time",
                  data=[d["mid"] for d in late])
        verdict, failed_ids, detail = self._verdict(m, msgs, status, response)
        if verdict == "ok":
            deleted = e.queues.delete_many(queue, [d["rh"] for d in msgs])
            event_metrics.count(e, m, "DeletedEventCount", deleted)
            e.log("batch.succeeded", m["label"],
                  f"invocation {inv['id']} succeeded; Lambda deletes the {len(msgs)} message(s)"
                  + ("" if deleted == len(msgs) else
                     f" ({len(msgs) - deleted} could not be deleted: their receipt handle is stale "
                     "because they were received again)"),
                  data={"invocation": inv["id"]})
        elif verdict == "partial":
            keep = set(failed_ids)
            deleted = e.queues.delete_many(queue, [d["rh"] for d in msgs if d["mid"] not in keep])
            event_metrics.count(e, m, "DeletedEventCount", deleted)
            e.log("batch.partial", m["label"],
                  f"invocation {inv['id']} reported {len(keep)} failed message(s) in "
                  f"batchItemFailures; Lambda deletes the other {len(msgs) - len(keep)}, and the "
                  "failed ones return when their visibility timeout ends",
                  data={"invocation": inv["id"], "failed": sorted(keep)})
            event_metrics.count(e, m, "FailedInvokeEventCount", len(keep))
            if m["source_kind"] == "sqs-fifo":
                self._check_fifo_partial(m, msgs, keep)
        else:
            self._failed(m, inv, msgs, status, error, detail or why)
        self.pump(m)
        self._idle_check(m)
        self.mappings.save_runtime(m)

    def _idle_check(self, m: dict) -> None:
        """Reference 2.5: when nothing is left to do the mapping returns to
        the 5 concurrent batches it starts with (capped by
        MaximumConcurrency). UNCERTAIN: AWS may go as low as 2 on an idle
        queue; the lab stays at 5 so a new burst starts the same way."""
        rt = m["runtime"]
        idle_target = self._cap(m, self._start(m))
        if rt["busy"] or rt["target"] == idle_target or m["state"] != "Enabled":
            return
        if self.engine.queues.counts(rt["queue"])["total"]:
            return
        old = rt["target"]
        self.engine.log("mapping.scaled_down" if old > idle_target else "mapping.scaled_up",
                        m["label"], f"the queue is empty and nothing is running: Lambda "
                        f"returns {m['label']} from {old} to the {idle_target} concurrent batches "
                        "it starts with", data={"from": old, "to": idle_target})
        self._set_target(m, idle_target)
        self.engine.agenda.cancel(f"scale:{m['uuid']}")

    def _check_fifo_partial(self, m, msgs, keep) -> None:
        """Reference 2.4: on FIFO the function should report the first failed
        message and every later one; Lambda itself deletes whatever is not
        listed, so a later message of the same group that was not listed is
        deleted before the failed one is retried: the group's order breaks.
        The lab does what Lambda does, and says so."""
        failed_groups, broken = set(), []
        for d in msgs:
            if d["mid"] in keep:
                failed_groups.add(d["g"])
            elif d["g"] in failed_groups:
                broken.append(d["mid"])
        if broken:
            self.engine.log(
                "batch.fifo_order_broken", m["label"],
                f"{len(broken)} message(s) came after a reported failure in the same message "
                "group but were not in batchItemFailures, so Lambda deleted them: they are "
                "processed before the failed message is retried and the group's order breaks "
                "(on FIFO queues report the failed message and every message after it)",
                data={"message_ids": broken})

    def _failed(self, m, inv, msgs, status, error, why) -> None:
        e = self.engine
        rt = m["runtime"]
        event_metrics.count(e, m, "FailedInvokeEventCount", len(msgs))
        what = {"timeout": "timed out", "success": "returned an invalid response"}.get(
            status, "failed")
        reason = why or (error or {}).get("errorMessage", "")
        vis = [d["vis"] for d in msgs if d.get("vis")]
        back = f" at {payloads.iso(min(vis))}" if vis else ""
        e.log("batch.failed", m["label"],
              f"invocation {inv['id']} {what} ({reason}); Lambda deletes nothing: the "
              f"{len(msgs)} message(s) stay invisible until their visibility timeout ends{back}, "
              "then return with ApproximateReceiveCount one higher (retries are the queue's: "
              "VisibilityTimeout and RedrivePolicy)",
              data={"invocation": inv["id"], "status": status,
                    "message_ids": [d["mid"] for d in msgs]})
        if "ReportBatchItemFailures" in (m["config"].get("FunctionResponseTypes") or []):
            return  # reference 2.3: with ReportBatchItemFailures Lambda does not scale down
        old = rt["target"]
        self._set_target(m, self._lowered(m, rt["target"] - 1))
        if rt["target"] != old:
            e.log("mapping.scaled_down", m["label"],
                  f"after a function error Lambda gradually reduces the concurrency it gives "
                  f"{m['label']}: target {old} -> {rt['target']} (it does not do this when "
                  "ReportBatchItemFailures is on)", data={"from": old, "to": rt["target"]})

    def _verdict(self, m, msgs, status, response):
        """('ok' | 'partial' | 'fail', failed message ids, why) per reference
        2.4 as corrected by the recording in 8.4."""
        if status != "success":
            return "fail", [], None
        if "ReportBatchItemFailures" not in (m["config"].get("FunctionResponseTypes") or []):
            return "ok", [], None
        if response is None or response == {}:
            return "ok", [], None
        if not isinstance(response, dict):
            return "fail", [], "the response is not valid batchItemFailures JSON"
        failures = response.get("batchItemFailures")
        if failures is None or failures == []:
            return "ok", [], None
        if not isinstance(failures, list):
            return "fail", [], "batchItemFailures is not a list: nothing is deleted"
        ids = {d["mid"] for d in msgs}
        failed = []
        for f in failures:
            if isinstance(f, dict) and "itemIdentifier" not in f:
                # The lab's choice (README "Where the lab makes a choice"):
                # AWS's docs call a misnamed key a failure, but on AWS an
                # entry with no itemIdentifier key ([{}]) was acknowledged as
                # success (reference 8.4, recorded). The lab follows the
                # recording: such an entry names no message.
                self.engine.log("batch.entry_ignored", m["label"],
                                "a batchItemFailures entry has no itemIdentifier key, so it "
                                "names no message; AWS acknowledged such an entry as success "
                                "in a recorded run (its docs say a missing or misnamed key "
                                "fails the batch: the lab follows the recording)",
                                data={"entry": f})
                continue
            if not isinstance(f, dict):
                return "fail", [], (f"a batchItemFailures entry is {_shown(f)}, not an object: "
                                    "nothing is deleted")
            ident = f["itemIdentifier"]
            if not isinstance(ident, str) or not ident:
                return "fail", [], (f"an itemIdentifier is {_shown(ident)}, not a messageId: "
                                    "nothing is deleted")
            if ident not in ids:
                return "fail", [], (f"itemIdentifier {ident} is not a messageId in the batch: "
                                    "nothing is deleted")
            failed.append(ident)
        if not failed:
            return "ok", [], None
        return "partial", failed, None

    # -- scaling -----------------------------------------------------------------------------

    def _plan_scale(self, m: dict) -> None:
        rt = m["runtime"]
        cap = self._cap(m, 10**9)
        if rt["target"] >= cap:
            return
        if self.engine.agenda.pending(f"scale:{m['uuid']}") is None:
            self.engine.agenda.schedule("queue.scale", f"scale:{m['uuid']}",
                                        self.engine.now_ms + SCALE_PERIOD_MS, m["uuid"])

    def _scale(self, key: str, uuid: str) -> None:
        try:
            m = self.mappings.get_row(uuid)
        except Exception:
            return
        rt = m["runtime"]
        if m["state"] == "Enabled" and rt["busy"] >= rt["target"] and \
                self.engine.queues.has_visible(rt["queue"]):
            counts = self.engine.queues.counts(rt["queue"])
            step = self._step(m)
            old = rt["target"]
            self._set_target(m, self._cap(m, old + step))
            if rt["target"] != old:
                self.engine.log("mapping.scaled_up", m["label"],
                                f"{counts['visible']} message(s) are waiting and all {old} "
                                f"concurrent batches are busy: Lambda adds up to {step} per "
                                f"minute ({self._profile_name(m)}): target {old} -> "
                                f"{rt['target']} (limit: {self._limit_name(m)})",
                                data={"from": old, "to": rt["target"]})
            self.pump(m)
        self.mappings.save_runtime(m)

    def _profile_name(self, m: dict) -> str:
        ppc = provisioned.config_of(m["config"])
        if ppc is None:
            return f"{self.engine.profile} profile"
        return (f"provisioned mode, {provisioned.pollers_for(m['runtime']['target'])} "
                "event pollers of 10 concurrent invokes each")

    def _limit_name(self, m: dict) -> str:
        ppc = provisioned.config_of(m["config"])
        if ppc is not None:
            if provisioned.cap_target(ppc) == provisioned.CONCURRENCY_CAP:
                return "provisioned mode's 20,000 concurrent invokes"
            return f"MaximumPollers {ppc['MaximumPollers']} x 10 concurrent invokes"
        if (m["config"].get("ScalingConfig") or {}).get("MaximumConcurrency"):
            return "ScalingConfig.MaximumConcurrency"
        return f"the {self.engine.profile} profile's cap"

    # -- read models ---------------------------------------------------------------------------

    def scaling_view(self, m: dict) -> dict:
        """What the Scaling panel shows for a queue mapping: its scaling mode
        ("provisioned", or the lab's on-demand profile "current"/"classic"),
        the concurrency target and what runs now, the cap and the step per
        minute; in provisioned mode also the pollers and their bounds."""
        rt = m["runtime"]
        ppc = provisioned.config_of(m["config"])
        view = {"mode": "provisioned" if ppc else self.engine.profile,
                "target": rt["target"], "running": running(rt),
                "cap": self._cap(m, 10**9), "step_per_minute": self._step(m)}
        if ppc is not None:
            view.update(pollers=provisioned.pollers_for(rt["target"]),
                        min_pollers=ppc["MinimumPollers"], max_pollers=ppc["MaximumPollers"])
        return view

    def sample(self, m: dict) -> bool:
        e = self.engine
        rt = m["runtime"]
        counts = e.queues.counts(rt["queue"])
        label = m["label"]
        metric = e.journal.metric
        metric(label, "ConcurrencyTarget", rt["target"])
        self._publish_pollers(m)
        metric(label, "ConcurrentExecutions", running(rt))
        metric(rt["queue"], "ApproximateNumberOfMessagesVisible", counts["visible"])
        metric(rt["queue"], "ApproximateNumberOfMessagesNotVisible", counts["in_flight"])
        metric(rt["queue"], "ApproximateNumberOfMessagesDelayed", counts["delayed"])
        metric(rt["queue"], "ApproximateAgeOfOldestMessage", counts["oldest_age_ms"] / 1000)
        info = e.queues.info(rt["queue"])
        if info.dlq_name:
            metric(info.dlq_name, "ApproximateNumberOfMessagesVisible",
                   e.queues.counts(info.dlq_name)["total"])
        busy = rt["busy"] > 0 or counts["total"] > 0
        return busy


def _record_bytes(msg: dict, fifo: bool) -> int:
    """Bytes this message adds to the event JSON (reference 0: the 6 MB cap
    counts the whole event with its metadata). Exact for the body (as JSON
    escapes it); the metadata is a bound measured from payloads.sqs_record
    (about 590 bytes standard with "md5OfMessageAttributes":null, plus the
    FIFO ids, a DeadLetterQueueSourceArn, an AWSTraceHeader); message
    attributes are counted at twice their stored JSON (the event form repeats
    list keys)."""
    size = len(json.dumps(msg["body"])) + RECORD_OVERHEAD_BYTES
    if fifo:
        size += 120 + len(msg.get("group_id") or "") + len(msg.get("dedup_id") or "")
    attrs = msg.get("message_attributes")
    if attrs:
        size += 2 * len(json.dumps(attrs)) + 64
    for key, extra in (("dlq_source_arn", 32), ("trace_header", 24)):
        if msg.get(key):   # DeadLetterQueueSourceArn / AWSTraceHeader: key, quotes, comma
            size += len(msg[key]) + extra
    return size


def _shown(value) -> str:
    """How a bad itemIdentifier is named in the journal."""
    if value is None:
        return "null"
    if value == "":
        return "an empty string"
    return f"{type(value).__name__} {json.dumps(value)}"


def _span(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def running(rt: dict) -> int:
    """Batches whose invocation is running now. A batch held for a throttle
    retry occupies a poller but is not a running invocation, so it does not
    count (AWS's ConcurrentExecutions counts running invocations)."""
    return rt["busy"] - len(rt.get("throttled") or [])
