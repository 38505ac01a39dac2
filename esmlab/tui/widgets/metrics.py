"""The Metrics panel: AWS's EventCount metrics of the selected mapping, in
AWS's names, per bucket of lab time. AWS publishes them only when the
mapping's MetricsConfig asks for EventCount; the panel says so then."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import Vertical

from esmlab import readmodels as rm
from esmlab.readmodels import rel
from esmlab.tui.widgets.lines import LinesView

BARS = " ▁▂▃▄▅▆▇█"


class MetricsPanel(Vertical):
    def compose(self):
        yield LinesView(id="metrics-view")

    @staticmethod
    def read(lab, view) -> dict | None:
        m = view.mapping
        return rm.event_counts(lab, m["label"]) if m is not None else None

    def show(self, model: dict | None) -> None:
        if model is not None and model == getattr(self, "_model", None):
            return                 # the same page (another selection of the same source)
        self._model = model
        self.query_one("#metrics-view", LinesView).show(render_event_counts(model))


def bars(values: list[float]) -> str:
    """One character per bucket; a zero bucket is a blank, never a bar."""
    top = max(values, default=0)
    if top <= 0:
        return "·" * len(values)
    return "".join(BARS[0] if v <= 0 else BARS[max(1, round(v / top * 8))] for v in values)


def render_event_counts(model: dict | None) -> Group | Text:
    if model is None:
        return Text("select a mapping")
    head = Text(f"{model['label']} ({model['uuid']}): EventCount metrics, Sum per bucket",
                style="bold")
    if not model["configured"]:
        return Group(head, Text(
            "not configured: AWS publishes these metrics only when the mapping's "
            "MetricsConfig is {\"Metrics\": [\"EventCount\"]} (edit the mapping to add it)."))
    lo, hi = model["window"]
    start = model["start_ms"]
    table = Table(box=None, pad_edge=False, expand=True)
    table.add_column("metric (AWS/Lambda)", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    table.add_column(f"T+{rel(lo - start)} … T+{rel(hi - start)}", no_wrap=True,
                     overflow="crop")
    for name, s in model["series"].items():
        total = "no datapoint" if s["samples"] == 0 else f"{s['total']:g}"
        table.add_row(name, total, bars(s["y"]))
    return Group(head, table, Text("dimension EventSourceMappingUUID; a blank bucket "
                                   "is 0, a bar's height is relative to the row's peak",
                                   style="dim"))
