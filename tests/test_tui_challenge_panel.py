"""A challenge on screen: its goal beside the lab (widgets/challenge.py),
checks met / not met / not checked yet, hints one by one, F4 listing and
opening the challenges, and a failed check's link to the X-ray of the
first record involved."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab.scenario import challenge as ch  # noqa: E402
from esmlab.tui.app import EsmlabApp  # noqa: E402
from esmlab.tui.screens.forms import ScenarioScreen, TextScreen  # noqa: E402
from esmlab.tui.widgets.challenge import ChallengePanel  # noqa: E402

NAME = "sqs-batch-item-failures-ignored"
SOLUTION = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """The learner's config and state folders, the test's own."""
    monkeypatch.setenv("ESMLAB_KEYMAP", str(tmp_path / "no-keymap.json"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


@pytest.fixture
def challenge_lab(homes):
    path = ch.resolve_challenge(NAME)
    lab_path = ch.challenge_lab_path(path.stem)
    ch.prepare_lab(path, lab_path)
    return lab_path


def plain(content) -> str:
    parts = getattr(content, "renderables", None)
    if parts is not None:
        return "\n".join(plain(p) for p in parts)
    return str(getattr(content, "plain", content))


def panel_text(app) -> str:
    return plain(app.query_one("#challenge-body").content)


async def check_now(pilot, app):
    await pilot.press("ctrl+g")
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_goal_shows_beside_the_lab_each_check_not_checked_yet(challenge_lab, size):
    app = EsmlabApp(str(challenge_lab))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        panel = app.query_one(ChallengePanel)
        assert panel.display
        text = panel_text(app)
        assert "○ the corrupt file reaches uploads-dlq" in text
        assert "○ each good file is processed exactly once" in text
        assert "not checked yet" in text and "ctrl+g checks" in text
        tabs = app.query_one("#tabs").region
        if size[0] >= 140:     # a column at the right of the panels, as tall as they are
            assert panel.region.x >= tabs.right and panel.region.height >= tabs.height
        else:                  # a strip under them, the panels keep most of the height
            assert panel.region.y >= tabs.bottom and tabs.height > panel.region.height
        # the panel's every line fits the screen: nothing is drawn past its edge
        assert panel.region.right <= size[0] and panel.region.bottom <= size[1]


async def test_a_check_marks_each_goal_check_met_or_not_and_a_later_change_unmarks_them(
        challenge_lab):
    app = EsmlabApp(str(challenge_lab))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.lab.update_mapping("import", BatchSize=5)          # not the fix
        app.refresh_view()
        assert "mappings.import.BatchSize = 5" in panel_text(app)
        await check_now(pilot, app)
        await pilot.press("escape")                            # the verdict's dialog
        await pilot.pause()
        text = panel_text(app)
        assert "✗ the corrupt file reaches uploads-dlq" in text
        assert "expected 'file 3 corrupt' in uploads-dlq, actual no such message" in text
        assert "○" not in text
        app.lab.step()                                         # Updating -> Enabled
        app.lab.update_mapping("import", BatchSize=4)
        app.refresh_view()
        text = panel_text(app)
        assert "○ the corrupt file reaches uploads-dlq" in text
        assert "A setting changed since the last check (0 of 2 held then)" in text


async def test_a_solved_challenge_shows_every_check_met_and_the_explanation(challenge_lab):
    app = EsmlabApp(str(challenge_lab))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "📖" not in panel_text(app)                     # locked until the goal holds
        app.lab.update_mapping("import", **SOLUTION)
        await check_now(pilot, app)
        assert isinstance(app.screen, TextScreen) and "solved" in app.screen.body.plain
        await pilot.press("escape")
        await pilot.pause()
        text = panel_text(app)
        assert "Solved: every goal check holds" in text
        assert "✓ the corrupt file reaches uploads-dlq" in text
        assert "📖 Without FunctionResponseTypes [ReportBatchItemFailures]" in text


async def test_h_unlocks_the_next_hint_and_keeps_it_in_the_learners_progress(challenge_lab):
    scenario = ch.load_scenario(ch.resolve_challenge(NAME))
    app = EsmlabApp(str(challenge_lab))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "💡" not in panel_text(app)
        await pilot.press("h")
        await pilot.pause()
        assert "💡 hint 1 of 3: Look at invocation 1" in panel_text(app)
        await pilot.press("h")
        await pilot.pause()
        text = panel_text(app)
        assert "💡 hint 2 of 3" in text and "h: next hint (1 left)" in text
    # kept where the attempts are, so `esmlab challenge NAME` shows them too
    assert ch.hints_unlocked(scenario.challenge, ch.progress()[scenario.name]) == \
        scenario.challenge["hints"][:2]
    assert any("hint 2 of 3" in line for line in ch.brief_lines(ch.resolve_challenge(NAME)))


async def test_ctrl_t_folds_the_goal_to_one_line_and_back(challenge_lab):
    app = EsmlabApp(str(challenge_lab))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panel = app.query_one(ChallengePanel)
        tall = panel.region.height
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert panel.region.height == 1 < tall
        assert panel_text(app).startswith("🎯 goal 0/2 met (2 not checked)")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert panel.region.height == tall


async def test_the_panel_shows_only_on_a_challenges_lab(homes, lab):
    lab.close()
    app = EsmlabApp(str(homes / "lab.db"))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert not app.query_one(ChallengePanel).display
        assert app.check_action("challenge_hint", ()) is False


async def test_f4_lists_the_challenges_after_the_lessons_with_the_learners_progress(
        homes, lab):
    from esmlab import lessons
    lab.close()
    ch.record_attempt("sqs-throttled-receives-reach-dlq", solved=False)
    ch.record_attempt("sqs-throttled-receives-reach-dlq", solved=False)
    ch.record_attempt(ch.load_scenario(ch.resolve_challenge(NAME)).name, solved=True)
    app = EsmlabApp(str(homes / "lab.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ScenarioScreen)
        listed = dialog.query_one("#lessons")
        prompts = [str(listed.get_option_at_index(i).prompt).split(" — ")[0]
                   for i in range(listed.option_count)]
        n = len(dialog.lessons)
        assert prompts[n].startswith("── challenges")                  # the heading, after them
        assert listed.get_option_at_index(n).disabled
        assert [p.split(" ")[1] for p in prompts[n + 1:]] == [p.stem for p in
                                                               lessons.list_challenges()]
        assert f"🎯 {NAME} ✓ solved" in prompts
        assert "🎯 sqs-throttled-receives-reach-dlq (2 attempts)" in prompts
        # Enter on a challenge opens its lab, as `esmlab challenge NAME` does
        listed.highlighted = prompts.index(f"🎯 {NAME} ✓ solved")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert Path(app.lab_path) == ch.challenge_lab_path(NAME)
        assert app.lab.initial["name"] == ch.load_scenario(ch.resolve_challenge(NAME)).name
        assert app.query_one(ChallengePanel).display
        assert app.lab.invocations() == []                    # its setup, not its traffic
        await pilot.press("ctrl+b")                            # back to the lab started on
        await pilot.pause()
        assert app.lab_path == str(homes / "lab.db")
        assert not app.query_one(ChallengePanel).display


async def test_a_failed_goal_check_opens_the_xray_of_its_record_in_the_lab_the_check_played(
        challenge_lab):
    app = EsmlabApp(str(challenge_lab))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.lab.update_mapping("import", BatchSize=5)
        await check_now(pilot, app)
        assert isinstance(app.screen, TextScreen)
        assert "x-ray" in app.screen.body.plain                # the verdict links it too
        await pilot.press("v")
        await pilot.pause()
        assert Path(app.lab_path) == ch.attempt_lab_path(NAME)
        assert app.query_one("#tabs").active == "xray"
        story = plain(app.query_one("#xray-view").content)
        assert "sqs.sent" in story and "invocation 1" in story   # the corrupt file's life
        assert "Your last check's lab" in panel_text(app)
        await pilot.press("ctrl+b")                            # back to change settings
        await pilot.pause()
        assert Path(app.lab_path) == challenge_lab
        assert "✗ the corrupt file reaches uploads-dlq" in panel_text(app)


def test_the_panels_link_is_a_click_on_the_failed_checks_xray(challenge_lab):
    from esmlab.lab import Lab
    from esmlab.tui.widgets.challenge import ChallengeState, render
    path = ch.resolve_challenge(NAME)
    scenario = ch.load_scenario(path)
    changes = [ch.Change("mappings.import.BatchSize", 5)]
    verdict = ch.check(path, changes, record=False, keep=ch.attempt_lab_path(NAME))
    lab = Lab.open(challenge_lab)
    try:
        lab.update_mapping("import", BatchSize=5)
        state = ChallengeState(path=path, scenario=scenario, lab_path=str(challenge_lab),
                               verdict=verdict, checked=changes,
                               attempt_path=ch.attempt_lab_path(NAME))
        model = ChallengePanel.read(lab, state)
    finally:
        lab.close()
    clicks = [span.style.meta.get("@click") for line in render(model).renderables
              for span in line.spans if hasattr(span.style, "meta") and span.style.meta]
    assert clicks[:2] == ["app.challenge_xray(0)", "app.challenge_xray(1)"]


LESSON = """
name: check-links-to-xray
title: A check that fails names its record
see: the failed check links to the X-ray of the message it names
seed: 3
resources:
  functions:
    - FunctionName: worker
      behaviour: {mode: fail}
  queues:
    - QueueName: jobs-dlq
    - QueueName: jobs
      Attributes:
        VisibilityTimeout: 30
        RedrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:jobs-dlq",
                        maxReceiveCount: 1}
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:jobs
steps:
  - send_message: {QueueName: jobs, MessageBody: job 7}
  - run_until_idle: 5m
  - expect:
      message: {QueueName: jobs, body: job 7}
