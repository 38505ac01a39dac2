"""Every report header (rich, JSON, failure messages) carries the seed and
the esmlab version, so any failure can be replayed exactly."""

import json

from esmlab import __version__
from esmlab.scenario.report import play_files

LESSON = """\
name: header
title: A header that names what replays it
see: one message, one invocation.
seed: 7
resources:
  functions:
    - FunctionName: worker
  queues:
    - QueueName: jobs
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:jobs
steps:
  - send_message: {QueueName: jobs, MessageBody: job}
  - run_until_idle:
  - expect:
      invocations: {function: worker, count: COUNT}
"""

TAG = f"seed 7, esmlab {__version__}"


def write(tmp_path, count: int) -> str:
    path = tmp_path / "header.yaml"
    path.write_text(LESSON.replace("COUNT", str(count)), encoding="utf-8")
    return str(path)


def test_the_rich_header_names_the_seed_and_the_esmlab_version(tmp_path, capsys):
    assert play_files([write(tmp_path, 1)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "seed 7" in first and f"esmlab {__version__}" in first


def test_the_json_report_names_the_seed_and_the_esmlab_version(tmp_path, capsys):
    assert play_files([write(tmp_path, 1)], report="json") == 0
    scenario = json.loads(capsys.readouterr().out)["scenario"]
    assert (scenario["seed"], scenario["esmlab_version"]) == (7, __version__)


def test_a_failed_check_s_message_ends_with_what_replays_it(tmp_path, capsys):
    assert play_files([write(tmp_path, 2)], quiet=True) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✗ header: 1 of 1 expect checks failed")
    assert lines[0].endswith(f"(replay: {TAG})")
    assert lines[1].endswith(f"[replay: {TAG}]")


def test_a_failed_check_in_the_json_report_carries_the_replay_tag(tmp_path, capsys):
    assert play_files([write(tmp_path, 2)], report="json") == 1
    document = json.loads(capsys.readouterr().out)
    (check,) = [c for s in document["steps"] for c in s["checks"] if not c["ok"]]
    assert check["message"].endswith(f"[replay: {TAG}]")


def test_the_conformance_report_names_the_esmlab_version(monkeypatch, capsys):
    import esmlab.conformance
    from esmlab.cli import main

    row = {"case": "c", "rule": "r", "source": "D", "where": "w", "follows": None,
           "result": "pass", "detail": None}
    monkeypatch.setattr(esmlab.conformance, "run_all", lambda: [row])
    assert main(["conformance", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["esmlab_version"] == __version__
    assert main(["conformance"]) == 0
    assert f"esmlab {__version__}" in capsys.readouterr().out
