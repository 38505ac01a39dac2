"""The challenge panel: beside a challenge's lab, what the learner is asked
to reach and where they stand, as Learn Git Branching shows the goal
beside your state.

It renders one read model, `esmlab.scenario.challenge.board`: each goal
check met (✓), not met (✗, with why and a link to the X-ray of the first
record involved) or not checked yet (○: no check yet, or a setting changed
since), the settings changed so far, the hints unlocked (one more per key
press), and the explanation once the goal holds. On a wide screen it is a
column at the right of the panels; on a narrow one a strip under them that
collapses to one line (the app sets the classes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

MARKS = {"met": ("✓", "green"), "not met": ("✗", "red"), "unchecked": ("○", "dim")}


@dataclass
class ChallengeState:
    """What the screen knows about the challenge open on it (the app's)."""

    path: Path
    scenario: object                # the challenge as loaded (read once)
    lab_path: str                   # the challenge's own lab
    verdict: object | None = None   # the last check's Verdict
    checked: list = field(default_factory=list)   # the changes that check played
    attempt_path: Path | None = None   # the lab that check played (kept for the X-ray)
    keys: dict = field(default_factory=dict)      # binding id -> key, for the text


class ChallengePanel(VerticalScroll, can_focus=False):
    def compose(self):
        yield Static(id="challenge-body")

    @staticmethod
    def read(lab, state: ChallengeState | None) -> dict | None:
        if state is None:
            return None
        from esmlab.scenario import challenge as ch
        on_attempt = state.attempt_path is not None and \
            Path(str(lab.path)).resolve() == state.attempt_path.resolve()
        # on the attempt's own lab its changes are the ones that were played
        changes = state.checked if on_attempt else ch.changes_from_lab(lab)
        model = ch.board(state.scenario, state.path.stem, changes, state.verdict,
                         state.checked, ch.progress().get(state.scenario.name))
        model.update(attempt=on_attempt, keys=state.keys)
        return model

    def show(self, model: dict | None) -> None:
        self._model = model
        if model is None:
            self.display = False
            return
        self.display = True
        body = self.query_one("#challenge-body", Static)
        if self.has_class("-collapsed"):
            body.update(one_line(model))
        else:
            # a strip under the panels (narrow screen) gets one line per item
            body.update(render(model, compact=not self.screen.has_class("-wide")))

    def on_resize(self, event) -> None:
        # across the breakpoint the panel turns from a strip into a column
        model = getattr(self, "_model", None)
        if model is not None:
            self.show(model)


def _key(model: dict, id: str) -> str:
    from esmlab.tui import bindings
    return bindings.key_for(id, model.get("keys") or {})


def one_line(model: dict) -> Text:
    """The collapsed panel: how far the goal is, and the keys."""
    met = sum(1 for g in model["goal"] if g["state"] == "met")
    unchecked = sum(1 for g in model["goal"] if g["state"] == "unchecked")
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append("🎯 ", style="bold")
    t.append(f"goal {met}/{len(model['goal'])} met" +
             (f" ({unchecked} not checked)" if unchecked else ""),
             style="green" if model["solved"] else "bold")
    t.append(f"  {_key(model, 'challenge')} check · {_key(model, 'hint')} hint · "
             f"{_key(model, 'challenge_panel')} show the goal", style="dim")
    return t


def render(model: dict, compact: bool = False) -> Group:
    """The goal, the changes, the hints, the explanation. `compact` (the
    strip of a narrow screen): one line per goal check and for the changes,
    the newest hint only, so it fits under the panels at 80x24."""
    lines: list[Text] = []

    def line(text: str = "", style: str = "", cut: bool = compact) -> Text:
        new = Text(text, style=style, no_wrap=cut, overflow="ellipsis" if cut else "fold")
        lines.append(new)
        return new

    line(f"🎯 {model['title']}", "bold")
    if model["attempt"]:
        line(f"Your last check's lab: the challenge played with your changes. "
             f"{_key(model, 'home_lab')}: back to change settings.", "italic", cut=False)
    if model["solved"]:
        line("Solved: every goal check holds.", "bold green")
    unchecked = any(g["state"] == "unchecked" for g in model["goal"])
    head = line("Goal", "bold")
    if not model["attempt"]:
        head.append((" (○ not checked yet; " if unchecked else " (")
                    + f"{_key(model, 'challenge')} checks):", style="dim")
    first = True
    for i, g in enumerate(model["goal"]):
        mark, style = MARKS[g["state"]]
        row = line(f" {mark} ", style)
        row.append(g["name"], style=style if g["state"] != "met" else "")
        if g["why"] and not compact:
            line(f"   {g['why']}", "dim")
        if g["xray"] and not compact:
            # a click, or the key for the first one, opens the X-ray of the record
            link = Style(meta={"@click": f"app.challenge_xray({i})"}, underline=True)
            where = line("   ")
            where.append(f"▸ x-ray {short(g['xray'])}", style=link)
            if first:
                where.append(f" ({_key(model, 'check_xray')})", style="dim")
                first = False
    failed = next(((i, g) for i, g in enumerate(model["goal"]) if g["xray"]), None)
    if compact and failed is not None:
        # one line for the first failed check's record: the goal lines stay whole
        i, g = failed
        row = line("   ")
        row.append(f"▸ {_key(model, 'check_xray')}: x-ray {short(g['xray'])}",
                   style=Style(meta={"@click": f"app.challenge_xray({i})"}, underline=True))
        row.append(f", what '{g['name']}' names", style="dim")
    if model["stopped"]:
        line(f" the play stopped: {model['stopped']}", "red")
    if model["stale"] and model["last"] is not None:
        met, total = model["last"]
        line(f" A setting changed since the last check ({met} of {total} held then).",
             "yellow")
    changed = [f"{path} = {value!r}" for path, value in model["changes"]]
    if changed and compact:
        line("Your changes: " + ", ".join(changed))
    elif changed:
        line("Your changes:", "bold")
        for text in changed:
            line(f" {text}")
    elif compact:
        line(f"No change yet ({_key(model, 'edit')} edits, {_key(model, 'behaviour_form')} "
             "behaviour); you may change: " + ", ".join(model["settings"]), "dim")
    else:
        line(f"Your changes: none yet ({_key(model, 'edit')} edits the selected resource, "
             f"{_key(model, 'behaviour_form')} the function's behaviour). You may change:",
             "dim")
        for setting in model["settings"]:
            line(f" {setting}", "dim")
    hints = list(enumerate(model["hints"], 1))
    for n, hint in hints[-1:] if compact else hints:
        row = line(f"💡 hint {n} of {model['total_hints']}: ", "bold", cut=False)
        row.append(" ".join(hint.split()), style="not bold")
    if model["explanation"]:
        row = line("📖 ", "bold", cut=False)
        if not model["solved"]:
            row.append("(you solved it before) ", style="dim")
        row.append(model["explanation"], style="italic")
    left = model["total_hints"] - len(model["hints"])
    keys = []
    if left and not model["solved"]:
        keys.append(f"{_key(model, 'hint')}: {'a' if not model['hints'] else 'next'} hint "
                    f"({left} left)")
    keys.append(f"{_key(model, 'challenge_panel')}: fold")
    line(" · ".join(keys), "dim")
    return Group(*lines)


def short(ref: str) -> str:
    from esmlab.story import short_ref
    return short_ref(ref)
