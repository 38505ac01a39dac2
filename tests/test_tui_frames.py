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


def _layouts(screen, calls: list) -> None:
    """Record every layout pass of the screen."""
    layout = screen._refresh_layout

    def spy(*args, **kw):
        calls.append(screen)
        return layout(*args, **kw)
    screen._refresh_layout = spy


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


async def test_new_lines_repaint_without_a_layout_while_the_scrollbar_stays():
    app = _Host()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LinesView)
        view.show_lines([Text(f"a {i}") for i in range(50)])
        await pilot.pause()
        calls: list = []
        _layouts(app.screen, calls)
        view.show_lines([Text(f"b {i}") for i in range(60)])      # more lines, same scrollbar
        await pilot.pause()
        assert calls == []
        assert view.lines()[0] == "b 0" and view.virtual_size.height == 60


async def test_a_static_of_the_same_height_is_updated_without_a_layout():
    app = _Host()
    async with app.run_test(size=(60, 10)) as pilot:
        title = app.query_one("#title", Static)
        update_static(title, Text("one line"))
        await pilot.pause()
        calls: list = []
        _layouts(app.screen, calls)
        update_static(title, Text("another line"))
        await pilot.pause()
        assert calls == []
        update_static(title, Text("two\nlines"))        # taller: a layout, so it shows whole
        await pilot.pause()
        assert calls


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


def _labels(node, depth=0) -> list[str]:
    out = ["  " * depth + str(node.label)]
    for child in node.children:
        out += _labels(child, depth + 1)
    return out


