"""The Ordering panel: for a stream, one row per shard and lane (only the
lanes in view are read, each lane's records selected in SQL); for a queue,
a page of its messages."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from esmlab import readmodels as rm
from esmlab.readmodels import LANE_BACKLOG_CAP, rel, short_seq, short_shard
from esmlab.tui.widgets.chips import chip, key_style
from esmlab.tui.widgets.cursor import CURSOR_STYLE, CursorPanel, Rows
from esmlab.tui.widgets.lines import LinesView

QUEUE_PAGE = 50


class OrderingPanel(CursorPanel):
    def compose(self):
        yield LinesView(id="ordering-view")

    def lanes_in_view(self) -> int:
        """Two lines a lane (head and records) and a few for the headings."""
        return max(4, ((self.size.height or 40) - 4) // 2)

    @staticmethod
    def read(lab, view) -> dict | None:
        src = view.source
        if src is None:
            return None
        if src[0] == "stream":
            model = rm.stream_ordering(lab, src[1], lane_offset=view.lane_offset,
                                       lane_limit=view.lane_limit)
            model["kind"] = "stream"
            return model
        model = rm.queue_ordering(lab, src[1], view.queue_offset, QUEUE_PAGE)
        model["kind"] = "queue"
        return model

    def show(self, model: dict | None) -> None:
        # another stream or queue: the cursor starts at its home again
        what = model and (model["kind"], model.get("stream") or model.get("queue"))
        if what != getattr(self, "_what", None):
            self._what = what
            self.move_cursor(0)
        super().show(model)

    def home(self, model: dict | None) -> tuple[int, int]:
        """On a stream, the head of the first blocked (else in-flight) batch."""
        if not model or model["kind"] != "stream":
            return (0, 0)
        lanes = [lane for m in model["mappings"] for lane in m["lanes"]]
        for busy in ("blocked", "in_flight"):
            for row, lane in enumerate(lanes):
                if lane[busy]:
                    head = next((i for i, r in enumerate(lane["waiting"]) if r.get("in_batch")), 0)
                    return (row, len(lane["done"]) + head)
        return (0, 0)

    def draw(self, model: dict | None, rows: Rows) -> None:
        if model is None:
            content = Group(Text("Select a stream, queue or mapping in the tree."))
        elif model["kind"] == "stream":
            content = render_stream(model, rows)
        else:
            content = render_queue(model, rows)
        # a page of lanes or messages: rendered at once, repainted in place
        self.query_one("#ordering-view", LinesView).show(content)


def _lane_head(lane: dict, factor: int) -> Text:
    where = short_shard(lane["shard_id"])
    if factor > 1:
        where += f" lane {lane['lane']}"
    backlog = lane["backlog"]
    backlog = f"{LANE_BACKLOG_CAP}+" if backlog > LANE_BACKLOG_CAP else backlog
    head = Text(f"{where}  checkpoint {short_seq(lane['checkpoint'])}  backlog {backlog}")
    if lane["blocked"]:
        retry = (f", retry in {rel(lane['retry_in_ms'])}"
                 if lane["retry_in_ms"] is not None else "")
        head.append(f"  BLOCKED attempt {lane['attempts']}{retry}", style="bold reverse")
    elif lane["in_flight"]:
        head.append(f"  batch in flight (invocation {lane['in_flight']})", style="bold")
    elif lane["status"] != "active":
        head.append(f"  {lane['status']}")
    else:
        head.append("  flowing")
    return head


def _lane_row(lane: dict, keys: dict, at: int | None = None) -> Text:
    """The lane's records as chips; `at` is the record under the cursor
    (an index into done + waiting), drawn reversed."""
    row = Text("  ")
    for i, r in enumerate(lane["done"]):
        keys[r["key"]] = None
        c = chip(short_seq(r["seq"]), r["key"], dim=True)
        if i == at:
            c.stylize(CURSOR_STYLE)
        row.append_text(c)
    row.append(" | ")
    opened = False
    for i, r in enumerate(lane["waiting"], start=len(lane["done"])):
        keys[r["key"]] = None
        if r.get("in_batch") and not opened:
            row.append("[")
            opened = True
        if opened and not r.get("in_batch"):
            row.append("]")
            opened = False
        c = chip(short_seq(r["seq"]), r["key"], batch=r.get("in_batch"))
        if i == at:
            c.stylize(CURSOR_STYLE)
        row.append_text(c)
    if opened:
        row.append("]")
    if not lane["waiting"]:
        row.append("(nothing waiting)", style="dim")
    return row


def _lines(parts: list, width: int) -> int:
    """Screen lines the stream's Texts take (a long lane row wraps)."""
    return sum(max(1, -(-p.cell_len // width) if width and not p.no_wrap else 1)
               + p.plain.count("\n") for p in parts)


def render_stream(model: dict, rows: Rows | None = None) -> Group:
    """Each lane's records are one cursor row (left/right move along it)."""
    rows = rows if rows is not None else Rows()
    parts: list = [Text(f"Stream {model['stream']}: one row per shard (and lane); records "
                        "coloured by partition key", style="bold")]
    keys: dict[str, None] = {}
    if not model["mappings"]:
        parts.append(Text("no mapping reads this stream yet"))
    for m in model["mappings"]:
        parts.append(Text(f"\nmapping {m['label']} -> {m['function']}  [{m['state']}]"
                          f"  ParallelizationFactor {m['factor']}", style="bold"))
        for lane in m["lanes"]:
            parts.append(_lane_head(lane, m["factor"]))
            records = lane["done"] + lane["waiting"]
            at = rows.add(_lines(parts, rows.width), [r["seq"] for r in records])
            parts.append(_lane_row(lane, keys, at))
    total, first = model["lane_total"], model["lane_offset"]
    shown = max((len(m["lanes"]) for m in model["mappings"]), default=0)
    if total > shown:
        parts.append(Text(f"lanes {first + 1}-{first + shown} of {total}  "
                          "(page: , previous  . next)", style="dim"))
    if keys:
        legend = Text("\nkeys: ")
        for k in list(keys)[:16]:
            legend.append_text(chip(k, k))
            legend.append(" ")
        parts.append(legend)
        parts.append(Text("dim = processed (behind the checkpoint), [ ] = the batch being "
                          "(re)tried, | = checkpoint", style="dim"))
    return Group(*parts)


def render_queue(model: dict, rows: Rows | None = None) -> Group:
    """Each message is a cursor row."""
    rows = rows if rows is not None else Rows()
    c = model["counts"]
    head = Text(f"Queue {model['queue']}{' (FIFO)' if model['fifo'] else ''}: "
                f"visible {c['visible']}  in flight {c['in_flight']}  delayed {c['delayed']}  "
                f"oldest {rel(c['oldest_age_ms'])}", style="bold")
    table = Table(expand=True, box=None, pad_edge=False)
    cols = ("#", "message", "state") + (("group",) if model["fifo"] else ()) + (
        "receives", "visible in", "body")
    for col in cols:
        table.add_column(col, no_wrap=True, overflow="ellipsis")
    for i, r in enumerate(model["rows"], start=model["offset"] + 1):
        group = r["group_id"] or ""
        cells = [str(i), r["message_id"][:8], r["state"]]
        if model["fifo"]:
            cells.append(Text(group, style=key_style(group)))
        cells += [str(r["receive_count"]),
                  rel(r["ms_until_visible"]) if r["ms_until_visible"] else "now",
                  r["body"][:60]]
        at = rows.add(2 + len(rows), [r["message_id"]])      # under the head and the header
        table.add_row(*cells, style=CURSOR_STYLE if at is not None else None)
    total = c["total"]
    shown = len(model["rows"])
    foot = Text(f"rows {model['offset'] + 1 if shown else 0}-{model['offset'] + shown} of "
                f"{total}  (page: , previous  . next)", style="dim")
    return Group(head, table, foot)
