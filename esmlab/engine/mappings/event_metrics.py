"""EventCount metrics of an event source mapping (reference 8.4, 8.6).

AWS publishes a mapping's event counters only when the mapping asks for
them with ``MetricsConfig: {"Metrics": ["EventCount"]}``; without it no
datapoint exists at all (absent is not zero). The counters, under the
mapping's ``EventSourceMappingUUID`` dimension:

- ``PolledEventCount``: records read from the source. An empty poll counts
  0, and while the mapping is enabled there is one datapoint a minute (0 when
  idle): the lab writes a 0 sample at every minute boundary (a background
  timer, so it never counts as activity) and the real counts beside it.
- ``FilteredOutEventCount``: records dropped by FilterCriteria.
- ``InvokedEventCount``: records in an invocation; every retry counts again,
  and on SQS every throttled invoke attempt counts (recorded, 8.4).
- ``FailedInvokeEventCount``: records of a failed invocation, plus every
  record named in a non-empty batchItemFailures; on SQS every throttled
  attempt counts here too.
- ``DroppedEventCount``, ``OnFailureDestinationDeliveredEventCount``
  (streams) and ``DeletedEventCount`` (SQS: messages Lambda deleted after
  processing them).

Both pollers use `count`, so "is EventCount on" is decided in one place.
"""

from __future__ import annotations

EVENT_COUNT = "EventCount"
MINUTE_MS = 60_000
MINUTE_KIND = "esm.minute"   # a background timer kind (lab.BACKGROUND_KINDS)


def event_count_on(config: dict) -> bool:
    """True when the mapping's MetricsConfig asks for the EventCount metrics."""
    metrics = (config.get("MetricsConfig") or {}).get("Metrics") or []
    return EVENT_COUNT in metrics


def count(engine, m: dict, name: str, n: int) -> None:
    """Publish `n` for the mapping's counter `name`, only when EventCount is on."""
    if event_count_on(m["config"]):
        engine.journal.metric(m["label"], name, n)


def install(engine, mappings) -> None:
    """Register the per-minute PolledEventCount timer (idempotent: a second
    call replaces the handler with an identical one)."""

    def minute(key: str, uuid: str) -> None:
        try:
            m = mappings.get_row(uuid)
        except Exception:
            return   # the mapping was deleted: its datapoints stop
        if m["state"] != "Enabled" or not event_count_on(m["config"]):
            return
        engine.journal.metric(m["label"], "PolledEventCount", 0)
        _schedule(engine, uuid)

    engine.agenda.on(MINUTE_KIND, minute)


def keep_minute_datapoints(engine, m: dict) -> None:
    """Call when a mapping becomes Enabled (or its MetricsConfig changes):
    a 0 PolledEventCount datapoint now and at every minute boundary while it
    stays enabled with EventCount on."""
    if m["state"] != "Enabled" or not event_count_on(m["config"]):
        return
    key = f"esmmin:{m['uuid']}"
    if engine.agenda.pending(key) is None:
        engine.journal.metric(m["label"], "PolledEventCount", 0)
        _schedule(engine, m["uuid"])


def _schedule(engine, uuid: str) -> None:
    nxt = (engine.now_ms // MINUTE_MS + 1) * MINUTE_MS
    engine.agenda.schedule(MINUTE_KIND, f"esmmin:{uuid}", nxt, uuid)
