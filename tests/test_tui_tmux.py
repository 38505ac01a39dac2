"""Smoke test in a real terminal: start `esmlab` under tmux, press keys,
read the screen back with capture-pane, quit."""

from __future__ import annotations

import time

import pytest

from tmux_helpers import (alive, capture, esmlab_command, keys, needs_tmux, send, session_name,
                          tmux_session, wait_for, wait_until)

pytestmark = needs_tmux


def test_esmlab_runs_in_a_real_terminal(tmp_path):
    session = session_name("test", tmp_path)
    with tmux_session(session, esmlab_command(tmp_path, tmp_path), (100, 30)):
        screen = wait_for(session, "Queues")                  # the tree drawn
        assert "T+" in screen and "2024-01-01" in screen      # the clock
        assert "clicks" in screen and "Queues" in screen       # the tree
        send(session, "F2")
        wait_for(session, "Push records to stream clicks")     # the push form names its target
        # it starts on the target; Tab to the count field, Enter pushes
        send(session, "Tab", "Tab", "Tab", "Enter")
        wait_for(session, "backlog 1")                         # one record on a shard
        send(session, "C-q")
        wait_until("esmlab quitting on ctrl+q", lambda: not alive(session), timeout=10)
        assert (tmp_path / "lab.db").exists()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_the_readme_tour_followed_literally_blocks_both_shards_and_fills_the_dlq(
        tmp_path, size, monkeypatch):
    """README's tour, key by key, in a real terminal: 1, F5 about a dozen times ->
    both shards ⛔BLOCKED; ↓, 1, F2, Tab, Enter, F6, 120, Enter -> the
    message moves to orders-dlq; ] until the DLQ tab shows it."""
    session = session_name("tour", tmp_path, size[0])
    cmd = esmlab_command(tmp_path, tmp_path, XDG_STATE_HOME=f"{tmp_path}/state")
    with tmux_session(session, cmd, size):
        wait_for(session, "Queues")
        keys(session, "1")                                       # step 1
        wait_for(session, "fails every invocation")           # the card says so
        screen = ""
        for _ in range(16):                                       # step 2: "about a dozen"
            keys(session, "F5")
            screen = capture(session)
            if "shard 0 ⛔BLOCKED" in screen and "shard 1 ⛔BLOCKED" in screen:
                break
        assert "shard 0 ⛔BLOCKED" in screen and "shard 1 ⛔BLOCKED" in screen, screen
        keys(session, "Down", "1")                               # step 3
        screen = wait_for(session, "λ orders-handler")
        end = time.monotonic() + 10
        while "fails every" not in screen.split("λ orders-handler")[1] and \
                time.monotonic() < end:
            screen = capture(session)
            time.sleep(0.2)
        assert "fails every" in screen.split("λ orders-handler")[1], screen
        keys(session, "F2")
        wait_for(session, "Push messages to queue orders")
        keys(session, "Tab", "Enter")
        wait_for(session, "pushed 1 to queue orders")
        keys(session, "F6")
        wait_for(session, "Advance the virtual clock")
        keys(session, "1", "2", "0", "Enter")
        wait_for(session, "☠1")
        for _ in range(8):
            time.sleep(1)
            if "(DLQ of orders)  1 message" in capture(session):
                break
            keys(session, "]")
        screen = wait_for(session, "(DLQ of orders)  1 message")
        assert "hello 1" in screen, screen