async def test_the_reprocessing_tree_changed_in_place_is_the_tree_built_afresh(
        tmp_path, monkeypatch):
    """After each step only the batches that changed are rebuilt (the window
    of batches slides, the newest gains events): the tree must read as a
    tree built from scratch would."""
    from esmlab.tui import app as app_module
    from esmlab.tui.widgets import reprocessing
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    monkeypatch.setattr(reprocessing, "BATCHES_SHOWN", 5)      # the window slides soon
    lab, _ = open_or_create(tmp_path / "lab.db")
    lab.close()
    app = app_module.EsmlabApp(str(tmp_path / "lab.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("3")                      # flaky: retries, successes, halves
        app.query_one("#tabs").active = "reprocessing"
        await pilot.pause()
        panel = app.query_one(reprocessing.ReprocessingPanel)
        tree = panel.query_one("#reprocessing-tree")
        for _ in range(25):
            await pilot.press("f5")
            await pilot.pause()
            in_place = _labels(tree.root)
            panel._shown_batches = []
            tree.clear()
            panel.show(panel.read(app.lab, app.view()))
            await pilot.pause()
            assert _labels(tree.root) == in_place
        assert len(in_place) > 5


async def test_a_stream_of_many_shards_starts_folded_and_labels_its_shards_when_opened(
        tmp_path, monkeypatch):
    from esmlab.tui.app import EsmlabApp
    from esmlab.tui.widgets.tree import ResourceTree
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    lab, _ = open_or_create(tmp_path / "lab.db")
    lab.create_stream("wide", ShardCount=rm.SHARD_BADGES + 6)
    lab.close()
    app = EsmlabApp(str(tmp_path / "lab.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.query_one(ResourceTree)
        wide, clicks = tree.node_for(("stream", "wide")), tree.node_for(("stream", "clicks"))
        assert clicks.is_expanded and not wide.is_expanded
        last = tree.node_for(("shard", "wide", wide.children[-1].data[2]))
        assert not str(last.label).startswith("shard ")      # not labelled while folded
        wide.expand()
        await pilot.pause()
        assert str(last.label).startswith(f"shard {rm.SHARD_BADGES + 5}")


async def test_the_scaling_panel_draws_another_mappings_charts_without_a_layout(
        tmp_path, monkeypatch):
    """The charts are text in one Line API view with a scrollbar that always
    shows: moving from a stream's mapping (three charts) to a queue's (four)
    repaints the panel and lays out nothing."""
    from esmlab.tui.app import EsmlabApp
    from esmlab.tui.widgets.scaling import ScalingPanel
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    lab, _ = open_or_create(tmp_path / "lab.db")
    lab.close()
    app = EsmlabApp(str(tmp_path / "lab.db"))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.query_one("#tabs").active = "scaling"
        await pilot.pause()
        await pilot.pause()
        view = app.query_one(ScalingPanel).query_one("#scaling-view", LinesView)
        assert sum("IteratorAge" in line for line in view.lines()) >= 1
        calls: list = []
        _layouts(app.screen, calls)
        app.query_one("#tree").show(("mapping", "orders"))
        await pilot.pause()
        await pilot.pause()
        assert app.selected == ("mapping", "orders")
        assert any("ApproximateAgeOfOldestMessage" in line for line in view.lines())
        assert calls == []


async def test_a_first_switch_to_a_tab_lays_out_the_screen_once(tmp_path, monkeypatch):
    """Every pane is laid out once after the first frame, so showing one for
    the first time is one layout of the screen, not a second one for the
    pane's new size."""
    from esmlab.tui.app import TABS, EsmlabApp
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    lab, _ = open_or_create(tmp_path / "lab.db")
    lab.close()
    app = EsmlabApp(str(tmp_path / "lab.db"))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.pause()
        for tab in ("metrics", "dlq", "scaling"):
            assert tab in TABS
            calls: list = []
            _layouts(app.screen, calls)
            app.query_one("#tabs").active = tab
            await pilot.pause()
            await pilot.pause()
            assert len(calls) == 1, tab
            del app.screen._refresh_layout         # the next tab's spy starts afresh


async def test_start_up_objects_are_out_of_the_garbage_collectors_reach(tmp_path, monkeypatch):
    import gc

    from esmlab.tui.app import EsmlabApp
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    lab, _ = open_or_create(tmp_path / "lab.db")
    lab.close()
    gc.unfreeze()
    app = EsmlabApp(str(tmp_path / "lab.db"))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()                 # the rest of the test run collects as usual


async def test_reprocessing_steps_and_its_detail_line_repaint_without_a_layout(
        tmp_path, monkeypatch):
    """The batch tree's scrollbar always shows (none across) and the line
    below it has a fixed height: new batches and a new highlighted event
    repaint the panel, not the whole screen."""
    from esmlab.tui.app import EsmlabApp
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    lab, _ = open_or_create(tmp_path / "lab.db")
    lab.close()
    app = EsmlabApp(str(tmp_path / "lab.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3")                       # flaky: retries and halves
        app.query_one("#tabs").active = "reprocessing"
        await pilot.pause()
        await pilot.pause()
        for _ in range(6):
            await pilot.press("f5")
        tree = app.query_one("#reprocessing-tree")
        tree.focus()               # (the footer lays out for the new focus's keys)
        await pilot.pause()
        await pilot.pause()
        calls: list = []
        _layouts(app.screen, calls)
        for _ in range(6):
            await pilot.press("f5")
            await pilot.pause()
        for _ in range(3):
            await pilot.press("down")
            await pilot.pause()
        detail = app.query_one("#reprocessing-detail")
        assert tree.cursor_node is not None and tree.cursor_node.data["text"]
        assert str(detail.render()).strip()                 # the sentence shows
        assert calls == []


async def test_the_why_log_outgrowing_its_view_lays_out_nothing(tmp_path, monkeypatch):
    """Its scrollbar always shows: the step after which the journal is taller
    than the view repaints the log, it does not lay out the screen."""
    from esmlab.tui.app import EsmlabApp
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    lab, _ = open_or_create(tmp_path / "lab.db")
    lab.close()
    app = EsmlabApp(str(tmp_path / "lab.db"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(2):           # the card gains its "recent" line (a layout of its own)
            await pilot.press("f5")
        app.query_one("#tabs").active = "why"
        await pilot.pause()
        await pilot.pause()
        view = app.query_one("#whylog-view", LinesView)
        assert view.virtual_size.height < view.size.height
        calls: list = []
        _layouts(app.screen, calls)
        for _ in range(40):
            await pilot.press("f5")
            await pilot.pause()
            if view.virtual_size.height > view.size.height:
                break
        assert view.virtual_size.height > view.size.height
        assert calls == []
