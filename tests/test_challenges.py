"""Challenges (issue 13): lesson files that start broken, a goal of named
checks, settings the learner may change, hints by attempt, an explanation
when solved. Every shipped challenge has a known solution here that meets
its goal, and fails its goal as given with a message naming the check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esmlab.cli import main
from esmlab.scenario import challenge as ch
from esmlab.scenario.compare import parse_change
from esmlab.scenario.loader import ScenarioError, load_scenario_text
from esmlab.scenario.report import play_one

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios" / "challenges"
DLQ = "arn:aws:sqs:us-east-1:123456789012"

# One known solution per shipped challenge, as `--set PATH=VALUE` changes.
SOLUTIONS = {
    "sqs-batch-item-failures-ignored": [
        "mappings.import.FunctionResponseTypes=[ReportBatchItemFailures]"],
    "kinesis-poison-pill-blocks-shard": [
        "mappings.ledger.BisectBatchOnFunctionError=true",
        "mappings.ledger.MaximumRetryAttempts=2",
        f"mappings.ledger.DestinationConfig={{OnFailure: {{Destination: '{DLQ}:ledger-failures'}}}}"],
    "sqs-throttled-receives-reach-dlq": ["queues.reports.VisibilityTimeout=120"],
    "sqs-maximum-vs-reserved-concurrency": ["mappings.worker.ScalingConfig.MaximumConcurrency=5"],
    "sqs-visibility-timeout-vs-function-timeout": ["queues.exports.VisibilityTimeout=360"],
    "fifo-hot-message-group": ["mappings.fulfil.BatchSize=10"],
    "kinesis-bisect-fresh-retry-budget": ["mappings.charge.BisectBatchOnFunctionError=true",
                                          "mappings.charge.MaximumRetryAttempts=1"],
    "dynamodb-filter-typed-values": [
        "mappings.ship.FilterCriteria={Filters: [{Pattern: "
        "'{\"dynamodb\": {\"NewImage\": {\"status\": {\"S\": [\"shipped\"]}}}}'}]}"],
    "sqs-thrown-error-fails-the-whole-batch": [
        "functions.bill.behaviour={mode: partial, match: {text: broken}}"],
    "kinesis-batch-invoked-early": ["mappings.reader.MaximumBatchingWindowInSeconds=5"],
    "sqs-dlq-in-the-wrong-place": [
        "mappings.notify.DestinationConfig=null",
        f"queues.emails.RedrivePolicy={{deadLetterTargetArn: '{DLQ}:emails-dlq', "
        "maxReceiveCount: 2}"],
}


@pytest.fixture(autouse=True)
def config_home(tmp_path, monkeypatch):
    """Progress goes to a config folder of the test's own."""
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


def _play(attempt, tmp_path, record=True):
    tmp_path.mkdir(parents=True, exist_ok=True)
    player, play = play_one(attempt.scenario, tmp_path / "lab.db")
    try:
        return ch.judge(attempt, play, player, record=record)
    finally:
        player.lab.close()


def _changes(name):
    return [parse_change(text) for text in SOLUTIONS[name]]


def test_at_least_eight_challenges_ship_each_with_a_known_solution():
    names = sorted(p.stem for p in ch.list_challenges())
    assert len(names) >= 8
    assert names == sorted(SOLUTIONS)


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_a_known_solution_meets_the_goal(name, tmp_path):
    attempt = ch.with_changes(ch.resolve_challenge(name), _changes(name))
    verdict = _play(attempt, tmp_path)
    assert verdict.solved, [g["message"] for g in verdict.goal if not g["ok"]] or verdict.stopped
    assert all(g["ok"] for g in verdict.goal)
    assert verdict.explanation == attempt.scenario.challenge["explanation"]


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_the_challenge_as_given_fails_its_goal_naming_the_check(name, tmp_path):
    attempt = ch.with_changes(ch.resolve_challenge(name), [])
    verdict = _play(attempt, tmp_path)
    assert not verdict.solved and verdict.explanation is None
    failed = [g for g in verdict.goal if not g["ok"]]
    assert failed
    for g in failed:
        assert f"goal check '{g['name']}'" in g["message"]
        assert "is not met: expect " in g["message"]
    assert not verdict.counted   # the challenge as given is not an attempt


