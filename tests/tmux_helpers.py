"""The real screen under tmux for the terminal tests: start `esmlab` in a
detached session, send keys, read the screen back with capture-pane, and
wait on what it shows (or on any other condition), never on a fixed time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from waiting import wait_until  # noqa: F401 (the tmux tests wait with it too)

TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def session_name(kind: str, tmp_path: Path, *parts: object, limit: int = 50) -> str:
    """The pid keeps two suites running at once (a landing and a developer's)
    apart, and tmp_path's name two tests of one suite."""
    middle = "".join(f"-{p}" for p in parts)
    return f"esmlab-{kind}-{os.getpid()}{middle}-{tmp_path.name}"[:limit]


def esmlab_command(folder: Path, keymap_folder: Path, **env: object) -> str:
    """The shell line that runs esmlab in folder, with no user keymap (and
    env's extra variables), as the installed script or as a module."""
    esmlab = Path(sys.executable).with_name("esmlab")
    extra = "".join(f"{k}={v} " for k, v in env.items())
    return (f"cd {folder} && TERM=xterm-256color ESMLAB_KEYMAP={keymap_folder}/none.json "
            f"{extra}{esmlab if esmlab.exists() else sys.executable + ' -m esmlab'}")


@contextmanager
def tmux_session(session: str, cmd: str, size: tuple[int, int]):
    """A detached session running cmd at size (columns, rows), killed after."""
    # A tmux server keeps the environment of whoever started it; a COLUMNS or
    # LINES there (seen: 80 and 24) would make the program in the pane take
    # that size over the pane's own (Python's shutil.get_terminal_size reads
    # them first), so the pane's shell drops them.
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", str(size[0]), "-y",
                    str(size[1]), "unset COLUMNS LINES; " + cmd], check=True)
    try:
        yield session
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True)


def capture(session: str) -> str:
    return subprocess.run([TMUX, "capture-pane", "-t", session, "-p"], capture_output=True,
                          text=True).stdout


def send(session: str, *keys: str) -> None:
    """All the keys at once, as tmux send-keys takes them."""
    subprocess.run([TMUX, "send-keys", "-t", session, *keys], check=True)


def keys(session: str, *keys: str) -> None:
    for key in keys:
        send(session, key)
        time.sleep(0.8)          # one key at a time, as a person types (on a busy machine)


def alive(session: str) -> bool:
    return subprocess.run([TMUX, "has-session", "-t", session],
                          capture_output=True).returncode == 0


def wait_for(session: str, needle: str, timeout: float = 30.0) -> str:
    """The screen once needle is on it."""
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = capture(session)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; the screen was:\n{screen}")
