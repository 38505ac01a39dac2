"""Scenarios on screen: play one to the end, or step through it with narration."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from esmlab.tui import bindings
from esmlab.tui.screens.forms import AskScreen, ScenarioScreen, TextScreen
from esmlab.tui.widgets.narration import checks_text, prediction_text, step_summary


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
        """Back from a lesson's lab to the lab esmlab was started on (from a
        challenge check's lab: back to the challenge's lab)."""
        if not self._guard() or self.lab_path == self.home_lab:
            return
        from esmlab.lab import Lab
        target = self.back_lab or self.home_lab
        try:
            lab = Lab.open(target)
        except Exception as exc:    # a lab file another process broke: say so, keep this one
            self.notify(f"{target}: {exc}", title="refused", severity="error")
            return
        self.show_lab(lab, back_lab=None)
        self.notify(f"back to {target}")

    def show_lab(self, lab, back_lab) -> None:
        """Show an opened lab with no scenario playing on it; back_lab is where
        the home-lab key returns to from there (None: the home lab)."""
        self.back_lab = back_lab
        self.player = None
        self.scenario_results = []
        self.switch_lab(lab)
        self.reload_view()
        self._render_narration()
        self.refresh_bindings()

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
            if values and values["how"] == "compare":
                self.compare_lesson(values["path"])
            elif values and values.get("challenge") and values["how"] == "step":
                self.open_challenge(Path(values["path"]))   # as `esmlab challenge NAME`
            elif values:       # a challenge played to the end: as given, to see it broken
                self.play_scenario(values["path"], step_by_step=values["how"] == "step")
        from esmlab import progress
        from esmlab.scenario import challenge as ch
        next_key = bindings.key_for("scenario_next", bindings.load_keymap_safe())
        # The reading order of `esmlab lessons` (basics first), then the
        # challenges, with the learner's progress in each
        sections = lessons.learning_path()
        path = [p for section, paths in sections if section != "challenges" for p in paths]
        challenges = [p for section, paths in sections if section == "challenges"
                      for p in paths]
        self.push_screen(ScenarioScreen(path, self._scenario_error,
                                        f"step by step ({next_key}: next step); "
                                        "a 🎯 challenge: its lab",
                                        progress=progress.lessons(), challenges=challenges,
                                        attempts=ch.progress()), done)

    def open_challenge(self, path: Path) -> None:
        """A challenge from F4, as `esmlab challenge NAME` opens it: its lab
        (the setup, no traffic; kept between sessions in the state folder,
        made on first use), with its goal beside the panels."""
        from esmlab.lab import Lab
        from esmlab.scenario import challenge as ch
        lab_path = ch.challenge_lab_path(path.stem)
        if Path(self.lab_path).resolve() == lab_path.resolve():
            self.notify(f"challenge {path.stem} is open already", severity="warning")
            return
        self.player = None
        self.scenario_results = []
        self.autoplay = False

        def run():
            if not lab_path.exists():
                ch.prepare_lab(path, lab_path)
            return Lab.open(lab_path)

        def opened() -> None:
            self.back_lab = None
            self.show_challenge(force=True)
            self.notify(f"challenge {path.stem}: change settings with the forms "
                        f"({bindings.key_for('edit', self.user_keys)}, "
                        f"{bindings.key_for('behaviour_form', self.user_keys)}), then "
                        f"{bindings.key_for('challenge', self.user_keys)} checks the goal",
                        timeout=8)
        self._long(run, f"open challenge {path.stem}", switch_lab=True, after=opened)

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
            self._say(player.setup(), len(scenario.steps), player.lab)
            self.player = player
            if not step_by_step:
                self._play_on(player)
            return player.lab

        after = None if step_by_step else self._continue_to_the_end
        self._long(run, f"open {stem}" if step_by_step else f"play {stem}", switch_lab=True,
                   after=after)

    def _play_on(self, player, answered: bool = False) -> None:
        """Play steps (in the worker) until one asks a question before it
        plays, or the end; `answered`: the next step's question was asked."""
        total = len(player.scenario.steps)
        while not player.done:
            if not answered and player.next_prediction() is not None:
                return
            answered = False
            self._say(player.play_next(), total, player.lab)

    def _continue_to_the_end(self) -> None:
        """Played to the end in the background: stopped at a question, ask it
        and go on; at the end, the results view."""
        player = self.player
        if player is None or player.lab is not self.lab:
            return
        if player.done:
            self._lesson_finished(player)
            self.show_scenario_results()
            return
        self._ask_then(player, lambda: self._long(
            lambda: self._play_on(player, answered=True), f"play {player.scenario.name}",
            reload=False, after=self._continue_to_the_end))

    def _ask_then(self, player, then) -> None:
        """Predict, then see: the next step's question (if it has one) before
        it plays; the answer goes to the player, then `then()` plays it."""
        from esmlab.tui.screens.forms import PredictScreen
        question = player.next_prediction()
        if question is None:
            then()
            return

        def answered(value) -> None:
            if value is not None:
                player.predicted[question["step"]] = value
            then()
        self.push_screen(PredictScreen(question, f"(step {question['step']}/"
                                                 f"{len(player.scenario.steps)})"), answered)

    def _lesson_finished(self, player) -> None:
        """The lesson's score, said once at its end (and kept with the
        learner's progress when this esmlab keeps it)."""
        from esmlab.scenario.predictions import score
        got = score([r.prediction for r in player.results if r.prediction is not None])
        if got["asked"]:
            self.notify(f"{player.scenario.name}: {score_text(got)}", title="your predictions",
                        timeout=10)
        try:
            from esmlab import progress
        except ImportError:
            return
        record = getattr(progress, "record_play", None)
        held = not player.stopped and all(r.ok for r in player.results)
        if record is not None:
            try:
                record(player.scenario.name, held, got)
            except (OSError, ValueError) as exc:   # a config folder we cannot write
                self.notify(f"progress not saved: {exc}", severity="warning")

    def compare_lesson(self, text: str) -> None:
        """Compare: the lesson as written and with changed settings, side by
        side (esmlab compare's table), both played in the background."""
        from esmlab.scenario import compare as cmp_module
        try:
            path, _ = self._load(text)
        except Exception as exc:      # the dialog checked it; a file changed since
            self.notify(str(exc), title="compare", severity="error")
            return
        self._checked = None

        def changes_of(values) -> list:
            return [cmp_module.parse_change(t) for t in split_settings(values["set"])]

        def check(values) -> str | None:
            try:
                changes = changes_of(values)
                if not changes:
                    return "give at least one PATH=VALUE"
                original = Path(path).read_text(encoding="utf-8")
                cmp_module.load_scenario_text(cmp_module.changed_text(original, changes),
                                              f"{path} (changed)")
            except (cmp_module.CompareError, cmp_module.ScenarioError, OSError) as exc:
                return str(exc)
            return None

        def done(values) -> None:
            if not values:
                return
            changes = changes_of(values)
            self._push_last["compare"] = values["set"].strip()

            def run() -> str:
                self._comparison = cmp_module.compare(str(path), changes)
                return "both runs played"
            self._long(run, f"compare {Path(path).stem}", reload=False,
                       after=lambda: self.show_comparison(self._comparison))
        self.push_screen(AskScreen(
            f"Compare {Path(path).stem}: as written and changed", [
                ("set", "settings to change, PATH=VALUE (several: separated by spaces)",
                 self._push_last.get("compare", ""))],
            ok="Compare", validate=check,
            note="e.g. mappings.orders.BisectBatchOnFunctionError=true  "
                 "queues.orders.VisibilityTimeout=180  functions.worker.Timeout=30  "
                 "profile=classic. Both runs use the lesson's seed, so every difference "
                 "comes from the change."), done)

    def show_comparison(self, cmp) -> None:
        from rich.console import Console

        from esmlab.scenario.compare import print_comparison
        console = Console(width=96, force_terminal=True, color_system="truecolor",
                          file=open(os.devnull, "w"))
        with console.capture() as captured:
            print_comparison(cmp, console)
        self.push_screen(TextScreen(f"Compare: {cmp.title}", Text.from_ansi(captured.get())))

    def _say(self, result, total: int, lab=None) -> None:
        """Narrate one played step (called from the worker thread, which
        owns `lab`: the failed checks' records are looked up here)."""
        if lab is not None:
            from esmlab.scenario.involved import first_ref
            for c in result.checks:
                if not c.ok:
                    try:
                        c.xray = first_ref(lab, c.records, c.expected)
                    except Exception:     # a link is a help, never a reason to stop a play
                        c.xray = None
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
            self._say(result, total, player.lab)
            if player.stopped:
                return "stopped at a failed step"
            # a step that went on says nothing more: the header counts the
            # steps and the narration says what this one did
            return None if total - len(player.results) else "the scenario is finished"

        def after():
            if player.done:
                self._lesson_finished(player)
        self._ask_then(player, lambda: self._long(run, "scenario step", reload=False,
                                                  after=after, quiet=True))   # keeps the ▶ lines

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
        asked = [r.prediction for r in results if getattr(r, "prediction", None) is not None]
        if asked:
            from esmlab.scenario.predictions import score
            t.append(f"your predictions: {score_text(score(asked))}\n\n", style="bold")
        for r in results:
            where = f"{r.index}/{self.scenario_total}" if r.index else "setup"
            if r.narration:
                t.append(f"[{where}] 💬 {r.narration}\n", style="italic")
            else:
                t.append(f"[{where}] {step_summary(r)}\n")
            t.append_text(prediction_text(r))
            t.append_text(checks_text(r))
        first = next((c.xray for c in failed if getattr(c, "xray", None)), None)
        self.push_screen(TextScreen(f"Results: {self.scenario_title}", t,
                                    xray=None if first is None else
                                    lambda: self.show_xray(first)))



def score_text(got: dict) -> str:
    """"2 of 3 right (1 not answered)"."""
    text = f"{got['right']} of {got['asked']} right"
    skipped = got["asked"] - got["answered"]
    return text + (f" ({skipped} not answered)" if skipped else "")


def split_settings(text: str) -> list[str]:
    """`a.b=1 c.d={x: [1, 2]}` -> each PATH=VALUE (a value may hold spaces:
    a new setting starts only where a word is followed by `=`)."""
    import re
    return [part for part in re.split(r"\s+(?=[A-Za-z_][\w.\-]*=)", text.strip()) if part]
