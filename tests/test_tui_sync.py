"""The screen sees another process's commits without a key press, and a
lab it cannot change or read now gives a sentence on screen, never an exit."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab.cli import open_or_create  # noqa: E402
from esmlab.lab import Lab  # noqa: E402
from esmlab.tui.app import EsmlabApp  # noqa: E402
from tmux_helpers import (capture, esmlab_command, needs_tmux, session_name,  # noqa: E402
                          tmux_session, wait_until)


async def until(pilot, what: str, check, tries: int = 300):
    """Wait on a condition (the screen's own timer does the work), never on a time."""
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{what} never happened")


def tree_has(app, text: str) -> bool:
    from esmlab.tui.widgets.tree import ResourceTree

    def walk(node):
        yield str(node.label)
        for c in node.children:
            yield from walk(c)
    return any(text in label for label in walk(app.query_one(ResourceTree).root))


async def test_the_screen_redraws_what_another_process_committed(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = app.lab.now_ms
        other = Lab.open(lab_path, session="the test, as a second process")
        other.create_queue("from-elsewhere")
        other.advance(30)
        other.close()
        await until(pilot, "the new queue in the tree", lambda: tree_has(app, "from-elsewhere"))
        assert app.lab.now_ms == before + 30_000          # the clock came along too
        assert "T+30" in str(app.query_one("#clock").content)


async def test_nothing_changed_elsewhere_means_nothing_is_reloaded(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f5")                           # the screen's own command
        assert app.sync_with_file() is False


async def test_a_read_only_lab_says_so_and_refuses_changes_with_a_sentence(lab_path):
    lab = Lab.open(lab_path, readonly=True)
    app = EsmlabApp(str(lab_path), lab=lab)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "read-only" in str(app.query_one("#clock").content)
        await pilot.press("f5")
        await pilot.pause()
        assert app.is_running and app.lab_error and "read-only" in app.lab_error
        said = " ".join(n.message for n in app._notifications)
        assert "read-only" in said


async def test_a_lab_that_cannot_be_read_now_gives_a_sentence_once(lab_path, monkeypatch):
    from esmlab.errors import LabBusy
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.clear_notifications()

        def busy():
            raise LabBusy("the lab is busy: pid 1 (esmlab play) holds it")
        monkeypatch.setattr(app.lab, "sync", busy)
        for _ in range(3):
            assert app.sync_with_file() is False
        await pilot.pause()
        assert app.is_running and "LabBusy" in app.lab_error
        assert [n.message for n in app._notifications] == [
            "the lab is busy: pid 1 (esmlab play) holds it"]
        monkeypatch.setattr(app.lab, "sync", lambda: False)
        app.sync_with_file()
        assert app.lab_error is None


@needs_tmux
def test_the_real_screen_shows_another_process_change_without_a_key_press(tmp_path):
    path = tmp_path / "shared" / "lab.db"
    path.parent.mkdir()
    open_or_create(path)[0].close()
    session = session_name("sync", tmp_path, limit=60)
    with tmux_session(session, esmlab_command(path.parent, tmp_path), (80, 24)):
        def wait(what, check):
            wait_until(what, check, timeout=60.0, screen=lambda: capture(session))
        wait("the screen drawn", lambda: "Queues" in capture(session))
        other = Lab.open(path, session="the test, as a second process")
        other.advance(3600)
        other.close()
        wait("the other process's hour on the screen's clock", lambda: "T+1h" in capture(session))
