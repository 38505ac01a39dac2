"""The DLQ & destinations panel: each DLQ (a RedrivePolicy's target) and
OnFailure destination with a page of its messages and why each moved."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from esmlab import readmodels as rm
from esmlab.readmodels import rel


class DeadLetterPanel(VerticalScroll):
    def compose(self):
        yield Static(id="dlq-view")

    @staticmethod
    def read(lab, view) -> dict:
        model = rm.dead_letters(lab)
        model["start_ms"] = view.start_ms
        return model

    def show(self, model: dict) -> None:
        self.query_one("#dlq-view", Static).update(render_dead_letters(model))


def render_dead_letters(model: dict) -> Group:
    parts: list = []
    if not model["queues"] and not model["sinks"]:
        return Group(Text("No DLQ or on-failure destination is configured."))
    for q in model["queues"]:
        what = []
        if q["sources"]:
            what.append("DLQ of " + ", ".join(q["sources"]))
        if q["destination"]:
            what.append("OnFailure destination")
        parts.append(Text(f"{q['name']}  ({'; '.join(what)})  {q['counts']['total']} message(s)",
                          style="bold"))
        table = Table(expand=True, box=None, pad_edge=False)
        for col in ("message", "recv", "moved", "body / record", "why"):
            table.add_column(col, overflow="fold" if col == "why" else "ellipsis",
                             no_wrap=col != "why")
        for r in q["rows"]:
            body = r["body"]
            if isinstance(r.get("record"), dict):
                ctx = r["record"].get("requestContext", {})
                body = ctx.get("condition") or body
            table.add_row(r["message_id"][:8], str(r["receive_count"]),
                          "T+" + rel(r["moved_at_ms"] - model["start_ms"]), body[:40], r["why"])
        parts.append(table)
    for s in model["sinks"]:
        parts.append(Text(f"{s['kind']} {s['name']}: {s['count']} record(s)", style="bold"))
        for it in s["items"]:
            parts.append(Text(f"  {it.get('reason') or ''}  {str(it.get('body'))[:100]}"))
    return Group(*parts)
