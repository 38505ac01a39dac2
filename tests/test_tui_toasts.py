"""Toasts never cover a form, its buttons or the narration: on the lab
screen they sit at the top right of the panels and end above the narration
(or the ticker); while a dialog is open they wait unseen."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from textual.widgets._toast import Toast  # noqa: E402

from esmlab.tui.actions.notices import TOASTS_SHOWN  # noqa: E402
from esmlab.tui.app import EsmlabApp, LongWorkDone  # noqa: E402
from esmlab.tui.screens.forms import AskScreen  # noqa: E402
from esmlab.tui.widgets.narration import NarrationPanel  # noqa: E402


LONG = ("mapping clicks: 1 shard(s) blocked, retrying a failed batch (Ordering tab: "
        "BLOCKED attempt N); this sentence is long enough to wrap over several lines")


def toasts(screen) -> list:
    return [t for t in screen.query(Toast) if t.visible and t.region.height]


async def test_toasts_end_above_the_narration_at_80x24(lab_path):
    done = []
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24), notifications=True, message_hook=lambda m: done.append(m)
                            if isinstance(m, LongWorkDone) else None) as pilot:
        await pilot.pause()
        app.play_scenario("basics-poll-and-invoke", step_by_step=True)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("f3")                     # a step: the narration shows
        await pilot.pause()
        narration = app.query_one(NarrationPanel)
        assert narration.display and narration.region.height
        for i in range(5):
            app.notify(f"{i}: {LONG}", severity="warning")
        await pilot.pause()
        await pilot.pause()
        shown = toasts(app.screen)
        assert shown and len(app._notifications) <= TOASTS_SHOWN
        ticker = app.query_one("#ticker").region
        for toast in shown:
            assert not toast.region.overlaps(narration.region), (toast.region, narration.region)
            assert not toast.region.overlaps(ticker)
            # under the header, in the tree's column: beside the tab names, never over them
            assert toast.region.y >= 1 and toast.region.right <= app.query_one("#main").region.x


async def test_no_toast_covers_a_form_or_its_buttons(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        app.notify(LONG, severity="warning")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)
        app.notify("another process committed: " + LONG, severity="error")
        await pilot.pause()
        await pilot.pause()
        assert toasts(app.screen) == []            # they wait while the form is open
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert toasts(app.screen)                  # and show again on the lab screen


async def test_a_notice_is_plain_text_not_markup(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        app.clear_notifications()
        app.notify("records ['bob clicked'] in [0, 2]")
        await pilot.pause()
        (note,) = list(app._notifications)
        assert note.markup is False and note.message == "records ['bob clicked'] in [0, 2]"


async def test_a_lesson_step_that_goes_on_puts_no_notice_over_the_tree_at_80x24(lab_path):
    """F3 in a lesson: the header counts the steps and the narration says what
    each did, so a step that goes on adds no notice (at 80x24 three of them
    stacked over the tree's column); the last step still says the lesson is
    finished."""
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        app.play_scenario("basics-poll-and-invoke", step_by_step=True)
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.clear_notifications()
        for _ in range(3):
            await pilot.press("f3")
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert "scenario step 3/" in str(app.query_one("#clock").content)
        assert [n.message for n in app._notifications] == []
        assert toasts(app.screen) == []
        while not app.player.done:
            await pilot.press("f3")
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert "scenario step: the scenario is finished" in [
            n.message for n in app._notifications]
