"""The DLQ & destinations panel: each DLQ (a RedrivePolicy's target) and
OnFailure destination with a page of its messages and why each moved."""

from __future__ import annotations

import json

from rich.console import Group
from rich.table import Table
from rich.text import Text

from esmlab import readmodels as rm
from esmlab.readmodels import rel
from esmlab.tui.widgets.cursor import CURSOR_STYLE, CursorPanel, Rows
from esmlab.tui.widgets.lines import LinesView


class DeadLetterPanel(CursorPanel):
    def compose(self):
        yield LinesView(id="dlq-view")

    @staticmethod
    def read(lab, view) -> dict:
        model = rm.dead_letters(lab)
        model["start_ms"] = view.start_ms
        return model

    def draw(self, model: dict, rows: Rows) -> None:
        self.query_one("#dlq-view", LinesView).show(render_dead_letters(model, rows))


def failure_record_ref(record) -> str | None:
    """The first sequence number an on-failure record names (its batch
    info), so the x-ray tells that record's story rather than the
    destination message's."""
    if isinstance(record, dict) and isinstance(record.get("Message"), str):
        try:
            record = json.loads(record["Message"])     # an SNS notification's record
        except ValueError:
            return None
    if not isinstance(record, dict):
        return None
    for key in ("KinesisBatchInfo", "DDBStreamBatchInfo"):
        info = record.get(key)
        if isinstance(info, dict) and info.get("startSequenceNumber"):
            return str(info["startSequenceNumber"])
    return None


def render_dead_letters(model: dict, rows: Rows | None = None) -> Group:
    """Each message is a cursor row; the row under the cursor shows its whole
    reason, the others one line each (so every row's place is known)."""
    rows = rows if rows is not None else Rows()
    parts: list = []
    y = 0
    if not model["queues"] and not model["sinks"]:
        return Group(Text("No DLQ or on-failure destination is configured."))
    for q in model["queues"]:
        what = []
        if q["sources"]:
            what.append("DLQ of " + ", ".join(q["sources"]))
        if q["destination"]:
            what.append("OnFailure destination")
        parts.append(Text(f"{q['name']}  ({'; '.join(what)})  {q['counts']['total']} message(s)",
                          style="bold", no_wrap=True, overflow="ellipsis"))
        table = Table(expand=True, box=None, pad_edge=False)
        for col in ("message", "recv", "moved", "body / record", "why"):
            table.add_column(col, overflow="fold" if col == "why" else "ellipsis",
                             no_wrap=col != "why")
        y += 2                                   # the queue's line and the table's header
        for r in q["rows"]:
            body = r["body"]
            if isinstance(r.get("record"), dict):
                ctx = r["record"].get("requestContext", {})
                body = ctx.get("condition") or body
            at = rows.add(y, [failure_record_ref(r.get("record")) or r["message_id"]])
            y += 1
            why = r["why"] if at is not None else Text(r["why"], no_wrap=True,
                                                        overflow="ellipsis")
            table.add_row(r["message_id"][:8], str(r["receive_count"]),
                          "T+" + rel(r["moved_at_ms"] - model["start_ms"]), body[:40], why,
                          style=CURSOR_STYLE if at is not None else None)
        parts.append(table)
    for s in model["sinks"]:
        parts.append(Text(f"{s['kind']} {s['name']}: {s['count']} record(s)", style="bold",
                          no_wrap=True, overflow="ellipsis"))
        y += 1
        for it in s["items"]:
            at = rows.add(y, [failure_record_ref(it.get("body"))])
            y += 1
            parts.append(Text(f"  {it.get('reason') or ''}  {str(it.get('body'))[:100]}",
                              no_wrap=True, overflow="ellipsis",
                              style=CURSOR_STYLE if at is not None else ""))
    return Group(*parts)