def test_a_goal_check_names_what_it_expected_and_what_the_lab_showed(tmp_path):
    attempt = ch.with_changes(ch.resolve_challenge("sqs-batch-item-failures-ignored"), [])
    verdict = _play(attempt, tmp_path)
    by_name = {g["name"]: g for g in verdict.goal}
    message = by_name["the corrupt file reaches uploads-dlq"]["message"]
    assert "expected 'file 3 corrupt' in uploads-dlq, actual no such message" in message
    assert "sqs-batch-item-failures-ignored.yaml:" in message   # the goal's line in the file


def test_a_setup_aws_refuses_still_reports_each_goal_check(tmp_path):
    attempt = ch.with_changes(ch.resolve_challenge("sqs-visibility-timeout-vs-function-timeout"),
                              [])
    verdict = _play(attempt, tmp_path)
    assert "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds" \
        in verdict.stopped
    assert [g["ok"] for g in verdict.goal] == [False, False, False]
    assert "goal check 'the mapping is created and enabled'" in verdict.goal[0]["message"]


def test_hints_unlock_one_per_failed_attempt_and_are_kept_in_the_config_folder(
        tmp_path, config_home):
    path = ch.resolve_challenge("sqs-batch-item-failures-ignored")
    hints = ch.load_scenario(path).challenge["hints"]
    wrong = [parse_change("mappings.import.BatchSize=5")]
    seen = []
    for round_ in range(4):
        verdict = _play(ch.with_changes(path, wrong), tmp_path / str(round_))
        seen.append(list(verdict.hints))
    assert seen == [hints[:1], hints[:2], hints[:3], hints[:3]]
    saved = json.loads((config_home / "esmlab" / "challenges.json").read_text())
    assert saved["sqs-batch-item-failures-ignored"] == {"attempts": 4, "solved": False}
    verdict = _play(ch.with_changes(path, _changes("sqs-batch-item-failures-ignored")),
                    tmp_path / "solved")
    assert verdict.solved and verdict.explanation
    saved = json.loads((config_home / "esmlab" / "challenges.json").read_text())
    assert saved["sqs-batch-item-failures-ignored"] == {"attempts": 4, "solved": True}


def test_a_change_to_a_setting_the_challenge_does_not_list_is_refused():
    path = ch.resolve_challenge("sqs-batch-item-failures-ignored")
    with pytest.raises(ch.ChallengeError, match="changes functions.import.behaviour.mode, which "
                                                "this challenge gives; change only: "):
        ch.with_changes(path, [parse_change("functions.import.behaviour.mode=succeed")])


def test_an_edited_copy_that_changes_the_traffic_is_refused(tmp_path):
    original = ch.resolve_challenge("sqs-batch-item-failures-ignored")
    copy = tmp_path / "mine.yaml"
    copy.write_text(original.read_text().replace("MessageBody: file 3 corrupt",
                                                 "MessageBody: file 3"))
    with pytest.raises(ch.ChallengeError, match="changes steps, which this challenge gives"):
        ch.from_file(original, copy)


def test_an_edited_copy_that_changes_only_listed_settings_is_checked(tmp_path):
    original = ch.resolve_challenge("sqs-batch-item-failures-ignored")
    copy = tmp_path / "mine.yaml"
    copy.write_text(original.read_text().replace(
        "      BatchSize: 10\n", "      BatchSize: 10\n"
                                "      FunctionResponseTypes: [ReportBatchItemFailures]\n"))
    attempt = ch.from_file(original, copy)
    assert attempt.changed == ["mappings.import.FunctionResponseTypes"]
    assert _play(attempt, tmp_path).solved


