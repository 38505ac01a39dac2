"""Rewind, replay and restore give the lab built only up to that time: one
test per rule that broke (the property tests are in
test_time_machine_properties.py)."""

import json
import shutil
import sqlite3
from pathlib import Path

from esmlab.engine import arns
from esmlab.lab import Lab
from esmlab.store import SCHEMA_VERSION

HANDLER = "time_machine_handlers:judge"
ROUND1 = Path(__file__).parent / "fixtures" / "labs" / "round1.db"


def _handler_lab(lab: Lab) -> None:
    lab.create_function("h", behaviour={"mode": "handler", "handler": HANDLER})
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="h", EventSourceArn=arns.queue_arn("q"))
    lab.step()  # Creating -> Enabled


def _seen(lab: Lab) -> list:
    return [inv["response"]["response"]["seen"] for inv in lab.invocations()]


def test_a_handler_result_from_a_discarded_future_is_not_reused_for_another_batch(lab):
    _handler_lab(lab)
    first = lab.send_message("q", "a")["MessageId"]
    lab.advance(2)
    before_b = lab.now_ms
    lab.send_message("q", "b")
    lab.advance(2)
    assert len(lab.invocations()) == 2

    lab.rewind(before_b - 1)  # before "b" was sent (a rewind to T keeps what was sent at T)
    other = lab.send_message("q", "c")["MessageId"]  # a different batch gets invocation 2
    lab.advance(2)
    assert _seen(lab) == [[first], [other]]


def test_dropping_the_future_drops_its_handler_results(lab):
    _handler_lab(lab)
    lab.send_message("q", "a")
    lab.advance(2)
    middle = lab.now_ms
    lab.send_message("q", "b")
    lab.advance(2)
    lab.rewind(middle - 1)
    stored = lambda: [r[0] for r in lab.store.conn.execute(  # noqa: E731
        "SELECT ordinal FROM handler_results ORDER BY ordinal")]
    assert stored() == [1, 2]  # kept while the rewind can still be undone by going forward
    lab.send_message("q", "c")
    assert stored() == [1]


