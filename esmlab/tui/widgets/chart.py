"""One chart of the Scaling and metrics panels, drawn with textual-plot:
a lab-time axis (T+…), a value scale with its unit (counts, or durations in
human units such as 16h39m), limits drawn as horizontal lines and events
marked as vertical lines. A series that is all zero is drawn on zero."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static
from textual_plot import AxisFormatter, HiResMode, PlotWidget

from esmlab.readmodels import rel
from esmlab.tui.widgets.lines import update_static

# series and limit colours by position (theme-independent names)
SERIES_STYLES = ("bright_cyan", "bright_green", "bright_magenta", "bright_yellow")
LIMIT_STYLE = "red"
MARK_STYLES = {"scale-up": "green", "scale-down": "cyan", "back-off after an error": "yellow",
               "error": "yellow", "throttle": "magenta", "shard blocked": "red"}
MARKS_DRAWN = 12         # the newest marks get a line; older ones only count
TIME_STEPS_MS = (1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
                 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000,
                 43_200_000, 86_400_000, 172_800_000, 604_800_000)


def nice_steps(lo: float, hi: float, max_ticks: int, steps) -> list[float]:
    span = max(hi - lo, 1)
    step = next((s for s in steps if span / s <= max_ticks), steps[-1])
    first = -(-lo // step) * step
    ticks, t = [], first
    while t <= hi and len(ticks) < 50:
        ticks.append(t)
        t += step
    return ticks


class LabTime(AxisFormatter):
    """x in lab ms; labels T+ from the lab's start, ticks on round times."""

    def __init__(self, start_ms: int):
        self.start_ms = start_ms

    def get_ticks(self, min_, max_, max_ticks=8):
        return [t + self.start_ms for t in nice_steps(min_ - self.start_ms, max_ - self.start_ms,
                                                      max(2, max_ticks - 2), TIME_STEPS_MS)]

    def get_labels_for_ticks(self, ticks):
        return ["T+" + (rel(t - self.start_ms).replace(".0s", "s") if t > self.start_ms
                        else "0s") for t in ticks]   # T+0s, not T+0ms


class Duration(AxisFormatter):
    """y in ms, labelled in human units (950ms, 12s, 4m05s, 16h39m)."""

    def get_ticks(self, min_, max_, max_ticks=8):
        return nice_steps(min_, max_, max(2, max_ticks // 2),
                          (1, 10, 100, 500) + TIME_STEPS_MS)

    def get_labels_for_ticks(self, ticks):
        return [rel(t).replace(".0s", "s") for t in ticks]


class Count(AxisFormatter):
    """y a count: whole-number ticks only."""

    def get_ticks(self, min_, max_, max_ticks=8):
        return nice_steps(min_, max_, max(2, max_ticks // 2),
                          (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000))

    def get_labels_for_ticks(self, ticks):
        return [f"{int(t):,}" for t in ticks]


def value_text(value: float, unit: str) -> str:
    return rel(value) if unit == "ms" else f"{value:g}"


class Plot(PlotWidget):
    can_focus = False     # Tab moves between the panels, not into a chart

    def _render_plot(self) -> None:
        """Draw every canvas with one refresh each (the library refreshes a
        canvas per line segment otherwise: measured ~130 ms a chart)."""
        from contextlib import ExitStack

        from textual_hires_canvas import Canvas
        with ExitStack() as stack:
            for canvas in self.query(Canvas):
                stack.enter_context(canvas.batch_refresh())
            super()._render_plot()


class Chart(Vertical):
    """show(chart, start_ms, marks): chart = one entry of rm.scaling()'s
    "charts" ({"title", "unit", "series": {name: bucketed}, "limits"})."""

    DEFAULT_CSS = """
    Chart { height: auto; }
    Chart > .chart-title { height: auto; }
    Chart > Plot { height: 9; }
    """

    def compose(self):
        yield Static(classes="chart-title")
        yield Plot(allow_pan_and_zoom=False)

    _pending: tuple | None = None

    def on_mount(self) -> None:
        plot = self.query_one(Plot)
        plot.margin_top, plot.margin_bottom, plot.margin_left = 0, 2, 8
        if self._pending is not None:
            self.show(*self._pending)

    def show(self, chart: dict, start_ms: int, marks: list[dict]) -> None:
        drawn = (chart, start_ms, marks[-MARKS_DRAWN:])
        if drawn == getattr(self, "_drawn", None):
            return                 # the same picture: no redraw
        plots = self.query(Plot)
        if not plots:            # mounted but not composed yet: drawn in on_mount
            self._pending = (chart, start_ms, marks)
            return
        self._pending = None
        self._drawn = drawn
        plot = plots.first()
        unit = chart["unit"]
        title = Text(chart["title"], style="bold")
        plot.clear()
        plot.set_x_formatter(LabTime(start_ms))
        plot.set_y_formatter(Duration() if unit == "ms" else Count())
        peak, xs = 0.0, []
        for i, (name, s) in enumerate(chart["series"].items()):
            style = SERIES_STYLES[i % len(SERIES_STYLES)]
            xs = s["x"]
            title.append(f"  ━ {name}", style=style)
            if s["samples"] == 0 and not s["peak"]:
                title.append(" (no datapoint)", style="dim")
            else:
                title.append(f" now {value_text(s['last'], unit)} peak "
                             f"{value_text(s['peak'], unit)}")
            plot.plot(s["x"], s["y"], line_style=style, hires_mode=HiResMode.BRAILLE)
            peak = max(peak, s["peak"])
        for name, value in chart["limits"].items():
            title.append(f"  ┄ {name} {value_text(value, unit)}", style=LIMIT_STYLE)
            if xs:
                plot.plot([xs[0], xs[-1]], [value, value], line_style=LIMIT_STYLE,
                          hires_mode=HiResMode.BRAILLE)
            peak = max(peak, value)
        for mark in marks[-MARKS_DRAWN:]:
            plot.add_v_line(mark["at_ms"], MARK_STYLES.get(mark["what"], "white"))
        if xs:
            plot.set_xlimits(xs[0], xs[-1] + (xs[1] - xs[0] if len(xs) > 1 else 1))
        # zero is always on the scale, so an all-zero series lies on the axis
        plot.set_ylimits(0, max(peak * 1.15, 1 if unit == "count" else 1000))
        update_static(self.query_one(".chart-title", Static), title)
