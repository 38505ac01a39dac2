"""The narration box under the panels while a scenario plays: the latest
`say` in full, then the latest step with its expect checks ✓/✗."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static


class NarrationPanel(VerticalScroll):
    def compose(self):
        yield Static(id="narration")

    def show(self, model: dict | None) -> None:
        """model: {"results", "title", "total"} or None (hidden)."""
        if not model or not model["results"]:
            self.display = False
            return
        self.display = True
        results, total = model["results"], model["total"]
        last = results[-1]
        said = next((r for r in reversed(results) if r.narration), None)
        t = Text()
        done = sum(1 for r in results if r.index)
        t.append(f"scenario step {done}/{total}  ", style="bold")
        t.append(model["title"] + "\n", style="dim")
        if said is not None:
            t.append("💬 " + said.narration + "\n", style="italic")
        if last is not said:
            where = f"{last.index}/{total}" if last.index else "setup"
            t.append(f"[{where}] {step_summary(last)}\n")
        t.append_text(checks_text(last))
        self.query_one("#narration", Static).update(t)
        self.scroll_home(animate=False)


def checks_text(result) -> Text:
    """A step's expect checks (✓/✗ and the message) and its error, wrapped."""
    t = Text()
    for c in result.checks:
        t.append(("  ✓ " if c.ok else "  ✗ ") + c.message + "\n",
                 style="green" if c.ok else "red")
    if result.error is not None:
        t.append(f"  ✗ {result.error}\n", style="red")
    return t


def step_summary(result) -> str:
    """"kind: summary", once: an expect step's summary already starts with
    "expect:" (no "expect: expect:")."""
    summary = result.summary or ""
    if summary.startswith(f"{result.kind}:"):
        return summary
    return f"{result.kind}: {summary}"
