"""Snapshots on screen never lose work silently: ctrl+s asks before it
overwrites a snapshot of the same name, and ctrl+o asks before it drops
commands no snapshot holds, then says what it dropped."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab.tui.app import EsmlabApp  # noqa: E402
from esmlab.tui.screens.forms import AskScreen, PickScreen  # noqa: E402
from esmlab.tui.screens.resources import ConfirmScreen  # noqa: E402


async def save_as(pilot, app, name: str):
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, AskScreen)
    app.screen.query_one("#f-name").value = name
    await pilot.press("enter")
    await pilot.pause()


def said(app) -> str:
    return " ".join(n.message for n in app._notifications)


async def test_saving_over_a_snapshot_of_the_same_name_asks_first(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await save_as(pilot, app, "mine")
        first = app.lab.snapshots()[0]["commands"]
        await pilot.press("f5")
        await save_as(pilot, app, "mine")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")                             # keep the old one
        await pilot.pause()
        assert app.lab.snapshots()[0]["commands"] == first
        assert "kept as it was" in said(app)
        await save_as(pilot, app, "mine")
        await pilot.press("y")
        await pilot.pause()
        assert app.lab.snapshots()[0]["commands"] == first + 1


async def test_opening_a_snapshot_over_unsaved_work_asks_and_says_what_it_dropped(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await save_as(pilot, app, "start")
        saved_at = app.lab.now_ms
        for _ in range(3):
            await pilot.press("f5")
        app.lab.send_message("orders", "unsaved")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, PickScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "4 command(s)" in str(app.screen.text) and "step ×3" in str(app.screen.text)
        await pilot.press("n")                             # no: nothing changes
        await pilot.pause()
        assert len(app.lab.unsaved_commands()) == 4 and not app.busy
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        app.clear_notifications()
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.lab.now_ms == saved_at and app.lab.unsaved_commands() == []
        assert "dropped 4 command(s) no snapshot held: step ×3, send_message" in said(app)


async def test_opening_a_snapshot_with_nothing_unsaved_does_not_ask(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f5")
        await save_as(pilot, app, "here")
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "open snapshot here: restored" in said(app) and "dropped" not in said(app)
