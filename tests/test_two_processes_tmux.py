"""The real screen left open under tmux while another process changes the
same lab: the screen's next command starts from what the other process did,
and the lab is the one a single process would have made."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esmlab.cli import open_or_create
from esmlab.lab import Lab

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def _capture(session: str) -> str:
    return subprocess.run([TMUX, "capture-pane", "-t", session, "-p"], capture_output=True,
                          text=True).stdout


def _wait(what, check, timeout: float = 30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} never happened")


def _commands(path: Path) -> list[dict]:
    lab = Lab.open(path, readonly=True)
    try:
        return lab.commands()
    finally:
        lab.close()


def test_the_screen_left_open_acts_on_what_another_process_did(tmp_path):
    path = tmp_path / "shared" / "lab.db"
    path.parent.mkdir()
    open_or_create(path)[0].close()                   # the starter lab, as a first run makes it
    session = f"esmlab-two-{os.getpid()}-{tmp_path.name}"[:60]  # unique across concurrent runs
    esmlab = Path(sys.executable).with_name("esmlab")
    cmd = (f"cd {path.parent} && TERM=xterm-256color ESMLAB_KEYMAP={tmp_path}/none.json "
           f"{esmlab if esmlab.exists() else sys.executable + ' -m esmlab'}")
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "110", "-y", "30", cmd],
                   check=True)
    try:
        _wait("the screen drawn", lambda: "Queues" in _capture(session))
        started = len(_commands(path))
        other = Lab.open(path, session="the test, as a second process")
        other.send_message("orders", "from another process")
        other.advance(60)
        other.close()
        # the screen redraws the other process's minute by itself (no key press)
        _wait("the other process's change on screen", lambda: "T+1m00s" in _capture(session))
        subprocess.run([TMUX, "send-keys", "-t", session, "F5"], check=True)   # one step
        log = _wait("the screen's step", lambda: (lambda c: c if len(c) == started + 3
                                                  else None)(_commands(path)))
        subprocess.run([TMUX, "send-keys", "-t", session, "C-q"], check=True)
        _wait("the screen quitting", lambda: subprocess.run(
            [TMUX, "has-session", "-t", session], capture_output=True).returncode != 0)
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True)
    assert [c["name"] for c in log[started:]] == ["send_message", "advance_to", "step"]
    assert log[-1]["at_ms"] == log[-2]["args"]["until_ms"]  # the step began where the other left

    alone_path = tmp_path / "alone" / "lab.db"
    alone_path.parent.mkdir()
    alone = open_or_create(alone_path)[0]
    alone.send_message("orders", "from another process")
    alone.advance(60)
    alone.step()
    shared = Lab.open(path, readonly=True)
    assert shared.commands() == alone.commands()
    assert shared.journal_signature() == alone.journal_signature()
    shared.close()
    alone.close()
