"""How panels draw: only what is in view, and without a screen layout when
nothing changed size (speed itself is measured in bench/run.py, never here)."""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.widgets import Static

from esmlab import readmodels as rm
from esmlab.cli import open_or_create
from esmlab.tui.widgets.lines import LinesView, update_static


class _Host(App):
    def compose(self):
        yield LinesView(id="view")
        yield Static(id="title")


def _layouts(widget, calls: list) -> None:
    """Record every refresh that asks for a layout."""
    refresh = widget.refresh

    def spy(*regions, layout=False, **kw):
        if layout:
            calls.append(widget)
        return refresh(*regions, layout=layout, **kw)
    widget.refresh = spy


async def test_a_lines_view_renders_only_the_lines_in_view():
    app = _Host()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LinesView)
        made: list[int] = []
        make = view._make
        view._make = lambda i, w: made.append(i) or make(i, w)
        view.show_lines([Text(f"line {i}") for i in range(5000)])
        await pilot.pause()
        assert made and max(made) < view.size.height      # 5,000 lines, a screenful drawn
        assert view.virtual_size.height == 5000
        assert view.lines()[4999] == "line 4999"


async def test_new_lines_of_the_same_count_repaint_without_a_layout():
    app = _Host()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LinesView)
        view.show_lines([Text(f"a {i}") for i in range(50)])
        await pilot.pause()
        calls: list = []
        _layouts(view, calls)
        view.show_lines([Text(f"b {i}") for i in range(50)])
        await pilot.pause()
        assert calls == []
        assert view.lines()[0] == "b 0"


async def test_a_static_of_the_same_height_is_updated_without_a_layout():
    app = _Host()
    async with app.run_test(size=(60, 10)) as pilot:
        title = app.query_one("#title", Static)
        update_static(title, Text("one line"))
        await pilot.pause()
        calls: list = []
        _layouts(title, calls)
        update_static(title, Text("another line"))
        await pilot.pause()
        assert calls == []
        update_static(title, Text("two\nlines"))        # taller: a layout, so it shows whole
        await pilot.pause()
        assert title in calls


def test_reprocessing_reads_the_invocation_each_batch_event_names(tmp_path):
    lab, _ = open_or_create(tmp_path / "lab.db")
    for _ in range(6):
        lab.step()
    batches = rm.reprocessing(lab, "clicks")
    named = [ev["invocation"] for b in batches for ev in b["events"] if ev["invocation"]]
    assert named, "the starter lab's clicks batches name their invocations"
    rows = {r[0] for r in lab.store.conn.execute("SELECT id FROM invocations")}
    assert set(named) <= rows
    assert all(ev["kind"].startswith(rm.BATCH_KINDS) for b in batches for ev in b["events"])
