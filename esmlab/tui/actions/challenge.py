"""A challenge on screen: open one (F4, or `esmlab challenge NAME`), its
goal beside the lab (widgets/challenge.py), check it with the settings
changed here (ctrl+g), unlock hints one by one, and x-ray the record a
failed goal check names, in the lab that check played."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text

from esmlab.tui import bindings
from esmlab.tui.screens.forms import TextScreen
from esmlab.tui.widgets.challenge import ChallengePanel, ChallengeState, short


class ChallengeActions:
    """Mixed into EsmlabApp; uses its lab, switch_lab(), reload_view() and the X-ray."""

    challenge: ChallengeState | None = None
    back_lab: str | None = None      # ctrl+b from an attempt's lab goes back here
    _challenge_shown: tuple | None = None

    def challenge_path(self) -> Path | None:
        """The challenge this lab was made for (`esmlab challenge NAME` names
        the lab after it), or None."""
        cached = getattr(self, "_challenge_for", None)
        if cached is not None and cached[0] == self.lab_path:
            return cached[1]
        try:
            from esmlab.scenario.challenge import library_original
            path = library_original(self.lab.initial["name"])
        except Exception:       # no challenge library in this build, an unreadable lab
            path = None
        self._challenge_for = (self.lab_path, path)
        return path

    def challenge_state(self) -> ChallengeState | None:
        """The challenge open on screen (its lab, or the lab its last check
        played), read once per challenge; None on any other lab."""
        path = self.challenge_path()       # cached per lab: a plain lab stops here
        if path is None:
            return None
        state = self.challenge
        here = Path(self.lab_path).resolve()
        if state is not None and (here == Path(state.lab_path).resolve() or (
                state.attempt_path is not None and here == state.attempt_path.resolve())):
            state.keys = self.user_keys
            return state
        from esmlab.scenario.loader import ScenarioError, load_scenario
        try:
            scenario = load_scenario(path)
        except (ScenarioError, OSError):
            return None
        if scenario.challenge is None:
            return None
        self.challenge = ChallengeState(path=path, scenario=scenario, lab_path=self.lab_path,
                                        keys=self.user_keys)
        return self.challenge

    def on_attempt_lab(self) -> bool:
        state = self.challenge_state()
        return state is not None and state.attempt_path is not None and \
            Path(self.lab_path).resolve() == state.attempt_path.resolve()

    # -- the panel -----------------------------------------------------------------------

    def show_challenge(self, force: bool = False) -> None:
        """Read and draw the challenge panel when what it shows changed: a
        setting command, a check, a hint, the fold (never on a mere step)."""
        panel = self.query_one(ChallengePanel)
        state = self.challenge_state()
        if state is None:
            if panel.display:
                panel.show(None)
                self.call_after_refresh(self.place_toasts)
            self._challenge_shown = None
            return
        from esmlab.scenario.challenge import settings_version
        version = (id(self.lab), settings_version(self.lab), id(state.verdict),
                   getattr(self, "_hints_asked", 0), panel.has_class("-collapsed"))
        if version == self._challenge_shown and not force:
            return
        was = panel.display
        panel.show(ChallengePanel.read(self.lab, state))
        self._challenge_shown = version
        if not was:
            self.call_after_refresh(self.place_toasts)

    def action_challenge_panel(self) -> None:
        """Fold the challenge panel to one line, or unfold it."""
        panel = self.query_one(ChallengePanel)
        panel.toggle_class("-collapsed")
        self.show_challenge(force=True)
        self.call_after_refresh(self.place_toasts)

    def action_challenge_hint(self) -> None:
        """Unlock the next hint (kept in the learner's progress, as the
        hints a failed attempt unlocks are)."""
        state = self.challenge_state()
        if state is None:
            return
        from esmlab.scenario import challenge as ch
        entry = ch.progress().get(state.scenario.name)
        before = ch.hints_unlocked(state.scenario.challenge, entry)
        if len(before) == len(state.scenario.challenge["hints"]):
            self.notify("every hint is shown already (the challenge panel lists them)")
            return
        entry = ch.reveal_hint(state.scenario.challenge, state.scenario.name)
        hints = ch.hints_unlocked(state.scenario.challenge, entry)
        self._hints_asked = getattr(self, "_hints_asked", 0) + 1
        self.show_challenge()
        self.notify(f"hint {len(hints)} of {len(state.scenario.challenge['hints'])}: "
                    + " ".join(hints[-1].split()), title="💡 hint", timeout=10)

    # -- checking ------------------------------------------------------------------------

    def action_challenge_check(self) -> None:
        """The challenge's goal and the hints unlocked; with settings changed
        here, the challenge played with them (in the background) and judged."""
        if not self._guard():
            return
        state = self.challenge_state()
        if state is None:
            self.notify("this lab is not a challenge's: esmlab challenge NAME (or F4) opens one",
                        severity="warning")
            return
        key = bindings.key_for
        if self.on_attempt_lab():
            self.notify(f"this is the lab your last check played; {key('home_lab', self.user_keys)}"
                        " goes back to the challenge's lab, where you change settings and check",
                        severity="warning")
            return
        from esmlab.scenario import challenge as ch
        path = state.path
        changes = ch.changes_from_lab(self.lab)
        brief = ch.brief_lines(path)[:-4]            # the goal, what may change, the hints
        if not changes:
            self.push_screen(TextScreen(f"Challenge {path.stem}", Text(
                "\n".join(brief) + "\n\nNo setting is changed yet: change one with the forms "
                f"({key('edit', self.user_keys)} edits the selected resource, "
                f"{key('behaviour_form', self.user_keys)} the function's "
                "behaviour), then check again.")))
            return
        keep = ch.attempt_lab_path(path.stem)

        def run() -> str:
            self._verdict = ch.check(path, changes, keep=keep)
            return "solved" if self._verdict.solved else "the goal does not hold yet"

        def show() -> None:
            v = self._verdict
            state.verdict, state.checked, state.attempt_path = v, list(changes), keep
            self.show_challenge()
            body = Text("\n".join(ch.verdict_lines(v, given=False)) + "\n")
            for i, g in enumerate(v.goal):
                if g.get("xray"):
                    body.append_text(xray_link(f"✗ {g['name']}: x-ray {short(g['xray'])}",
                                               f"app.challenge_xray({i})"))
            body.append("\nYour changes:\n" + "\n".join(f"  {c.path} = {c.value!r}"
                                                       for c in changes) + "\n\n"
                        + "\n".join(brief))
            failed = next((i for i, g in enumerate(v.goal) if g.get("xray")), None)
            self.push_screen(TextScreen(
                f"Challenge {path.stem}: {'solved' if v.solved else 'not solved yet'}", body,
                xray=None if failed is None else lambda: self.action_challenge_xray(failed)))
        self._long(run, f"check {path.stem}", reload=False, after=show)

    # -- the X-ray of what a failed goal check names -------------------------------------

    def action_challenge_xray(self, index: int | None = None) -> None:
        """Open the lab the last check played (ctrl+b comes back) on the X-ray
        of the first record goal check `index` (else the first failed one)
        names."""
        if not self._guard():
            return
        from textual.screen import ModalScreen
        state = self.challenge_state()
        verdict = state.verdict if state is not None else None
        goals = verdict.goal if verdict is not None else []
        if index is None:
            index = next((i for i, g in enumerate(goals) if g.get("xray")), None)
        if index is None or not 0 <= int(index) < len(goals) or not goals[int(index)].get("xray"):
            self.notify(f"no failed goal check names a record: check first "
                        f"({bindings.key_for('challenge', self.user_keys)})", severity="warning")
            return
        ref = goals[int(index)]["xray"]
        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        if not self.on_attempt_lab():
            from esmlab.lab import Lab
            try:
                lab = Lab.open(state.attempt_path)
            except Exception as exc:      # the kept lab was removed or broken meanwhile
                self.notify(f"{state.attempt_path}: {exc}", title="refused", severity="error")
                return
            self.show_lab(lab, back_lab=self.lab_path)
            self.notify(f"the lab your check played (your changes, the challenge's traffic); "
                        f"{bindings.key_for('home_lab', self.user_keys)} goes back")
        self.show_xray(ref)

    def action_xray_ref(self, ref: str) -> None:
        """A failed check's link: the X-ray of the record it names (in the lab
        on screen, where the check ran)."""
        from textual.screen import ModalScreen
        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        self.show_xray(str(ref))

    def action_check_xray(self) -> None:
        """The key for a failed check's link: the first failed goal check of
        the challenge panel, else the latest failed check of the lesson being
        played that names a record."""
        panel = self.query_one(ChallengePanel)
        state = self.challenge_state()
        if panel.display and state is not None and state.verdict is not None and \
                any(g.get("xray") for g in state.verdict.goal):
            self.action_challenge_xray()
            return
        for result in reversed(self.scenario_results):
            ref = next((getattr(c, "xray", None) for c in result.checks
                        if not c.ok and getattr(c, "xray", None)), None)
            if ref is not None:
                self.show_xray(ref)
                return
        self.notify("no failed check names a record to x-ray", severity="warning")


def xray_link(text: str, action: str) -> Text:
    """A clickable line (Textual runs `action` on a click)."""
    t = Text("  ")
    t.append(text, style=Style(meta={"@click": action}, underline=True, color="red"))
    t.append("\n")
    return t
