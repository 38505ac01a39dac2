"""Scenarios on screen: play one to the end, or step through it with narration."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from esmlab.tui import bindings
from esmlab.tui.screens.forms import ScenarioScreen, TextScreen
from esmlab.tui.widgets.narration import checks_text, step_summary


def lesson_lab_path(stem: str) -> Path:
    """Where F4 keeps a lesson's lab: in esmlab's state folder
    ($XDG_STATE_HOME/esmlab/lessons, else ~/.local/state/esmlab/lessons),
    one file per lesson, so playing lessons never litters the working folder."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    folder = Path(base) / "esmlab" / "lessons"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stem}.lab.db"


class ScenarioActions:
    """Mixed into EsmlabApp; uses its lab, selection and refresh_view()."""

    def action_home_lab(self) -> None:
        """Back from a lesson's lab to the lab esmlab was started on."""
        if not self._guard() or self.lab_path == self.home_lab:
            return
        from esmlab.lab import Lab
        try:
            lab = Lab.open(self.home_lab)
        except Exception as exc:    # a lab file another process broke: say so, keep this one
            self.notify(f"{self.home_lab}: {exc}", title="refused", severity="error")
            return
        self.player = None
        self.scenario_results = []
        self.switch_lab(lab)
        self.reload_view()
        self._render_narration()
        self.refresh_bindings()
        self.notify(f"back to {self.home_lab}")

    def action_play_scenario(self) -> None:
        if not self._guard():
            return
        try:
            from esmlab.scenario.player import Player  # noqa: F401
        except ImportError:
            self.notify("the scenario player is not available in this build", severity="error")
            return
        from esmlab import lessons

        def done(values):
            if values:
                self.play_scenario(values["path"], step_by_step=values["how"] == "step")
        next_key = bindings.key_for("scenario_next", bindings.load_keymap_safe())
        self.push_screen(ScenarioScreen(lessons.list_lessons(), self._scenario_error,
                                        f"step by step ({next_key} plays the next step)"), done)

    def _load(self, text: str):
        """(path, Scenario) for a path or a bare lesson name; raises
        ScenarioError / OSError with a message for the user."""
        from esmlab import lessons
        from esmlab.scenario.loader import load_scenario
        if self._checked and self._checked[0] == text:
            return self._checked[1], self._checked[2]
        path = lessons.resolve(text)
        scenario = load_scenario(path)
        self._checked = (text, path, scenario)
        return path, scenario

    def _scenario_error(self, text: str) -> str | None:
        from esmlab.scenario.loader import ScenarioError
        try:
            self._load(text)
        except (ScenarioError, OSError) as exc:
            return str(exc)
        return None

    def play_scenario(self, path: str, step_by_step: bool = False) -> None:
        from esmlab.scenario.loader import ScenarioError
        from esmlab.scenario.player import Player
        try:
            path, scenario = self._load(path)
        except (ScenarioError, OSError) as exc:
            self.notify(str(exc), title="scenario", severity="error")
            return
        self._checked = None
        stem = Path(path).stem
        target = lesson_lab_path(stem)
        if Path(self.lab_path).resolve() == target.resolve():
            target = lesson_lab_path(stem + "-again")    # the open lab is never replaced
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)   # a lesson's lab starts afresh
        self.narration = []
        self.scenario_results = []
        self.scenario_title = f"{scenario.title} ({scenario.name})"
        self.scenario_total = len(scenario.steps)
        self.autoplay = False
        self.player = None

        def run():
            player = Player.new(scenario, target)
            self._say(player.setup(), len(scenario.steps))
            if step_by_step:
                self.player = player
                return player.lab
            for result in player.steps():
                self._say(result, len(scenario.steps))
            return player.lab

        after = None if step_by_step else self.show_scenario_results
        self._long(run, f"open {stem}" if step_by_step else f"play {stem}", switch_lab=True,
                   after=after)

    def _say(self, result, total: int) -> None:
        """Narrate one played step (called from the worker thread)."""
        where = f"{result.index}/{total}" if result.index else "setup"
        line = result.narration or step_summary(result)
        line = f"[{where}] {line}"
        if not result.ok:
            line += "  ✗ " + (f"{result.error.message} ({result.error.where})"
                               if result.error else
                               "; ".join(str(getattr(c, "message", c))
                                         for c in result.checks if not c.ok))
        self.call_from_thread(self._narrate, line, result)

    def action_scenario_next(self) -> None:
        if not self._guard():
            return
        player = self.player
        if player is None or player.lab is not self.lab:
            self.notify("no scenario is open step by step: F4 opens one", severity="warning")
            return
        if player.done:
            self.notify("the scenario has no more steps" + (
                " (it stopped at a failed step)" if player.stopped else ""))
            return
        total = len(player.scenario.steps)

        def run():
            result = player.play_next()
            self._say(result, total)
            left = total - len(player.results)
            if player.stopped:
                return "stopped at a failed step"
            return f"{left} step(s) left" if left else "the scenario is finished"
        self._long(run, "scenario step", reload=False)   # keeps the ▶ lines in the log

    def _narrate(self, line: str, result=None) -> None:
        self.narration.append(line)
        if result is not None:
            self.scenario_results.append(result)
        self.query_one("#ticker", Static).update(Text(" ▶ " + line, no_wrap=True,
                                                      overflow="ellipsis"))
        self._render_narration()

    def _render_narration(self) -> None:
        """The narration panel under the tabs (hidden when no scenario plays)."""
        from esmlab.tui.widgets.narration import NarrationPanel
        self.query_one(NarrationPanel).show(
            {"results": self.scenario_results, "title": self.scenario_title,
             "total": self.scenario_total})
        self.call_after_refresh(self.place_toasts)      # the narration's height changed

    def show_scenario_results(self) -> None:
        """Every step of a scenario played to the end, as `esmlab play`
        prints it: narration, what each step did, each expect ✓/✗."""
        results = self.scenario_results
        t = Text()
        checks = [c for r in results for c in r.checks]
        failed = [c for c in checks if not c.ok]
        errors = [r for r in results if r.error is not None]
        played = sum(1 for r in results if r.index)
        if not failed and not errors and played == self.scenario_total:
            t.append(f"✓ all {len(checks)} expect checks hold ({played} steps)\n\n",
                     style="bold green")
        else:
            t.append(f"✗ {len(failed)} of {len(checks)} expect checks failed"
                     + (f"; stopped at an error after {played}/{self.scenario_total} steps"
                        if errors else "") + "\n\n", style="bold red")
        for r in results:
            where = f"{r.index}/{self.scenario_total}" if r.index else "setup"
            if r.narration:
                t.append(f"[{where}] 💬 {r.narration}\n", style="italic")
            else:
                t.append(f"[{where}] {step_summary(r)}\n")
            t.append_text(checks_text(r))
        self.push_screen(TextScreen(f"Results: {self.scenario_title}", t))

