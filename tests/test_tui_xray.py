"""The X-ray from every panel: `w` tells the story of the record, message or
invocation under the panel's cursor, and from a line of that story jumps
to the invocation or record it names (Backspace comes back)."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab.cli import open_or_create  # noqa: E402
from esmlab.tui.app import EsmlabApp  # noqa: E402


def xray_lines(app) -> list[str]:
    return [t.plain for t in app.query_one("#xray-view").content.renderables]


async def open_tab(pilot, app, tab: str):
    app.query_one("#tabs").active = tab
    await pilot.pause()
    app.query_one(f"#{tab}-panel").focus()
    await pilot.pause()


async def select(pilot, app, data: tuple):
    tree = app.query_one("#tree")
    tree.select_node(tree.node_for(data))
    await pilot.pause()


async def test_w_in_ordering_xrays_the_head_of_the_blocked_batch_and_arrows_move_along(
        lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")                       # clicks-handler fails: shard 1 blocks
        for _ in range(4):
            await pilot.press("f5")
        blocked = [r for r in app.lab.store.conn.execute(
            "SELECT seq FROM records WHERE stream='clicks' AND shard_id='shardId-000000000001'")]
        await pilot.press("w")                       # the tree has the focus: Ordering's cursor
        await pilot.pause()
        assert app.query_one("#tabs").active == "xray"
        assert app.xray == blocked[0][0]
        lines = xray_lines(app)
        assert lines[0].startswith("record ") and any("invoke.started" in t for t in lines)
        assert any(t.lstrip().startswith("#") and " error " in t for t in lines)
        await open_tab(pilot, app, "ordering")
        panel = app.query_one("#ordering-panel")
        await pilot.press("up")                      # shard 0's lane
        assert panel.current_ref() != blocked[0][0]
        await pilot.press("w")
        await pilot.pause()
        assert app.xray.startswith("49") and app.xray != blocked[0][0]


async def test_w_in_ordering_on_a_queue_xrays_the_message_under_the_cursor(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select(pilot, app, ("queue", "orders"))
        rows = app.lab.engine.queues.page("orders", offset=0, limit=10)
        await open_tab(pilot, app, "ordering")
        await pilot.press("down")
        await pilot.press("w")
        await pilot.pause()
        assert app.xray == rows[1]["message_id"]
        assert xray_lines(app)[0] == f"message {rows[1]['message_id']} in queue orders"


async def test_w_in_the_dlq_panel_tells_why_the_message_moved(lab_path):
    lab, _ = open_or_create(lab_path)
    lab.set_behaviour("orders-handler", mode="fail")
    lab.advance(130)
    moved = {ev["subject"] for ev in lab.journal(kind="sqs.moved_to_dlq")}
    lab.close()
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_tab(pilot, app, "dlq")
        await pilot.press("enter")                   # Enter does what w does
        await pilot.pause()
        assert app.xray in moved
        lines = xray_lines(app)
        assert any("sqs.moved_to_dlq" in t for t in lines)
        assert sum(1 for t in lines if t.lstrip().startswith("#")) == 3   # three receives


async def test_w_in_the_why_log_xrays_what_the_event_is_about(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f5")
        await open_tab(pilot, app, "why")
        log = app.query_one("#why-panel")
        events = app.lab.journal(newest_first=True, limit=50)
        started = next(i for i, ev in enumerate(events) if ev["kind"] == "invoke.started")
        for _ in range(started):
            await pilot.press("down")
        assert log.current_ref() == f"event:{events[started]['id']}"
        await pilot.press("w")
        await pilot.pause()
        assert app.xray == str(events[started]["data"]["invocation"])
        assert xray_lines(app)[0].startswith("invocation ")


async def test_w_in_reprocessing_xrays_the_invocation_the_highlighted_event_names(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        for _ in range(4):
            await pilot.press("f5")
        await open_tab(pilot, app, "reprocessing")
        tree = app.query_one("#reprocessing-tree")
        tree.focus()
        leaf = next(n for n in _walk(tree.root) if (n.data or {}).get("text", "")
                    and "invoke.started" in n.data["text"])
        tree.move_cursor(leaf)
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert app.xray == leaf.data["ref"] and app.xray.isdigit()
        assert xray_lines(app)[0] == f"invocation {app.xray}"


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


async def test_from_a_story_line_jump_to_its_invocation_with_logs_and_batch_then_back(
        lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        for _ in range(4):
            await pilot.press("f5")
        await pilot.press("w")                      # the blocked record's story
        await pilot.pause()
        record = app.xray
        panel = app.query_one("#xray-panel")
        assert app.focused is panel
        inv = panel.current_ref()                    # its first line naming an invocation
        assert inv.isdigit()
        await pilot.press("w")
        await pilot.pause()
        assert app.xray == inv
        lines = xray_lines(app)
        assert any(t.strip().startswith("| START RequestId") for t in lines)   # the logs
        assert any(t.startswith("the batch (1 record(s))") for t in lines)
        # the batch's record is a row too: back to the record by the batch line
        rows = panel._rows.refs
        panel.cursor_row = next(i for i, r in enumerate(rows) if r == [record])
        await pilot.press("enter")
        await pilot.pause()
        assert app.xray == record
        await pilot.press("backspace")
        await pilot.pause()
        assert app.xray == inv
        await pilot.press("backspace")
        await pilot.pause()
        assert app.xray == record


async def test_shift_w_asks_for_an_id_where_no_panel_points(lab_path):
    from esmlab.tui.screens.forms import AskScreen
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f5")                      # invocation 1 exists
        await pilot.press("W")
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)
        app.screen.query_one("#f-id").value = "1"
        await pilot.press("enter")
        await pilot.pause()
        assert app.xray == "1" and xray_lines(app)[0] == "invocation 1"
        await open_tab(pilot, app, "scaling")       # a panel without a cursor: w asks
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, AskScreen)


async def test_a_click_puts_the_cursor_on_a_row_and_a_double_click_xrays_it(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f5")
        await open_tab(pilot, app, "why")
        log = app.query_one("#why-panel")
        line = log._rows.lines[2]                  # the third event's line
        await pilot.click(log._lines_view(), offset=(4, line))
        await pilot.pause()
        assert log.cursor_row == 2
        events = app.lab.journal(newest_first=True, limit=5)
        assert log.current_ref() == f"event:{events[2]['id']}"
        await pilot.click(log._lines_view(), offset=(4, line), times=2)
        await pilot.pause()
        assert app.query_one("#tabs").active == "xray" and app.xray is not None


async def test_a_lesson_lab_opened_with_f4_starts_with_an_empty_xray(lab_path):
    """An id names a record, message or invocation of one lab: after F4 opens
    a lesson's lab the X-ray shows its 'press w' hint, not the starter lab's
    story (nor, later, whatever of the lesson's has the same number)."""
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for _ in range(4):
            await pilot.press("f5")
        app.show_xray("1")                           # the starter lab's invocation 1
        await pilot.pause()
        app.show_xray("2")                           # and a jump, so Backspace has a way back
        await pilot.pause()
        assert xray_lines(app)[0].startswith("invocation 2")
        await pilot.press("f4")
        await pilot.pause()
        await pilot.press("tab", "enter")            # step by step, the first lesson
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.lab_path != str(lab_path) and app.query_one("#tabs").active == "xray"
        assert app.xray is None and app.xray_history == []
        assert str(app.query_one("#xray-view").content).startswith("Press w on a row")
        await pilot.press("f3", "f3", "f3")           # the lesson's own invocations begin
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.query_one("#xray-view").content).startswith("Press w on a row")
