"""The command line: `esmlab` opens the lab on ./lab.db; subcommands play
scenarios, manage snapshots and print summaries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from esmlab.errors import AwsError, LabError

DEFAULT_LAB = "lab.db"


def open_or_create(path: str | Path):
    """Open the lab at `path`, creating it with the starter lab on first run."""
    from esmlab.lab import Lab
    from esmlab.starter import build_starter

    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        return Lab.open(path), False
    lab = Lab.create(path, name=path.stem)
    build_starter(lab)
    return lab, True


def _info(args) -> int:
    from esmlab.lab import Lab
    from esmlab.summary import print_summary

    path = Path(args.lab or DEFAULT_LAB)
    if args.lab:
        lab = Lab.open(path)
    else:
        lab, _ = open_or_create(path)
    print_summary(lab)
    lab.close()
    return 0


def _ui(args) -> int:
    path = args.lab or DEFAULT_LAB
    lab, created = open_or_create(path)
    try:
        from esmlab.tui.app import run_app
    except ImportError:
        from esmlab.summary import print_summary
        print_summary(lab)
        lab.close()
        return 0
    lab.close()
    return run_app(path, created=created)


def _play(args) -> int:
    from esmlab.scenario.report import play_files
    return play_files(args.files, lab=args.lab, report=args.report, quiet=args.quiet)


def _lessons(args) -> int:
    from esmlab.lessons import lesson_dir, list_lessons
    from esmlab.scenario.loader import ScenarioError, load_scenario

    lessons = list_lessons()
    if not lessons:
        print("no lesson library found", file=sys.stderr)
        return 2
    for path in lessons:
        try:
            title = load_scenario(path).title
        except ScenarioError as exc:
            title = f"(invalid: {exc.message})"
        print(f"{path.stem:34} {title}")
    print(f"\n{len(lessons)} lessons in {lesson_dir()}; play one with: esmlab play NAME")
    return 0


def _conformance(args) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from esmlab.conformance import conformance_dir, run_all

    rows = run_all()
    if not rows:
        print("no conformance cases found", file=sys.stderr)
        return 2
    failed = sum(1 for r in rows if r["result"] != "pass")
    if args.json:
        print(json.dumps({"ok": not failed, "cases": rows}, indent=2))
        return 1 if failed else 0
    table = Table("rule", "evidence", "result", show_lines=True)
    for r in rows:
        evidence = f"{r['source']}: {r['where']}" if r["source"] else "(none)"
        if r["follows"]:
            evidence += f"\n(the lab follows the {r['follows']})"
        result = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]"}.get(
            r["result"], "[red]invalid[/red]")
        if r["detail"] and r["result"] != "pass":
            result += "\n" + r["detail"]
        table.add_row(f"{r['rule'] or r['case']}\n[dim]{r['case']}[/dim]", evidence, result,
                      )
    console = Console()
    console.print(table, highlight=False)
    console.print(f"{len(rows) - failed} of {len(rows)} conformance cases pass "
                  f"({conformance_dir()}); play one with: esmlab play PATH", highlight=False)
    return 1 if failed else 0


def _snapshot(args) -> int:
    from esmlab.lab import Lab

    lab = Lab.open(args.lab or DEFAULT_LAB)
    try:
        if args.action == "save":
            lab.save_snapshot(args.name)
            print(f"saved snapshot {args.name}")
        elif args.action == "restore":
            lab.restore_snapshot(args.name)
            print(f"restored snapshot {args.name}")
        elif args.action == "delete":
            lab.delete_snapshot(args.name)
            print(f"deleted snapshot {args.name}")
        else:
            from esmlab.engine.payloads import iso
            for s in lab.snapshots():
                since = (s["saved_at_ms"] - lab.engine.start_ms) / 1000
                print(f"{s['name']}\tT+{since:g} s ({iso(s['saved_at_ms'])})\t"
                      f"{s['commands']} commands")
    finally:
        lab.close()
    return 0


def _export(args) -> int:
    from esmlab.lab import Lab
    from esmlab.scenario.export import export_event, export_scenario

    lab = Lab.open(args.lab or DEFAULT_LAB)
    try:
        if args.what == "scenario":
            print(export_scenario(lab, name=args.name or Path(lab.path).stem), end="")
        else:
            print(export_event(lab, int(args.invocation)), end="")
    finally:
        lab.close()
    return 0


def _compare(args) -> int:
    from esmlab.scenario.compare import run_compare
    return run_compare(args.lesson, args.set or [], as_json=args.json)


def _import(args) -> int:
    from esmlab.imports.command import run_import
    return run_import(args.file, getattr(args, "lab", None), args.parameter or [],
                      args.scenario, interactive=sys.stdin.isatty() and not args.no_input)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="esmlab", description=(
        "A terminal lab for AWS Lambda event source mappings. With no command, "
        "opens the lab in ./lab.db (created with a starter lab on first run)."))
    p.add_argument("--lab", help="the lab file (default ./lab.db)")
    sub = p.add_subparsers(dest="command")
    info = sub.add_parser("info", help="print a summary of a lab file")
    info.add_argument("lab", nargs="?", help="the lab file (default ./lab.db)")
    sub.add_parser("lessons", help="list the lesson library (play one: esmlab play NAME)")
    play = sub.add_parser("play", help="play scenario files (or lessons by name) headless")
    play.add_argument("files", nargs="+", help="scenario files, or lesson names from "
                                               "`esmlab lessons`")
    play.add_argument("--lab", help="keep the lab in this file (default: a temporary lab)")
    play.add_argument("--report", choices=("rich", "json"), default="rich")
    play.add_argument("--quiet", action="store_true", help="print only the verdicts")
    conf = sub.add_parser("conformance", help="play the conformance cases and list each "
                                              "rule, its evidence and the result")
    conf.add_argument("--json", action="store_true", help="print the table as JSON")
    snap = sub.add_parser("snapshot", help="save, list, restore or delete snapshots")
    snap.add_argument("action", choices=("save", "list", "restore", "delete"))
    snap.add_argument("name", nargs="?")
    exp = sub.add_parser("export", help="export the lab as a scenario, or an invocation's event")
    exp.add_argument("what", choices=("scenario", "event"))
    exp.add_argument("invocation", nargs="?", help="invocation id (for 'event')")
    exp.add_argument("--name", help="scenario name (for 'scenario')")
    cmp = sub.add_parser("compare", help="play a lesson as written and with changed settings, "
                                         "side by side")
    cmp.add_argument("lesson", help="a lesson name from `esmlab lessons`, or a scenario file")
    cmp.add_argument("--set", action="append", metavar="PATH=VALUE",
                     help="a changed setting, e.g. mappings.orders.BatchSize=5, "
                          "queues.orders.VisibilityTimeout=180 or profile=classic (repeatable)")
    cmp.add_argument("--json", action="store_true", help="one JSON document")
    imp = sub.add_parser("import", help="build a lab from a SAM or CloudFormation template or "
                                        "a Terraform module")
    imp.add_argument("file", help="template (.yaml, .yml, .json) or Terraform (.tf or a folder)")
    imp.add_argument("--lab", default=argparse.SUPPRESS, help="the new lab file (default ./lab.db)")
    imp.add_argument("--parameter", action="append", metavar="NAME=VALUE",
                     help="a template parameter, Terraform variable or imported value")
    imp.add_argument("--scenario", metavar="FILE.yaml", help="also write the lab as a lesson file")
    imp.add_argument("--no-input", action="store_true",
                     help="never ask for missing values: assume them and say so")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {None: _ui, "info": _info, "play": _play, "snapshot": _snapshot,
                "export": _export, "lessons": _lessons, "compare": _compare, "import": _import}
    handlers["conformance"] = _conformance
    if args.command == "snapshot" and args.action != "list" and not args.name:
        print("esmlab snapshot: a NAME is needed", file=sys.stderr)
        return 2
    try:
        return handlers[args.command](args)
    except (AwsError, LabError) as exc:
        print(f"esmlab: {exc}", file=sys.stderr)
        if getattr(exc, "hint", None):  # the lab's advice, beside AWS's message
            print(f"esmlab: lab hint: {exc.hint}", file=sys.stderr)
        return 2
