"""The lesson library is found wherever esmlab is installed, and a lesson can
be played by its bare name."""

from esmlab.cli import main
from esmlab.lessons import list_lessons, resolve


def test_the_library_holds_every_lesson_of_the_repository():
    names = {p.stem for p in list_lessons()}
    assert {"kinesis-error-blocks-shard", "sqs-dlq-redrive", "fifo-order-per-group"} <= names
    assert len(names) >= 35


def test_a_bare_lesson_name_resolves_to_its_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = resolve("sqs-dlq-redrive")
    assert path.endswith("sqs-dlq-redrive.yaml")
    assert resolve("sqs-dlq-redrive.yaml") == path
    assert resolve("no-such-lesson") == "no-such-lesson"


def test_esmlab_lessons_lists_names_and_titles(capsys):
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert "kinesis-error-blocks-shard" in out and "pauses its shard" in out


def test_esmlab_play_takes_a_lesson_name_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["play", "--quiet", "sqs-delete-on-success"]) == 0
    assert "✓ sqs-delete-on-success" in capsys.readouterr().out


def test_every_shipped_lesson_carries_the_invariants_and_at_least_one_sometimes():
    from esmlab.scenario.loader import load_scenario

    lacking = []
    for path in list_lessons():
        scenario = load_scenario(str(path))
        if scenario.always != ["all"] or not scenario.sometimes:
            lacking.append(path.stem)
    assert lacking == [], "lessons without `always: [all]` and a `sometimes`: " + ", ".join(lacking)


def test_every_lesson_the_readme_names_exists():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    tables = [line for line in readme.splitlines() if line.startswith("| ") and "`" in line]
    named = {name for line in tables for name in re.findall(r"`([a-z0-9-]+)`", line)
             if "-" in name and name.split("-")[0] in {
                 "basics", "kinesis", "dynamodb", "sqs", "fifo", "filter", "handler",
                 "execution", "batch"}}
    from esmlab.scenario.challenge import list_challenges   # the challenges' table names them
    shipped = {p.stem for p in list_lessons()} | {p.stem for p in list_challenges()}
    assert named and named <= shipped, sorted(named - shipped)


def test_a_mistyped_lesson_name_gets_the_closest_name_suggested(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["play", "kinesis-error-block-shard"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'kinesis-error-blocks-shard'?" in err
    assert "Traceback" not in err
