"""The X-ray panel: one record's, message's or invocation's whole life
line (esmlab.story), oldest first, with the invocations it was in, their
outcome and the handler's log lines."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from esmlab import story
from esmlab.readmodels import rel


class XRayPanel(VerticalScroll):
    def compose(self):
        yield Static(id="xray-view")

    @staticmethod
    def read(lab, view) -> dict | None:
        if not view.xray:
            return None
        return {"ref": view.xray, "story": story.story(lab, view.xray),
                "key": view.keys.get("why", "w")}

    def show(self, model: dict | None) -> None:
        self.query_one("#xray-view", Static).update(render_xray(model))


def render_xray(model: dict | None) -> Group | Text:
    if model is None:
        return Text("Press w to x-ray a record: a message id (its first 8 characters will "
                    "do), a sequence number (or its tail, …0001) or an invocation number. "
                    "The DLQ, Ordering and Why-log panels show these ids.")
    s = model["story"]
    if s is None:
        return Text(f"nothing in this lab has the id {model['ref']!r}")
    lines = story.story_lines(s, rel)
    return Group(Text(lines[0], style="bold"), *(Text(line) for line in lines[1:]))
