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
        # the verdict on the learner's prediction first: the box may be short
        t.append_text(prediction_text(last))
        if said is not None:
            t.append("💬 " + said.narration + "\n", style="italic")
        if last is not said:
            where = f"{last.index}/{total}" if last.index else "setup"
            t.append(f"[{where}] {step_summary(last)}\n")
        t.append_text(checks_text(last))
        self.query_one("#narration", Static).update(t)
        self.scroll_home(animate=False)


def checks_text(result) -> Text:
    """A step's expect checks (✓/✗ and the message) and its error, wrapped;
    a failed check that names a record the lab knows (`c.xray`, set as the
    step was played) links to its X-ray (a click; `v` for the latest)."""
    from rich.style import Style
    t = Text()
    for c in result.checks:
        t.append(("  ✓ " if c.ok else "  ✗ ") + c.message + "\n",
                 style="green" if c.ok else "red")
        ref = None if c.ok else getattr(c, "xray", None)
        if ref:
            from esmlab.story import short_ref
            t.append(f"    ▸ x-ray {short_ref(ref)}",
                     style=Style(meta={"@click": f"app.xray_ref('{ref}')"}, underline=True))
            t.append(" (a click, or v)\n", style="dim")
    if result.error is not None:
        t.append(f"  ✗ {result.error}\n", style="red")
    return t


def prediction_text(result) -> Text:
    """Predict, then see: the step's question, what the learner said (right
    or wrong) and the lesson's explanation."""
    p = getattr(result, "prediction", None)
    t = Text()
    if p is None:
        return t
    answer = ", ".join(map(str, p.answer)) if isinstance(p.answer, list) else str(p.answer)
    t.append(f"  ? {p.question}\n", style="bold")
    if p.right is None:
        t.append(f"  · not answered; the answer: {answer}\n")
    elif p.right:
        t.append(f"  ✓ you said {p.given}: right\n", style="green")
    else:
        t.append(f"  ✗ you said {p.given}; the answer: {answer}\n", style="red")
    t.append(f"    {p.explain}\n", style="italic")
    return t


def step_summary(result) -> str:
    """"kind: summary", once: an expect step's summary already starts with
    "expect:" (no "expect: expect:")."""
    summary = result.summary or ""
    if summary.startswith(f"{result.kind}:"):
        return summary
    return f"{result.kind}: {summary}"
