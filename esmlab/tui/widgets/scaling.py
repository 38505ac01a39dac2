"""The Scaling panel: the scaling profile in force and its numbers, then
charts of concurrency, age and errors over lab time, with limits and the
events that explain them marked.

The whole panel is one Line API view (esmlab/tui/widgets/lines.py): the
title, the charts (esmlab/tui/widgets/chart.py) and the marks are one Rich
renderable drawn at the view's width, so a step or a new selection repaints
the panel without laying out the screen."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.containers import Vertical

from esmlab import readmodels as rm
from esmlab.readmodels import rel
from esmlab.tui.widgets.chart import MARK_STYLES, ChartLines
from esmlab.tui.widgets.lines import LinesView


class ChartsView(LinesView, can_focus=True):
    """Focusable, so the keys scroll it when it is taller than the screen.
    Its scrollbar always shows: four charts are about as tall as a 160x48
    screen's panel, and a scrollbar that comes or goes with the selected
    mapping's number of charts lays out the whole screen (measured: the
    press that did it cost 100-160 ms CPU on the starter lab, the others
    25-40 ms)."""

    DEFAULT_CSS = """
    ChartsView {
        overflow-y: scroll;
    }
    """


class ScalingPanel(Vertical):
    def compose(self):
        yield ChartsView(id="scaling-view")

    @staticmethod
    def read(lab, view) -> dict | None:
        m = view.mapping
        return rm.scaling(lab, m["label"]) if m is not None else None

    def show(self, model: dict | None) -> None:
        if model is not None and model == getattr(self, "_model", None):
            return                 # the same picture (another selection of the same mapping)
        self._model = model
        self.query_one("#scaling-view", LinesView).show(render_scaling(model))


def render_scaling(model: dict | None) -> Group | Text:
    if model is None:
        return Text("select a mapping")
    return Group(render_title(model),
                 *(ChartLines(chart, model["start_ms"], model["marks"])
                   for chart in model["charts"]),
                 Text(), render_marks(model))


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
    t = Text("marks (newest last): ", style="bold")
    for mark in marks[-8:]:
        t.append(f"│ {mark['what']} T+{rel(mark['at_ms'] - model['start_ms'])}  ",
                 style=MARK_STYLES.get(mark["what"], ""))
    return t