"""


async def test_a_failed_lesson_check_links_to_the_xray_of_its_record(homes, lab):
    lab.close()
    lesson = homes / "lesson.yaml"
    lesson.write_text(LESSON, encoding="utf-8")
    app = EsmlabApp(str(homes / "lab.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.play_scenario(str(lesson), step_by_step=True)
        await app.workers.wait_for_complete()
        for _ in range(3):
            await pilot.press("g")
            await app.workers.wait_for_complete()
            await pilot.pause()
        failed = [c for r in app.scenario_results for c in r.checks if not c.ok]
        assert failed and failed[0].xray                 # the message, now in jobs-dlq
        narration = plain(app.query_one("#narration").content)
        assert f"▸ x-ray {failed[0].xray[:8]} (a click, or v)" in narration
        await pilot.press("v")
        await pilot.pause()
        assert app.query_one("#tabs").active == "xray" and app.xray == failed[0].xray
        assert "jobs-dlq" in plain(app.query_one("#xray-view").content)


def test_a_records_involved_text_names_the_id_the_xray_resolves(tmp_path):
    from esmlab.scenario.involved import first_ref
    from esmlab.scenario.report import play_one
    attempt = ch.with_changes(ch.resolve_challenge(NAME), [])
    player, _ = play_one(attempt.scenario, tmp_path / "played.db")
    try:
        lab = player.lab
        deleted = first_ref(lab, ["'file 3 corrupt' (deleted)"])
        assert deleted is not None and "-" in deleted          # the message id
        assert first_ref(lab, ["invocation 1 (import, success: 'file 1')"]) == "1"
        assert first_ref(lab, [], {"QueueName": "uploads-dlq", "body": "file 3 corrupt"}) == \
            deleted
        assert first_ref(lab, ["'never sent'"]) is None
        from esmlab import story
        assert story.resolve(lab, deleted)["kind"] == "message"   # gone, yet x-rayed
    finally:
        player.lab.close()


def test_a_challenge_whose_setup_aws_refuses_opens_with_what_aws_accepts(homes):
    from esmlab import readmodels as rm
    from esmlab.lab import Lab
    path = ch.resolve_challenge("sqs-visibility-timeout-vs-function-timeout")
    lab_path = ch.challenge_lab_path(path.stem)
    ch.prepare_lab(path, lab_path)        # the mapping is refused: VisibilityTimeout < Timeout
    lab = Lab.open(lab_path)
    try:
        model = rm.resources(lab)
        assert [q["name"] for q in model["queues"]] == ["exports"]
        assert [f["name"] for f in model["functions"]] == ["export"]
        assert model["mappings"] == []
        lab.do("set_queue_attributes", QueueName="exports", Attributes={"VisibilityTimeout": 360})
        changes = ch.changes_from_lab(lab)
    finally:
        lab.close()
    assert ch.check(path, changes, record=False).solved      # the fix, made on screen


async def test_the_results_view_links_a_failed_check_to_the_xray_of_its_record(homes, lab):
    lab.close()
    lesson = homes / "lesson.yaml"
    lesson.write_text(LESSON, encoding="utf-8")
    app = EsmlabApp(str(homes / "lab.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.play_scenario(str(lesson))                       # to the end: the results view
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        assert "▸ x-ray" in app.screen.body.plain
        await pilot.press("v")
        await pilot.pause()
        assert not isinstance(app.screen, TextScreen)
        assert app.query_one("#tabs").active == "xray"
        assert "jobs-dlq" in plain(app.query_one("#xray-view").content)


async def test_a_click_on_the_strips_x_ray_link_opens_the_record(challenge_lab):
    app = EsmlabApp(str(challenge_lab))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.lab.update_mapping("import", BatchSize=5)
        await check_now(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        lines = [plain(line) for line in app.query_one("#challenge-body").content.renderables]
        row = next(i for i, text in enumerate(lines) if "▸ v: x-ray" in text)
        await pilot.click("#challenge-body", offset=(5, row))   # one line each: no wrapping
        await pilot.pause()
        assert Path(app.lab_path) == ch.attempt_lab_path(NAME)
        assert app.query_one("#tabs").active == "xray"
