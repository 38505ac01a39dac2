"""The esmlab Textual app: the lab on screen, composed of panels.

Each panel (esmlab/tui/widgets/) reads one read model (`read(lab, view)`)
and renders it (`show(model)`); the app keeps the one selection, composes
the panels and routes actions (the action groups live in
esmlab/tui/actions/). State flows one way: an action calls the Lab (one
command, one transaction), then `refresh_view()` updates the header, the
tree, the function card and only the panel in view, and only when the lab
or the selection changed. Cheap calls (step, push, toggles) run on the
event loop; long work (run until idle, restore, rewind, playing a scenario)
runs in one thread worker at a time, and while it runs the UI does not
touch the lab (`busy`), so the SQLite connection has one user at a time.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, LoadingIndicator, Static, TabbedContent, TabPane, Tree

from esmlab import readmodels as rm
from esmlab.errors import AwsError, LabError
from esmlab.tui import bindings, collector
from esmlab.tui.actions.challenge import ChallengeActions
from esmlab.tui.actions.clock import SPEEDS, TICK_S, ClockActions
from esmlab.tui.actions.lab_file import LAB_FILE_ERRORS, READ_ONLY, SYNC_S, LabFileActions
from esmlab.tui.actions.notices import NoticeActions
from esmlab.tui.actions.resources import ResourceActions
from esmlab.tui.actions.scenarios import ScenarioActions
from esmlab.tui.actions.snapshots import SnapshotActions
from esmlab.tui.actions.traffic import TrafficActions
from esmlab.tui.actions.view import ViewActions
from esmlab.tui.said import said
from esmlab.tui.widgets.card import FunctionCard
from esmlab.tui.widgets.challenge import ChallengePanel
from esmlab.tui.widgets.dlq import DeadLetterPanel
from esmlab.tui.widgets.header import LabHeader, instant_text
from esmlab.tui.widgets.metrics import MetricsPanel
from esmlab.tui.widgets.narration import NarrationPanel
from esmlab.tui.widgets.ordering import OrderingPanel
from esmlab.tui.widgets.reprocessing import ReprocessingPanel
from esmlab.tui.widgets.scaling import ScalingPanel
from esmlab.tui.widgets.tree import ResourceTree
from esmlab.tui.widgets.view import View
from esmlab.tui.widgets.whylog import WhyLog
from esmlab.tui.widgets.xray import XRayPanel

# (tab id, title, panel class): the order of the tabs
PANELS = (("ordering", "Ordering", OrderingPanel),
          ("reprocessing", "Reprocessing", ReprocessingPanel),
          ("scaling", "Scaling", ScalingPanel),
          ("metrics", "Metrics", MetricsPanel),
          ("dlq", "DLQ & destinations", DeadLetterPanel),
          ("why", "Why-log", WhyLog),
          ("xray", "X-ray", XRayPanel))
TABS = tuple(p[0] for p in PANELS)
LAB_ACTIONS = {k.action.split("(")[0] for k in bindings.TABLE}
LEGEND = Text("⛔blocked shard ☠in DLQ ≡waiting ▶in flight ⏲delayed", no_wrap=True,
              overflow="ellipsis")    # one line, so a short terminal keeps the tree


class EsmlabApp(ViewActions, ClockActions, TrafficActions, ResourceActions, SnapshotActions,
                ScenarioActions, ChallengeActions, LabFileActions, NoticeActions, App):
    CSS_PATH = "app.tcss"
    # a challenge's goal is a column beside the panels when there is room for
    # one (the panels keep 80 columns), else a strip under them
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]
    TITLE = "esmlab"
    NOTIFICATION_TIMEOUT = 4
    BINDINGS = bindings.textual_bindings()

    autoplay = reactive(False)
    speed = reactive(SPEEDS[2])
    busy = reactive(False)

    def __init__(self, path: str, created: bool = False, *, lab=None):
        super().__init__()
        from esmlab.lab import Lab
        self.lab_path = str(path)
        self.created = created
        self.lab = lab if lab is not None else Lab.open(path)
        self.home_lab = self.lab_path    # where F4's lessons come back to
        self.selected: tuple = ()
        self.log_filter = False
        self.why_full = False
        self.xray: str | None = None
        self.xray_history: list[str] = []   # the stories the X-ray jumped from
        self._queue_offset = 0
        self._lane_offset = 0
        self._timer = None
        self._shown: dict[str, tuple] = {}   # tab -> the version it last showed
        self.lab_error: str | None = None
        self._file_trouble: Exception | None = None   # what the last sync could not read
        self.narration: list[str] = []
        self.player = None            # a scenario opened step by step
        self.scenario_results: list = []   # StepResults of the scenario being played
        self.scenario_title = ""
        self.scenario_total = 0
        self._push_last: dict = {}     # the push form remembers its last values
        self._checked: tuple | None = None  # (text, path, scenario) the F4 dialog loaded
        self.user_keys: dict[str, str] = {}
        self.keymap_error: str | None = None

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield LabHeader(id="clock")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield ResourceTree(id="tree")
                yield Static(LEGEND, id="legend")
                yield FunctionCard(id="card")
            with Vertical(id="main"):
                with TabbedContent(id="tabs", initial="ordering"):
                    for tab, title, panel in PANELS:
                        with TabPane(title, id=tab):
                            yield panel(id=f"{tab}-panel")
                yield ChallengePanel(id="challenge-panel")
                yield NarrationPanel(id="narration-box")
                yield LoadingIndicator(id="progress")
        yield Static(id="ticker")
        yield Footer()

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        try:
            keymap = bindings.load_keymap()
            if keymap:
                self.set_keymap(keymap)
                self.user_keys = keymap
        except (ValueError, OSError) as exc:
            self.keymap_error = str(exc)
            self.notify(f"keymap ignored: {exc}", severity="warning")
        self.query_one("#progress").display = False
        self.query_one(NarrationPanel).display = False
        self.query_one(ChallengePanel).display = False
        self._timer = self.set_interval(TICK_S, self._tick, pause=True)
        self.set_interval(SYNC_S, self.sync_with_file)
        if getattr(self.lab.store, "readonly", False):
            self.lab_error = READ_ONLY
            self.notify(f"{self.lab_path} is open read-only (another process holds it, or the "
                        "file or its folder cannot be written): you can look, and changes are "
                        "refused", title="lab file", severity="warning", timeout=10)
        self.sub_title = self.lab_path
        model = rm.resources(self.lab)
        self._select_default(model)
        self.refresh_view(model)
        tree = self.query_one(ResourceTree)
        tree.focus()
        self.call_after_refresh(tree.show, self.selected)    # once the tree has a size
        self.call_after_refresh(self._painted)
        self.call_after_refresh(self._lay_out_hidden_panes)
        self.call_after_refresh(collector.settle)     # after start-up's objects are made
        self.call_after_refresh(self.place_toasts)
        if self.created:
            keys = bindings.load_keymap_safe()
            self.notify("A new lab with a starter set-up: 2 clicks records and 3 orders "
                        f"messages are waiting. Press {bindings.key_for('fail', keys)} first to "
                        "break the selected function (clicks-handler), then "
                        f"{bindings.key_for('step', keys)} about a dozen times: both shards block. "
                        f"{bindings.key_for('help', keys)} shows the first steps.",
                        timeout=12)

    def _painted(self) -> None:
        """The first frame is on screen (esmlab.tui.bench reads this)."""
        import time
        self.first_paint_at = time.perf_counter()

    def _lay_out_hidden_panes(self) -> None:
        """Give every tab's pane its size once, right after the first frame.

        Textual lays out a hidden pane only when it is shown, and a widget
        shown at a new size asks for a second layout of the whole screen
        (its size and its scrollable size are reactives that lay out), so a
        first switch to a tab cost two or three layouts and full repaints of
        the screen. Laid out here once, each pane keeps its size while
        hidden and a switch costs one (measured in the commit that added
        this). Nothing is painted meanwhile: the screen shows the tab it
        showed, and a resize of the terminal lays everything out anew."""
        from textual.widgets import ContentSwitcher
        screen = self.screen
        if screen is not self.screen_stack[0] or not screen.size:
            return
        switcher = self.query_one(TabbedContent).query_one(ContentSwitcher)
        panes = list(switcher.children)
        shown = [pane for pane in panes if pane.display]
        with self.batch_update():
            for pane in panes:
                if pane in shown:
                    continue
                for other in shown:
                    other.display = False
                pane.display = True
                screen._refresh_layout()
                pane.display = False
            for other in shown:
                other.display = True
            screen._refresh_layout()

    # -- refreshing ---------------------------------------------------------------------

    def reload_view(self) -> None:
        """After long work or a state replacement (rewind, snapshot, another
        lab): forget what was shown and read every panel afresh."""
        if self.busy:
            return
        self._queue_offset = self._lane_offset = 0
        self._shown.clear()
        model = rm.resources(self.lab)
        known = {("mapping", m["label"]) for m in model["mappings"]} | \
            {("function", f["name"]) for f in model["functions"]} | \
            {("queue", q["name"]) for q in model["queues"]} | \
            {("stream", st["name"]) for st in model["streams"]}
        if self.selected and self.selected[0] != "shard" and self.selected not in known:
            self._select_default(model)
        self.refresh_view(model, announce=False)

    def refresh_view(self, model: dict | None = None, announce: bool = True) -> None:
        """Update the header, the tree, the card and the panel in view. Each
        panel's read is bounded; a panel whose lab and selection did not
        change since it was last drawn is not read again."""
        if self.busy:
            return
        previous = getattr(self, "_model", None)
        self._model = model or rm.resources(self.lab)
        if announce and previous is not None and previous is not self._model:
            self._announce(previous, self._model)
        with self.batch_update():
            self.show_header()
            self.query_one(ResourceTree).update_model(self._model)
            view = self.view()
            self.query_one(FunctionCard).show(FunctionCard.read(self.lab, view))
            self._show_panel(self.query_one(TabbedContent).active or "ordering", view)
            self.show_challenge()
            self._show_ticker()

    def _show_panel(self, tab: str, view: View | None = None) -> None:
        if self.busy:
            return
        view = view or self.view()
        conn = self.lab.store.conn
        version = (id(self.lab), conn.total_changes, view)
        if self._shown.get(tab) == version:
            return
        panel = self.query_one(f"#{tab}-panel")
        panel.show(panel.read(self.lab, view))
        self._shown[tab] = version

    def show_header(self) -> None:
        if not hasattr(self, "_model"):
            return
        h = rm.header(self.lab)
        player = self.player
        if player is not None and player.lab is self.lab:
            total = len(player.scenario.steps)
            state = "stopped" if player.stopped else "done" if player.done else "next " + \
                bindings.key_for("scenario_next", self.user_keys)
            h["scenario"] = f"scenario step {len(player.results)}/{total} ({state})"
        h.update(busy=self.busy, autoplay=self.autoplay, speed=self.speed,
                 running=getattr(self, "_clock_run", None) and self._clock_run_label,
                 instant=None if self.busy else instant_text(self.lab),
                 lab_error=self.lab_error)
        self.query_one(LabHeader).show(h)

    def _show_ticker(self) -> None:
        if self.player is not None and self.player.lab is self.lab:
            return                       # while stepping a scenario it narrates
        last = rm.latest_events(self.lab, limit=1)
        # an empty journal (another lab opened) clears the last lab's line
        text = rm.shorten_numbers(f" {last[0]['kind']}: {last[0]['reason']}") if last else ""
        self.query_one("#ticker", Static).update(Text(text, overflow="ellipsis",
                                                      no_wrap=True), layout=False)

    def _announce(self, before: dict, after: dict) -> None:
        """Say so when a shard becomes blocked or a DLQ gains messages, so
        the moment is not missed while stepping or autoplaying."""
        was = {m["label"]: m["blocked"] for m in before["mappings"]}
        for m in after["mappings"]:
            if m["blocked"] and not was.get(m["label"]):
                self.notify(f"mapping {m['label']}: {m['blocked']} shard(s) blocked, retrying a "
                            "failed batch (Ordering tab: BLOCKED attempt N)",
                            severity="warning")
        had = {q["name"]: q["dlq_count"] for q in before["queues"]}
        for q in after["queues"]:
            gained = q["dlq_count"] - had.get(q["name"], q["dlq_count"])
            if q["dlq"] and gained > 0:
                self.notify(f"{gained} message(s) moved from {q['name']} to {q['dlq']} "
                            "(DLQ & destinations tab says why)", severity="warning")

    # -- events -------------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        # moving the cursor selects, so the panels and the card follow the arrows
        self.on_tree_node_selected(event)

    def on_tree_node_selected(self, event) -> None:
        if event.control.id != "tree" or not hasattr(self, "_model"):
            return
        data = event.node.data
        if not data or data[0] == "section" or data == self.selected:
            return
        self.selected = data
        self._queue_offset = self._lane_offset = 0
        self.refresh_view(self._model)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if hasattr(self, "_model"):
            self._show_panel(event.pane.id)

    def watch_autoplay(self, on: bool) -> None:
        if self._timer is not None:
            (self._timer.resume if on else self._timer.pause)()
        self.show_header()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # While a form or help is open, the lab's keys are off so the form's
        # inputs get every letter; quit and help stay on.
        if action in ("quit", "help", "command_palette"):
            return True
        if len(self.screen_stack) > 1 and action.split("(")[0] in LAB_ACTIONS:
            return False
        if action == "scenario_next" and getattr(self, "player", None) is None:
            return False      # hidden from the footer until a scenario is open
        if action in ("challenge_check", "challenge_hint", "challenge_panel") and \
                getattr(self, "lab", None) is not None and self.challenge_path() is None:
            return False      # only offered on a challenge's lab
        if action == "home_lab" and getattr(self, "lab_path", None) == \
                getattr(self, "home_lab", None):
            return False      # only offered while a lesson's lab is open
        return True          # Textual's own (tab/shift+tab focus, ...) always work

    def _guard(self) -> bool:
        if self.busy:
            self.notify("busy: wait for the background work to finish", severity="warning")
            return False
        return True

    def _call(self, fn, *args, **kw):
        """Run a cheap lab call; AWS/lab errors become a notification. A lab
        file another process locked or changed (LabFileError) is shown in
        the header until a command works again; the app never exits on it."""
        try:
            result = fn(*args, **kw)
        except LAB_FILE_ERRORS as exc:
            self._lab_file_error(exc)
            return None
        except (AwsError, LabError, ValueError) as exc:
            self.notify(said(exc), title="refused", severity="error")
            return None
        if self.lab_error is not None and not getattr(self.lab.store, "readonly", False):
            self.lab_error = None
            self.show_header()
        return result

    # -- long work in one worker thread -------------------------------------------------

    def _long(self, fn, what: str, switch_lab: bool = False, after=None,
              reload: bool = True, quiet: bool = False) -> None:
        """quiet: a None result gives no notice (what the header and the
        narration already say is not said again over the tree)."""
        self._after_long = after
        self._reload_after = reload
        self._quiet_long = quiet
        self.stop_clock_run()
        self.busy = True
        self.autoplay = False
        self.query_one("#progress").display = True
        self.show_header()
        self._run_long(fn, what, switch_lab)

    @work(thread=True, group="engine", exit_on_error=False)
    def _run_long(self, fn, what: str, switch_lab: bool) -> None:
        try:
            result = fn()
        except Exception as exc:  # reported on the screen, never lost
            self.call_from_thread(self._long_done, what, None, exc, switch_lab)
            return
        self.call_from_thread(self._long_done, what, result, None, switch_lab)

    def _long_done(self, what: str, result, exc, switch_lab: bool) -> None:
        self.busy = False
        self.query_one("#progress").display = False
        if exc is not None:
            self.notify(f"{what}: {exc}", title="failed", severity="error")
        else:
            if switch_lab and result is not None:
                self.switch_lab(result)
            if result is not None or not getattr(self, "_quiet_long", False):
                self.notify(f"{what}: " + (result if isinstance(result, str) else "done"))
        # the lab may be another one, rewound or restored: read everything afresh
        if self._reload_after:
            self.reload_view()
        else:
            self._shown.clear()
            self.refresh_view()
        if self.player is None or self.player.lab is not self.lab:
            if not switch_lab:
                self.scenario_results = []
            self._render_narration()
        after, self._after_long = getattr(self, "_after_long", None), None
        if after is not None and exc is None:
            after()
        self.refresh_bindings()
        collector.settle()            # the lab's state may be new (another lab, a restore)
        self.post_message(LongWorkDone(what, exc))

    def switch_lab(self, lab) -> None:
        """Show another lab (a lesson's, or back to the home lab)."""
        self.lab.close()
        self.lab = lab
        self.lab_path = str(lab.path)
        self.sub_title = self.lab_path
        # an X-ray id names a record, message or invocation of the lab it came
        # from: in another lab it is stale, or names something else
        self.xray, self.xray_history = None, []
        self._shown.clear()

    # -- palette ------------------------------------------------------------------------

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for k in bindings.TABLE:
            if k.action in ("quit", "help"):
                continue
            yield SystemCommand(bindings.palette_title(k), k.description,
                                lambda a=k.action: self.call_later(self.run_action, a))

    def on_unmount(self) -> None:
        try:
            self.lab.close()
        except Exception:
            pass


class LongWorkDone(Message):
    """Posted when background work finishes (tests wait for it)."""

    def __init__(self, what: str, error: Exception | None):
        super().__init__()
        self.what = what
        self.error = error


def run_app(path: str, created: bool = False) -> int:
    """Open the lab at `path` on screen; returns the exit code."""
    EsmlabApp(path, created=created).run()
    return 0
