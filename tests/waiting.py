"""Waiting on another process (a tmux screen, a server) in a test: poll a
condition until it holds, never sleep a fixed time and hope."""

from __future__ import annotations

import time


def wait_until(what: str, check, timeout: float = 30.0, every: float = 0.2, screen=None):
    """check()'s first true value; after timeout seconds an AssertionError
    naming what never happened (with screen(), the screen it left)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(every)
    shown = f":\n{screen()}" if screen is not None else ""
    raise AssertionError(f"{what} never happened{shown}")
