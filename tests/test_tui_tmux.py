"""Smoke test in a real terminal: start `esmlab` under tmux, press keys,
read the screen back with capture-pane, quit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def _capture(session: str) -> str:
    return subprocess.run([TMUX, "capture-pane", "-t", session, "-p"], capture_output=True,
                          text=True).stdout


def _wait_for(session: str, needle: str, timeout: float = 15.0) -> str:
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = _capture(session)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; the screen was:\n{screen}")


def test_esmlab_runs_in_a_real_terminal(tmp_path):
    session = f"esmlab-test-{tmp_path.name}"[:50]
    esmlab = Path(sys.executable).with_name("esmlab")
    cmd = (f"cd {tmp_path} && TERM=xterm-256color ESMLAB_KEYMAP={tmp_path}/none.json "
           f"{esmlab if esmlab.exists() else sys.executable + ' -m esmlab'}")
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd],
                   check=True)
    try:
        screen = _wait_for(session, "Queues")                  # the tree drawn
        assert "T+" in screen and "2024-01-01" in screen      # the clock
        assert "clicks" in screen and "Queues" in screen       # the tree
        subprocess.run([TMUX, "send-keys", "-t", session, "F2"], check=True)
        _wait_for(session, "how many")                          # the push form
        # it starts on the target; Tab to the count field, Enter pushes
        subprocess.run([TMUX, "send-keys", "-t", session, "Tab", "Tab", "Tab", "Enter"],
                       check=True)
        _wait_for(session, "backlog 1")                         # one record on a shard
        subprocess.run([TMUX, "send-keys", "-t", session, "C-q"], check=True)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            alive = subprocess.run([TMUX, "has-session", "-t", session],
                                   capture_output=True).returncode == 0
            if not alive:
                break
            time.sleep(0.2)
        assert not alive, "esmlab did not quit on ctrl+q"
        assert (tmp_path / "lab.db").exists()
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True)
