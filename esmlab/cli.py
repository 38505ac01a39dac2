"""The command line: `esmlab` opens the lab on ./lab.db; subcommands play
scenarios, manage snapshots, copy the lab and print summaries.

Whatever the arguments, the user gets a sentence and a non-zero exit code,
never a traceback: argparse's errors are reworded, and every error the lab,
the file system or SQLite can raise is caught in `main`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from esmlab.errors import AwsError, LabError

DEFAULT_LAB = "lab.db"


class UsageError(Exception):
    """Arguments that parse but do not make sense together."""


def open_or_create(path: str | Path):
    """Open the lab at `path`, creating it with the starter lab when nothing
    is there yet (no file, or an empty one)."""
    from esmlab.lab import Lab
    from esmlab.starter import build_starter
    from esmlab.store import inspect_lab_file

    path = Path(path)
    if inspect_lab_file(str(path), must_exist=False) is None:
        return Lab.create(path, name=path.stem, setup=build_starter), True
    return Lab.open(path), False


def _lab_path(args) -> str:
    return args.lab or DEFAULT_LAB


def _info(args) -> int:
    from esmlab.lab import Lab
    from esmlab.summary import print_summary

    if args.file and args.lab and args.file != args.lab:
        raise UsageError(f"two lab files given ({args.file} and --lab {args.lab}); give one")
    path = Path(args.file or _lab_path(args))
    if not (args.file or args.lab) and not path.exists():
        lab, _ = open_or_create(path)   # first run in this folder: the starter lab
    else:
        lab = Lab.open(path, readonly=True)
    try:
        print_summary(lab)
    finally:
        lab.close()
    return 0


def _why(args) -> int:
    """esmlab why ID: one record's life line (esmlab.story); exit 1 when no
    record, message or invocation in the lab has that id."""
    import json

    from esmlab import story
    from esmlab.lab import Lab
    from esmlab.readmodels import rel

    lab = Lab.open(Path(_lab_path(args)), readonly=True)
    try:
        s = story.story(lab, args.id)
    finally:
        lab.close()
    if s is None:
        print(f"esmlab why: nothing in {_lab_path(args)} has the id {args.id!r} (a message "
              "id, a sequence number or an invocation number)", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(s, indent=2, default=str, ensure_ascii=False))
    else:
        print("\n".join(story.story_lines(s, rel)))
    return 0


def _ui(args) -> int:
    from esmlab.errors import LabBusy, LabReadOnly
    from esmlab.lab import Lab

    path = _lab_path(args)
    try:
        lab, created = open_or_create(path)
    except (LabReadOnly, LabBusy) as exc:
        # The screen still opens, read-only: each change it is asked for gets
        # a sentence on screen instead of the lab exiting.
        print(f"esmlab: {exc}; showing it read-only", file=sys.stderr)
        return _screen(path, Lab.open(path, readonly=True))
    try:
        from esmlab.tui.app import run_app
    except ImportError:
        from esmlab.summary import print_summary
        print_summary(lab)
        lab.close()
        return 0
    lab.close()
    return run_app(path, created=created)


def _screen(path: str, lab) -> int:
    try:
        from esmlab.tui.app import EsmlabApp
    except ImportError:
        from esmlab.summary import print_summary
        print_summary(lab)
        lab.close()
        return 0
    EsmlabApp(path, lab=lab).run()
    return 0


def _play(args) -> int:
    from esmlab.scenario.report import play_files
    return play_files(args.files, lab=args.lab, report=args.report, quiet=args.quiet,
                      quiz=args.quiz, answers=args.answers)


def _lessons(args) -> int:
    import json

    from esmlab import progress
    from esmlab.lessons import learning_path, lesson_dir, list_conformance, list_lessons
    from esmlab.scenario.loader import ScenarioError, load_scenario

    if not list_lessons():
        print("no lesson library found", file=sys.stderr)
        return 2

    def title(path) -> str:
        try:
            return load_scenario(path).title
        except ScenarioError as exc:
            return f"(invalid: {exc.message})"

    done = progress.lessons()
    try:
        from esmlab.scenario.challenge import progress as challenge_progress
        solved = challenge_progress()
    except ImportError:  # the challenges are not built in this version
        solved = {}
    sections = []
    for section, paths in learning_path():
        items = []
        for path in paths:
            entry = (solved if section == "challenges" else done).get(path.stem) or {}
            items.append({"name": path.stem, "title": title(path), "file": str(path),
                          "finished": bool(entry.get("solved" if section == "challenges"
                                                     else "finished")),
                          **({"attempts": int(entry.get("attempts", 0))}
                             if section == "challenges" else
                             {"plays": int(entry.get("plays", 0)),
                              "predictions": entry.get("predictions")})})
        sections.append({"section": section, "items": items})
    cases = [{"name": p.stem, "title": title(p), "file": str(p)} for p in list_conformance()]
    if args.json:
        print(json.dumps({"path": sections, "conformance": cases,
                          "progress_file": str(progress.progress_path())}, indent=2))
        return 0
    width = max([len(i["name"]) for s in sections for i in s["items"]]
                + [len(c["name"]) for c in cases] + [30])
    print("The path through the lessons: " + " -> ".join(s["section"] for s in sections))
    print(f"(✓ finished, · not yet; your progress is kept in {progress.progress_path()})")
    for s in sections:
        print(f"\n{s['section']}")
        if not s["items"]:
            print("  (none yet)")
        for item in s["items"]:
            mark = "✓" if item["finished"] else "·"
            extra = ""
            if item.get("predictions"):
                p = item["predictions"]
                extra = f"  predictions {p['right']}/{p['asked']} right"
            elif item.get("attempts") and not item["finished"]:
                extra = f"  {item['attempts']} attempt(s)"
            print(f"  {mark} {item['name']:{width}} {item['title']}{extra}")
    if cases:
        print("\nconformance cases: one recorded AWS rule each (esmlab conformance plays them)")
        for case in cases:
            print(f"    {case['name']:{width}} {case['title']}")
    lessons = [i for s in sections if s["section"] != "challenges" for i in s["items"]]
    challenges = next(s["items"] for s in sections if s["section"] == "challenges")
    print(f"\n{len(lessons)} lessons ({sum(i['finished'] for i in lessons)} finished), "
          f"{len(challenges)} challenges ({sum(i['finished'] for i in challenges)} solved), "
          f"{len(cases)} conformance cases in {lesson_dir()}; play one with: esmlab play NAME")
    return 0


# Below this many columns the three-column table cuts case names, paths and
# URLs in the middle (at 80, 'control-delete-function-keeps-ma' / 'pping'):
# there each case is a block of whole lines instead.
CONFORMANCE_TABLE_WIDTH = 120


def _print_conformance_case(console, r: dict) -> None:
    """One case as a block: result and name, the rule wrapped at spaces, then
    the evidence's source and its location on a line of its own, never cut
    (a path or URL wider than the terminal is left for it to wrap, whole to
    copy)."""
    import textwrap

    from rich.text import Text

    def say(text: str, style: str = "") -> None:
        for line in textwrap.wrap(text, max(20, console.width - 2), break_long_words=False,
                                  break_on_hyphens=False) or [""]:
            console.print(Text("  " + line, style=style), highlight=False, soft_wrap=True)
    head = Text("\n")
    head.append({"pass": "pass", "fail": "FAIL"}.get(r["result"], "invalid"),
                style="green" if r["result"] == "pass" else "bold red")
    head.append(f"  {r['case']}", style="bold")
    console.print(head, highlight=False, soft_wrap=True)
    say(r["rule"] or r["case"])
    if r["source"]:
        follows = f" (the lab follows the {r['follows']})" if r["follows"] else ""
        say(f"evidence {r['source']}{follows}:", "dim")
        console.print(Text(f"  {r['where']}"), highlight=False, soft_wrap=True)
    else:
        say("evidence: (none)", "dim")
    if r["detail"] and r["result"] != "pass":
        say(r["detail"], "red")


def _conformance(args) -> int:
    import json

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from esmlab.conformance import conformance_dir, run_all

    rows = run_all()
    if not rows:
        print("no conformance cases found", file=sys.stderr)
        return 2
    failed = sum(1 for r in rows if r["result"] != "pass")
    from esmlab import __version__
    if args.json:
        print(json.dumps({"ok": not failed, "esmlab_version": __version__, "cases": rows},
                         indent=2))
        return 1 if failed else 0
    console = Console()
    console.print(f"conformance cases, esmlab {__version__} (each plays from its own seed)",
                  highlight=False, soft_wrap=True)
    if console.width < CONFORMANCE_TABLE_WIDTH:
        for r in rows:
            _print_conformance_case(console, r)
        console.print(f"\n{len(rows) - failed} of {len(rows)} conformance cases pass "
                      f"({conformance_dir()}); play one with: esmlab play PATH", highlight=False)
        return 1 if failed else 0
    table = Table(show_lines=True)
    for column in ("rule", "evidence", "result"):
        table.add_column(column, overflow="fold")  # a path is shown whole, not cut
    for r in rows:
        evidence = escape(f"{r['source']}: {r['where']}") if r["source"] else "(none)"
        if r["follows"]:
            evidence += f"\n(the lab follows the {r['follows']})"
        result = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]"}.get(
            r["result"], "[red]invalid[/red]")
        if r["detail"] and r["result"] != "pass":
            result += "\n" + escape(r["detail"])
        table.add_row(f"{escape(r['rule'] or r['case'])}\n[dim]{r['case']}[/dim]", evidence,
                      result)
    console.print(table, highlight=False)
    console.print(f"{len(rows) - failed} of {len(rows)} conformance cases pass "
                  f"({conformance_dir()}); play one with: esmlab play PATH", highlight=False)
    return 1 if failed else 0


def _describe_snapshot(lab, s: dict) -> str:
    from esmlab.engine.payloads import iso
    since = (s["saved_at_ms"] - lab.engine.start_ms) / 1000
    return f"saved at T+{since:g} s ({iso(s['saved_at_ms'])}), {s['commands']} commands"


def _describe_commands(lab, commands: list[dict]) -> str:
    first, last = (c["at_ms"] - lab.engine.start_ms for c in (commands[0], commands[-1]))
    names = sorted({c["name"] for c in commands})
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    span = f"at T+{first / 1000:g} s" if first == last else \
        f"from T+{first / 1000:g} s to T+{last / 1000:g} s"
    return f"{len(commands)} command(s) {span} ({shown})"


def _snapshot(args) -> int:
    from esmlab.lab import Lab

    if args.action != "list" and not args.name:
        raise UsageError(f"snapshot {args.action} needs a NAME "
                         f"(esmlab snapshot {args.action} NAME)")
    if args.action == "list":
        lab = Lab.open(_lab_path(args), readonly=True)
        try:
            for s in lab.snapshots():
                print(f"{s['name']}\t{_describe_snapshot(lab, s)}")
        finally:
            lab.close()
        return 0
    lab = Lab.open(_lab_path(args))
    try:
        existing = {s["name"]: s for s in lab.snapshots()}
        if args.action == "save":
            old = existing.get(args.name)
            if old is not None and not args.force:
                raise UsageError(
                    f"a snapshot named {args.name} already exists ({_describe_snapshot(lab, old)}); "
                    f"nothing was saved. `esmlab snapshot save {args.name} --force` replaces it")
            lab.save_snapshot(args.name)
            replaced = f" (replaced the one {_describe_snapshot(lab, old)})" if old else ""
            print(f"saved snapshot {args.name}{replaced}")
        elif args.action == "restore":
            if args.name not in existing:
                raise LabError(f"no snapshot named {args.name!r}" + _known(existing))
            dropped = lab.unsaved_commands()
            lab.restore_snapshot(args.name)
            print(f"restored snapshot {args.name}")
            if dropped:
                print(f"dropped {_describe_commands(lab, dropped)}: no snapshot held them "
                      "(save one before restoring to keep such work)", file=sys.stderr)
        else:
            if args.name not in existing:
                raise LabError(f"no snapshot named {args.name!r}" + _known(existing))
            lab.delete_snapshot(args.name)
            print(f"deleted snapshot {args.name}")
    finally:
        lab.close()
    return 0


def _known(existing: dict) -> str:
    return f"; the lab has: {', '.join(sorted(existing))}" if existing else \
        "; the lab has no snapshots"


def _export(args) -> int:
    from esmlab.lab import Lab
    from esmlab.scenario.export import export_event, export_scenario

    if args.what == "event" and args.invocation is None:
        raise UsageError("export event needs an invocation id, e.g. esmlab export event 17 "
                         "(the screen shows the ids)")
    if args.what == "scenario" and args.invocation is not None:
        raise UsageError("export scenario takes no id (use --name to name the scenario)")
    lab = Lab.open(_lab_path(args), readonly=True)
    try:
        if args.what == "scenario":
            text = export_scenario(lab, name=args.name or Path(lab.path).stem)
        else:
            text = export_event(lab, args.invocation)
    finally:
        lab.close()
    print(text, end="")
    return 0


def _compact(args) -> int:
    from esmlab import compaction
    from esmlab.lab import Lab
    from esmlab.engine.payloads import iso

    # The time is checked on a read-only look first: bad input leaves the
    # file as it was (opening for writing records a session in it).
    look = Lab.open(_lab_path(args), readonly=True)
    try:
        before = None if args.before is None else _lab_time(args.before, look)
        if before is not None:
            compaction.check_point(before, look.engine.start_ms, look.now_ms)
    finally:
        look.close()
    lab = Lab.open(_lab_path(args))
    try:
        size = _disk_bytes(lab.path)
        dropped = lab.compact(before)
        vacuumed = lab.vacuum()
        point = lab.journal(kind="lab.compacted", newest_first=True, limit=1)[0]["data"]
        print(f"compacted {lab.path}: dropped {dropped['journal']:,} journal events, "
              f"{dropped['invocations']:,} invocations and {dropped['metrics']:,} metric samples "
              f"from before {iso(point['before_ms'])}; the command log is kept, so the lab "
              "replays, rewinds and exports as before")
        if vacuumed:
            print(f"the lab file went from {size:,} to {_disk_bytes(lab.path):,} bytes")
        else:
            print("another process is using the lab, so the file keeps its size: the lab reuses "
                  "the freed space as it grows", file=sys.stderr)
    finally:
        lab.close()
    return 0


def _lab_time(text: str, lab) -> int:
    """A time in a lab: T+DURATION or DURATION (since the lab's start: 90s,
    1m30s, 2h) or an ISO-8601 UTC time (2024-01-01T00:01:30Z)."""
    from datetime import datetime, timezone

    from esmlab.scenario.durations import DurationError, parse_duration
    body = text.strip()
    if "T" in body[1:] and not body.upper().startswith("T+"):
        try:
            at = datetime.fromisoformat(body.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"{text!r} is not a time: give T+90s, 1m30s (since the lab's "
                             "start) or an ISO time such as 2024-01-01T00:01:30Z") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        delta = at - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if body.upper().startswith("T+"):
        body = body[2:]
    try:
        return lab.engine.start_ms + parse_duration(body)
    except DurationError as exc:
        raise UsageError(f"{text!r} is not a time: give T+90s, 1m30s (since the lab's start) "
                         f"or an ISO time such as 2024-01-01T00:01:30Z ({exc})") from None


def _disk_bytes(path: str) -> int:
    wal = Path(path + "-wal")
    return Path(path).stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _compare(args) -> int:
    from esmlab.scenario.compare import run_compare
    return run_compare(args.lesson, args.set or [], as_json=args.json)


def _challenge(args) -> int:
    from esmlab.scenario.challenge import run_command
    on_a_terminal = sys.stdin.isatty() and sys.stdout.isatty() and not args.no_screen
    return run_command(args.name, solution=args.solution, sets=args.set, play=args.play,
                       report_kind=args.report, quiet=args.quiet, fresh=args.fresh,
                       screen=_challenge_screen() if on_a_terminal else None)


def _challenge_screen():
    """The screen a challenge opens on: the lab's own app on the challenge's
    lab (None in a build without the screen: the brief is printed instead)."""
    try:
        from esmlab.tui.app import run_app
    except ImportError:
        return None
    return run_app


def _import(args) -> int:
    from esmlab.imports.command import run_import
    return run_import(args.file, getattr(args, "lab", None), args.parameter or [],
                      args.scenario, interactive=sys.stdin.isatty() and not args.no_input,
                      open_screen=args.open)


def _copy(args) -> int:
    from esmlab.lab import Lab

    lab = Lab.open(_lab_path(args), readonly=True)
    try:
        lab.copy(args.target)
    finally:
        lab.close()
    print(f"copied {lab.path} (with its -wal) to {args.target}: one self-contained file")
    return 0


# -- arguments -----------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one sentence naming the command."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _invocation_id(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an invocation id: give a whole number, e.g. 17")
    return int(text)


def _datasette(args) -> int:
    from esmlab.views import run_datasette
    return run_datasette(_lab_path(args), args.metadata_only)


def _serve(args) -> int:
    from esmlab.serve import run_serve
    return run_serve(args.host, args.port, getattr(args, "lab", None), args.snapshot,
                     args.lesson, args.sessions, args.public_url)


def build_parser() -> argparse.ArgumentParser:
    # --lab is accepted before or after any subcommand (`esmlab --lab X info`,
    # `esmlab info --lab X`): SUPPRESS keeps a subcommand from resetting it.
    lab_option = _Parser(add_help=False)
    lab_option.add_argument("--lab", default=argparse.SUPPRESS, metavar="FILE",
                            help="the lab file (default ./lab.db)")
    p = _Parser(prog="esmlab", description=(
        "A terminal lab for AWS Lambda event source mappings. With no command, "
        "opens the lab in ./lab.db (created with a starter lab on first run)."))
    p.add_argument("--lab", default=None, metavar="FILE", help="the lab file (default ./lab.db)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    info = sub.add_parser("info", parents=[lab_option], help="print a summary of a lab file")
    info.add_argument("file", nargs="?", metavar="LAB", help="the lab file (default ./lab.db)")
    why = sub.add_parser("why", parents=[lab_option],
                         help="the life of one record: a message id (or its first 8 "
                              "characters), a sequence number (or …0001) or an invocation number")
    why.add_argument("id", metavar="ID")
    why.add_argument("--json", action="store_true", help="one JSON document")
    lessons_cmd = sub.add_parser("lessons", parents=[lab_option],
                                 help="the lessons in reading order (basics to challenges) "
                                      "with your progress, and the conformance cases (play "
                                      "one: esmlab play NAME)")
    lessons_cmd.add_argument("--json", action="store_true", help="one JSON document")
    play = sub.add_parser("play", parents=[lab_option],
                          help="play scenario files (or lessons by name) headless; with --lab, "
                               "keep the lab in that new file")
    play.add_argument("files", nargs="+", help="scenario files, or lesson names from "
                                               "`esmlab lessons`")
    play.add_argument("--report", choices=("rich", "json"), default="rich")
    play.add_argument("--quiet", action="store_true", help="print only the verdicts")
    play.add_argument("--quiz", action="store_true",
                      help="ask each prediction on the terminal before its step plays")
    play.add_argument("--answers", metavar="FILE",
                      help="a learner's predictions to grade (YAML: step number: answer)")
    conf = sub.add_parser("conformance", parents=[lab_option],
                          help="play the conformance cases and list each rule, its evidence and "
                               "the result")
    conf.add_argument("--json", action="store_true", help="print the table as JSON")
    snap = sub.add_parser("snapshot", parents=[lab_option],
                          help="save, list, restore or delete snapshots")
    snap.add_argument("action", choices=("save", "list", "restore", "delete"))
    snap.add_argument("name", nargs="?")
    snap.add_argument("--force", action="store_true", help="save over a snapshot of that name")
    exp = sub.add_parser("export", parents=[lab_option],
                         help="export the lab as a scenario, or an invocation's event")
    exp.add_argument("what", choices=("scenario", "event"))
    exp.add_argument("invocation", nargs="?", type=_invocation_id,
                     help="invocation id (for 'event')")
    exp.add_argument("--name", help="scenario name (for 'scenario')")
    copy = sub.add_parser("copy", parents=[lab_option],
                          help="write the lab (with its -wal file) as one self-contained file")
    copy.add_argument("target", metavar="FILE", help="the new file (must not exist)")
    cpt = sub.add_parser("compact", parents=[lab_option],
                         help="drop journal, metric and invocation history from before a time "
                              "(the lab still replays)")
    cpt.add_argument("--before", metavar="TIME",
                     help="T+90s or 1m30s (since the lab's start) or an ISO time such as "
                          "2024-01-01T00:01:30Z (default: now)")
    cmp = sub.add_parser("compare", parents=[lab_option],
                         help="play a lesson as written and with changed settings, side by side")
    cmp.add_argument("lesson", help="a lesson name from `esmlab lessons`, or a scenario file")
    cmp.add_argument("--set", action="append", metavar="PATH=VALUE",
                     help="a changed setting, e.g. mappings.orders.BatchSize=5, "
                          "queues.orders.VisibilityTimeout=180 or profile=classic (repeatable)")
    cmp.add_argument("--json", action="store_true", help="one JSON document")
    chal = sub.add_parser("challenge", parents=[lab_option],
                          help="a lab that starts broken: change its settings until the goal "
                               "holds (no NAME: list the challenges)")
    chal.add_argument("name", nargs="?", metavar="NAME", help="a challenge from `esmlab "
                                                              "challenge`, or its file")
    chal.add_argument("--solution", metavar="FILE",
                      help="an edited copy of the challenge, or a YAML map of PATH: VALUE")
    chal.add_argument("--set", action="append", metavar="PATH=VALUE",
                      help="a changed setting, e.g. mappings.orders.BatchSize=5 (repeatable)")
    chal.add_argument("--play", action="store_true", help="play it as given (it fails its goal)")
    chal.add_argument("--fresh", action="store_true",
                      help="on screen: start from the challenge as given, dropping earlier changes")
    chal.add_argument("--no-screen", action="store_true",
                      help="print the brief instead of opening the screen")
    chal.add_argument("--report", choices=("rich", "json"), default="rich")
    chal.add_argument("--quiet", action="store_true", help="print only the verdicts")
    ds = sub.add_parser("datasette", parents=[lab_option],
                        help="browse the lab file in Datasette, with descriptions of its views")
    ds.add_argument("--metadata-only", action="store_true",
                    help="only write LAB.metadata.json and print the datasette command")
    srv = sub.add_parser("serve", help="serve the lab's screen to browsers, one copy of the lab "
                                       "per browser session")
    srv.add_argument("--lab", default=argparse.SUPPRESS, metavar="FILE",
                     help="the starting lab (copied for each session; default: the starter lab)")
    srv.add_argument("--snapshot", help="start each session from this snapshot of --lab")
    srv.add_argument("--lesson", help="start each session with this lesson's resources")
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1; 0.0.0.0 shares it on the "
                          "network)")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--public-url", help="the address browsers use, when it is not "
                                          "http://HOST:PORT (e.g. behind --host 0.0.0.0)")
    srv.add_argument("--sessions", help="folder for the sessions' labs (default: a new "
                                        "temporary folder)")
    imp = sub.add_parser("import", help="build a lab from a SAM or CloudFormation template or "
                                        "a Terraform module")
    imp.add_argument("file", help="template (.yaml, .yml, .json) or Terraform (.tf or a folder)")
    imp.add_argument("--lab", default=argparse.SUPPRESS, help="the new lab file (default ./lab.db)")
    imp.add_argument("--parameter", action="append", metavar="NAME=VALUE",
                     help="a template parameter, Terraform variable or imported value")
    imp.add_argument("--scenario", metavar="FILE.yaml", help="also write the lab as a lesson file")
    imp.add_argument("--no-input", action="store_true",
                     help="never ask for missing values: assume them and say so")
    imp.add_argument("--open", action="store_true", help="open the imported lab on screen")
    return p


HANDLERS = {None: _ui, "info": _info, "why": _why, "play": _play, "snapshot": _snapshot,
            "export": _export, "lessons": _lessons, "copy": _copy, "compare": _compare,
            "compact": _compact, "import": _import, "challenge": _challenge,
            "conformance": _conformance, "datasette": _datasette, "serve": _serve}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except (AwsError, LabError, UsageError) as exc:
        print(f"esmlab: {exc}", file=sys.stderr)
        if getattr(exc, "hint", None):  # the lab's advice, beside AWS's message
            print(f"esmlab: lab hint: {exc.hint}", file=sys.stderr)
    except sqlite3.Error as exc:
        print(f"esmlab: the lab file could not be used: {exc}", file=sys.stderr)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"esmlab: {exc.strerror or exc}{where}", file=sys.stderr)
    except KeyboardInterrupt:
        print("esmlab: interrupted; the lab holds every command that finished", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still a sentence, the traceback only on request
        if os.environ.get("ESMLAB_DEBUG"):
            raise
        print(f"esmlab: internal error ({type(exc).__name__}: {exc}); this is a bug in esmlab. "
              "Run again with ESMLAB_DEBUG=1 to see where.", file=sys.stderr)
    return 2
