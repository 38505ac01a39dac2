"""The selection and what the panels are asked to show (`view()`), and the
view's own actions: help, tabs, pages, the Why-log's filter and full text."""

from __future__ import annotations

from esmlab import readmodels as rm
from esmlab.tui import bindings
from esmlab.tui.screens.forms import HelpScreen
from esmlab.tui.widgets.ordering import QUEUE_PAGE, OrderingPanel
from esmlab.tui.widgets.view import View


class ViewActions:
    """Mixed into EsmlabApp. The one selection is `self.selected`: a tree
    node's data, ("mapping", label), ("queue", name), ("shard", stream, id)…"""

    def _select_default(self, model: dict) -> None:
        if model["mappings"]:
            self.selected = ("mapping", model["mappings"][0]["label"])
        elif model["functions"]:
            self.selected = ("function", model["functions"][0]["name"])
        else:
            self.selected = ()

    def selected_mapping(self) -> dict | None:
        sel, maps = self.selected, self._model["mappings"]
        if not sel:
            return maps[0] if maps else None
        kind, name = sel[0], sel[1]
        return next((m for m in maps if (kind == "mapping" and m["label"] == name)
                     or (kind == "function" and m["function"] == name)
                     or (kind in ("stream", "shard", "queue") and m["source"] == name)), None)

    def selected_source(self) -> tuple[str, str] | None:
        """('stream'|'queue', name) the Ordering panel shows."""
        sel = self.selected
        if sel and sel[0] in ("stream", "shard", "queue"):
            return ("queue" if sel[0] == "queue" else "stream", sel[1])
        m = self.selected_mapping() if sel else None
        if m is None:
            return None
        return ("stream" if m["kind"] in ("kinesis", "dynamodb") else "queue", m["source"])

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

    def view(self) -> View:
        panel = self.query_one(OrderingPanel)
        return View(selected=self.selected, mapping=self.selected_mapping(),
                    source=self.selected_source(), function=self.selected_function(),
                    resource=self.selected_resource_name(),
                    start_ms=self.lab.engine.start_ms, queue_offset=self._queue_offset,
                    lane_offset=self._lane_offset, lane_limit=panel.lanes_in_view(),
                    log_filter=self.log_filter, why_full=self.why_full, xray=self.xray,
                    keys=self.user_keys)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(bindings.help_markdown(bindings.load_keymap_safe())))

    def action_tab(self, delta: int) -> None:
        from textual.widgets import TabbedContent
        tabs = self.query_one(TabbedContent)
        tabs_ids = [pane.id for pane in tabs.query("TabPane")]
        i = tabs_ids.index(tabs.active) if tabs.active in tabs_ids else 0
        tabs.active = tabs_ids[(i + int(delta)) % len(tabs_ids)]

    def action_page(self, delta: int) -> None:
        """Ordering: the next page of a queue's messages or of a stream's lanes."""
        src = self.selected_source()
        if not src:
            return
        if src[0] == "queue":
            self._queue_offset = max(0, self._queue_offset + int(delta) * QUEUE_PAGE)
        else:
            step = self.query_one(OrderingPanel).lanes_in_view()
            total = rm.lane_count(self.lab, src[1])
            self._lane_offset = min(max(0, total - 1),
                                    max(0, self._lane_offset + int(delta) * step))
        self._show_panel("ordering")

    def action_toggle_log_filter(self) -> None:
        self.log_filter = not self.log_filter
        what = self.selected_resource_name() if self.log_filter else "all resources"
        self.notify(f"Why-log shows {what}")
        self._show_panel("why")

    # -- the x-ray ----------------------------------------------------------------

    def _pointed_panel(self):
        """The panel whose cursor `w` reads: the focused one, else the one in
        view (the resource tree keeps the focus while the arrows select)."""
        from textual.widgets import TabbedContent
        node = self.focused
        while node is not None:
            if hasattr(node, "current_ref"):
                return node
            node = node.parent
        tab = self.query_one(TabbedContent).active
        panel = self.query_one(f"#{tab}-panel") if tab else None
        return panel if hasattr(panel, "current_ref") else None

    def action_xray(self) -> None:
        """X-ray the record, message or invocation under the cursor of the
        panel in view (or jump to the one an X-ray line names); where no
        panel points at one, ask for an id."""
        from esmlab import story
        panel = self._pointed_panel()
        if panel is None:
            self.action_xray_ask()
            return
        ref = panel.current_ref()
        if ref is not None and ref.startswith("event:"):
            ref = story.event_ref(self.lab, int(ref.split(":", 1)[1]))
        if ref is None:
            self.notify("this row names no record, message or invocation: move the cursor "
                        f"(↑ ↓ ← →) or press {bindings.key_for('why_id', self.user_keys)} "
                        "to type an id", severity="warning")
            return
        if ref == self.xray and self.query_one("#tabs").active == "xray":
            return
        self.show_xray(ref)

    def show_xray(self, ref: str, back: bool = False) -> None:
        from textual.widgets import TabbedContent
        if self.xray and not back and ref != self.xray:
            self.xray_history.append(self.xray)
            del self.xray_history[:-50]
        self.xray = ref
        self.query_one(TabbedContent).active = "xray"
        self._show_panel("xray")
        # once the pane is shown (a hidden widget cannot take the focus)
        self.call_after_refresh(self.query_one("#xray-panel").focus)

    def action_xray_back(self) -> None:
        """Back to the story the X-ray showed before this jump."""
        if self.xray_history:
            self.show_xray(self.xray_history.pop(), back=True)

    def action_xray_ask(self) -> None:
        """Ask for an id (prefilled with the newest DLQ message, else the last
        invocation) and show its story in the X-ray panel."""
        from esmlab.tui.screens.forms import AskScreen

        def done(values):
            if values and values["id"].strip():
                self.show_xray(values["id"].strip())
        self.push_screen(AskScreen("X-ray: one record's whole life", [
            ("id", "message id (or its first 8 characters), sequence number (or …0001) or "
             "invocation number", self.xray or rm.newest_story_id(self.lab) or "")],
            ok="X-ray"), done)

    def action_toggle_why_full(self) -> None:
        self.why_full = not self.why_full
        self._show_panel("why")