def test_a_solution_file_of_path_value_changes_is_checked(tmp_path):
    solution = tmp_path / "solution.yaml"
    solution.write_text("mappings.fulfil.BatchSize: 10\n")
    attempt = ch.from_file(ch.resolve_challenge("fifo-hot-message-group"), solution)
    assert _play(attempt, tmp_path).solved


# -- the format ----------------------------------------------------------------------------------

BASE = """\
name: tiny
title: t
see: s
resources:
  functions: [{FunctionName: worker}]
  queues: [{QueueName: jobs}]
  mappings: [{FunctionName: worker, EventSourceArn: "arn:aws:sqs:us-east-1:123456789012:jobs"}]
steps:
  - advance: 1s
challenge:
  goal:
    - name: nothing ran
      expect: {invocations: {function: worker, count: 0}}
  settings: [SETTING]
  hints: [look]
  explanation: because
"""


def test_a_challenge_block_is_loaded_with_its_goal_settings_hints_and_explanation():
    s = load_scenario_text(BASE.replace("SETTING", "mappings.worker.ScalingConfig"))
    assert s.challenge["settings"] == ["mappings.worker.ScalingConfig"]
    assert s.challenge["goal"][0]["name"] == "nothing ran"
    assert s.challenge["goal"][0]["expect"][0].kind == "invocations"
    assert s.challenge["hints"] == ["look"] and s.challenge["explanation"] == "because"


@pytest.mark.parametrize("setting, message", [
    ("mappings.worker.Batchsize",
     "a mapping has no setting 'Batchsize' to change (did you mean 'BatchSize'?)"),
    ("mappings.wroker.BatchSize", "no mapping named 'wroker' (did you mean 'worker'?)"),
    ("queues.jobs.QueueName", "a queue has no setting 'QueueName' to change"),
    ("mappings.worker.UUID", "a mapping has no setting 'UUID' to change"),
    ("mappings.worker.ScalingConfig.MaximumConcurency",
     "has no setting 'MaximumConcurency' to change (did you mean 'MaximumConcurrency'?)"),
    ("pipes.worker.BatchSize", "KIND one of functions, queues, streams, mappings"),
    ("seed", "'seed' is not a setting"),
])
def test_a_setting_that_names_nothing_is_refused_with_its_line(setting, message):
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(BASE.replace("SETTING", setting), "c.yaml")
    assert error.value.line == 14
    assert message in error.value.message


def test_a_queue_attribute_is_a_setting_by_its_own_name():
    s = load_scenario_text(BASE.replace("SETTING", "queues.jobs.VisibilityTimeout"))
    assert s.challenge["settings"] == ["queues.jobs.VisibilityTimeout"]


def test_a_challenge_without_a_goal_is_refused():
    text = BASE.replace("SETTING", "profile").replace(
        "  goal:\n    - name: nothing ran\n      expect: {invocations: {function: worker, "
        "count: 0}}\n", "")
    with pytest.raises(ScenarioError, match="challenge: missing required key 'goal'"):
        load_scenario_text(text)


# -- the commands ----------------------------------------------------------------------------------

def test_esmlab_challenge_lists_the_challenges_with_the_learners_progress(capsys):
    ch.record_attempt("fifo-hot-message-group", solved=False)
    assert main(["challenge"]) == 0
    out = capsys.readouterr().out
    for name in SOLUTIONS:
        assert name in out
    assert "1 attempt(s)" in out


def test_esmlab_challenge_name_without_a_screen_prints_the_brief(capsys):
    assert main(["challenge", "fifo-hot-message-group"]) == 0
    out = capsys.readouterr().out
    assert "every order is processed within a minute" in out
    assert "mappings.fulfil.BatchSize" in out
    assert "--solution" in out


