"""A challenge in a real terminal: `esmlab challenge NAME` under tmux, at
80x24 and 160x48, shows its goal beside the lab, unlocks a hint with h,
and checks with ctrl+g; read back with capture-pane."""

from __future__ import annotations

import pytest

from tmux_helpers import (capture, esmlab_command, keys, needs_tmux, session_name,
                          tmux_session, wait_for, wait_until)

pytestmark = needs_tmux

NAME = "sqs-batch-item-failures-ignored"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_a_challenge_shows_its_goal_beside_the_lab_in_a_real_terminal(tmp_path, size):
    session = session_name("goal", tmp_path, size[0])
    cmd = esmlab_command(tmp_path, tmp_path, XDG_STATE_HOME=f"{tmp_path}/state",
                         XDG_CONFIG_HOME=f"{tmp_path}/config") + f" challenge {NAME}"
    with tmux_session(session, cmd, size):
        wait_for(session, "○ the corrupt file reaches uploads-dlq")
        # Each goal check, waited for (the column wraps the longer one).
        wait_for(session, "○ each good file is processed")

        def placed() -> bool:
            # the first frame may come before the screen knows its width class
            lines = capture(session).splitlines()
            goal = next((i for i, line in enumerate(lines) if "○ the corrupt" in line), None)
            tabs = next((i for i, line in enumerate(lines) if "Ordering" in line), None)
            if goal is None or tabs is None:
                return False
            if size[0] >= 140:      # a column at the right of the panels
                return lines[goal].index("○") > lines[tabs].index("Ordering") + 60
            return goal > tabs      # a strip under them
        wait_until("the goal beside the panels", placed, timeout=10, screen=lambda: capture(session))
        keys(session, "h")
        wait_for(session, "hint 1 of 3")
        keys(session, "C-g")                      # nothing changed yet: the brief
        wait_for(session, "Goal (checked after the last step)")
        keys(session, "Escape")
        keys(session, "C-t")                      # folded to one line
        wait_for(session, "goal 0/2 met")
        assert "○ the corrupt file" not in capture(session)
