"""The Scaling panel: the scaling profile in force and its numbers, then
charts of concurrency, age and errors over lab time, with limits and the
events that explain them marked."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from esmlab import readmodels as rm
from esmlab.readmodels import rel
from esmlab.tui.widgets.lines import update_static


CHARTS_MOST = 4        # an SQS mapping's: concurrency, queue age, backlog, errors


class ScalingPanel(VerticalScroll):
    def compose(self):
        yield Static(id="scaling-title")
        yield Static(id="scaling-marks")

    def on_mount(self) -> None:
        # textual-plot and numpy take about a second to import on a loaded
        # machine: import them in a thread after start-up, then mount the
        # charts hidden, so the first switch to this tab only draws.
        self.run_worker(self._warm_up, thread=True, group="scaling-warm-up",
                        exit_on_error=False)

    def _warm_up(self) -> None:
        import esmlab.tui.widgets.chart  # noqa: F401
        try:
            self.app.call_from_thread(self._premount)
        except Exception:        # the app closed first: nothing to mount
            pass

    def _premount(self) -> None:
        if not self.is_attached or len(self.query("Chart")) >= CHARTS_MOST:
            return
        self._charts(CHARTS_MOST)
        for chart in self.query("Chart"):
            if getattr(chart, "_drawn", None) is None and chart._pending is None:
                chart.display = False

    @staticmethod
    def read(lab, view) -> dict | None:
        m = view.mapping
        return rm.scaling(lab, m["label"]) if m is not None else None

    def show(self, model: dict | None) -> None:
        title = self.query_one("#scaling-title", Static)
        if model is None:
            title.update("select a mapping")
            for chart in self.query("Chart"):
                chart.display = False
            return
        update_static(title, render_title(model))
        self._charts(len(model["charts"]))
        charts = list(self.query("Chart"))
        for chart, data in zip(charts, model["charts"]):
            chart.display = True
            chart.show(data, model["start_ms"], model["marks"])
        for chart in charts[len(model["charts"]):]:
            chart.display = False
        update_static(self.query_one("#scaling-marks", Static), render_marks(model))

    def _charts(self, n: int) -> None:
        """Charts are made on first use, so textual-plot (and numpy) load
        only when the Scaling panel is first looked at."""
        from esmlab.tui.widgets.chart import Chart
        have = len(self.query("Chart"))
        if have < n:
            self.mount_all([Chart() for _ in range(n - have)],
                           before=self.query_one("#scaling-marks"))


def render_title(model: dict) -> Text:
    t = Text(f"{model['label']} ({model['kind']}) → {model['function']}", style="bold")
    if model["kind"].startswith("sqs"):
        t.append(f"  target {model.get('target')}  busy {model.get('busy')}")
    t.append(f"\nscaling profile {model['profile']}: {model['profile_numbers']}")
    lo, hi = model["window"]
    t.append(f"\nlab time T+{rel(lo - model['start_ms'])} .. T+{rel(hi - model['start_ms'])}"
             f"   throttles {model['throttles_total']}", style="dim")
    return t


def render_marks(model: dict) -> Text:
    marks = model["marks"]
    if not marks:
        return Text("no scale-up, back-off, throttle or blocked shard in this window",
                    style="dim")
    from esmlab.tui.widgets.chart import MARK_STYLES
    t = Text("marks (newest last): ", style="bold")
    for mark in marks[-8:]:
        t.append(f"│ {mark['what']} T+{rel(mark['at_ms'] - model['start_ms'])}  ",
                 style=MARK_STYLES.get(mark["what"], ""))
    return t