def test_esmlab_challenge_set_exits_0_when_solved_and_1_when_not(capsys):
    assert main(["challenge", "fifo-hot-message-group", "--quiet",
                 "--set", "mappings.fulfil.BatchSize=10"]) == 0
    assert "solved: every goal check holds" in capsys.readouterr().out
    assert main(["challenge", "fifo-hot-message-group", "--quiet",
                 "--set", "mappings.fulfil.ScalingConfig.MaximumConcurrency=100"]) == 1
    out = capsys.readouterr().out
    assert "goal check 'every order is processed within a minute'" in out
    assert "💡 hint 1 of 3" in out


def test_esmlab_challenge_refuses_a_change_it_does_not_allow(capsys):
    assert main(["challenge", "fifo-hot-message-group",
                 "--set", "queues.orders.fifo.VisibilityTimeout=5"]) == 2
    assert "esmlab challenge:" in capsys.readouterr().err


def test_esmlab_play_on_an_edited_copy_checks_the_solution(tmp_path, capsys):
    original = ch.resolve_challenge("fifo-hot-message-group")
    copy = tmp_path / "mine.yaml"
    copy.write_text(original.read_text().replace("      BatchSize: 1\n", "      BatchSize: 10\n"))
    assert main(["play", str(copy), "--quiet"]) == 0
    assert "challenge fifo-hot-message-group solved" in capsys.readouterr().out


def test_esmlab_play_on_a_copy_that_changes_the_steps_plays_nothing(tmp_path, capsys):
    original = ch.resolve_challenge("fifo-hot-message-group")
    copy = tmp_path / "mine.yaml"
    copy.write_text(original.read_text().replace("count: 30", "count: 3"))
    assert main(["play", str(copy), "--quiet"]) == 1
    assert "changes steps, which this challenge gives" in capsys.readouterr().err


