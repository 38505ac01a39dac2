"""Small modal forms: each returns plain data (or None when cancelled)."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, OptionList, Select, Static


class AskScreen(ModalScreen):
    """A form of fields: (name, label, default) for text, or
    (name, label, default, [(text, value), ...]) for a choice.

    `validate(values)` (optional) returns an error message or None: on an
    error the form stays open with the message and what was typed.
    `note` is shown under the title; `focus` names the field focused first.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: list[tuple], ok: str = "OK", *,
                 validate=None, note: str = "", focus: str | None = None, title_for=None):
        super().__init__()
        self.title_for = title_for     # values -> the title (it follows a choice field)
        self.form_title = title if title_for is None else title_for(
            {f[0]: f[2] for f in fields})
        self.fields = fields
        self.ok_label = ok
        self.validate = validate
        self.note = note
        self.focus_field = focus

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ask"):
            # the title and the buttons stay in view; the fields scroll between them
            yield Label(self.form_title, classes="dialog-title", id="ask-title")
            error = Static("", id="form-error")
            error.display = False
            yield error
            with VerticalScroll(id="ask-fields"):
                yield from self._fields()
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok_label, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def _fields(self) -> ComposeResult:
        if self.note:
            yield Static(self.note, classes="form-note", id="ask-note")
        for f in self.fields:
            name, label, default = f[0], f[1], f[2]
            yield Label(label)
            if len(f) > 3:
                yield Select(f[3], value=default, allow_blank=False, id=f"f-{name}")
            else:
                yield Input(value=str(default), id=f"f-{name}")

    def on_mount(self) -> None:
        if self.focus_field:
            self.query_one(f"#f-{self.focus_field}").focus()
            return
        inputs = self.query(Input)
        (inputs.first() if inputs else self.query(Select).first()).focus()

    def show_error(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.display = True

    def _confirm(self) -> None:
        values = self.values()
        if self.validate is not None:
            message = self.validate(values)
            if message:
                self.show_error(message)
                return
        self.dismiss(values)

    def values(self) -> dict:
        out = {}
        for f in self.fields:
            w = self.query_one(f"#f-{f[0]}")
            out[f[0]] = w.value
        return out

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._confirm()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._confirm()

    def on_select_changed(self, event: Select.Changed) -> None:
        if self.title_for is not None:
            self.query_one("#ask-title", Label).update(self.title_for(self.values()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickScreen(ModalScreen):
    """Pick one of a list; returns its value."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]]):
        super().__init__()
        self.form_title = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.form_title, classes="dialog-title")
            if self.options:
                yield OptionList(*[text for text, _ in self.options], id="pick")
            else:
                yield Label("(none yet)")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[event.option_index][1])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            with VerticalScroll(id="help-scroll"):
                yield Markdown(self.text)
            yield Button("Close (Esc)", id="close")

    def on_mount(self) -> None:
        # the text takes the focus, so ↑ ↓ PgUp PgDn Home End scroll it
        self.query_one("#help-scroll").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class ScenarioScreen(ModalScreen):
    """F4: pick a lesson from the library (name and title) or type another
    file (a path, or a bare lesson name). `check(text)` returns an error
    message or None; on an error the dialog stays open with the message and
    the typed text. Dismisses with {"path": text, "how": "step"|"all"}."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, lessons: list[Path], check, step_label: str,
                 progress: dict | None = None, challenges: list[Path] | None = None,
                 attempts: dict | None = None):
        super().__init__()
        self.lessons = lessons
        self.challenges = challenges or []
        self.check = check
        self.step_label = step_label
        self.progress = progress or {}
        self.attempts = attempts or {}      # the challenges' progress (challenges.json)
        self.titles: dict[str, str] = {}
        # the list's rows: the lessons, a heading, the challenges (None: the heading)
        self.rows: list[Path | None] = list(lessons) + (
            [None] + list(self.challenges) if self.challenges else [])

    def _prompt(self, stem: str, title: str = "") -> str:
        """A lesson's line: name, what the learner did with it, title."""
        entry = self.progress.get(stem)
        done = ""
        if isinstance(entry, dict):
            done = " ✓" if entry.get("finished") else f" ({entry.get('plays', 0)}× played)"
            score = entry.get("predictions")
            if isinstance(score, dict) and score.get("asked"):
                done += f" {score.get('right', 0)}/{score['asked']} predicted"
        return f"{stem}{done}" + (f" — {title}" if title else "")

    def _challenge_prompt(self, stem: str, title: str = "") -> str:
        """A challenge's line: 🎯 name, solved or its failed attempts, title."""
        entry = self.attempts.get(stem)
        done = ""
        if isinstance(entry, dict):
            done = " ✓ solved" if entry.get("solved") else (
                f" ({entry['attempts']} attempt{'s' if entry['attempts'] != 1 else ''})"
                if entry.get("attempts") else "")
        return f"🎯 {stem}{done}" + (f" — {title}" if title else "")

    def _row_prompt(self, i: int, title: str = ""):
        from textual.widgets.option_list import Option
        path = self.rows[i]
        if path is None:
            return Option("── challenges: each starts broken; change settings until its goal "
                          "holds ──", disabled=True)
        if i >= len(self.lessons):
            return self._challenge_prompt(path.stem, title)
        return self._prompt(path.stem, title)

    def is_challenge(self, path: Path) -> bool:
        return path in self.challenges

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog scenario"):
            yield Label("Play a scenario (on a fresh lab of its own)", classes="dialog-title")
            error = Static("", id="form-error")
            error.display = False
            yield error
            yield Select([(self.step_label, "step"), ("to the end, in the background", "all"),
                          ("compare: as written and with settings changed", "compare")],
                         value="step", allow_blank=False, id="f-how")
            yield Label("Lessons in reading order, then the challenges (Enter plays the "
                        "highlighted one, opens a 🎯 challenge's lab; ✓ finished):",
                        classes="form-label")
            if self.rows:
                yield OptionList(*[self._row_prompt(i) for i in range(len(self.rows))],
                                 id="lessons")
            else:
                yield Label("(no lesson library found)")
            yield Label("other file… (a path, or a lesson's name):", classes="form-label")
            yield Input(placeholder="e.g. kinesis-error-blocks-shard or ./my.yaml", id="f-path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Play", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.rows:
            self.query_one("#lessons", OptionList).focus()
            self._load_titles()
        else:
            self.query_one("#f-path", Input).focus()

    @work(thread=True, exclusive=True)
    def _load_titles(self) -> None:
        """Titles are read in the background, so the list shows at once."""
        from esmlab.scenario.loader import load_scenario
        for i, path in enumerate(self.rows):
            if path is None:
                continue
            try:
                title = load_scenario(path).title
            except Exception:   # a broken lesson still shows by name
                continue
            self.app.call_from_thread(self._set_title, i, path.stem, title)

    def _set_title(self, i: int, stem: str, title: str) -> None:
        self.titles[stem] = title
        try:
            self.query_one("#lessons", OptionList).replace_option_prompt_at_index(
                i, self._row_prompt(i, title))
        except Exception:
            pass

    def _highlighted(self) -> Path | None:
        if not self.rows:
            return None
        i = self.query_one("#lessons", OptionList).highlighted
        return self.rows[i] if i is not None else None

    def _play(self, text: str) -> None:
        text = text.strip()
        highlighted = self._highlighted()
        if not text and highlighted is not None:
            text = str(highlighted)   # Enter in the empty field: the highlighted one
        if not text:
            self.show_error("pick a lesson from the list, or type a path or a lesson name")
            return
        message = self.check(text)
        if message:
            self.show_error(message)
            return
        self.dismiss({"path": text, "how": self.query_one("#f-how", Select).value,
                      "challenge": Path(text) in self.challenges})

    def show_error(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(message)
        error.display = True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        path = self.rows[event.option_index]
        if path is not None:
            self._play(str(path))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._play(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "ok":
            self.dismiss(None)
            return
        typed = self.query_one("#f-path", Input).value
        if typed.strip() or not self.rows:
            self._play(typed)
            return
        highlighted = self._highlighted()
        self._play(str(highlighted) if highlighted is not None else "")

    def action_cancel(self) -> None:
        self.dismiss(None)


class PredictScreen(ModalScreen):
    """Predict, then see: a lesson step's question before it plays. With
    choices the learner picks one; without, types an answer (several as
    `a, b`). Dismisses with the answer, or None to skip (the step plays and
    the narration still gives the answer)."""

    BINDINGS = [Binding("escape", "skip", "Skip")]

    def __init__(self, question: dict, where: str = ""):
        super().__init__()
        self.question = question
        self.where = where

    def compose(self) -> ComposeResult:
        choices = self.question.get("choices")
        with Vertical(classes="dialog ask predict"):
            yield Label(f"Predict {self.where}".strip(), classes="dialog-title")
            yield Static(str(self.question["question"]), id="predict-question")
            if choices:
                yield OptionList(*[str(c) for c in choices], id="predict-choices")
            else:
                yield Input(placeholder="your answer (several: a, b)", id="predict-answer")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Answer", variant="primary", id="ok")
                yield Button("Skip (Esc)", id="skip")

    def on_mount(self) -> None:
        (self.query("#predict-choices") or self.query("#predict-answer")).first().focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.question["choices"][event.option_index])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "ok":
            self.dismiss(None)
            return
        choices = self.query("#predict-choices")
        if choices:
            i = choices.first().highlighted
            self.dismiss(self.question["choices"][i] if i is not None else None)
        else:
            value = self.query_one("#predict-answer", Input).value.strip()
            self.dismiss(value or None)

    def action_skip(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen):
    """A scrollable, wrapped text (a scenario's results, a narration). With
    `xray`, `v` closes it and calls `xray()` (the X-ray of the first record
    a failed check names)."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close"),
                Binding("v", "open_xray", "X-ray the failed check's record", show=False)]

    def __init__(self, title: str, body, xray=None):
        super().__init__()
        self.form_title = title
        self.body = body
        self.xray = xray

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog results"):
            yield Label(self.form_title, classes="dialog-title")
            with VerticalScroll(id="results-scroll"):
                yield Static(self.body, id="results-body")
            yield Button("Close (Esc)" + ("  ·  v: x-ray what the failed check names"
                                          if self.xray else ""), id="close")

    def on_mount(self) -> None:
        self.query_one("#results-scroll").focus()

    def action_open_xray(self) -> None:
        if self.xray is not None:
            then = self.xray
            self.dismiss(None)
            self.app.call_later(then)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
