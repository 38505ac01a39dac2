"""The X-ray panel: one record's, message's or invocation's whole life
line (esmlab.story), oldest first, with the invocations it was in, their
outcome and the handler's log lines. Each line that names an invocation or
a record is a cursor row: `w` (or Enter) on it shows that one's story, and
Backspace goes back."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from esmlab import story
from esmlab.readmodels import rel, shorten_numbers
from esmlab.tui.widgets.cursor import CURSOR_STYLE, CursorPanel, Rows
from esmlab.tui.widgets.lines import LinesView


class XRayPanel(CursorPanel):
    def compose(self):
        # a Line API view, as the DLQ and Why-log: a step or a cursor move
        # repaints the story instead of laying out the screen (a Static here
        # asked for a layout on every update)
        yield LinesView(id="xray-view")

    @staticmethod
    def read(lab, view) -> dict | None:
        if not view.xray:
            return None
        return {"ref": view.xray, "story": story.story(lab, view.xray),
                "key": view.keys.get("why", "w")}

    def show(self, model: dict | None) -> None:
        # another story: the cursor starts on its first line that names something
        ref = model and model["ref"]
        if ref != getattr(self, "_ref", None):
            self._ref = ref
            self.move_cursor(0)
            self.scroll_home(animate=False)
        super().show(model)

    def home(self, model: dict | None) -> tuple[int, int]:
        rows = xray_rows(model)
        return (next((i for i, (_, r) in enumerate(rows) if r), 0), 0)

    def draw(self, model: dict | None, rows: Rows) -> None:
        self.query_one("#xray-view", LinesView).show(render_xray(model, rows))


def xray_rows(model: dict | None) -> list[tuple[str, str | None]]:
    if model is None or model["story"] is None:
        return []
    return story.story_rows(model["story"], rel)


def render_xray(model: dict | None, rows: Rows | None = None) -> Group | Text:
    rows = rows if rows is not None else Rows()
    if model is None:
        return Text("Press w on a row of the Ordering, Reprocessing, DLQ or Why-log panel to "
                    "x-ray its record, message or invocation (W asks for an id: a message id, "
                    "its first 8 characters, a sequence number or its tail …0001, or an "
                    "invocation number).")
    s = model["story"]
    if s is None:
        return Text(f"nothing in this lab has the id {model['ref']!r}")
    # one line each with short sequence numbers (…0001), cut to the width, but
    # the line under the cursor whole: so every line's place is known and any
    # line can be read in full
    out = []
    for i, (text, ref) in enumerate(xray_rows(model)):
        here = rows.add(i, [ref]) is not None
        line = Text(text if here else shorten_numbers(text), style="bold" if i == 0 else "",
                    no_wrap=not here,
                    overflow="fold" if here else "ellipsis")
        if here:
            line.stylize(CURSOR_STYLE)
        out.append(line)
    return Group(*out)
