"""The esmlab Textual app: the lab on screen.

State flows one way: a user action calls the Lab (one command, one
transaction), then `refresh_view()` reads small read models
(esmlab.readmodels) and updates the header, the tree badges, the function
card and only the visible tab. Cheap calls (step, advance a little, push,
toggles) run on the event loop. Long work (run until idle, snapshot
restore, rewind, playing a scenario) runs in one thread worker at a time;
while it runs the UI does not touch the lab (`busy`), so the SQLite
connection is only ever used by one thread at a time.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import (Footer, Label, LoadingIndicator, RichLog, Sparkline, Static,
                             TabbedContent, TabPane, Tree)

from esmlab import readmodels as rm
from esmlab.errors import AwsError, LabError
from esmlab.tui import bindings
from esmlab.tui.screens import resources as res
from esmlab.tui.screens.forms import AskScreen, HelpScreen, PickScreen, ScenarioScreen, TextScreen
from esmlab.tui.screens.resources import ConfirmScreen, ResourceForm
from esmlab.tui.widgets import render
from esmlab.tui.widgets.tree import ResourceTree

SPEEDS = (1, 10, 60, 600)        # virtual seconds per real second
TICK_S = 0.2                      # autoplay timer period (real seconds)
TABS = ("ordering", "reprocessing", "scaling", "dlq", "why")
LOG_LINES = 500
QUEUE_PAGE = 50
BEHAVIOURS = {
    "fail": {"mode": "fail"},
    "poison": {"mode": "poison", "match": {"text": "poison"}},
    "flaky": {"mode": "flaky", "probability": 0.5},
    "timeout": {"mode": "timeout"},
    "partial": {"mode": "partial", "match": {"text": "bad"}},
    "succeed": {"mode": "succeed"},
}
BINDING_KEYS = {k.id: k.keys.split(",")[0] for k in bindings.TABLE}
LAB_ACTIONS = {k.action.split("(")[0] for k in bindings.TABLE}
LEGEND = Text("⛔blocked shard ☠in DLQ ≡waiting ▶in flight ⏲delayed", no_wrap=True,
              overflow="ellipsis")    # one line, so a short terminal keeps the tree
SCALING_SERIES = ("ConcurrencyTarget", "ConcurrentExecutions", "IteratorAge",
                  "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible",
                  "Errors", "Throttles")


class EsmlabApp(App):
    CSS_PATH = "app.tcss"
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
        self.selected: tuple = ()
        self.log_filter = False
        self._log_after = 0
        self._queue_offset = 0
        self._timer = None
        self._last_journal_id = -1
        self._stale: set[str] = set(TABS)
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
        yield Static(id="clock")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield ResourceTree(id="tree")
                yield Static(LEGEND, id="legend")
                yield Static(id="card")
            with Vertical(id="main"):
                with TabbedContent(id="tabs", initial="ordering"):
                    with TabPane("Ordering", id="ordering"):
                        with VerticalScroll():
                            yield Static(id="ordering-view")
                    with TabPane("Reprocessing", id="reprocessing"):
                        yield Tree("batches", id="reprocessing-tree")
                    with TabPane("Scaling", id="scaling"):
                        with VerticalScroll(id="scaling-view"):
                            yield Label(id="scaling-title")
                            for name in SCALING_SERIES:
                                yield Label(name, id=f"label-{name}", classes="spark-label")
                                yield Sparkline([], id=f"spark-{name}", classes="spark")
                    with TabPane("DLQ & destinations", id="dlq"):
                        with VerticalScroll():
                            yield Static(id="dlq-view")
                    with TabPane("Why-log", id="why"):
                        yield RichLog(id="whylog", max_lines=LOG_LINES, wrap=True,
                                      markup=False, min_width=20)
                with VerticalScroll(id="narration-box"):
                    yield Static(id="narration")
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
        self.query_one("#narration-box").display = False
        self._timer = self.set_interval(TICK_S, self._tick, pause=True)
        self.sub_title = self.lab_path
        model = rm.resources(self.lab)
        if model["mappings"]:
            self.selected = ("mapping", model["mappings"][0]["label"])
        elif model["functions"]:
            self.selected = ("function", model["functions"][0]["name"])
        self.refresh_view(model)
        tree = self.query_one(ResourceTree)
        tree.focus()
        self.call_after_refresh(tree.show, self.selected)    # once the tree has a size
        self.call_after_refresh(self._painted)
        if self.created:
            self.notify("A new lab with a starter set-up was created: some traffic is waiting. "
                        "F5 steps the clock, 1 breaks the selected function, F1 shows "
                        "first steps.", timeout=12)

    def _painted(self) -> None:
        """The first frame is on screen (esmlab.tui.bench reads this)."""
        import time
        self.first_paint_at = time.perf_counter()

    # -- selection helpers --------------------------------------------------------------

    def _mappings(self, model: dict | None = None) -> list[dict]:
        return (model or self._model)["mappings"]

    def selected_source(self) -> tuple[str, str] | None:
        """('stream'|'queue', name) the Ordering tab shows."""
        sel = self.selected
        if not sel:
            return None
        kind = sel[0]
        if kind in ("stream", "shard"):
            return ("stream", sel[1])
        if kind == "queue":
            return ("queue", sel[1])
        m = self.selected_mapping()
        if m is None:
            return None
        return ("stream" if m["kind"] in ("kinesis", "dynamodb") else "queue", m["source"])

    def selected_mapping(self) -> dict | None:
        sel = self.selected
        maps = self._model["mappings"]
        if not sel:
            return maps[0] if maps else None
        kind, name = sel[0], sel[1]
        for m in maps:
            if ((kind == "mapping" and m["label"] == name)
                    or (kind == "function" and m["function"] == name)
                    or (kind in ("stream", "shard", "queue") and m["source"] == name)):
                return m
        return None

    def selected_function(self) -> str | None:
        sel = self.selected
        if sel and sel[0] == "function":
            return sel[1]
        m = self.selected_mapping()
        if m is not None:
            return m["function"]
        fns = self._model["functions"]
        return fns[0]["name"] if fns else None

    def selected_resource_name(self) -> str | None:
        sel = self.selected
        if not sel:
            return None
        if sel[0] in ("stream", "shard"):
            m = self.selected_mapping()
            return m["label"] if m else sel[1]
        return sel[1]

    # -- refreshing ---------------------------------------------------------------------

    def reload_view(self) -> None:
        """After long work or a state replacement (rewind, snapshot, a new
        lab): forget what was shown and read every view from scratch, so the
        Why-log shows the current timeline only."""
        if self.busy:
            return
        self._queue_offset = 0
        log = self.query_one("#whylog", RichLog)
        log.clear()
        self._log_after = 0
        model = rm.resources(self.lab)
        known = {("mapping", m["label"]) for m in model["mappings"]} | \
            {("function", f["name"]) for f in model["functions"]} | \
            {("queue", q["name"]) for q in model["queues"]} | \
            {("stream", st["name"]) for st in model["streams"]}
        if self.selected and self.selected[0] != "shard" and self.selected not in known:
            self.selected = (("mapping", model["mappings"][0]["label"]) if model["mappings"]
                             else ("function", model["functions"][0]["name"])
                             if model["functions"] else ())
        self.refresh_view(model, announce=False)

    def refresh_view(self, model: dict | None = None, announce: bool = True) -> None:
        """Re-read the read models and update what is visible. Cheap: bounded queries."""
        if self.busy:
            return
        lab = self.lab
        previous = getattr(self, "_model", None)
        self._model = model or rm.resources(lab)
        self._header = rm.header(lab)
        if announce and previous is not None and previous is not self._model:
            self._announce(previous, self._model)
        with self.batch_update():
            self._render_clock()
            self.query_one(ResourceTree).update_model(self._model)
            fn = self.selected_function()
            self.query_one("#card", Static).update(
                render.function_card(rm.function_card(lab, fn) if fn else None))
            self._stale = set(TABS)
            self._refresh_tab(self.query_one(TabbedContent).active or "ordering")
            self._refresh_log()

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

    def _render_clock(self) -> None:
        h = self._header
        t = Text()
        t.append(f" esmlab · {h['name']} ", style="bold")
        t.append(f" T+{rm.rel(h['elapsed_ms'])} ", style="bold reverse")
        player = self.player
        if player is not None and player.lab is self.lab:
            # right after the clock, so a narrow terminal never cuts it
            total = len(player.scenario.steps)
            state = "stopped" if player.stopped else "done" if player.done else "next " + \
                bindings.key_for("scenario_next", self.user_keys)
            t.append(f" scenario step {len(player.results)}/{total} ({state}) ",
                     style="bold reverse")
        if self.busy:
            t.append(" ⏳ working ", style="bold")
        elif self.autoplay:
            t.append(f" ▶ running ×{self.speed} ", style="bold")
        else:
            t.append(f" ⏸ paused ×{self.speed} ")
        t.append(f" {h['iso']} ")
        t.append(f" seed {h['seed']}  profile {h['profile']}  pending {h['pending']}")
        self.query_one("#clock", Static).update(t)

    def _refresh_tab(self, tab: str) -> None:
        if tab not in self._stale or self.busy:
            return
        self._stale.discard(tab)
        lab = self.lab
        if tab == "ordering":
            src = self.selected_source()
            view = self.query_one("#ordering-view", Static)
            if src is None:
                view.update("Select a stream, queue or mapping in the tree.")
            elif src[0] == "stream":
                view.update(render.stream_ordering(rm.stream_ordering(lab, src[1])))
            else:
                view.update(render.queue_ordering(
                    rm.queue_ordering(lab, src[1], self._queue_offset, QUEUE_PAGE)))
        elif tab == "reprocessing":
            self._refresh_reprocessing()
        elif tab == "scaling":
            self._refresh_scaling()
        elif tab == "dlq":
            model = rm.dead_letters(lab)
            model["start_ms"] = self._header["start_ms"]
            self.query_one("#dlq-view", Static).update(render.dead_letters(model))

    def _refresh_reprocessing(self) -> None:
        tree = self.query_one("#reprocessing-tree", Tree)
        m = self.selected_mapping()
        tree.clear()
        if m is None:
            tree.root.set_label("select a mapping")
            return
        tree.root.set_label(f"{m['label']}: batches and attempts (newest events last)")
        start = self._header["start_ms"]
        batches = rm.reprocessing(self.lab, m["label"])
        dead: set = set()
        if m["kind"] == "sqs":
            # messages the source queue moved to its DLQ (☠; ⛔ means a blocked shard)
            dead = {ev["subject"] for ev in self.lab.journal(
                resource=m["source"], kind="sqs.moved_to_dlq", newest_first=True, limit=400)}
        width = max(30, (tree.size.width or self.query_one("#main").size.width or 80) - 12)
        import textwrap

        def add(parent, batch):
            where = rm.short_shard(batch["subject"]) if batch["subject"] else ""
            kinds = {ev["kind"] for ev in batch["events"]}
            failed = "batch.failed" in kinds and "batch.succeeded" not in kinds
            mark = ("⛔ " if failed and m["kind"] != "sqs" else "✗ " if failed
                    else "✓ " if "batch.succeeded" in kinds else "")
            if dead and dead.intersection(batch["records"]):
                mark = "☠ "
            if "batch.discarded" in kinds:
                mark = "🗑 "
            node = parent.add(f"{mark}{batch['title']}  {where}", expand=False)
            for ev in batch["events"]:
                # labels do not wrap: long reasons go on continuation lines
                text = f"T+{rm.rel(ev['at_ms'] - start)} {ev['kind']}: {ev['reason']}"
                lines = textwrap.wrap(text, width, subsequent_indent="    ") or [text]
                leaf = node.add(lines[0], expand=True) if len(lines) > 1 \
                    else node.add_leaf(lines[0])
                for more in lines[1:]:
                    leaf.add_leaf(more)
            for child in batch["children"]:
                add(node, child)

        for b in batches[-100:]:
            add(tree.root, b)
        tree.root.expand()
        if tree.root.children:
            tree.root.children[-1].expand()

    def _refresh_scaling(self) -> None:
        m = self.selected_mapping()
        title = self.query_one("#scaling-title", Label)
        if m is None:
            title.update("select a mapping")
            return
        model = rm.scaling(self.lab, m["label"])
        extra = (f"  target {model.get('target')}  busy {model.get('busy')}"
                 if model["kind"] == "sqs" else "")
        title.update(f"{m['label']} ({model['kind']}) → {model['function']}{extra}  "
                     f"throttles {model['throttles_total']}  (last {rm.SERIES_POINTS} samples)")
        for name in SCALING_SERIES:
            points = model["series"].get(name)
            label = self.query_one(f"#label-{name}", Label)
            spark = self.query_one(f"#spark-{name}", Sparkline)
            visible = points is not None
            label.display = spark.display = visible
            if visible:
                values = [v for _, v in points]
                last = values[-1] if values else 0
                label.update(f"{name}: now {last:g}  max {max(values, default=0):g}")
                spark.data = values or [0]

    def _refresh_log(self, reset: bool = False) -> None:
        log = self.query_one("#whylog", RichLog)
        resource = self.selected_resource_name() if self.log_filter else None
        if reset:
            log.clear()
            self._log_after = 0
        events = rm.journal_since(self.lab, self._log_after, resource, limit=200)
        start = self._header["start_ms"]
        for ev in events:
            line = Text()
            line.append(f"T+{rm.rel(ev['at_ms'] - start):>8} ", style="dim")
            line.append(f"{ev['kind']:<20} ", style="bold")
            line.append(f"{ev['resource']}: ")
            line.append(ev["reason"])
            log.write(line)
        stepping = self.player is not None and self.player.lab is self.lab
        if events:
            self._log_after = events[-1]["id"]
            last = events[-1]
        if events and not stepping:          # while stepping a scenario it narrates
            self.query_one("#ticker", Static).update(
                Text(f" {last['kind']}: {last['reason']}", overflow="ellipsis", no_wrap=True))

    # -- events -------------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        # moving the cursor selects, so the tabs and the card follow the arrows
        self.on_tree_node_selected(event)

    def on_tree_node_selected(self, event) -> None:
        if event.control.id != "tree" or not hasattr(self, "_model"):
            return
        data = event.node.data
        if not data or data[0] == "section":
            return
        if data != self.selected:
            self.selected = data
            self._queue_offset = 0
            self.refresh_view(self._model)
            if self.log_filter:
                self._refresh_log(reset=True)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if hasattr(self, "_model"):
            self._refresh_tab(event.pane.id)

    def watch_autoplay(self, on: bool) -> None:
        if self._timer is not None:
            (self._timer.resume if on else self._timer.pause)()
        if hasattr(self, "_header"):
            self._render_clock()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # While a form or help is open, the lab's keys are off so the form's
        # inputs get every letter; quit and help stay on.
        if action in ("quit", "help", "command_palette"):
            return True
        if len(self.screen_stack) > 1 and action.split("(")[0] in LAB_ACTIONS:
            return False
        if action == "scenario_next" and getattr(self, "player", None) is None:
            return False      # hidden from the footer until a scenario is open
        return True          # Textual's own (tab/shift+tab focus, ...) always work

    def _guard(self) -> bool:
        if self.busy:
            self.notify("busy: wait for the background work to finish", severity="warning")
            return False
        return True

    def _call(self, fn, *args, **kw):
        """Run a cheap lab call; AWS/lab errors become a notification."""
        try:
            return fn(*args, **kw)
        except (AwsError, LabError, ValueError) as exc:
            self.notify(str(exc), title="refused", severity="error")
            return None

    # -- actions: the clock ---------------------------------------------------------------

    def action_step(self) -> None:
        if not self._guard():
            return
        ran = self._call(self.lab.step)
        if ran == 0:
            self.notify("nothing is pending: push something first (F2)")
        self.refresh_view()

    def action_advance(self) -> None:
        if not self._guard():
            return

        from esmlab.scenario.durations import DurationError, parse_duration

        def check(values):
            try:
                parse_duration(values["seconds"].strip())
            except DurationError as exc:
                return str(exc)
            return None

        def done(values):
            if not values:
                return
            seconds = parse_duration(values["seconds"].strip()) / 1000
            self._push_last["advance"] = values["seconds"].strip()
            if seconds > 3600:
                self._long(lambda: self.lab.advance(seconds), f"advance {rm.rel(seconds * 1000)}")
            else:
                self._call(self.lab.advance, seconds)
                self.refresh_view()

        self.push_screen(AskScreen("Advance the virtual clock", [
            ("seconds", "by how long (seconds, or 90s, 2m, 1h30m)",
             self._push_last.get("advance", "10"))], validate=check), done)

    def action_autoplay(self) -> None:
        if not self._guard():
            return
        self.autoplay = not self.autoplay

    def action_speed(self) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[(i + 1) % len(SPEEDS)]
        self.notify(f"autoplay speed ×{self.speed} (virtual seconds per second)")
        if hasattr(self, "_header"):
            self._render_clock()

    def _tick(self) -> None:
        if self.busy or len(self.screen_stack) > 1:
            return
        ms = int(self.speed * TICK_S * 1000)
        if self._call(self.lab.advance_ms, ms) is None:
            self.autoplay = False
        self.refresh_view()

    def action_run_until_idle(self) -> None:
        if self._guard():
            def run():
                outcome = self.lab.run_until_idle()
                if outcome == "limit":
                    return ("stopped after 1 h of virtual time with work still pending "
                            "(a blocked shard retries until its records expire)")
                return "nothing is pending now"
            self._long(run, "run until idle")

    # -- actions: traffic and the function -------------------------------------------------

    def action_push(self) -> None:
        if not self._guard():
            return
        targets = [(f"stream {s['name']}", f"stream:{s['name']}")
                   for s in self._model["streams"] if s["kind"] == "kinesis"]
        targets += [(f"queue {q['name']}", f"queue:{q['name']}") for q in self._model["queues"]]
        if not targets:
            self.notify("no stream or queue to push to", severity="error")
            return
        src = self.selected_source()
        values = [v for _, v in targets]
        last = self._push_last
        if last.get("target") in values:
            default = last["target"]
        elif src and f"{src[0]}:{src[1]}" in values:
            default = f"{src[0]}:{src[1]}"
        else:
            default = targets[0][1]
        kind, name = default.split(":", 1)
        key = last.get("key", "user-1" if kind == "stream" or name.endswith(".fifo") else "")
        notes = ["The key is a stream record's partition key, or a FIFO queue's "
                 "MessageGroupId (leave it empty for a standard queue)."]
        fifo_cbd = [q for q in self._model["queues"] if q["name"].endswith(".fifo")
                    and rm.queue_settings(self.lab, q["name"]).get("content_dedup")]
        if fifo_cbd:
            notes.append(", ".join(q["name"] for q in fifo_cbd) + " has "
                         "ContentBasedDeduplication: identical bodies within 5 minutes are "
                         "deduplicated, as on AWS (use {i} in the body to make them differ).")
        form = AskScreen("Push records / messages", [
            ("target", "target", default, targets),
            ("key", "partition key (stream) / MessageGroupId (FIFO queue)", key),
            ("body", "body ({i} = the number of the record)", last.get("body", "hello {i}")),
            ("count", "how many", last.get("count", "1")),
        ], ok="Push", validate=self._push_error, note=" ".join(notes), focus="target")
        self.push_screen(form, self.push_values)

    @staticmethod
    def _push_error(values: dict) -> str | None:
        try:
            count = int(values["count"])
        except ValueError:
            return "how many: a whole number, please"
        if count < 1:
            return "how many: 1 or more"
        kind, name = values["target"].split(":", 1)
        if kind == "queue" and name.endswith(".fifo") and not values["key"].strip():
            return "a FIFO queue needs a MessageGroupId: fill in the key field"
        return None

    def push_values(self, values: dict | None) -> None:
        """Push `count` records/messages described by the push form's values."""
        if not values:
            return
        error = self._push_error(values)
        if error:
            self.notify(error, severity="error")
            return
        self._push_last = dict(values)
        count = int(values["count"])
        kind, name = values["target"].split(":", 1)
        key, body = values["key"].strip(), values["body"]
        bodies = [body.replace("{i}", str(i)) for i in range(1, count + 1)]
        lab = self.lab
        deduplicated = 0
        try:
            if kind == "stream":
                for i in range(0, count, 500):
                    lab.put_records(name, [{"PartitionKey": key or "key", "Data": b}
                                           for b in bodies[i:i + 500]])
            else:
                fifo = name.endswith(".fifo")
                content_dedup = fifo and rm.queue_settings(lab, name).get("content_dedup")
                before = lab.journal(newest_first=True, limit=1)
                after_id = before[0]["id"] if before else 0
                # Unique across pushes: the lab's command count grows with every push.
                prefix = f"esmlab-push-{len(lab.commands())}" if fifo and not content_dedup \
                    else None
                for i in range(0, count, 10):
                    entries = []
                    for j, b in enumerate(bodies[i:i + 10]):
                        e = {"Id": str(j), "MessageBody": b}
                        if fifo:
                            e["MessageGroupId"] = key
                            if prefix:
                                e["MessageDeduplicationId"] = f"{prefix}-{i + j}"
                        entries.append(e)
                    lab.send_message_batch(name, entries)
                if fifo:
                    deduplicated = len(lab.journal(resource=name, kind="sqs.deduplicated",
                                                   after_id=after_id, limit=count + 1))
        except (AwsError, LabError) as exc:
            self.notify(str(exc), title="refused", severity="error")
        else:
            if deduplicated:
                self.notify(f"pushed {count} to {kind} {name}: {count - deduplicated} enqueued, "
                            f"{deduplicated} deduplicated (same body within 5 minutes, "
                            "ContentBasedDeduplication; the Why-log says which)",
                            severity="warning")
            else:
                self.notify(f"pushed {count} to {kind} {name}"
                            + (f": {count} enqueued" if kind == "queue" else ""))
        self.refresh_view()

    def action_behaviour(self, mode: str) -> None:
        if not self._guard():
            return
        fn = self.selected_function()
        if fn is None:
            return
        current = rm.function_card(self.lab, fn)["mode"]
        wanted = BEHAVIOURS["succeed"] if current == mode else BEHAVIOURS[mode]
        if self._call(self.lab.set_behaviour, fn, **wanted) is not None:
            card = rm.function_card(self.lab, fn)
            if wanted["mode"] == "succeed":
                self.notify(f"{fn} {card['describe']} again")
            else:
                keys = bindings.load_keymap_safe()
                line = (f"{fn} now {card['describe']}. Step "
                        f"({bindings.key_for('step', keys)}) or run "
                        f"({bindings.key_for('autoplay', keys)}) to watch its mapping "
                        f"retry; press {bindings.display_keys(keys.get(mode, BINDING_KEYS[mode]))}"
                        f" again to heal.")
                severity = "information"
                if mode == "partial":
                    deaf = self._mappings_without_item_failures(fn)
                    if deaf:
                        severity = "warning"
                        line += " But " + "; ".join(
                            f"mapping {m} ignores batchItemFailures: its FunctionResponseTypes "
                            "is empty" for m in deaf) + \
                            f"; edit it ({bindings.key_for('edit', keys)}) to add " \
                            "ReportBatchItemFailures (until then a partial response counts " \
                            "as a success)."
                self.notify(line, severity=severity, timeout=8 if severity == "warning" else 4)
        self.refresh_view()

    def _mappings_without_item_failures(self, fn: str) -> list[str]:
        """Labels of the function's mappings whose FunctionResponseTypes lacks
        ReportBatchItemFailures (they ignore a partial batch response)."""
        out = []
        for m in self._model["mappings"]:
            if m["function"] != fn:
                continue
            try:
                config = rm.mapping_settings(self.lab, m["label"])["config"] or {}
            except (AwsError, LabError):
                continue
            if "ReportBatchItemFailures" not in (config.get("FunctionResponseTypes") or []):
                out.append(m["label"])
        return out

    def action_behaviour_form(self) -> None:
        if not self._guard():
            return
        fn = self.selected_function()
        if fn is None:
            return
        from esmlab.engine.function import MODES
        b = rm.function_card(self.lab, fn)["behaviour"]
        match = b.get("match") or {}
        modes = [(m, m) for m in MODES]

        def done(values):
            if not values:
                return
            wanted: dict = {"mode": values["mode"]}
            m = {k: values[k].strip() for k in ("text", "partition_key", "group_id")
                 if values[k].strip()}
            if m:
                wanted["match"] = m
            try:
                if values["probability"].strip():
                    wanted["probability"] = float(values["probability"])
                if values["count"].strip():
                    wanted["count"] = int(values["count"])
            except ValueError:
                self.notify("probability is a number 0-1, count a whole number",
                            severity="error")
                return
            if values["handler"].strip():
                wanted["handler"] = values["handler"].strip()
            if self._call(self.lab.set_behaviour, fn, **wanted) is not None:
                self.notify(f"{fn} now {rm.function_card(self.lab, fn)['describe']}")
            self.refresh_view()

        self.push_screen(AskScreen(f"Behaviour of {fn}", [
            ("mode", "mode", b["mode"], modes),
            ("text", "match: record text contains (poison, partial, timeout)",
             match.get("text", "")),
            ("partition_key", "match: partition key", match.get("partition_key", "")),
            ("group_id", "match: message group id", match.get("group_id", "")),
            ("probability", "probability 0-1 (flaky)", str(b.get("probability", ""))),
            ("count", "count (fail_first: fail the first N invocations)",
             str(b.get("count", ""))),
            ("handler", "your handler module:function (handler)", b.get("handler", "")),
        ], ok="Set"), done)

    def action_throttle(self) -> None:
        if not self._guard():
            return
        fn = self.selected_function()
        if fn is None:
            return
        reserved = rm.function_card(self.lab, fn)["reserved"]
        new = None if reserved == 0 else 0
        if self._call(self.lab.update_function, fn, ReservedConcurrentExecutions=new) is not None:
            self.notify(f"{fn}: ReservedConcurrentExecutions={new}"
                        + (" (every invoke is throttled)" if new == 0 else " (unreserved)"))
        self.refresh_view()

    # -- actions: create, edit, delete resources ------------------------------------------

    def _open_form(self, title: str, fields: list, submit, ok: str, select=None,
                   note: str = "") -> None:
        """Open a ResourceForm. `submit(values)` returns the notice (or
        (notice, tree key)); AWS's refusals stay in the form."""
        chosen: list = []

        def run(values):
            result = submit(values)
            line, key = result if isinstance(result, tuple) else (
                result, select(values) if select else None)
            chosen.append(key)
            return line

        def done(line):
            key = chosen[-1] if chosen else None
            if line is not None:
                self.notify(line)
                if key:
                    self.selected = key
                    self._queue_offset = 0
            self.refresh_view()           # a DLQ made before a refusal shows too
            if line is not None and key:
                self.call_after_refresh(self.query_one(ResourceTree).show, key)
        self.push_screen(ResourceForm(title, fields, run, ok=ok, note=note), done)

    def action_new_resource(self) -> None:
        if not self._guard():
            return
        self.push_screen(PickScreen("Create…", [
            ("SQS queue (standard, or FIFO when the name ends .fifo; with a DLQ)", "queue"),
            ("Kinesis data stream", "stream"),
            ("Lambda function", "function"),
            ("Event source mapping (fields, or paste get-event-source-mapping JSON)", "mapping"),
        ]), self.new_form)

    def new_form(self, kind: str | None) -> None:
        """Open the create form for a kind of resource."""
        if not kind:
            return
        lab = self.lab
        empty = "Empty fields are AWS's defaults (not sent)."
        if kind == "queue":
            self._open_form("New SQS queue (CreateQueue)", res.queue_fields(),
                            lambda v: res.queue_create_submit(lab, v), "Create",
                            lambda v: ("queue", v["QueueName"].strip()), empty)
        elif kind == "stream":
            self._open_form("New Kinesis data stream (CreateStream)", res.stream_fields(),
                            lambda v: res.stream_create_submit(lab, v), "Create",
                            lambda v: ("stream", v["StreamName"].strip()), empty)
        elif kind == "function":
            self._open_form("New Lambda function", res.function_fields(),
                            lambda v: res.function_create_submit(lab, v), "Create",
                            lambda v: ("function", v["FunctionName"].strip()), empty)
        elif kind == "mapping":
            src = self.selected_source()
            arn = None
            if src and src[0] == "queue":
                arn = res.arns.queue_arn(src[1])
            elif src and src[0] == "stream":
                arn = next((a for _, a in rm.form_choices(lab)["sources"]
                            if res.arns.name_of(a) == src[1]), None)
            fields = res.mapping_fields(lab, None, self.selected_function(), arn)

            def submit(v):
                line, label = res.mapping_create_submit(lab, v)
                return line, ("mapping", label)
            self._open_form("New event source mapping (CreateEventSourceMapping)", fields,
                            submit, "Create", note=empty + " Stream-only fields are refused "
                            "for a queue, as AWS does.")

    def action_edit_resource(self) -> None:
        if not self._guard():
            return
        sel = self.selected
        lab = self.lab
        kind = sel[0] if sel else None
        try:
            if kind == "mapping":
                cur = rm.mapping_settings(lab, sel[1])
                self._open_form(
                    f"Edit mapping {cur['label']} (UpdateEventSourceMapping)",
                    res.mapping_fields(lab, cur), lambda v: res.mapping_edit_submit(lab, cur, v),
                    "Update", note=f"{cur['uuid']}, state {cur['state']}. Only changed fields "
                    "are sent; an emptied field is left as it is (an emptied OnFailure or "
                    "MaximumConcurrency is removed).")
            elif kind == "function":
                cur = rm.function_settings(lab, sel[1])
                self._open_form(f"Edit function {sel[1]}", res.function_fields(cur),
                                lambda v: res.function_edit_submit(lab, cur, v), "Update",
                                note="Only changed fields are sent; an empty reserved "
                                "concurrency means unreserved.")
            elif kind == "queue":
                cur = rm.queue_settings(lab, sel[1])
                self._open_form(f"Edit queue {sel[1]} (SetQueueAttributes)",
                                res.queue_fields(cur),
                                lambda v: res.queue_edit_submit(lab, cur, v), "Update",
                                note="Only changed attributes are sent; an emptied DLQ name "
                                "removes the RedrivePolicy.")
            elif kind in ("stream", "shard"):
                cur = rm.stream_settings(lab, sel[1])
                self._open_form(f"Edit stream {sel[1]}", res.stream_fields(cur),
                                lambda v: res.stream_edit_submit(lab, cur, v), "Update")
            else:
                self.notify("select a mapping, function, queue or stream in the tree to edit it",
                            severity="warning")
        except (AwsError, LabError) as exc:
            self.notify(str(exc), title="refused", severity="error")

    def action_delete_resource(self) -> None:
        if not self._guard():
            return
        sel = self.selected
        if not sel or sel[0] != "mapping":
            self.notify("select a mapping to delete it (queues, streams and functions stay)",
                        severity="warning")
            return
        label = sel[1]

        def done(yes):
            if not yes:
                return
            made = self._call(self.lab.delete_mapping, label)
            if made is not None:
                self.notify(f"mapping {label}: state {made['State']}; it is gone after the "
                            "next step")
            self.refresh_view()
        self.push_screen(ConfirmScreen(
            f"Delete mapping {label}?",
            "DeleteEventSourceMapping: polling stops; the source's records or messages stay. "
            "Rewind (ctrl+r) brings it back."), done)

    # -- actions: view ---------------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(bindings.help_markdown(bindings.load_keymap_safe())))

    def action_tab(self, delta: int) -> None:
        tabs = self.query_one(TabbedContent)
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(i + int(delta)) % len(TABS)]

    def action_page(self, delta: int) -> None:
        src = self.selected_source()
        if not src or src[0] != "queue":
            return
        self._queue_offset = max(0, self._queue_offset + int(delta) * QUEUE_PAGE)
        self._stale.add("ordering")
        self._refresh_tab("ordering")

    def action_toggle_log_filter(self) -> None:
        self.log_filter = not self.log_filter
        what = self.selected_resource_name() if self.log_filter else "all resources"
        self.notify(f"Why-log shows {what}")
        self._refresh_log(reset=True)

    # -- actions: snapshots, rewind, export ------------------------------------------------

    def action_save_snapshot(self) -> None:
        if not self._guard():
            return

        def done(values):
            if values and values["name"].strip():
                name = values["name"].strip()
                if self._call(self.lab.save_snapshot, name) is None:
                    self.notify(f"snapshot {name} saved at T+{rm.rel(self._header['elapsed_ms'])}")
        self.push_screen(AskScreen("Save a snapshot", [
            ("name", "name", f"t{self._header['elapsed_ms'] // 1000}")], ok="Save"), done)

    def action_open_snapshot(self) -> None:
        if not self._guard():
            return
        start = self._header["start_ms"]
        options = [(f"{s['name']}  (T+{rm.rel(s['saved_at_ms'] - start)}, "
                    f"{s['commands']} commands)", s["name"]) for s in self.lab.snapshots()]

        def done(name):
            if name:
                self._long(lambda: self.lab.restore_snapshot(name), f"open snapshot {name}")
        self.push_screen(PickScreen("Open a snapshot", options), done)

    def action_rewind(self) -> None:
        if not self._guard():
            return
        from esmlab.scenario.durations import DurationError, parse_duration
        now_ms = self._header["elapsed_ms"]

        def check(values):
            try:
                at = parse_duration(values["at"].strip().removeprefix("T+"))
            except DurationError as exc:
                return str(exc)
            if at > now_ms:
                return f"T+{rm.rel(at)} is after now (T+{rm.rel(now_ms)}): rewind goes back"
            return None

        def done(values):
            if not values:
                return
            at = parse_duration(values["at"].strip().removeprefix("T+"))
            to_ms = self._header["start_ms"] + at
            self.player = None        # the scenario's steps no longer match the lab
            self._long(lambda: self.lab.rewind(to_ms), f"rewind to T+{rm.rel(at)}")
        self.push_screen(AskScreen("Rewind to virtual time", [
            ("at", f"to T+ (now T+{rm.rel(now_ms)}; e.g. 90s, 2m, 1h30m)",
             rm.rel(max(0, now_ms - 10_000)).replace(".0s", "s"))],
            ok="Rewind", validate=check), done)

    def action_export_event(self) -> None:
        if not self._guard():
            return
        last = rm.last_invocation_id(self.lab, self.selected_function())

        def done(values):
            if not values:
                return
            try:
                inv = int(values["id"])
            except ValueError:
                self.notify("an invocation id, please", severity="error")
                return
            path = self.export_event(inv)
            if path:
                self.notify(f"event of invocation {inv} written to {path}")
        self.push_screen(AskScreen("Export an invocation's event (for sam local invoke -e)",
                                   [("id", "invocation id", last or "")], ok="Export"), done)

    def export_event(self, inv: int) -> str | None:
        event = rm.invocation_event(self.lab, inv)
        if event is None:
            self.notify(f"no event recorded for invocation {inv}", severity="error")
            return None
        path = Path(self.lab_path).resolve().parent / f"event-{inv}.json"
        path.write_text(json.dumps(event, indent=2) + "\n")
        return str(path)

    # -- actions: scenarios ----------------------------------------------------------------

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
        here = Path(self.lab_path).resolve().parent
        stem = Path(path).stem
        target = here / f"{stem}.lab.db"
        n = 1
        while target.exists():
            n += 1
            target = here / f"{stem}-{n}.lab.db"
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
        line = result.narration or f"{result.kind}: {result.summary}"
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
        self.query_one("#whylog", RichLog).write(Text("▶ " + line, style="bold"))
        self._render_narration()

    def _render_narration(self) -> None:
        """The narration panel under the tabs: the latest `say` in full
        (wrapped), then the latest step with its checks ✓/✗."""
        box = self.query_one("#narration-box")
        results = self.scenario_results
        if not results:
            box.display = False
            return
        box.display = True
        last = results[-1]
        said = next((r for r in reversed(results) if r.narration), None)
        t = Text()
        done = sum(1 for r in results if r.index)
        t.append(f"scenario step {done}/{self.scenario_total}  ", style="bold")
        t.append(self.scenario_title + "\n", style="dim")
        if said is not None:
            t.append("💬 " + said.narration + "\n", style="italic")
        if last is not said:
            where = f"{last.index}/{self.scenario_total}" if last.index else "setup"
            t.append(f"[{where}] {last.kind}: {last.summary}\n")
        t.append_text(_checks_text(last))
        self.query_one("#narration", Static).update(t)
        box.scroll_home(animate=False)

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
                t.append(f"[{where}] {r.kind}: {r.summary}\n")
            t.append_text(_checks_text(r))
        self.push_screen(TextScreen(f"Results: {self.scenario_title}", t))

    # -- long work in one worker thread ----------------------------------------------------

    def _long(self, fn, what: str, switch_lab: bool = False, after=None,
              reload: bool = True) -> None:
        self._after_long = after
        self._reload_after = reload
        self.busy = True
        self.autoplay = False
        self.query_one("#progress").display = True
        self._render_clock()
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
                self.lab.close()
                self.lab = result
                self.lab_path = result.path
                self.sub_title = self.lab_path
            self.notify(f"{what}: " + (result if isinstance(result, str) else "done"))
        # the lab may be another one, rewound or restored: read everything afresh
        if self._reload_after:
            self.reload_view()
        else:
            self.refresh_view()
        if switch_lab:
            for line in self.narration:
                self.query_one("#whylog", RichLog).write(Text("▶ " + line, style="bold"))
        if self.player is None or self.player.lab is not self.lab:
            if not switch_lab:
                self.scenario_results = []
            self._render_narration()
        after, self._after_long = getattr(self, "_after_long", None), None
        if after is not None and exc is None:
            after()
        self.refresh_bindings()
        self.post_message(LongWorkDone(what, exc))

    # -- palette --------------------------------------------------------------------------

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for k in bindings.TABLE:
            if k.action in ("quit", "help"):
                continue
            yield SystemCommand(f"{k.label} ({bindings.display_keys(k.keys)})", k.description,
                                lambda a=k.action: self.call_later(self.run_action, a))

    def on_unmount(self) -> None:
        try:
            self.lab.close()
        except Exception:
            pass


from textual.message import Message  # noqa: E402


def _checks_text(result) -> Text:
    """A step's expect checks (✓/✗ and the message) and its error, wrapped."""
    t = Text()
    for c in result.checks:
        t.append(("  ✓ " if c.ok else "  ✗ ") + c.message + "\n",
                 style="green" if c.ok else "red")
    if result.error is not None:
        t.append(f"  ✗ {result.error}\n", style="red")
    return t


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
