"""The Why-log: the journal, newest first, one line per decision (the
whole sentence and whole sequence numbers on demand)."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from esmlab import readmodels as rm
from esmlab.readmodels import rel
from esmlab.tui.widgets.cursor import CURSOR_STYLE, CursorPanel, Rows
from esmlab.tui.widgets.lines import LinesView

LOG_LINES = 200


class WhyLog(CursorPanel):
    """One line per event is drawn only when in view (LinesView); whole
    sentences (wrapped) are rendered at once."""

    def compose(self):
        yield LinesView(id="whylog-view")

    @staticmethod
    def read(lab, view) -> dict:
        model = rm.why_log(lab, view.resource if view.log_filter else None, LOG_LINES,
                           full=view.why_full)
        model["start_ms"] = view.start_ms
        model["full_key"] = view.keys.get("why_full", "f")
        return model

    def draw(self, model: dict, rows: Rows) -> None:
        view = self.query_one("#whylog-view", LinesView)
        lines = render_why_log(model, rows)
        if model["full"]:
            view.show(Group(*lines))
        else:
            view.show_lines(lines)

    def lines(self) -> list[str]:
        """The plain text of each line (tests read it)."""
        content = self.query_one("#whylog-view", LinesView).content
        return [t.plain for t in content.renderables] if isinstance(content, Group) else []


def render_why_log(model: dict, rows: Rows | None = None) -> list[Text]:
    """The log; each event is a cursor row naming its journal id (`event:N`:
    the x-ray finds the record, message or invocation it is about)."""
    rows = rows if rows is not None else Rows()
    full = model["full"]
    what = model["resource"] or "all resources"
    head = Text(f"newest first · {what} · " + (
        f"whole sentences ({model['full_key']}: one line each)" if full else
        f"one line each ({model['full_key']}: whole sentences and sequence numbers)"),
        style="dim", no_wrap=True, overflow="ellipsis")
    lines = [head]
    for ev in model["events"]:
        # (whole sentences wrap: then the line is where the event starts at the earliest)
        at = rows.add(len(lines), [f"event:{ev['id']}"])
        line = Text(no_wrap=not full, overflow="ellipsis",
                    style=CURSOR_STYLE if at is not None else "")
        line.append(f"T+{rel(ev['at_ms'] - model['start_ms']):>7} ", style="dim")
        line.append(f"{ev['kind']:<18} ", style="bold")
        line.append(f"{ev['resource']}: ")
        line.append(ev["text"])
        lines.append(line)
    if not model["events"]:
        lines.append(Text("nothing has happened yet: push something (F2) and step (F5)"))
    return lines
