"""The function card under the tree: the selected function's behaviour,
limits and its last invocations."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from esmlab import readmodels as rm

RECENT_MARKS = {"success": "✓", "error": "✗", "timeout": "⌛", "throttled": "⊘", "running": "▶"}


class FunctionCard(Static):
    @staticmethod
    def read(lab, view) -> dict | None:
        return rm.function_card(lab, view.function) if view.function else None

    def show(self, card: dict | None) -> None:
        content = render_card(card)
        lines = len(content.renderables) if isinstance(content, Group) else 1
        # one line per fact: the height changes only when the number of facts does
        self.update(content, layout=lines != getattr(self, "_lines", None))
        self._lines = lines


def render_card(card: dict | None) -> Group | Text:
    """The card's facts are one line each (cut with … when the column is
    narrow), so the toggle-key line below them always shows."""
    if card is None:
        return Text("no function")

    def line(text: str, style: str = "") -> Text:
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")
    reserved = card["reserved"]
    lines = [line(f"λ {card['name']}", "bold"), line(card["describe"]),
             line(f"reserved {'-' if reserved is None else reserved}"
                  f"{'  THROTTLED' if reserved == 0 else ''}  timeout {card['timeout']}s"),
             line(f"running {card['running']}  invoked {card['invocations']}")]
    if card["recent"]:
        lines.append(line("recent: " + "".join(RECENT_MARKS.get(r["status"], "?")
                                               for r in card["recent"])))
    lines.append(Text("1fail 2poison 3flaky 4timeout 5partial 6throttle 0heal 7more…",
                      style="dim"))
    return Group(*lines)
