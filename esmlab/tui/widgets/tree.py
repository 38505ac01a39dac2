"""The resource tree: streams with shards, queues with their DLQ, tables,
functions and mappings, each with live badges. Rebuilt only when the set of
resources changes; otherwise labels are updated in place."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree

from esmlab.readmodels import BACKLOG_CAP, SHARD_BADGES, short_shard
from esmlab.tui.widgets.lines import InPlace

# Mappings first: they are what the lab is about, and the one selected at
# start stays in view with its source below it on a short terminal.
SECTIONS = (("mappings", "Mappings"), ("streams", "Streams"), ("queues", "Queues"),
            ("tables", "Tables"), ("functions", "Functions"))


def _badge(text: Text, label: str, value, style: str = "") -> None:
    if value:
        text.append(f" {label}{value}", style=style)


class ResourceTree(InPlace, Tree):
    """Node data: (kind, name) with kind in stream/shard/queue/table/function/mapping."""

    def __init__(self, **kw):
        super().__init__("lab", **kw)
        self.show_root = False
        self.guide_depth = 2
        self._signature: tuple | None = None
        self._by_key: dict[tuple, object] = {}

    @staticmethod
    def read(lab, view=None) -> dict:
        from esmlab.readmodels import resources
        return resources(lab)

    def update_model(self, model: dict) -> None:
        sig = (tuple((s["name"], tuple(x["shard_id"] for x in s["shards"]))
                     for s in model["streams"]),
               tuple(q["name"] for q in model["queues"]), tuple(model["tables"]),
               tuple(f["name"] for f in model["functions"]),
               tuple(m["label"] for m in model["mappings"]))
        if sig != self._signature:
            self._rebuild(model)
            self._signature = sig
        self._relabel(model)

    def _rebuild(self, model: dict) -> None:
        self.clear()
        self._by_key = {}
        sections = {}
        for key, title in SECTIONS:
            if model[key]:          # an empty section is noise for a new user
                sections[key] = self.root.add(title, expand=True, data=("section", key))
        for s in model["streams"]:
            # a stream of hundreds of shards starts folded: its shard lines
            # are labelled when it is opened, not after every command
            node = sections["streams"].add(s["name"], expand=len(s["shards"]) <= SHARD_BADGES,
                                           data=("stream", s["name"]))
            self._by_key[("stream", s["name"])] = node
            for sh in s["shards"]:
                self._by_key[("shard", s["name"], sh["shard_id"])] = node.add_leaf(
                    sh["shard_id"], data=("shard", s["name"], sh["shard_id"]))
        for q in model["queues"]:
            self._by_key[("queue", q["name"])] = sections["queues"].add_leaf(
                q["name"], data=("queue", q["name"]))
        for t in model["tables"]:
            self._by_key[("table", t)] = sections["tables"].add_leaf(t, data=("table", t))
        for f in model["functions"]:
            self._by_key[("function", f["name"])] = sections["functions"].add_leaf(
                f["name"], data=("function", f["name"]))
        for m in model["mappings"]:
            self._by_key[("mapping", m["label"])] = sections["mappings"].add_leaf(
                m["label"], data=("mapping", m["label"]))

    def _relabel(self, model: dict) -> None:
        self._model = model
        for s in model["streams"]:
            blocked = any(sh["blocked"] for sh in s["shards"])
            t = Text(s["name"])
            _badge(t, "⛔", "" if not blocked else " blocked", "bold reverse")
            self._set(("stream", s["name"]), t)
            self._relabel_shards(s)
        self._relabel_rest(model)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        data = event.node.data
        model = getattr(self, "_model", None)
        if model is not None and data and data[0] == "stream":
            for s in model["streams"]:
                if s["name"] == data[1]:
                    self._relabel_shards(s)

    def _relabel_shards(self, s: dict) -> None:
        stream = self._by_key.get(("stream", s["name"]))
        if stream is not None and not stream.is_expanded:
            return
        for sh in s["shards"]:
            t = Text(short_shard(sh["shard_id"]))
            if sh["blocked"]:     # first, so a narrow column never cuts it
                t.append(" ⛔BLOCKED", style="bold reverse")
            b = sh["backlog"]
            cap = sh.get("backlog_cap", BACKLOG_CAP)
            if b is not None:
                _badge(t, "≡", f"{cap}+" if b > cap else b)
            _badge(t, "▶", sh["in_flight"])
            self._set(("shard", s["name"], sh["shard_id"]), t)

    def _relabel_rest(self, model: dict) -> None:
        for q in model["queues"]:
            c = q["counts"]
            t = Text(q["name"])
            if q["is_dlq"]:
                t.append(" (DLQ)", style="italic")
            _badge(t, "≡", c["visible"])
            _badge(t, "▶", c["in_flight"])
            _badge(t, "⏲", c["delayed"])
            if q["dlq"]:
                _badge(t, "☠", q["dlq_count"], "bold")
            self._set(("queue", q["name"]), t)
        for f in model["functions"]:
            t = Text(f["name"])
            if f["mode"] != "succeed":
                t.append(f" [{f['mode']}]", style="bold")
            if f["reserved"] == 0:
                t.append(" [throttled]", style="bold")
            _badge(t, "▶", f["running"])
            self._set(("function", f["name"]), t)
        for m in model["mappings"]:
            # the badges before the function's name, so a narrow column cuts
            # the name (the card under the tree shows it), never a ⛔
            t = Text(m["label"])
            if m["blocked"]:
                t.append(f" ⛔{m['blocked']}", style="bold reverse")
            if m["state"] != "Enabled":
                t.append(f" {m['state']}", style="italic")
            _badge(t, "▶", m["in_flight"])
            t.append(f" → {m['function']}")
            self._set(("mapping", m["label"]), t)

    def _set(self, key: tuple, label: Text) -> None:
        node = self._by_key.get(key)
        if node is not None and node.label != label:
            node.set_label(label)

    def node_for(self, key: tuple):
        return self._by_key.get(key)

    def show(self, key: tuple) -> None:
        """Put the cursor on a resource's node (no selection message)."""
        node = self._by_key.get(key)
        if node is not None and self.cursor_node is not node:
            _ = self._tree_lines  # lays out the lines, so node._line is known
            self.move_cursor(node)
