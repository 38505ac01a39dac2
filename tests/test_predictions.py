"""Predict, then see: `predict:` on a step, graded from --answers or --quiz."""

import json

import pytest

from esmlab.cli import main
from esmlab.lessons import resolve
from esmlab.scenario.loader import ScenarioError, load_scenario, load_scenario_text
from esmlab.scenario.predictions import same
from esmlab.scenario.report import play_one

LESSON = """
name: p
title: t
see: s
resources:
  queues: [{QueueName: q}]
  functions: [{FunctionName: f}]
  mappings: [{FunctionName: f, EventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:q'}]
steps:
  - send_message: {QueueName: q, MessageBody: 'm {n}', count: 3}
  - advance: 10s
    predict:
      question: How many invocations?
      choices: [1, 3]
      answer: 1
      explain: One batch of up to 10 messages.
  - expect:
      invocations: {function: f, count: 1}
"""


def test_a_predict_answer_must_be_one_of_its_choices():
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(LESSON.replace("answer: 1", "answer: 2"), "p.yaml")
    assert "predict.answer 2 is not one of the choices (1, 3)" in str(error.value)
    assert error.value.line == 13


def test_a_predict_without_explain_is_refused():
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(LESSON.replace("      explain: One batch of up to 10 messages.\n", ""))
    assert "explain" in str(error.value)


@pytest.mark.parametrize("given, answer, right", [
    ("5", 5, True), (5.0, 5, True), (" In Reports-DLQ ", "in reports-dlq", True),
    ("a, b", ["b", "a"], True), (["a"], ["a", "b"], False), ("4", 5, False),
])
def test_answers_compare_as_a_person_would(given, answer, right):
    assert same(given, answer) is right


def test_a_played_step_says_the_answer_and_grades_the_given_one(tmp_path):
    scenario = load_scenario_text(LESSON)
    _, play = play_one(scenario, tmp_path / "a.db", answers={2: "3"})
    (p,) = play.predictions
    assert (p.answer, p.given, p.right) == (1, "3", False)
    _, play = play_one(scenario, tmp_path / "b.db", ask=lambda q: "1")
    assert play.predictions[0].right is True and play.ok


def test_without_an_answer_the_question_and_answer_are_only_shown(tmp_path):
    _, play = play_one(load_scenario_text(LESSON), tmp_path / "a.db")
    assert play.predictions[0].right is None and play.predictions[0].given is None


def test_play_answers_file_gives_a_score(tmp_path, capsys):
    answers = tmp_path / "alice.yaml"
    answers.write_text("sqs-throttle-to-dlq:\n  17: in reports-dlq\n  21: 3\n")
    assert main(["play", "sqs-throttle-to-dlq", "--answers", str(answers)]) == 0
    out = capsys.readouterr().out
    assert "✓ you said in reports-dlq" in out and "✗ you said 3" in out
    assert "score: 1 of 2 predictions right" in out


def test_play_json_report_carries_the_predictions(tmp_path, capsys):
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"17": "in reports-dlq"}))
    assert main(["play", "sqs-throttle-to-dlq", "--report", "json", "--answers",
                 str(answers)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["predictions"] == {"asked": 2, "answered": 1, "right": 1}
    step = next(s for s in doc["steps"] if s["prediction"])
    assert step["prediction"]["answer"] == "in reports-dlq" and step["prediction"]["right"]


def test_quiz_needs_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["play", "sqs-throttle-to-dlq", "--quiz"]) == 2
    assert "--quiz asks on a terminal" in capsys.readouterr().err


def test_an_unreadable_answers_file_is_a_sentence(tmp_path, capsys):
    assert main(["play", "sqs-throttle-to-dlq", "--answers", str(tmp_path / "no.yaml")]) == 2
    assert "cannot read the answers" in capsys.readouterr().err


@pytest.mark.parametrize("lesson", ["sqs-throttle-to-dlq", "sqs-visibility-timeout-too-short",
                                    "kinesis-error-blocks-shard"])
def test_lessons_with_predictions_ask_questions_whose_answers_hold(lesson, tmp_path):
    scenario = load_scenario(resolve(lesson))
    asked = [s for s in scenario.steps if s.predict]
    assert asked
    _, play = play_one(scenario, tmp_path / "l.db",
                       answers={s.index: s.predict["answer"] for s in asked})
    assert play.ok and all(p.right for p in play.predictions)
