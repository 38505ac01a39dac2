"""Smoke test in a real terminal: start `esmlab` under tmux, press keys,
read the screen back with capture-pane, quit."""

from __future__ import annotations

import shutil
import os
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


def _wait_for(session: str, needle: str, timeout: float = 30.0) -> str:
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = _capture(session)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; the screen was:\n{screen}")


def test_esmlab_runs_in_a_real_terminal(tmp_path):
    # the pid keeps two suites running at once (a landing and a developer's) apart
    session = f"esmlab-test-{os.getpid()}-{tmp_path.name}"[:50]
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
        _wait_for(session, "Push records to stream clicks")     # the push form names its target
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


def _keys(session: str, *keys: str) -> None:
    for key in keys:
        subprocess.run([TMUX, "send-keys", "-t", session, key], check=True)
        time.sleep(0.8)          # one key at a time, as a person types (on a busy machine)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_the_readme_tour_followed_literally_blocks_both_shards_and_fills_the_dlq(
        tmp_path, size, monkeypatch):
    """README's tour, key by key, in a real terminal: 1, F5 about a dozen times ->
    both shards ⛔BLOCKED; ↓, 1, F2, Tab, Enter, F6, 120, Enter -> the
    message moves to orders-dlq; ] until the DLQ tab shows it."""
    session = f"esmlab-tour-{os.getpid()}-{size[0]}-{tmp_path.name}"[:50]
    esmlab = Path(sys.executable).with_name("esmlab")
    cmd = (f"cd {tmp_path} && TERM=xterm-256color ESMLAB_KEYMAP={tmp_path}/none.json "
           f"XDG_STATE_HOME={tmp_path}/state "
           f"{esmlab if esmlab.exists() else sys.executable + ' -m esmlab'}")
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", str(size[0]), "-y",
                    str(size[1]), cmd], check=True)
    try:
        _wait_for(session, "Queues")
        _keys(session, "1")                                       # step 1
        _wait_for(session, "fails every invocation")           # the card says so
        screen = ""
        for _ in range(16):                                       # step 2: "about a dozen"
            _keys(session, "F5")
            screen = _capture(session)
            if "shard 0 ⛔BLOCKED" in screen and "shard 1 ⛔BLOCKED" in screen:
                break
        assert "shard 0 ⛔BLOCKED" in screen and "shard 1 ⛔BLOCKED" in screen, screen
        _keys(session, "Down", "1")                               # step 3
        screen = _wait_for(session, "λ orders-handler")
        end = time.monotonic() + 10
        while "fails every" not in screen.split("λ orders-handler")[1] and \
                time.monotonic() < end:
            screen = _capture(session)
            time.sleep(0.2)
        assert "fails every" in screen.split("λ orders-handler")[1], screen
        _keys(session, "F2")
        _wait_for(session, "Push messages to queue orders")
        _keys(session, "Tab", "Enter")
        _wait_for(session, "pushed 1 to queue orders")
        _keys(session, "F6")
        _wait_for(session, "Advance the virtual clock")
        _keys(session, "1", "2", "0", "Enter")
        _wait_for(session, "☠1")
        for _ in range(8):
            time.sleep(1)
            if "(DLQ of orders)  1 message" in _capture(session):
                break
            _keys(session, "]")
        screen = _wait_for(session, "(DLQ of orders)  1 message")
        assert "hello 1" in screen, screen
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True)
