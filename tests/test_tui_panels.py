"""The panels' read models and the newcomer fixes, each test named after the
rule it guards. Read models are checked without an app (fast); a few
journeys run the app with Pilot."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

from esmlab import readmodels as rm  # noqa: E402
from esmlab.cli import open_or_create  # noqa: E402
from esmlab.engine import arns  # noqa: E402
from esmlab.engine.mappings.stream_poller import lane_of  # noqa: E402
from esmlab.lab import Lab  # noqa: E402


@pytest.fixture
def lab(tmp_path):
    lab = Lab.create(tmp_path / "lab.db")
    yield lab
    lab.close()


def _wide(lab, shards=3, factor=4, records=60):
    lab.create_function("f", Timeout=3)
    lab.create_stream("s", ShardCount=shards)
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", ParallelizationFactor=factor)
    lab.step()
    lab.put_records("s", [{"PartitionKey": f"k{i}", "Data": f"r{i}"} for i in range(records)])


def test_an_ordering_page_reads_only_the_lanes_in_view(lab):
    _wide(lab)
    model = rm.stream_ordering(lab, "s", lane_offset=2, lane_limit=5)
    (m,) = model["mappings"]
    assert model["lane_total"] == 12 and len(m["lanes"]) == 5
    assert [(lane["shard_id"][-1], lane["lane"]) for lane in m["lanes"]] == [
        ("0", 2), ("0", 3), ("1", 0), ("1", 1), ("1", 2)]


def test_a_lanes_records_are_exactly_the_keys_of_that_lane(lab):
    _wide(lab)
    lanes = rm.stream_ordering(lab, "s", lane_limit=12)["mappings"][0]["lanes"]
    seen = 0
    for lane in lanes:
        for r in lane["waiting"]:
            assert lane_of(r["key"], 4) == lane["lane"]
        seen += len(lane["waiting"])
        assert lane["backlog"] == len(lane["waiting"])
    assert seen == 60


def test_a_counter_without_samples_is_zero_in_every_bucket(lab):
    _wide(lab)
    s = rm.bucketed(lab, "f", "Errors", (lab.engine.start_ms, lab.engine.now_ms + 60_000), 10)
    assert s["y"] == [0.0] * 10 and s["samples"] == 0 and s["peak"] == 0


def test_a_gauge_holds_its_last_value_between_samples(lab):
    _wide(lab)
    lab.run_until_idle()
    s = rm.bucketed(lab, "m", "ConcurrentExecutions",
                    (lab.engine.start_ms, lab.engine.now_ms + 1), 20)
    assert s["samples"] > 0 and s["peak"] >= 1
    assert s["y"][-1] == s["last"]


def test_the_scaling_panel_names_the_profile_in_force_and_its_numbers(lab):
    _wide(lab)
    model = rm.scaling(lab, "m")
    assert model["profile"] == "current"
    assert "3 open shard(s) x ParallelizationFactor 4 = 12" in model["profile_numbers"]
    assert model["charts"][0]["limits"] == {"shards x ParallelizationFactor": 12}


def test_event_counts_are_not_configured_without_metrics_config(lab):
    _wide(lab)
    model = rm.event_counts(lab, "m")
    assert not model["configured"]
    assert "DeletedEventCount" not in model["series"]       # an SQS-only metric


def test_the_why_log_is_newest_first_with_short_sequence_numbers_and_record_text(lab):
    _wide(lab, records=1)
    lab.put_record("s", "k", "r0")
    events = rm.why_log(lab)["events"]
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    put = next(e for e in events if e["kind"] == "stream.put")
    assert put["text"].startswith("'r0' record …")
    assert not any(len(w) >= 20 and w.isdigit() for w in put["text"].split())
    full = next(e for e in rm.why_log(lab, full=True)["events"] if e["kind"] == "stream.put")
    assert any(len(w) >= 20 and w.isdigit() for w in full["text"].split())


def test_the_charts_time_axis_is_lab_time_and_ages_are_human_durations():
    from esmlab.tui.widgets.chart import Duration, LabTime
    start = 1_000_000
    time_axis = LabTime(start)
    ticks = time_axis.get_ticks(start, start + 120_000)
    assert time_axis.get_labels_for_ticks(ticks)[:3] == ["T+0s", "T+30s", "T+1m00s"]
    assert Duration().get_labels_for_ticks([59_940_000]) == ["16h39m"]


def test_a_new_mapping_from_the_form_is_labelled_by_its_source(lab):
    from esmlab.tui.screens.resources import mapping_create_submit
    lab.create_function("f")
    lab.create_function("g")
    lab.create_queue("jobs")
    values = {"label": "", "json": "", "FunctionName": "f",
              "EventSourceArn": arns.queue_arn("jobs")}
    assert mapping_create_submit(lab, values)[1] == "jobs"
    assert mapping_create_submit(lab, {**values, "FunctionName": "g"})[1] == "jobs-2"


def test_a_lab_hint_is_shown_beside_awss_message_never_inside_it():
    from esmlab.errors import AwsError
    from esmlab.tui.said import said
    exc = AwsError("InvalidParameterValueException", "bad value", hint="try 10")
    assert said(exc) == "InvalidParameterValueException: bad value\n(lab hint: try 10)"


# -- journeys on screen ---------------------------------------------------------------------

async def test_f1_help_scrolls_with_the_keyboard(lab_path):
    from esmlab.tui.app import EsmlabApp
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        scroll = app.screen.query_one("#help-scroll")
        assert app.screen.focused is scroll
        await pilot.press("pagedown")
        await pilot.pause()
        assert scroll.scroll_y > 0


async def test_a_step_that_jumps_the_clock_says_so(lab_path, monkeypatch):
    from esmlab.tui.actions import clock
    from esmlab.tui.app import EsmlabApp
    monkeypatch.setattr(clock, "JUMP_NOTICE_MS", 600_000)   # 10 min, so the test stays short
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.lab.run_until_idle()
        app.lab.send_message("orders", "later", DelaySeconds=900)
        app.clear_notifications()
        before = app.lab.engine.now_ms
        for _ in range(5):
            await pilot.press("f5")
            if app.lab.engine.now_ms - before >= 600_000:
                break
        await pilot.pause()
        said = " ".join(n.message for n in app._notifications)
        assert "the clock jumped" in said and "nothing was due in between" in said


async def test_lesson_labs_stay_out_of_the_working_folder_and_ctrl_b_goes_back(
        lab_path, tmp_path):
    from esmlab.tui.app import EsmlabApp, LongWorkDone
    done = []
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40), message_hook=lambda m: done.append(m)
                            if isinstance(m, LongWorkDone) else None) as pilot:
        await pilot.pause()
        app.play_scenario("basics-poll-and-invoke", step_by_step=True)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert done and done[-1].error is None
        assert sorted(p.name for p in tmp_path.glob("*.db")) == ["lab.db"]
        assert str(tmp_path / "state" / "esmlab" / "lessons") in app.lab_path
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert app.lab_path == str(lab_path)
        assert "clicks" in [m["label"] for m in app._model["mappings"]]


async def test_the_palette_finds_commands_by_what_they_do(lab_path):
    from esmlab.tui.app import EsmlabApp
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any("snapshot" in t.lower() and "ctrl+s" in t for t in titles)
        assert any("dlq" in t.lower() for t in titles)


def _dlq_lab(path):
    made, _ = open_or_create(path)
    made.set_behaviour("orders-handler", mode="fail")
    made.advance(130)
    return made


def test_the_story_of_a_dlqd_message_runs_from_sent_to_moved(tmp_path):
    from esmlab import story
    lab = _dlq_lab(tmp_path / "lab.db")
    try:
        mid = lab.journal(kind="sqs.moved_to_dlq")[0]["subject"]
        s = story.story(lab, mid[:8])
        kinds = [e["kind"] for e in s["events"]]
        assert s["id"] == mid and kinds[0] == "sqs.sent" and "sqs.moved_to_dlq" in kinds
        assert [i["status"] for i in s["invocations"]] == ["error"] * 3   # 3 receives
        first = s["invocations"][0]["id"]
        assert any(line.startswith("START RequestId") for line in s["logs"][first])
        assert story.story(lab, "no-such-id") is None
    finally:
        lab.close()


def test_a_sequence_numbers_tail_names_the_record_not_an_invocation(lab):
    from esmlab import story
    _wide(lab, shards=1, factor=1, records=3)
    put = lab.put_record("s", "k", "one")
    short = rm.short_number(put["SequenceNumber"])
    assert short == "…0004"              # the lab's fourth record (counters start at 1)
    found = story.resolve(lab, short)
    assert found["kind"] == "record" and found["id"] == put["SequenceNumber"]


async def test_the_xray_shows_the_life_of_the_newest_dlqd_message(lab_path):
    from esmlab.tui.app import EsmlabApp
    _dlq_lab(lab_path).close()
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("W")                    # asks, prefilled with the newest DLQ'd message
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one("#tabs").active == "xray"
        text = [t.plain for t in app.query_one("#xray-view").content.renderables]
        assert text[0].startswith("message ") and any("sqs.moved_to_dlq" in t for t in text)


def test_esmlab_why_prints_a_dlqd_messages_life_and_fails_on_an_unknown_id(tmp_path, capsys):
    import json

    from esmlab.cli import main
    path = tmp_path / "lab.db"
    lab = _dlq_lab(path)
    mid = lab.journal(kind="sqs.moved_to_dlq")[0]["subject"]
    lab.close()
    assert main(["--lab", str(path), "why", mid[:8]]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"message {mid}") and "sqs.moved_to_dlq" in out
    assert main(["why", mid, "--lab", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "message" and len(doc["invocations"]) == 3
    assert main(["--lab", str(path), "why", "nothing-like-this"]) == 1
    assert "has the id" in capsys.readouterr().err


def test_the_story_of_a_bisected_record_names_each_half_it_was_in(lab):
    from esmlab import story
    lab.create_function("f", Timeout=3)
    lab.set_behaviour("f", mode="poison", match={"text": "poison"})
    lab.create_stream("s", ShardCount=1)
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", BatchSize=4, MaximumRetryAttempts=1,
                       BisectBatchOnFunctionError=True)
    lab.step()
    seqs = [lab.put_record("s", "k", body)["SequenceNumber"]
            for body in ("a", "b", "poison", "d")]
    lab.run_until_idle()
    s = story.story(lab, seqs[2])
    sizes = [i["size"] for i in s["invocations"]]
    assert s["kind"] == "record" and sizes[0] == 4 and min(sizes) < 4, sizes
    assert any(e["kind"] == "batch.bisected" for e in s["events"])


def test_the_header_names_the_instant_a_step_is_part_way_through():
    from types import SimpleNamespace

    from esmlab.tui.widgets.header import instant_text
    start = 1_704_067_200_000

    def lab(info):
        return SimpleNamespace(instant=lambda: info, engine=SimpleNamespace(start_ms=start))
    assert instant_text(lab({"at_ms": start + 60_000, "part": 3, "done": False,
                             "pending_now": 40, "parts_estimate": 9})) == \
        "instant T+1m00s, part 3 of ~9"
    assert instant_text(lab({"at_ms": start, "part": 1, "done": True, "pending_now": 0,
                             "parts_estimate": 1})) is None


async def test_a_queue_is_deleted_on_screen_after_a_confirmation(lab_path):
    from esmlab.tui.app import EsmlabApp
    from esmlab.tui.screens.resources import ConfirmScreen
    app = EsmlabApp(str(lab_path))
    if not hasattr(app.lab, "delete_queue"):
        pytest.skip("this lab has no DeleteQueue yet")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.lab.create_queue("scratch")
        app.refresh_view()
        await pilot.pause()
        # selected through the tree, as a person does: a selection set past the
        # tree is replaced by the tree's cursor when its highlight message lands
        app.query_one("#tree").show(("queue", "scratch"))
        await pilot.pause()
        assert app.selected == ("queue", "scratch")
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.dismiss(True)              # the confirmation's Yes
        await pilot.pause()
        assert "scratch" not in app.lab.engine.queues.names()


def _chart(series: dict, limits: dict | None = None, unit: str = "count") -> dict:
    xs = [1_000_000 + i * 1000 for i in range(10)]
    return {"title": "t", "unit": unit, "limits": limits or {},
            "series": {name: {"x": xs, "y": ys, "samples": 10, "peak": max(ys),
                              "last": ys[-1]} for name, ys in series.items()}}


def test_a_chart_draws_an_all_zero_series_on_the_axis_and_a_limit_across():
    from esmlab.tui.widgets.chart import ROWS, plot_lines
    lines = [t.plain for t in plot_lines(_chart({"s": [0.0] * 10}, {"cap": 5}), 1_000_000, [],
                                         60)]
    assert len(lines) == ROWS + 2
    plot = [line[8:] for line in lines[:ROWS]]
    assert set(plot[-1]) == {"⣀"}                    # zero: the lowest dots, all along
    assert any(set(row) == {"⣀"} or set(row) == {"⠤"} or set(row) == {"⠒"} or set(row) == {"⠉"}
               for row in plot[:-1])                 # the limit: one row all along
    assert lines[-2].lstrip().startswith("┗")
    assert lines[-1].split()[0] == "T+0s"


def test_a_chart_marks_an_event_with_a_vertical_line_where_no_series_is():
    from esmlab.tui.widgets.chart import ROWS, plot_lines
    mark = {"at_ms": 1_005_000, "what": "throttle"}
    lines = [t.plain for t in plot_lines(_chart({"s": [0.0] * 10}), 1_000_000, [mark], 60)]
    columns = {line.index("│") for line in lines[:ROWS - 1] if "│" in line}
    assert len(columns) == 1 and sum("│" in line for line in lines[:ROWS - 1]) == ROWS - 1


def test_a_charts_value_labels_are_its_units():
    from esmlab.tui.widgets.chart import ROWS, plot_lines
    lines = [t.plain for t in plot_lines(_chart({"age": [0.0] * 9 + [60_000.0]}, unit="ms"),
                                         1_000_000, [], 60)]
    labels = [line[:7].strip() for line in lines[:ROWS] if line[:7].strip()]
    assert labels and all(not label.isdigit() for label in labels)   # 30s, 1m00s, not 30000
    assert labels[-1] == "0ms"
