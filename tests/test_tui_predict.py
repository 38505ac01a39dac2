"""Predict, then see, on screen: a lesson step with `predict:` asks before
it plays, the narration says right or wrong with the explanation, the
lesson ends with a score; and F4's compare plays a lesson twice and shows
the difference side by side."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab.tui.actions.scenarios import split_settings  # noqa: E402
from esmlab.tui.app import EsmlabApp  # noqa: E402
from esmlab.tui.screens.forms import AskScreen, PredictScreen, TextScreen  # noqa: E402
from esmlab.tui.widgets.narration import NarrationPanel  # noqa: E402

LESSON = """\
name: predict-on-screen
title: Two questions before two steps
see: A batch takes every record waiting, up to BatchSize.
seed: 1
resources:
  functions:
    - FunctionName: worker
      Timeout: 10
  streams:
    - StreamName: clicks
      ShardCount: 1
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks
      StartingPosition: TRIM_HORIZON
      BatchSize: 10
steps:
  - put_record: {StreamName: clicks, PartitionKey: k, Data: 'click {n}', count: 3}
  - advance: 2s
    predict:
      question: How many invocations carry the three clicks?
      choices: [1, 3]
      answer: 1
      explain: BatchSize is 10, so one poll takes all three in one event.
  - advance: 1s
    predict:
      question: How many records did the function see in all?
      answer: 3
      explain: Each record is delivered once when the function succeeds.
  - expect:
      invocations: {function: worker, count: 1}
"""


@pytest.fixture
def lab_path(lab_path, tmp_path, monkeypatch):
    """conftest's fresh lab, with the learner's scores in this test's own
    config folder and the lesson above beside the lab."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "predict.yaml").write_text(LESSON)
    return lab_path


def narration(app) -> str:
    return str(app.query_one("#narration").content)


async def next_step(pilot, app):
    await pilot.press("f3")
    await pilot.pause()


async def test_a_prediction_is_asked_before_its_step_and_judged_after(lab_path, tmp_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.play_scenario(str(tmp_path / "predict.yaml"), step_by_step=True)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await next_step(pilot, app)                       # the put: no question
        await app.workers.wait_for_complete()
        await pilot.pause()
        before = app.lab.now_ms
        await next_step(pilot, app)                       # asks first
        assert isinstance(app.screen, PredictScreen)
        assert app.lab.now_ms == before                   # nothing played yet
        await pilot.press("down", "enter")                # "3": wrong
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.lab.now_ms == before + 2000
        text = narration(app)
        assert "✗ you said 3; the answer: 1" in text and "BatchSize is 10" in text
        await next_step(pilot, app)                       # a free answer
        assert isinstance(app.screen, PredictScreen)
        app.screen.query_one("#predict-answer").value = " 3 "
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "✓ you said 3: right" in narration(app)
        app.clear_notifications()
        await next_step(pilot, app)                       # the last step: the score
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.player.done
        said = " ".join(n.message for n in app._notifications)
        assert "predict-on-screen: 1 of 2 right" in said
    from esmlab import progress
    kept = progress.lessons()["predict-on-screen"]        # the learner's progress
    assert kept["plays"] == 1 and kept["finished"] is True
    assert kept["predictions"] == {"asked": 2, "answered": 2, "right": 1}


async def test_played_to_the_end_it_stops_at_each_question_then_shows_the_score(lab_path,
                                                                                tmp_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.play_scenario(str(tmp_path / "predict.yaml"), step_by_step=False)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, PredictScreen)
        await pilot.press("enter")                        # the first choice, 1: right
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, PredictScreen)
        await pilot.press("escape")                       # skipped: still played
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        body = app.screen.body.plain
        assert "your predictions: 1 of 2 right (1 not answered)" in body
        assert "· not answered; the answer: 3" in body
        assert app.player.done and not app.player.stopped
        assert app.query_one(NarrationPanel).display


def test_settings_split_where_a_new_path_begins():
    assert split_settings("mappings.m.BatchSize=5  queues.q.VisibilityTimeout=180") == [
        "mappings.m.BatchSize=5", "queues.q.VisibilityTimeout=180"]
    assert split_settings("mappings.m.FilterCriteria={Filters: [{Pattern: x}]} profile=classic") \
        == ["mappings.m.FilterCriteria={Filters: [{Pattern: x}]}", "profile=classic"]


async def test_compare_from_the_lessons_dialog_shows_both_runs_side_by_side(lab_path,
                                                                            tmp_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.compare_lesson(str(tmp_path / "predict.yaml"))
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AskScreen)
        form.query_one("#f-set").value = "mappings.nothing.BatchSize=1"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form and form.query_one("#form-error").display   # said why
        form.query_one("#f-set").value = "mappings.worker.BatchSize=1"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        body = app.screen.body.plain
        assert "as written" in body and "changed" in body and "invocations" in body
        assert "The runs part at journal event" in body
        assert app.lab_path == str(lab_path)              # the lab on screen is untouched


async def test_on_a_challenges_lab_ctrl_g_shows_the_goal_then_judges_the_changes(tmp_path,
                                                                                 monkeypatch):
    from esmlab.lab import Lab
    from esmlab.scenario import challenge as ch
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = ch.resolve_challenge("sqs-throttled-receives-reach-dlq")
    lab_path = tmp_path / "challenge.lab.db"
    ch.prepare_lab(path, lab_path)
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert app.check_action("challenge_check", ()) is True
        await pilot.press("ctrl+g")                       # nothing changed yet: the brief
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        assert "Goal (checked after the last step)" in app.screen.body.plain
        assert "No setting is changed yet" in app.screen.body.plain
        await pilot.press("escape")
        await pilot.pause()
        app.lab.do("set_queue_attributes", QueueName="reports",
                   Attributes={"VisibilityTimeout": 120})
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        body = app.screen.body.plain
        assert "solved: every goal check holds" in body
        assert "queues.reports.VisibilityTimeout = 120" in body
    other = EsmlabApp(str(tmp_path / "plain.db"), lab=Lab.create(tmp_path / "plain.db"))
    async with other.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert other.check_action("challenge_check", ()) is False   # not a challenge's lab
