"""The learner's path through the lessons (`esmlab lessons`: basics ->
streams -> queues -> failures -> scaling -> challenges, then the conformance
cases) and their progress, kept in the user's config folder."""

import json
import os

import pytest

from esmlab import progress
from esmlab.cli import main
from esmlab.lessons import PATH, SECTIONS, learning_path, list_lessons, section_of
from esmlab.scenario.loader import load_scenario

LESSON = "fifo-hot-group-runs-serially"   # short, with two predictions


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


def predict_steps(name: str) -> list[int]:
    (path,) = [p for p in list_lessons() if p.stem == name]
    return [s.index for s in load_scenario(str(path)).steps if s.predict]


def test_the_path_runs_basics_streams_queues_failures_scaling_challenges():
    assert [section for section, _ in learning_path()] == list(SECTIONS)
    assert SECTIONS == ("basics", "streams", "queues", "failures", "scaling", "challenges")


def test_every_shipped_lesson_is_on_the_path_once_and_every_named_one_exists():
    on_path = [p.stem for section, paths in learning_path() if section != "challenges"
               for p in paths]
    shipped = sorted(p.stem for p in list_lessons())
    assert sorted(on_path) == shipped
    named = [name for names in PATH.values() for name in names]
    assert len(named) == len(set(named)) and set(named) <= set(shipped)


def test_the_path_keeps_its_order_within_a_section():
    streams = dict(learning_path())["streams"]
    assert [p.stem for p in streams][:2] == ["kinesis-order-per-shard",
                                            "kinesis-starting-positions"]


def test_a_lesson_the_path_does_not_name_goes_where_its_name_says():
    assert section_of("kinesis-enhanced-fan-out") == "streams"
    assert section_of("sqs-something-new") == "queues"
    assert section_of("fifo-something-new") == "queues"
    assert section_of("anything-else") == "basics"
    assert section_of("sqs-throttle-to-dlq") == "failures"


def test_playing_a_library_lesson_records_it_in_the_config_folder_not_the_lab(
        config_home, tmp_path, capsys):
    first, second = predict_steps(LESSON)
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"{first}: 2\n{second}: 3\n")
    assert main(["play", "--quiet", LESSON, "--answers", str(answers)]) == 0
    saved = json.loads((config_home / "esmlab" / "progress.json").read_text())
    assert saved["lessons"][LESSON] == {
        "plays": 1, "finished": True,
        "predictions": {"asked": 2, "answered": 2, "right": 1}}
    # a better score replaces it; a worse one does not
    answers.write_text(f"{first}: 2\n{second}: 1\n")
    assert main(["play", "--quiet", LESSON, "--answers", str(answers)]) == 0
    answers.write_text(f"{first}: 5\n")
    assert main(["play", "--quiet", LESSON, "--answers", str(answers)]) == 0
    entry = progress.lessons()[LESSON]
    assert entry["plays"] == 3 and entry["predictions"]["right"] == 2


def test_a_scenario_file_outside_the_library_is_not_recorded(config_home, tmp_path):
    (path,) = [p for p in list_lessons() if p.stem == LESSON]
    copy = tmp_path / f"{LESSON}.yaml"
    copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["play", "--quiet", str(copy)]) == 0
    assert progress.lessons() == {}


def test_a_failed_play_counts_but_does_not_finish_the_lesson(config_home):
    entry = progress.record_play("sqs-batch-size", False, {"asked": 0, "answered": 0,
                                                           "right": 0})
    assert entry == {"plays": 1, "finished": False}
    progress.record_play("sqs-batch-size", True, {"asked": 0, "answered": 0, "right": 0})
    assert progress.record_play("sqs-batch-size", False, {"asked": 0, "answered": 0,
                                                          "right": 0})["finished"] is True


def test_esmlab_lessons_shows_the_sections_in_order_with_the_learner_s_progress(
        config_home, capsys):
    progress.record_play(LESSON, True, {"asked": 2, "answered": 2, "right": 2})
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"\n{section}\n") for section in SECTIONS]
    assert positions == sorted(positions)
    assert f"✓ {LESSON}" in out and "predictions 2/2 right" in out
    assert "· kinesis-error-blocks-shard" in out and "pauses its shard" in out
    assert "conformance cases" in out and "control-unknown-uuid" in out
    assert str(config_home / "esmlab" / "progress.json") in out


def test_esmlab_lessons_json_groups_lessons_challenges_and_conformance_cases(
        config_home, capsys):
    assert main(["lessons", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["section"] for s in doc["path"]] == list(SECTIONS)
    basics = doc["path"][0]["items"][0]
    assert basics["name"] == "basics-poll-and-invoke" and basics["finished"] is False
    assert any(c["name"] == "control-unknown-uuid" for c in doc["conformance"])
    assert doc["progress_file"] == str(config_home / "esmlab" / "progress.json")


def test_an_unreadable_or_unwritable_progress_file_loses_the_record_not_the_play(
        config_home, capsys):
    folder = config_home / "esmlab"
    folder.mkdir(parents=True)
    (folder / "progress.json").write_text("not json")
    assert progress.lessons() == {}
    os.chmod(folder, 0o500)
    try:
        assert main(["play", "--quiet", LESSON]) == 0
    finally:
        os.chmod(folder, 0o700)
    assert "Traceback" not in capsys.readouterr().err
