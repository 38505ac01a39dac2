"""One chart of the Scaling panel, drawn as lines of text: a lab-time axis
(T+…), a value scale with its unit (counts, or durations in human units
such as 16h39m), limits drawn as horizontal lines and events marked as
vertical lines; the series in braille dots (2 x 4 per character cell). A
series that is all zero is drawn on zero.

Why our own drawing and not a plotting widget: the charts were textual-plot
widgets, each a grid of canvases, axes and a legend that Textual lays out
and paints as a dozen widgets. Measured on this machine, the Scaling panel's
charts cost 180-850 ms CPU the first time they were laid out and a whole
screen layout whenever their number or data changed, far over a frame. A
chart here is a Rich renderable: it draws into the panel's Line API view
(esmlab/tui/widgets/lines.py) at the view's width, a few milliseconds for
four charts, with no widget to lay out. plotext (a maintained terminal
plotting library) was considered: its output is a string of ANSI escapes
that would be parsed back into Rich text on every draw, and a braille
canvas is a small part of what a chart here needs (lab-time ticks, limits,
marks, theme-safe styles)."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from esmlab.readmodels import rel

# series and limit colours by position (theme-independent names)
SERIES_STYLES = ("bright_cyan", "bright_green", "bright_magenta", "bright_yellow")
LIMIT_STYLE = "red"
MARK_STYLES = {"scale-up": "green", "scale-down": "cyan", "back-off after an error": "yellow",
               "error": "yellow", "throttle": "magenta", "shard blocked": "red"}
MARKS_DRAWN = 12         # the newest marks get a line; older ones only count
TIME_STEPS_MS = (1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
                 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000,
                 43_200_000, 86_400_000, 172_800_000, 604_800_000)
ROWS = 6                 # character rows of the plot area (4 dots each)
LABEL_W = 8              # the value labels' column, the axis after it
AXIS_STYLE = "dim"
# braille dot bits by (column, row) inside a cell: Unicode's order
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


def nice_steps(lo: float, hi: float, max_ticks: int, steps) -> list[float]:
    span = max(hi - lo, 1)
    step = next((s for s in steps if span / s <= max_ticks), steps[-1])
    first = -(-lo // step) * step
    ticks, t = [], first
    while t <= hi and len(ticks) < 50:
        ticks.append(t)
        t += step
    return ticks


class LabTime:
    """x in lab ms; labels T+ from the lab's start, ticks on round times."""

    def __init__(self, start_ms: int):
        self.start_ms = start_ms

    def get_ticks(self, min_, max_, max_ticks=8):
        return [t + self.start_ms for t in nice_steps(min_ - self.start_ms, max_ - self.start_ms,
                                                      max(2, max_ticks - 2), TIME_STEPS_MS)]

    def get_labels_for_ticks(self, ticks):
        return ["T+" + (rel(t - self.start_ms).replace(".0s", "s") if t > self.start_ms
                        else "0s") for t in ticks]   # T+0s, not T+0ms


