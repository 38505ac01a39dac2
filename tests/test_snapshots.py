"""Snapshots, rewind and the CLI around them: a restored or rewound lab is
identical to the lab it was, and goes on identically."""

import json

import pytest

from esmlab.cli import main
from esmlab.engine import arns
from esmlab.errors import LabError
from esmlab.lab import Lab


def _busy_lab(lab: Lab) -> None:
    lab.create_function("f", duration={"fixed_ms": 400, "per_record_ms": 0})
    lab.create_queue("dlq")
    lab.create_queue("q", {"VisibilityTimeout": "5", "RedrivePolicy": {
        "deadLetterTargetArn": arns.queue_arn("dlq"), "maxReceiveCount": 2}})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                       BatchSize=2)
    lab.set_behaviour("f", mode="flaky", probability=0.5)
    for i in range(6):
        lab.send_message("q", f"m{i}")
    lab.advance(3)


def _state(lab: Lab):
    return (lab.now_ms, lab.journal_signature(), lab.engine.rng.state,
            [(i["id"], i["status"]) for i in lab.invocations()])


def _go_on(lab: Lab):
    lab.send_message("q", "later")
    lab.run_until_idle(limit_ms=600_000)
    return _state(lab)


def test_a_restored_snapshot_is_identical_and_goes_on_identically(lab):
    _busy_lab(lab)
    lab.save_snapshot("before")
    saved = _state(lab)
    original_future = _go_on(lab)
    assert lab.now_ms > saved[0]

    lab.restore_snapshot("before")
    restored = lab.journal_signature()
    # the same journal as at the snapshot, plus one line saying it was restored
    assert restored[:-1] == saved[1]
    assert restored[-1][1] == "lab.restored"
    assert (lab.now_ms, lab.engine.rng.state) == (saved[0], saved[2])
    assert [(i["id"], i["status"]) for i in lab.invocations()] == saved[3]

    future = _go_on(lab)
    # and it goes on exactly as the original did
    assert future[0] == original_future[0]
    assert future[1][len(restored):] == original_future[1][len(saved[1]):]
    assert future[2:] == original_future[2:]


def test_snapshot_restore_in_a_reopened_file(tmp_path):
    path = tmp_path / "lab.db"
    lab = Lab.create(path, seed=5)
    _busy_lab(lab)
    lab.save_snapshot("s")
    saved = _state(lab)
    _go_on(lab)
    lab.close()
    again = Lab.open(path)
    again.restore_snapshot("s")
    assert again.now_ms == saved[0]
    assert again.journal_signature()[:-1] == saved[1]
    assert again.snapshots()[0]["name"] == "s"


def test_rewind_returns_to_exactly_the_state_at_that_time(lab, tmp_path):
    _busy_lab(lab)
    midway = lab.now_ms
    at_midway = _state(lab)
    lab.advance(30)
    lab.rewind(midway)
    now = _state(lab)
    assert now[0] == midway and now[2] == at_midway[2]
    assert now[1][:-1] == at_midway[1] and now[1][-1][1] == "lab.rewound"


def test_rewind_keeps_the_later_commands_until_the_user_acts(lab):
    _busy_lab(lab)
    midway = lab.now_ms
    lab.advance(30)
    lab.send_message("q", "x")
    before = len(lab.store.conn.execute("SELECT * FROM commands").fetchall())
    lab.rewind(midway)
    # nothing dropped yet: the command log still holds the future
    assert len(lab.store.conn.execute("SELECT * FROM commands").fetchall()) == before
    lab.send_message("q", "new branch")
    names = [c["name"] for c in lab.commands()]
    assert names[-1] == "send_message"
    assert all(c["at_ms"] <= midway for c in lab.commands())


def test_a_lab_rebuilt_from_its_commands_matches_the_stored_one(lab):
    _busy_lab(lab)
    stored = _state(lab)
    lab.rebuild()
    assert _state(lab) == stored


def test_restoring_an_unknown_snapshot_is_an_error(lab):
    with pytest.raises(LabError):
        lab.restore_snapshot("nope")


def test_snapshot_cli_save_list_restore_delete(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["info"]) == 0  # creates ./lab.db with the starter lab
    assert main(["snapshot", "save", "start"]) == 0
    assert main(["snapshot", "list"]) == 0
    assert "start" in capsys.readouterr().out
    assert main(["snapshot", "restore", "start"]) == 0
    assert main(["snapshot", "delete", "start"]) == 0
    assert main(["snapshot", "delete", "start"]) == 2
    assert "no snapshot named 'start'" in capsys.readouterr().err


def test_export_event_cli_prints_the_invocation_event(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["info"])
    lab = Lab.open(tmp_path / "lab.db")
    lab.run_until_idle()
    inv = lab.invocations(mapping="orders")[0]
    lab.close()
    capsys.readouterr()
    assert main(["export", "event", str(inv["id"])]) == 0
    event = json.loads(capsys.readouterr().out)
    assert event["Records"][0]["eventSource"] == "aws:sqs"
    assert event == inv["event"]
