"""A rich, one-screen summary of a lab (what `esmlab info` prints)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from esmlab.engine.payloads import iso


def print_summary(lab, console: Console | None = None) -> None:
    console = console or Console()
    s = lab.summary()
    elapsed = (s["now_ms"] - s["start_ms"]) / 1000
    console.print(f"[bold]{s['name']}[/] — {s['path']}")
    console.print(f"clock {iso(s['now_ms'])} (T+{elapsed:g} s) · seed {s['seed']} · "
                  f"SQS scaling profile {s['profile']} · {s['commands']} commands · "
                  f"{s['journal']} journal events · {s['invocations']} invocations")
    table = Table("kind", "name", "detail", title="resources", title_justify="left")
    from esmlab.engine.function import describe_behaviour
    for f in s["functions"]:
        card = lab.engine.functions.summary(f)
        reserved = card["config"]["ReservedConcurrentExecutions"]
        table.add_row("function", f, f"{describe_behaviour(card['behaviour'])}; Timeout "
                      f"{card['config']['Timeout']} s"
                      + ("" if reserved is None else f"; reserved concurrency {reserved}"))
    for q, c in s["queues"]:
        table.add_row("queue", q, f"{c['visible']} visible, {c['in_flight']} in flight, "
                      f"{c['delayed']} delayed")
    for st in s["streams"]:
        info = lab.engine.streams.info(st)
        open_shards = sum(1 for sh in info["shards"] if sh["open"])
        table.add_row("stream" if info["kind"] == "kinesis" else "table stream", st,
                      f"{open_shards} open shard(s), retention {info['retention_ms'] // 3600000} h")
        if info["kind"] == "kinesis":
            for c in lab.engine.consumers.list(info["arn"])["Consumers"]:
                table.add_row("consumer", f"{st}/{c['ConsumerName']}",
                              f"enhanced fan-out, {c['ConsumerStatus']}")
    for t in s["tables"]:
        table.add_row("table", t, "")
    for label, state, kind in s["mappings"]:
        table.add_row("mapping", label, f"{kind}, {state}")
    for name, kind in s["sinks"]:
        table.add_row(kind, name, "")
    console.print(table)
