"""The screen's autoplay and run until idle move the clock in budgeted steps
(esmlab/tui/actions/clock.py): a big instant is worked through in parts the
header names, and the lab's history is the one a single advance or
run_until_idle command gives."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab.engine import arns  # noqa: E402
from esmlab.lab import Lab  # noqa: E402
from esmlab.tui.app import EsmlabApp  # noqa: E402
from esmlab.tui.widgets.header import instant_text  # noqa: E402


def _burst_lab(path) -> str:
    """400 messages and 400 free slots: the first poll starts hundreds of
    100 s batches at one instant (more than one step's budget)."""
    lab = Lab.create(path, seed=3)
    lab.do("set_account_concurrency", ConcurrentExecutions=5000)
    lab.create_function("f", Timeout=120, duration={"fixed_ms": 100_000, "per_record_ms": 0})
    lab.create_queue("q", {"VisibilityTimeout": "400"})
    for b in range(40):
        lab.send_message_batch("q", [{"Id": str(k), "MessageBody": f"m{b}-{k}"}
                                     for k in range(10)])
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=1)
    lab.step(budget=None)
    lab.advance_ms(lab.engine.agenda.pending(f"scale:{lab.mapping('f')['uuid']}") - lab.now_ms - 1)
    lab.close()
    return str(path)


def _history(lab: Lab) -> tuple:
    return (lab.journal_signature(), lab.invocations(), lab.now_ms, lab.engine.rng.state)


def _watch_instants(app) -> list[str]:
    """Every header line drawn while an instant was part-way."""
    seen = []
    show = app.show_header

    def spy():
        show()
        if instant_text(app.lab):
            seen.append(app.query_one("#clock").content.plain)
    app.show_header = spy
    return seen


async def test_run_until_idle_on_screen_steps_in_parts_with_the_one_command_history(tmp_path):
    app = EsmlabApp(_burst_lab(tmp_path / "screen.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen = _watch_instants(app)
        before = len(app.lab.commands())
        await pilot.press("f9")
        for _ in range(2000):
            if app._clock_run is None:
                break
            await pilot.pause(0.02)
        assert app._clock_run is None, "run until idle ended"
        assert any(", part " in s and "⏩ until idle" in s for s in seen), \
            "the header named the parts of the big instant"
        steps = [c for c in app.lab.commands()[before:] if c["name"] == "step"]
        assert len(steps) > 3 and all(c["args"].get("budget") for c in steps)
        screen = _history(app.lab)
    one = Lab.open(_burst_lab(tmp_path / "one.db"))
    one.run_until_idle()
    assert screen == _history(one), "the screen's pieces made the one command's history"


async def test_pressing_run_until_idle_again_stops_it_where_it_is(tmp_path):
    app = EsmlabApp(_burst_lab(tmp_path / "lab.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app._clock_timer = None
        app.action_run_until_idle()
        app._clock_timer.pause()           # no tick of its own: the test ticks
        app._clock_tick()
        at = app.lab.now_ms
        await pilot.press("f9")
        assert app._clock_run is None
        await pilot.pause(0.2)
        assert app.lab.now_ms == at, "a stopped run does not go on"
        assert "until idle" not in app.query_one("#clock").content.plain


async def test_autoplay_ticks_step_in_parts_with_the_advance_history(tmp_path):
    path = _burst_lab(tmp_path / "screen.db")
    app = EsmlabApp(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen = _watch_instants(app)
        app.speed = 10                    # 2 s of virtual time per tick
        start = app.lab.now_ms
        finished = ticks = 0
        while finished < 3:               # the test ticks (the timer stays paused)
            app._tick()
            ticks += 1
            finished += app._autoplay_run.done
        assert ticks > finished, "the big instant took more than one tick"
        assert any(", part " in s for s in seen)
        assert app.lab.now_ms == start + 3 * 2_000
        screen = _history(app.lab)
    one = Lab.open(_burst_lab(tmp_path / "one.db"))
    for _ in range(3):
        one.advance_ms(2_000)
    assert screen == _history(one)


async def test_the_advance_form_steps_in_parts_with_the_advance_history(tmp_path):
    app = EsmlabApp(_burst_lab(tmp_path / "screen.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen = _watch_instants(app)
        start = app.lab.now_ms
        await pilot.press("f6")
        await pilot.pause()
        form = app.screen
        form.query_one("Input").value = "90s"
        await pilot.press("enter")
        for _ in range(2000):
            if app._clock_run is None:
                break
            await pilot.pause(0.02)
        assert app._clock_run is None and app.lab.now_ms == start + 90_000
        assert any(", part " in s and "⏩ advance 1m30s" in s for s in seen), seen
        screen = _history(app.lab)
    one = Lab.open(_burst_lab(tmp_path / "one.db"))
    one.advance_ms(90_000)
    assert screen == _history(one)