class Duration:
    """y in ms, labelled in human units (950ms, 12s, 4m05s, 16h39m)."""

    def get_ticks(self, min_, max_, max_ticks=8):
        return nice_steps(min_, max_, max(2, max_ticks // 2),
                          (1, 10, 100, 500) + TIME_STEPS_MS)

    def get_labels_for_ticks(self, ticks):
        return [rel(t).replace(".0s", "s") for t in ticks]


class Count:
    """y a count: whole-number ticks only."""

    def get_ticks(self, min_, max_, max_ticks=8):
        return nice_steps(min_, max_, max(2, max_ticks // 2),
                          (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000))

    def get_labels_for_ticks(self, ticks):
        return [f"{int(t):,}" for t in ticks]


def value_text(value: float, unit: str) -> str:
    return rel(value) if unit == "ms" else f"{value:g}"


def chart_title(chart: dict) -> Text:
    unit = chart["unit"]
    title = Text(chart["title"], style="bold")
    for i, (name, s) in enumerate(chart["series"].items()):
        title.append(f"  ━ {name}", style=SERIES_STYLES[i % len(SERIES_STYLES)])
        if s["samples"] == 0 and not s["peak"]:
            title.append(" (no datapoint)", style="dim")
        else:
            title.append(f" now {value_text(s['last'], unit)} peak {value_text(s['peak'], unit)}")
    for name, value in chart["limits"].items():
        title.append(f"  ┄ {name} {value_text(value, unit)}", style=LIMIT_STYLE)
    return title


class _Canvas:
    """Braille dots on a grid of cells; each cell takes the style of the
    last thing drawn in it."""

    def __init__(self, cols: int, rows: int):
        self.cols, self.rows = cols, rows
        self.w, self.h = cols * 2, rows * 4
        self.dots = [[0] * cols for _ in range(rows)]
        self.styles: list[list[str | None]] = [[None] * cols for _ in range(rows)]
        self.marks: dict[int, str] = {}            # column -> a vertical mark's style

    def dot(self, x: int, y: int, style: str) -> None:
        if 0 <= x < self.w and 0 <= y < self.h:
            cx, cy = x >> 1, y >> 2
            self.dots[cy][cx] |= _DOTS[x & 1][y & 3]
            self.styles[cy][cx] = style

    def line(self, x0: int, y0: int, x1: int, y1: int, style: str) -> None:
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.dot(x0, y0, style)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def row_text(self, cy: int) -> Text:
        """One row as text, runs of one style appended together."""
        out = Text(no_wrap=True, overflow="crop")
        run, run_style = [], None
        dots, styles, marks = self.dots[cy], self.styles[cy], self.marks
        for cx in range(self.cols):
            if dots[cx]:
                ch, style = chr(0x2800 + dots[cx]), styles[cx]
            elif cx in marks:
                ch, style = "│", marks[cx]
            else:
                ch, style = " ", None
            if style != run_style and run:
                out.append("".join(run), style=run_style)
                run = []
            run_style = style
            run.append(ch)
        if run:
            out.append("".join(run), style=run_style)
        return out


def plot_lines(chart: dict, start_ms: int, marks: list[dict], width: int) -> list[Text]:
    """The plot under a chart's title, `width` cells wide: ROWS rows of
    braille with value labels, the time axis, its labels."""
    cols = max(4, width - LABEL_W - 1)
    canvas = _Canvas(cols, ROWS)
    unit = chart["unit"]
    series = list(chart["series"].values())
    xs = next((s["x"] for s in reversed(series) if s["x"]), [])
    peak = max([s["peak"] for s in series] + list(chart["limits"].values()) + [0.0])
    y_max = max(peak * 1.15, 1 if unit == "count" else 1000)
    if xs:
        x_lo, x_hi = xs[0], xs[-1] + (xs[1] - xs[0] if len(xs) > 1 else 1)
    else:
        x_lo, x_hi = start_ms, start_ms + 1
    span = max(x_hi - x_lo, 1)

    def px(x: float) -> int:
        return min(canvas.w - 1, max(0, int((x - x_lo) * canvas.w / span)))

    def py(y: float) -> int:
        return min(canvas.h - 1, max(0, round((1 - y / y_max) * (canvas.h - 1))))

    for mark in marks[-MARKS_DRAWN:]:
        if x_lo <= mark["at_ms"] < x_hi:
            canvas.marks[px(mark["at_ms"]) >> 1] = MARK_STYLES.get(mark["what"], "white")
    for value in chart["limits"].values():
        y = py(value)
        canvas.line(0, y, canvas.w - 1, y, LIMIT_STYLE)
    for i, s in enumerate(series):
        style = SERIES_STYLES[i % len(SERIES_STYLES)]
        points = [(px(x), py(y)) for x, y in zip(s["x"], s["y"])]
        if points:          # the last bucket's value holds to its end, the chart's right edge
            points.append((canvas.w - 1, points[-1][1]))
        if len(points) == 1:
            canvas.dot(*points[0], style)
        for (a, b), (c, d) in zip(points, points[1:]):
            canvas.line(a, b, c, d, style)

    y_axis = Duration() if unit == "ms" else Count()
    ticks = y_axis.get_ticks(0, y_max, ROWS)
    labels: dict[int, str] = {}
    for tick, label in zip(ticks, y_axis.get_labels_for_ticks(ticks)):
        labels.setdefault(py(tick) >> 2, label)
    lines = []
    for cy in range(ROWS):
        label = labels.get(cy)
        line = Text(f"{label[:LABEL_W - 2]:>{LABEL_W - 2}} ┨" if label else " " * (LABEL_W - 1)
                    + "┃", style=AXIS_STYLE, no_wrap=True, overflow="crop")
        line.append_text(canvas.row_text(cy))
        lines.append(line)

    x_axis = LabTime(start_ms)
    ticks = [t for t in x_axis.get_ticks(x_lo, x_hi, max(2, cols // 10)) if x_lo <= t < x_hi]
    axis = ["━"] * cols
    under = [" "] * (cols + LABEL_W)
    free = 0                       # the first column a label may start at
    for tick, label in zip(ticks, x_axis.get_labels_for_ticks(ticks)):
        col = px(tick) >> 1
        axis[col] = "┯"
        at = LABEL_W + col
        if at >= free and at + len(label) <= len(under):
            under[at:at + len(label)] = label
            free = at + len(label) + 1
    lines.append(Text(" " * (LABEL_W - 1) + "┗" + "".join(axis), style=AXIS_STYLE,
                      no_wrap=True, overflow="crop"))
    lines.append(Text("".join(under).rstrip(), style=AXIS_STYLE, no_wrap=True, overflow="crop"))
    return lines


class ChartLines:
    """A chart as a Rich renderable: a blank line, its title (wrapped),
    then its plot at the width it is rendered at. `chart` is one entry of
    rm.scaling()'s "charts" ({"title", "unit", "series": {name: bucketed},
    "limits"})."""

    def __init__(self, chart: dict, start_ms: int, marks: list[dict]):
        self.chart, self.start_ms, self.marks = chart, start_ms, marks

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text()
        yield chart_title(self.chart)
        yield from plot_lines(self.chart, self.start_ms, self.marks, options.max_width)