def test_a_replay_calls_a_handler_again_only_for_a_call_it_has_not_seen(lab, monkeypatch):
    import esmlab.engine.function as function
    _handler_lab(lab)
    lab.send_message("q", "a")
    lab.advance(2)
    calls = []
    real = function.run_user_handler
    monkeypatch.setattr(function, "run_user_handler",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    lab.rebuild()
    assert calls == []


def test_a_round1_lab_file_opens_migrated_and_its_log_replays_as_issued(tmp_path):
    # The file was written by lab schema 1 (tests/fixtures/labs/make_round1_lab.py).
    # Its journal replayed identically with the engine of that time; engine
    # semantics changed since (recorded AWS behaviour), so what is checked
    # here is what the migration owes: the log, its ends and the snapshot
    # survive, and the replay is the lab those commands build today.
    path = tmp_path / "round1.db"
    shutil.copy(ROUND1, path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)
    raw = conn.execute("SELECT at_ms, name, args FROM commands ORDER BY seq").fetchall()
    conn.close()

    lab = Lab.open(path)
    assert lab.store.get_meta("schema_version") == str(SCHEMA_VERSION)
    commands = lab.commands()
    assert [(c["at_ms"], c["name"], json.dumps(c["args"], sort_keys=True))
            for c in commands] == raw
    assert [c["end_ms"] for c in commands] == [c["at_ms"] for c in commands[1:]] + [None]
    lab.rebuild()
    rebuilt = lab.journal_signature()
    fresh = Lab.create(tmp_path / "fresh.db", name="round1", seed=11)
    # The same initial lab (a round-1 lab keeps SQS's 256 KiB default
    # MaximumMessageSize, engine/world.py), then the same commands.
    fresh.store.set_meta("initial", lab.store.get_meta("initial"))
    fresh.rebuild()
    for c in commands:
        fresh.do(c["name"], **c["args"])
    assert [r[1:] for r in fresh.journal_signature()] == [r[1:] for r in rebuilt]
    assert fresh.now_ms == lab.now_ms
    lab.rebuild()
    assert lab.journal_signature() == rebuilt
    lab.restore_snapshot("middle")  # saved by lab schema 1: (ordinal, result) rows
    middle = lab.journal_signature()
    lab.restore_snapshot("middle")
    assert lab.journal_signature() == middle


def test_a_stored_handler_result_answers_only_the_call_it_came_from(lab):
    # Whatever left a result under invocation number 2 (a future set aside, a
    # snapshot), it was for another batch: the handler must see this one.
    _handler_lab(lab)
    lab.send_message("q", "a")
    lab.advance(2)
    stale = '{"status": "success", "response": {"seen": ["stale"]}, "error": null, ' \
            '"duration_ms": 0, "why": "from another batch"}'
    lab.store.conn.execute("INSERT INTO handler_results (ordinal, result, digest) "
                           "VALUES (2, ?, 'another call')", (stale,))
    mid = lab.send_message("q", "b")["MessageId"]
    lab.advance(2)
    assert _seen(lab)[1] == [mid]


def _queue_lab(lab: Lab) -> None:
    lab.create_function("f", duration={"fixed_ms": 300, "per_record_ms": 0})
    lab.create_queue("q", {"VisibilityTimeout": "5"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))


def test_a_rewind_after_a_run_that_went_idle_early_keeps_the_commands_issued_after_it(lab):
    _queue_lab(lab)
    lab.send_message("q", "a")
    lab.run_until_idle(limit_ms=3_600_000)  # idle after a few seconds, far from its limit
    idle_at = lab.now_ms
    lab.send_message("q", "b")
    lab.advance(10)
    lab.rewind(idle_at + 5_000)
    assert [c["name"] for c in lab.commands()][-3:] == ["run_until_idle", "send_message",
                                                         "advance_to"]
    assert lab.now_ms == idle_at + 5_000
    assert [i["status"] for i in lab.invocations()] == ["success", "success"]


def test_a_rewind_into_a_step_over_several_instants_stops_the_clock_at_the_target(lab):
    _queue_lab(lab)
    lab.step()
    lab.send_message("q", "a")
    start = lab.now_ms
    assert lab.step(8) > 2  # the invoke, its end, ... and the retention expiry days later
    assert lab.now_ms - start > 86_400_000
    lab.rewind(start + 1_000)
    assert lab.now_ms == start + 1_000
    assert max(e["at_ms"] for e in lab.journal()) == start + 1_000  # only lab.rewound at it
    assert [c["name"] for c in lab.commands()][-1] == "advance_to"


def test_an_export_after_a_rewind_advances_the_clock_as_the_lab_did(lab, tmp_path):
    from esmlab.scenario.export import export_scenario
    from esmlab.scenario.loader import load_scenario_text
    from esmlab.scenario.player import Player
    _queue_lab(lab)
    lab.send_message("q", "a")
    lab.advance(10)
    lab.rewind(lab.now_ms - 4_000)  # inside the advance: it becomes "advance 6s"
    lab.send_message("q", "b")
    text = export_scenario(lab, "x")
    assert "advance: 0ms" not in text and "advance: 6s" in text
    player = Player.new(load_scenario_text(text, "x.yaml"), tmp_path / "played.db")
    assert player.run().error is None
    kept = [r for r in lab.journal_signature() if r[1] != "lab.rewound"]
    assert player.lab.journal_signature() == kept


def test_a_replay_keeps_the_order_of_a_behaviours_match_keys(lab):
    _queue_lab(lab)
    lab.set_behaviour("f", mode="poison", match={"text": "7", "group_id": "g1"})
    lab.set_behaviour("f", mode="poison", match={"group_id": "g1", "text": "7"})
    stored = lab.journal_signature()
    lab.rebuild()
    assert lab.journal_signature() == stored
