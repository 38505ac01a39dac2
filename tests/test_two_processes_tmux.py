"""The real screen left open under tmux while another process changes the
same lab: the screen's next command starts from what the other process did,
and the lab is the one a single process would have made."""

from __future__ import annotations

from pathlib import Path

from esmlab.cli import open_or_create
from esmlab.lab import Lab
from tmux_helpers import (alive, capture, esmlab_command, needs_tmux, send, session_name,
                          tmux_session, wait_until)

pytestmark = needs_tmux


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
    session = session_name("two", tmp_path, limit=60)
    with tmux_session(session, esmlab_command(path.parent, tmp_path), (110, 30)):
        wait_until("the screen drawn", lambda: "Queues" in capture(session))
        started = len(_commands(path))
        other = Lab.open(path, session="the test, as a second process")
        other.send_message("orders", "from another process")
        other.advance(60)
        other.close()
        # the screen redraws the other process's minute by itself (no key press)
        wait_until("the other process's change on screen", lambda: "T+1m00s" in capture(session))
        send(session, "F5")                                 # one step
        log = wait_until("the screen's step", lambda: (lambda c: c if len(c) == started + 3
                                                       else None)(_commands(path)))
        send(session, "C-q")
        wait_until("the screen quitting", lambda: not alive(session))
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
