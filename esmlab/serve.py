"""`esmlab serve`: the lab's screen in a browser, one lab per browser session.

textual-serve (Textualize's own web front end for Textual apps) starts one
process per browser connection and speaks the terminal protocol to the page.
Each of those processes is `python -m esmlab.serve --session ...`: it copies
the starting point (a lab file with its snapshots, a snapshot of it, or a
lesson's resources) into a lab of its own and opens the screen on that copy,
so thirty students on one classroom server never step on one another.

The server binds 127.0.0.1 unless `--host` says otherwise: sharing a lab on
a network is a choice, not a default.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path


def session_lab(sessions: Path, source: str | None, snapshot: str | None,
                lesson: str | None) -> Path:
    """A new lab file for one browser session, made from the starting point."""
    from esmlab.lab import Lab

    sessions.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="session-", suffix=".db", dir=sessions)
    os.close(fd)
    os.unlink(name)  # the lab is created in place by SQLite (an empty file is refused)
    path = Path(name)
    if lesson:
        from esmlab.lessons import resolve
        from esmlab.scenario.loader import load_scenario
        from esmlab.scenario.player import Player

        player = Player.new(load_scenario(resolve(lesson)), path)
        player.setup()
        player.lab.close()
    elif source:
        _copy(Path(source), path)
        if snapshot:
            lab = Lab.open(path)
            lab.restore_snapshot(snapshot)
            lab.close()
    else:
        from esmlab.starter import build_starter

        lab = Lab.create(path, name="lab")
        build_starter(lab)
        lab.close()
    return path


def _copy(source: Path, target: Path) -> None:
    """One self-contained copy, WAL included (SQLite's backup API)."""
    import sqlite3

    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def session_main(argv: list[str]) -> int:
    """One browser session: make its lab and run the screen on it."""
    p = argparse.ArgumentParser(prog="esmlab.serve")
    p.add_argument("--sessions", required=True)
    p.add_argument("--from", dest="source")
    p.add_argument("--snapshot")
    p.add_argument("--lesson")
    args = p.parse_args(argv)
    path = session_lab(Path(args.sessions), args.source, args.snapshot, args.lesson)
    from esmlab.tui.app import run_app

    return run_app(str(path), created=False)


def run_serve(host: str, port: int, lab: str | None, snapshot: str | None,
              lesson: str | None, sessions: str | None, public_url: str | None = None) -> int:
    """The command: check the starting point, then serve until interrupted."""
    try:
        from textual_serve.server import Server
    except ImportError:
        print("esmlab serve: textual-serve is not installed (pip install textual-serve)",
              file=sys.stderr)
        return 2
    if lab and not Path(lab).is_file():
        print(f"esmlab serve: no lab at {lab}", file=sys.stderr)
        return 2
    if snapshot and not lab:
        print("esmlab serve: --snapshot needs --lab (the lab that holds it)", file=sys.stderr)
        return 2
    if lesson:
        from esmlab.lessons import resolve
        if not Path(resolve(lesson)).is_file():
            print(f"esmlab serve: no lesson named {lesson!r} (see esmlab lessons)",
                  file=sys.stderr)
            return 2
    folder = Path(sessions) if sessions else Path(tempfile.mkdtemp(prefix="esmlab-serve-"))
    command = [sys.executable, "-m", "esmlab.serve", "--sessions", str(folder.resolve())]
    if lab:
        command += ["--from", str(Path(lab).resolve())]
    if snapshot:
        command += ["--snapshot", snapshot]
    if lesson:
        command += ["--lesson", lesson]
    url = public_url or f"http://{host}:{port}"
    where = "every address of this machine" if host in ("0.0.0.0", "::") else host
    print(f"esmlab serve: {url} (listening on {where}); each browser session gets its own "
          f"copy of the lab in {folder}. Ctrl+C stops.", flush=True)
    Server(shlex.join(command), host=host, port=port, title="esmlab",
           public_url=public_url).serve()
    return 0


if __name__ == "__main__":
    sys.exit(session_main(sys.argv[1:]))
