"""The Reprocessing panel: a mapping's batches and what happened to each
attempt (retries, bisect halves nested under their batch). One event is one
node, cut to the width; the highlighted event's whole sentence shows in the
line below the tree."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static, Tree

from esmlab import readmodels as rm
from esmlab.readmodels import rel, short_shard
from esmlab.tui.widgets.lines import InPlace

BATCHES_SHOWN = 100


class BatchTree(InPlace, Tree):
    """Rebuilt after each step: repainted in place, not laid out again. Its
    scrollbar always shows, so batches that outgrow the view (up to
    BATCHES_SHOWN of them, each with its events) do not lay out the whole
    screen when the scrollbar would appear; it has no horizontal one (its
    labels are cut to the width, the line below shows the whole sentence)."""

    DEFAULT_CSS = """
    BatchTree {
        overflow-y: scroll;
        overflow-x: hidden;
    }
    """


class ReprocessingPanel(Vertical):
    def compose(self):
        yield BatchTree("batches", id="reprocessing-tree")
        yield Static(id="reprocessing-detail")

    @staticmethod
    def read(lab, view) -> dict | None:
        m = view.mapping
        if m is None:
            return None
        dead: set = set()
        if m["kind"] == "sqs":
            # messages the source queue moved to its DLQ (☠; ⛔ means a blocked shard)
            dead = {ev["subject"] for ev in lab.journal(
                resource=m["source"], kind="sqs.moved_to_dlq", newest_first=True, limit=400)}
        return {"mapping": m, "batches": rm.reprocessing(lab, m["label"])[-BATCHES_SHOWN:],
                "dead": dead, "start_ms": view.start_ms}

    def show(self, model: dict | None) -> None:
        tree = self.query_one(Tree)
        if model is None:
            tree.clear()
            self._shown_batches = []
            _detail(self, Text())
            tree.root.set_label("select a mapping")
            return
        m = model["mapping"]
        label = f"{m['label']}: batches and attempts (newest events last)"
        if str(tree.root.label) != label:
            tree.clear()
            self._shown_batches = []
            _detail(self, Text())
            tree.root.set_label(label)
        self._update_batches(tree, model)
        tree.root.expand()
        if tree.root.children:
            tree.root.children[-1].expand()

    def _update_batches(self, tree, model: dict) -> None:
        """Change only the batches that changed: after a step the oldest may
        drop out of the window, the newest gain events or follow; the nodes
        of the others (and whether they are open) stay as they are."""
        m, dead, start = model["mapping"], model["dead"], model["start_ms"]
        new = [(_signature(b, m, dead), b) for b in model["batches"]]
        old: list = getattr(self, "_shown_batches", [])
        # align on what names a batch (the oldest one's first events may have
        # left the journal window: that node is replaced, the others kept)
        first = _name(new[0][1]) if new else None
        drop = next((j for j, (sig, _) in enumerate(old) if sig[1:4] == first), len(old))
        for _, node in old[:drop]:
            node.remove()
        kept = old[drop:]
        shown: list = []
        for i, (sig, batch) in enumerate(new):
            if i < len(kept) and kept[i][0] == sig:
                shown.append(kept[i])
                continue
            if i < len(kept):
                kept[i][1].remove()
            after = shown[-1][1] if shown else None
            node = _add(tree.root, batch, m, dead, start, after=after,
                        at_start=after is None and bool(tree.root.children))
            shown.append((sig, node))
        for _, node in kept[len(new):]:
            node.remove()
        self._shown_batches = shown

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()      # the resource tree's handler is for the resource tree
        data = event.node.data or {}
        _detail(self, Text(data["text"], style="dim") if data.get("text") else Text())

    def current_ref(self) -> str | None:
        """What `w` x-rays: the invocation the highlighted event names, else
        the first record of the highlighted batch."""
        node = self.query_one(Tree).cursor_node
        data = (node.data if node is not None else None) or {}
        return data.get("ref")


def _detail(panel, text: Text) -> None:
    """The line below the tree: its height is fixed (app.tcss), so a new
    sentence repaints it without a layout of the screen."""
    panel.query_one("#reprocessing-detail", Static).update(text, layout=False)


def _mark(batch: dict, m: dict, dead: set) -> str:
    kinds = {ev["kind"] for ev in batch["events"]}
    failed = "batch.failed" in kinds and "batch.succeeded" not in kinds
    mark = ("⛔ " if failed and m["kind"] != "sqs" else "✗ " if failed
            else "✓ " if "batch.succeeded" in kinds else "")
    if dead and dead.intersection(batch["records"]):
        mark = "☠ "
    if "batch.discarded" in kinds:
        mark = "🗑 "
    return mark


def _name(batch: dict) -> tuple:
    return (batch["title"], batch["subject"], tuple(batch["records"]))


def _signature(batch: dict, m: dict, dead: set) -> tuple:
    return (_mark(batch, m, dead), batch["title"], batch["subject"], tuple(batch["records"]),
            tuple((ev["at_ms"], ev["kind"], ev["reason"], ev.get("invocation"))
                  for ev in batch["events"]),
            tuple(_signature(c, m, dead) for c in batch["children"]))


def _add(parent, batch: dict, m: dict, dead: set, start: int, after=None,
         at_start: bool = False):
    where = short_shard(batch["subject"]) if batch["subject"] else ""
    first = batch["records"][0] if batch["records"] else None
    label = f"{_mark(batch, m, dead)}{batch['title']}  {where}"
    data = {"text": None, "ref": first}
    if after is not None:
        node = parent.add(label, expand=False, after=after, data=data)
    elif at_start:
        node = parent.add(label, expand=False, before=0, data=data)
    else:
        node = parent.add(label, expand=False, data=data)
    for ev in batch["events"]:
        text = f"T+{rel(ev['at_ms'] - start)} {ev['kind']}: {ev['reason']}"
        ref = str(ev["invocation"]) if ev.get("invocation") is not None else first
        node.add_leaf(Text(text, no_wrap=True, overflow="ellipsis"),
                      data={"text": text, "ref": ref})
    for child in batch["children"]:
        _add(node, child, m, dead, start)
    return node
