"""`esmlab compact`: the history before a point goes, the lab stays the
same lab: the same journal after the point, and replay, rewind and export
as exact as before; bad input is refused and leaves the file as it was."""

import hashlib
from pathlib import Path

import pytest

from esmlab.cli import main
from esmlab.engine import arns
from esmlab.lab import Lab
from esmlab.scenario.export import export_scenario
from esmlab.scenario.loader import load_scenario_text
from esmlab.scenario.player import Player

START = 1_704_067_200_000


def _lab(path: Path) -> Lab:
    lab = Lab.create(path, seed=21)
    lab.create_function("f", duration={"fixed_ms": 200, "per_record_ms": 0})
    lab.set_behaviour("f", mode="flaky", probability=0.3)
    lab.create_queue("q", {"VisibilityTimeout": "5"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                       BatchSize=3)
    lab.create_stream("s", ShardCount=2)
    lab.create_function("g")
    lab.create_mapping(label="k", FunctionName="g", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", BatchSize=5)
    return lab


def _traffic(lab: Lab, rounds: int, start: int = 0) -> None:
    for r in range(start, start + rounds):
        lab.send_message_batch("q", [{"Id": str(k), "MessageBody": f"order {r}-{k}"}
                                     for k in range(4)])
        lab.put_record("s", f"key-{r % 3}", f"record {r}")
        lab.advance(7)


def _after(journal: list[tuple], t: int) -> list[tuple]:
    return [row for row in journal if row[0] >= t and row[1] != "lab.compacted"]


@pytest.fixture
def pair(tmp_path):
    """The same lab twice, one of them compacted at T+30 s (its clock at T+56 s)."""
    plain, small = _lab(tmp_path / "plain.db"), _lab(tmp_path / "small.db")
    for lab in (plain, small):
        _traffic(lab, 8)
    dropped = small.compact(START + 30_000)
    yield plain, small, dropped
    plain.close()
    small.close()


def test_compacting_drops_the_history_before_the_point_and_keeps_the_journal_after_it(pair):
    plain, small, dropped = pair
    t = START + 30_000
    assert dropped["journal"] > 0 and dropped["invocations"] > 0 and dropped["metrics"] > 0
    assert _after(small.journal_signature(), t) == _after(plain.journal_signature(), t)
    kept = small.journal_signature()
    assert all(row[0] >= t or row[1].endswith("created") for row in kept[:-1])
    ended_before = [i for i in small.invocations() if i["end_ms"] < t]
    assert len(ended_before) <= 1 and len(small.invocations()) < len(plain.invocations())


def test_after_compacting_the_lab_goes_on_exactly_as_the_one_that_kept_its_history(pair):
    plain, small, _ = pair
    for lab in (plain, small):
        _traffic(lab, 4, start=8)
        lab.run_until_idle()
    t = START + 30_000
    assert _after(small.journal_signature(), t) == _after(plain.journal_signature(), t)
    numbers = {i["id"] for i in plain.invocations()} - {i["id"] for i in small.invocations()}
    assert min({i["id"] for i in small.invocations() if i["start_ms"] >= t}) > max(numbers)


def test_a_replay_of_a_compacted_lab_gives_the_same_lab(pair):
    _, small, _ = pair
    journal, invocations = small.journal_signature(), small.invocations()
    small.rebuild()
    assert small.journal_signature() == journal
    assert small.invocations() == invocations


def test_a_rewind_after_the_point_is_as_exact_as_without_compacting(pair):
    plain, small, _ = pair
    for lab in (plain, small):
        _traffic(lab, 3, start=8)
        lab.rewind(START + 70_000)
    t = START + 30_000
    assert _after(small.journal_signature(), t) == _after(plain.journal_signature(), t)


def test_a_rewind_before_the_compaction_gives_the_lab_built_up_to_then_history_and_all(pair):
    plain, small, _ = pair
    for lab in (plain, small):
        lab.rewind(START + 20_000)
    assert small.journal_signature() == plain.journal_signature()
    assert small.invocations() == plain.invocations()


def test_an_exported_compacted_lab_plays_to_the_same_journal_after_the_point(pair, tmp_path):
    _, small, _ = pair
    text = export_scenario(small, name="compacted")
    assert "compact" not in text.replace("name: compacted", "")
    player = Player.new(load_scenario_text(text), tmp_path / "played.db")
    try:
        player.run()
        t = START + 30_000
        assert _after(player.lab.journal_signature(), t) == _after(small.journal_signature(), t)
    finally:
        player.lab.close()


def test_a_snapshot_saved_before_compacting_restores_the_lab_as_it_was_saved(tmp_path):
    lab = _lab(tmp_path / "lab.db")
    _traffic(lab, 5)
    lab.save_snapshot("before")
    journal = lab.journal_signature()
    lab.compact()
    _traffic(lab, 2, start=5)
    lab.restore_snapshot("before")
    assert [r for r in lab.journal_signature() if r[1] != "lab.restored"] == journal
    lab.close()


# -- the command and its refusals -----------------------------------------------------------

def _fingerprint(path: Path) -> tuple:
    """The lab file's bytes, and whatever its WAL holds (a reader may leave
    an empty -wal and a -shm index beside it: SQLite's, holding nothing)."""
    wal = Path(f"{path}-wal")
    return (hashlib.sha256(path.read_bytes()).hexdigest(),
            hashlib.sha256(wal.read_bytes()).hexdigest() if wal.exists() else None)


@pytest.mark.parametrize("before, says", [
    ("soon", "is not a time"), ("T+1h", "after the lab's clock"),
    ("2023-12-31T23:00:00Z", "before the lab started"), ("2024-13-01T00:00:00Z", "is not a time"),
])
def test_compact_refuses_a_time_it_cannot_use_and_leaves_the_file_as_it_was(
        tmp_path, capsys, before, says):
    path = tmp_path / "lab.db"
    lab = _lab(path)
    _traffic(lab, 3)
    lab.close()
    files = _fingerprint(path)
    assert files[1] is None   # closing folded the WAL in
    assert main(["compact", "--before", before, "--lab", str(path)]) == 2
    assert says in capsys.readouterr().err
    assert _fingerprint(path)[0] == files[0]
    assert _fingerprint(path)[1] in (None, hashlib.sha256(b"").hexdigest())


def test_esmlab_compact_drops_the_history_and_makes_the_file_smaller(tmp_path, capsys):
    path = tmp_path / "lab.db"
    lab = _lab(path)
    _traffic(lab, 30)
    lab.close()
    size = path.stat().st_size
    assert main(["compact", "--lab", str(path), "--before", "T+3m"]) == 0
    out = capsys.readouterr().out
    assert "compacted" in out and "journal events" in out
    assert path.stat().st_size < size
    lab = Lab.open(path)
    assert min(row[0] for row in lab.journal_signature()
               if not row[1].endswith("created")) >= START + 180_000
    lab.close()


def test_export_event_of_an_invocation_compacting_dropped_says_so(tmp_path, capsys):
    path = tmp_path / "lab.db"
    lab = _lab(path)
    _traffic(lab, 8)
    lab.compact()
    lab.close()
    assert main(["export", "event", "1", "--lab", str(path)]) == 2
    assert "esmlab compact dropped the invocations that ended before" in capsys.readouterr().err


def _real_events(lab: Lab) -> list[tuple]:
    """The journal without the events a rewind or restore adds (they are the
    session's, not the command log's)."""
    return [row for row in lab.journal_signature() if row[1] not in ("lab.rewound", "lab.restored")]


def test_compacting_after_a_rewind_drops_what_the_lab_built_up_to_then_drops(tmp_path):
    # Found by the time-machine property test: the rewind's own journal event
    # was dropped and counted with the history, and was "the newest event"
    # kept in place of the last one the commands wrote, so the same commands
    # compacted differently after a rewind, a replay or a restore.
    rewound, built = _lab(tmp_path / "rewound.db"), _lab(tmp_path / "built.db")
    for lab in (rewound, built):
        _traffic(lab, 3)
    rewound.advance(5)                                  # cut at the rewind's target
    _traffic(rewound, 3, start=3)                       # a future the rewind drops
    rewound.rewind(built.now_ms)
    for lab in (rewound, built):
        lab.compact(lab.now_ms)
    assert _real_events(rewound) == _real_events(built)
    rewound.rebuild()                                   # the command log alone
    assert _real_events(rewound) == _real_events(built)
    assert rewound.journal(kind="lab.compacted")[0]["reason"] == \
        built.journal(kind="lab.compacted")[0]["reason"]
    rewound.close()
    built.close()
