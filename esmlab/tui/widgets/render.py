"""Rich renderables built from read models (plain data in, Rich out)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from esmlab.readmodels import key_colour_index, rel, short_seq, short_shard

KEY_COLOURS = ("red", "green", "yellow", "blue", "magenta", "cyan", "bright_red",
               "bright_green", "bright_yellow", "bright_blue", "bright_magenta", "bright_cyan")


def key_style(key: str | None) -> str:
    return f"black on {KEY_COLOURS[key_colour_index(key, len(KEY_COLOURS))]}"


def chip(label: str, key: str | None, *, dim: bool = False, batch: bool = False) -> Text:
    style = key_style(key)
    if dim:
        style += " dim"
    if batch:
        style += " bold underline"
    return Text(f" {label} ", style=style)


def stream_ordering(model: dict) -> Group:
    parts: list = [Text(f"Stream {model['stream']}: one row per shard (and lane); records "
                        "coloured by partition key", style="bold")]
    keys: dict[str, None] = {}
    if not model["mappings"]:
        parts.append(Text("no mapping reads this stream yet"))
    for m in model["mappings"]:
        parts.append(Text(f"\nmapping {m['label']} -> {m['function']}  [{m['state']}]"
                          f"  ParallelizationFactor {m['factor']}", style="bold"))
        for lane in m["lanes"]:
            where = short_shard(lane["shard_id"])
            if m["factor"] > 1:
                where += f" lane {lane['lane']}"
            head = Text(f"{where}  checkpoint {short_seq(lane['checkpoint'])}  "
                        f"backlog {lane['backlog']}")
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
            parts.append(head)
            row = Text("  ")
            for r in lane["done"]:
                keys[r["key"]] = None
                row.append_text(chip(short_seq(r["seq"]), r["key"], dim=True))
            row.append(" | ")
            opened = False
            for r in lane["waiting"]:
                keys[r["key"]] = None
                if r.get("in_batch") and not opened:
                    row.append("[")
                    opened = True
                if opened and not r.get("in_batch"):
                    row.append("]")
                    opened = False
                row.append_text(chip(short_seq(r["seq"]), r["key"], batch=r.get("in_batch")))
            if opened:
                row.append("]")
            if not lane["waiting"]:
                row.append("(nothing waiting)", style="dim")
            parts.append(row)
    if keys:
        legend = Text("\nkeys: ")
        for k in list(keys)[:16]:
            legend.append_text(chip(k, k))
            legend.append(" ")
        parts.append(legend)
        parts.append(Text("dim = processed (behind the checkpoint), [ ] = the batch being "
                          "(re)tried, | = checkpoint", style="dim"))
    return Group(*parts)


def queue_ordering(model: dict) -> Group:
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
        table.add_row(*cells)
    total = c["total"]
    shown = len(model["rows"])
    foot = Text(f"rows {model['offset'] + 1 if shown else 0}-{model['offset'] + shown} of "
                f"{total}  (page: , previous  . next)", style="dim")
    return Group(head, table, foot)


def dead_letters(model: dict) -> Group:
    parts: list = []
    if not model["queues"] and not model["sinks"]:
        return Group(Text("No DLQ or on-failure destination is configured."))
    for q in model["queues"]:
        what = []
        if q["sources"]:
            what.append("DLQ of " + ", ".join(q["sources"]))
        if q["destination"]:
            what.append("OnFailure destination")
        parts.append(Text(f"{q['name']}  ({'; '.join(what)})  {q['counts']['total']} message(s)",
                          style="bold"))
        table = Table(expand=True, box=None, pad_edge=False)
        for col in ("message", "recv", "moved", "body / record", "why"):
            table.add_column(col, overflow="fold" if col == "why" else "ellipsis",
                             no_wrap=col != "why")
        for r in q["rows"]:
            body = r["body"]
            if isinstance(r.get("record"), dict):
                ctx = r["record"].get("requestContext", {})
                body = ctx.get("condition") or body
            table.add_row(r["message_id"][:8], str(r["receive_count"]),
                          rel(r["moved_at_ms"] - model.get("start_ms", r["moved_at_ms"]))
                          if "start_ms" in model else str(r["moved_at_ms"]),
                          body[:40], r["why"])
        parts.append(table)
    for s in model["sinks"]:
        parts.append(Text(f"{s['kind']} {s['name']}: {s['count']} record(s)", style="bold"))
        for it in s["items"]:
            parts.append(Text(f"  {it.get('reason') or ''}  {str(it.get('body'))[:100]}"))
    return Group(*parts)


def function_card(card: dict | None) -> Group | Text:
    """The card's facts are one line each (cut with … when the column is
    narrow), so the toggle-key line below them always shows."""
    if card is None:
        return Text("no function")

    def line(text: str, style: str = "") -> Text:
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")
    reserved = card["reserved"]
    lines = [line(f"λ {card['name']}", "bold"), line(card["describe"]),
             line(f"reserved {'-' if reserved is None else reserved}"
                  f"{'  THROTTLED' if reserved == 0 else ''}  timeout {card['timeout']}s"),
             line(f"running {card['running']}  invoked {card['invocations']}")]
    if card["recent"]:
        lines.append(line("recent: " + "".join(
            {"success": "✓", "error": "✗", "timeout": "⌛", "throttled": "⊘",
             "running": "▶"}.get(r["status"], "?") for r in card["recent"])))
    lines.append(Text("1fail 2poison 3flaky 4timeout 5partial 6throttle 0heal 7more…",
                      style="dim"))
    return Group(*lines)