def test_esmlab_play_json_carries_the_challenge_verdict(capsys):
    assert main(["play", str(LIBRARY / "fifo-hot-message-group.yaml"), "--report", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["challenge"]["solved"] is False
    assert document["challenge"]["goal"][0]["name"] == "every order is processed within a minute"


def test_the_docs_challenge_example_loads_and_fails_its_goal_as_given(tmp_path):
    docs = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text()
    example = docs.split("## Challenges", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = load_scenario_text(example, "docs/scenarios.md")
    verdict = _play(ch.Attempt(scenario, None, []), tmp_path)
    assert [g["ok"] for g in verdict.goal] == [False]
    assert "goal check 'the corrupt file reaches uploads-dlq'" in verdict.goal[0]["message"]


def test_settings_changed_in_a_challenges_lab_become_a_solution(tmp_path):
    """What a learner changes on screen (mapping, function, queue commands
    after the setup) is read back from the lab's command log as changes."""
    from esmlab.scenario.player import Player

    path = ch.resolve_challenge("sqs-throttled-receives-reach-dlq")
    player = Player.new(ch.load_scenario(path), tmp_path / "lab.db")
    try:
        player.setup()
        lab = player.lab
        lab.do("set_queue_attributes", QueueName="reports", Attributes={"VisibilityTimeout": 120})
        lab.advance_ms(0)   # the mapping leaves Creating; an update needs it Enabled
        lab.do("update_mapping", ref=player.mapping_ref("report"), params={"BatchSize": 1})
        lab.do("update_function", FunctionName="report", Timeout=19)
        changes = ch.changes_from_lab(lab)
    finally:
        player.lab.close()
    assert [(c.path, c.value) for c in changes] == [
        ("queues.reports.VisibilityTimeout", 120), ("mappings.report.BatchSize", 1),
        ("functions.report.Timeout", 19)]
    with pytest.raises(ch.ChallengeError, match="changes functions.report.Timeout"):
        ch.check(path, changes)
    verdict = ch.check(path, changes[:2])   # BatchSize 1 is the file's own: no change
    assert verdict.solved and verdict.counted


def test_a_change_reaching_past_a_listed_setting_inside_a_map_is_refused():
    """Only the leaves a change reaches count: `settings` listing
    RedrivePolicy allows its keys, not the queue's other attributes."""
    path = ch.resolve_challenge("sqs-throttled-receives-reach-dlq")
    attempt = ch.with_changes(path, [parse_change("queues.reports.RedrivePolicy.maxReceiveCount=5")])
    assert attempt.changed == ["queues.reports.RedrivePolicy.maxReceiveCount"]
    with pytest.raises(ch.ChallengeError, match="changes queues.reports.DelaySeconds"):
        ch.with_changes(path, [parse_change("queues.reports.Attributes={DelaySeconds: 5}")])
    with pytest.raises(ch.ChallengeError, match="changes seed"):
        ch.with_changes(path, [parse_change("seed=2")])


def test_on_screen_the_settings_changed_in_the_challenges_lab_are_checked_on_quit(
        tmp_path, monkeypatch, capsys):
    """`esmlab challenge NAME` on a terminal: the challenge's lab (its
    resources, no traffic) opens on screen; what the learner changed there
    is played against the goal when the screen quits."""
    from esmlab.lab import Lab

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    opened = []

    def screen(lab_path):   # the learner: raises the visibility timeout in the queue form
        opened.append(lab_path)
        lab = Lab.open(lab_path)
        try:
            assert lab.mapping("report")["state"] == "Enabled"
            assert lab.invocations() == []
            lab.do("set_queue_attributes", QueueName="reports",
                   Attributes={"VisibilityTimeout": "120"})
        finally:
            lab.close()
        return 0

    assert ch.run_command("sqs-throttled-receives-reach-dlq", screen=screen) == 0
    out = capsys.readouterr().out
    assert opened == [str(tmp_path / "state" / "esmlab" / "challenges"
                          / "sqs-throttled-receives-reach-dlq.lab.db")]
    assert "no report reaches reports-dlq" in out and "solved: every goal check holds" in out
    # Opened again, the lab keeps what was changed; nothing new changed is still that change.
    assert ch.run_command("sqs-throttled-receives-reach-dlq", screen=lambda p: 0) == 0
    # --fresh starts from the challenge as given: nothing changed, nothing checked.
    assert ch.run_command("sqs-throttled-receives-reach-dlq", screen=lambda p: 0, fresh=True) == 1
    assert "No setting was changed on screen" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["nosuch"], "no challenge named 'nosuch' (the challenges: "),
    (["fifo-hot-message-group", "--solution", "/nonexistent/solution.yaml"],
     "cannot read the solution file /nonexistent/solution.yaml: No such file or directory"),
    (["fifo-hot-message-group", "--set", "nonsense"], "expected PATH=VALUE"),
    (["fifo-hot-message-group", "--set", "mappings.fulfil.BatchSize=abc"],
     "with mappings.fulfil.BatchSize, the challenge is refused: resources.mappings.BatchSize: "
     "expected a whole number, found 'abc'"),
    (["fifo-hot-message-group", "--set", "mappings.nosuch.BatchSize=3"],
     "the challenge has no mapping 'nosuch'"),
    (["fifo-hot-message-group", "--set", "a=1", "--solution", "x.yaml"],
     "give either --solution FILE or --set changes, not both"),
])
def test_a_challenge_or_solution_that_cannot_be_used_is_one_sentence_and_exit_2(
        args, message, capsys):
    assert main(["challenge", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("esmlab challenge: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_solution_file_that_is_not_yaml_names_its_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    assert main(["challenge", "fifo-hot-message-group", "--solution", str(bad)]) == 2
    assert f"{bad}:2: not YAML: " in capsys.readouterr().err


def test_esmlab_play_finds_a_challenge_by_its_name(capsys):
    assert main(["play", "fifo-hot-message-group", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "challenge fifo-hot-message-group not solved" in out
    assert "as given: the challenge starts broken" in out


def test_esmlab_compare_shows_a_challenge_beside_a_change(capsys):
    assert main(["compare", "fifo-hot-message-group", "--json",
                 "--set", "mappings.fulfil.BatchSize=10"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["as_written"]["checks_passed"] < document["as_written"]["checks_total"]
    assert document["changed"]["checks_passed"] == document["changed"]["checks_total"]
