"""A step's work budget (engine/clock.py): a step stops after a bounded
amount of work and the next step resumes the same instant; the lab's
history is the same with or without the budget, whatever the lab."""

import random

import pytest

from esmlab.engine import arns
from esmlab.engine.clock import STEP_BUDGET
from esmlab.engine.sources.stream import TRIM_CHUNK
from esmlab.lab import Lab

BEHAVIOURS = [
    {"mode": "succeed"}, {"mode": "fail"}, {"mode": "flaky", "probability": 0.3},
    {"mode": "poison", "match": {"text": "7"}}, {"mode": "fail_first", "count": 3},
    {"mode": "timeout", "match": {"text": "3"}},
    {"mode": "partial", "match": {"text": "5"}},
]


def _world(lab: Lab, rng: random.Random) -> None:
    """A random lab: queues (standard with a DLQ, FIFO), a stream with
    lanes, functions of random speed, mappings with random settings."""
    lab.do("set_account_concurrency", ConcurrentExecutions=rng.choice([120, 1000]))
    for name in ("f", "g", "slow"):
        lab.create_function(name, Timeout=120 if name == "slow" else 3, duration={
            "fixed_ms": rng.choice([50, 300, 2000]) if name != "slow" else 70_000,
            "per_record_ms": rng.choice([0, 10])})
    lab.create_function("tight", ReservedConcurrentExecutions=rng.choice([1, 3]))
    lab.create_queue("dlq")
    lab.create_queue("q", {"VisibilityTimeout": str(rng.choice([5, 30, 200])), "RedrivePolicy": {
        "deadLetterTargetArn": arns.queue_arn("dlq"), "maxReceiveCount": rng.choice([1, 3])}})
    lab.create_queue("burst", {"VisibilityTimeout": "300"})
    lab.create_queue("t", {"VisibilityTimeout": "60"})
    lab.create_queue("e.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    lab.create_stream("s", ShardCount=rng.choice([1, 3]))
    responses = ["ReportBatchItemFailures"] if rng.random() < 0.5 else []
    lab.create_mapping(label="qm", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                       BatchSize=rng.choice([1, 4, 10]), FunctionResponseTypes=responses)
    lab.create_mapping(label="bm", FunctionName="slow", EventSourceArn=arns.queue_arn("burst"),
                       BatchSize=1)
    lab.create_mapping(label="tm", FunctionName="tight", EventSourceArn=arns.queue_arn("t"),
                       BatchSize=1)
    lab.create_mapping(label="fm", FunctionName="g", EventSourceArn=arns.queue_arn("e.fifo"),
                       BatchSize=rng.choice([1, 3]))
    lab.create_mapping(label="sm", FunctionName="g", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", BatchSize=rng.choice([2, 10]),
                       ParallelizationFactor=rng.choice([1, 4]),
                       MaximumRetryAttempts=rng.choice([1, 3]),
                       BisectBatchOnFunctionError=rng.random() < 0.5,
                       FunctionResponseTypes=responses)


def _plan(rng: random.Random, n: int) -> list[tuple]:
    """A random command sequence, decided before either lab runs."""
    plan = []
    for i in range(n):
        pick = rng.randrange(10)
        if pick == 0:
            plan.append(("send_message_batch", {"QueueName": rng.choice(["q", "t"]), "Entries": [
                {"Id": str(k), "MessageBody": f"m{i}-{rng.randrange(10)}"} for k in range(10)]}))
        elif pick == 1:
            plan.append(("burst", rng.choice([20, 40])))
        elif pick == 2:
            plan.append(("send_message", {"QueueName": "e.fifo", "MessageBody": f"e{i}",
                                          "MessageGroupId": f"g{rng.randrange(4)}"}))
        elif pick == 3:
            plan.append(("put_records", {"StreamName": "s", "Records": [
                {"PartitionKey": f"k{rng.randrange(12)}", "Data": f"d{i}-{rng.randrange(10)}"}
                for _ in range(rng.choice([5, 30]))]}))
        elif pick == 4:
            plan.append(("set_behaviour", {"FunctionName": rng.choice("fg"),
                                           "behaviour": rng.choice(BEHAVIOURS)}))
        elif pick == 5:
            plan.append(("advance", rng.choice([1_000, 30_000, 61_000])))
        elif pick == 6:
            plan.append(("run_until_idle", rng.choice([5_000, 70_000])))
        else:
            plan.append(("steps", rng.randrange(1, 8)))
    return plan


def _steps(lab: Lab, budget: int | None) -> None:
    """One whole instant: one step without a budget, as many as it takes with one."""
    while True:
        ran = lab.step(budget=budget)
        if not ran or budget is None or lab.instant()["done"]:
            return


def _run(path, seed: int, budget: int | None) -> Lab:
    lab = Lab.create(path, seed=seed)
    _world(lab, random.Random(seed))
    _steps(lab, budget)
    for name, arg in _plan(random.Random(seed * 7919 + 1), 30):
        if name == "burst":
            for b in range(arg // 10):
                lab.send_message_batch("burst", [{"Id": str(k), "MessageBody": f"b{b}-{k}"}
                                                 for k in range(10)])
        elif name == "steps":
            for _ in range(arg):
                _steps(lab, budget)
        elif name == "advance":
            lab.advance_ms(arg)
        elif name == "run_until_idle":
            lab.run_until_idle(limit_ms=arg)
        else:
            lab.do(name, **arg)
    lab.advance_ms(65_000)  # a scale-up minute: the instant with the most work
    for _ in range(40):
        _steps(lab, budget)
    return lab


def _history(lab: Lab) -> tuple:
    return (lab.journal_signature(), lab.invocations(), lab.now_ms, lab.engine.rng.state,
            list(lab.store.conn.execute("SELECT resource, name, at_ms, value FROM metrics "
                                        "ORDER BY rowid")))


@pytest.mark.parametrize("seed", range(10))
def test_the_step_budget_never_changes_the_history(tmp_path, seed):
    unbudgeted = _history(_run(tmp_path / "none.db", seed, None))
    for budget in (1, 3, STEP_BUDGET):
        budgeted = _run(tmp_path / f"b{budget}.db", seed, budget)
        assert _history(budgeted) == unbudgeted, f"budget {budget} changed the history"


def test_a_scale_up_instant_is_split_into_parts_and_the_clock_waits(tmp_path):
    lab = Lab.create(tmp_path / "lab.db")
    lab.do("set_account_concurrency", ConcurrentExecutions=5000)
    lab.create_function("f", Timeout=120, duration={"fixed_ms": 100_000, "per_record_ms": 0})
    lab.create_queue("q", {"VisibilityTimeout": "400"})
    for b in range(40):
        lab.send_message_batch("q", [{"Id": str(k), "MessageBody": f"m{b}-{k}"}
                                     for k in range(10)])
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=1)
    lab.step(budget=None)                 # Enabled: the first 5 batches start
    uuid = lab.mapping("f")["uuid"]
    scale_at = lab.engine.agenda.pending(f"scale:{uuid}")
    lab.advance_ms(scale_at - lab.now_ms - 1)
    before = len(lab.invocations())
    at = scale_at
    lab.step(budget=20)
    first = lab.instant()
    assert first["at_ms"] == at and first["part"] >= 1
    parts = [first]
    while not lab.instant()["done"]:
        lab.step(budget=20)
        parts.append(lab.instant())
        assert lab.now_ms == at, "a part of an instant never moves the clock"
    assert [p["part"] for p in parts] == list(range(first["part"], first["part"] + len(parts)))
    assert parts[-1]["parts_estimate"] == parts[-1]["part"]
    assert len(parts) > 5 and len(lab.invocations()) > before + 200


def test_the_part_of_an_instant_survives_reopening_the_lab(tmp_path):
    path = tmp_path / "lab.db"
    lab = Lab.create(path)
    lab.create_function("f", duration={"fixed_ms": 100_000, "per_record_ms": 0}, Timeout=120)
    lab.create_queue("q", {"VisibilityTimeout": "300"})
    lab.send_message_batch("q", [{"Id": str(k), "MessageBody": str(k)} for k in range(10)])
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=1)
    lab.step()
    lab.step(budget=2)
    seen = lab.instant()
    assert not seen["done"]
    lab.close()
    again = Lab.open(path)
    assert again.instant() == seen
    again.rebuild()
    assert again.instant() == seen


def _big_trim_lab(path):
    """A stream of 4 shards holding 3 chunks' worth of records (plus a few),
    one poller reading it, at the instant before they all expire."""
    lab = Lab.create(path)
    lab.create_stream("s", ShardCount=4)
    lab.create_function("f")
    total = 3 * TRIM_CHUNK + 17
    for b in range(0, total, 500):
        lab.put_records("s", [{"PartitionKey": f"k{i % 97}", "Data": f"r{i}"}
                              for i in range(b, min(b + 500, total))])
    lab.advance_ms(lab.engine.agenda.pending("stream.trim:s") - lab.now_ms - 1)
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON")
    return lab, total


def test_a_big_retention_trim_is_one_part_whatever_its_size_and_journals_as_one(tmp_path):
    whole, total = _big_trim_lab(tmp_path / "whole.db")
    whole.step(budget=None)
    whole.step(budget=None)
    parted, _ = _big_trim_lab(tmp_path / "parted.db")
    parted.step(budget=None)
    at = parted.engine.agenda.pending("stream.trim:s")
    parted.step()
    conn = parted.store.conn
    assert parted.now_ms == at
    assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0
    assert parted.instant()["parts_estimate"] <= 2, "the trim left no part of itself behind"
    # Logical: the rows past one chunk stay, invisible, until writes or a compaction free them.
    assert conn.execute("SELECT count(*) FROM record_rows").fetchone()[0] == total - TRIM_CHUNK
    assert [e["data"] for e in parted.journal() if e["kind"] == "stream.trimmed"] == \
        [{"count": total, "retention_hours": 24, "shards": {
            s["shard_id"]: {"count": s["trimmed"], "up_to_seq": s["trimmed_seq"]}
            for s in parted.engine.streams.shards("s")}}]
    for _ in range(50):
        parted.step()
        whole.step(budget=None)
    assert parted.journal_signature() == whole.journal_signature()


def test_a_trim_left_in_parts_by_lab_schema_6_is_finished_at_its_cutoff(tmp_path):
    """A lab saved between two parts of a trim (schema 6 deleted rows a chunk
    per part and kept the tally so far in the timer): the next part trims the
    rest at the first part's cutoff and journals the whole trim once."""
    lab, total = _big_trim_lab(tmp_path / "lab.db")
    lab.step(budget=None)
    conn, streams = lab.store.conn, lab.engine.streams
    at = lab.engine.agenda.pending("stream.trim:s")
    lab.advance_ms(at - lab.now_ms - 1)
    cutoff = at - 24 * 3_600_000
    with lab.store.transaction():   # what schema 6's first part left, as migrated
        first = conn.execute("SELECT id, shard_id, seq, arrival_ms FROM record_rows "
                             "ORDER BY arrival_ms, id LIMIT ?", (TRIM_CHUNK,)).fetchall()
        shards: dict = {}
        for _, sid, seq, ms in first:
            seen = shards.setdefault(sid, [0, seq, ms, seq])
            seen[0] += 1
            seen[1] = max(seen[1], seq)
        conn.executemany("DELETE FROM record_rows WHERE id=?", [(i,) for i, *_ in first])
        conn.execute("DELETE FROM record_instants")
        conn.execute("INSERT INTO record_instants SELECT stream, arrival_ms, shard_id, count(*), "
                     "min(seq), max(seq) FROM record_rows GROUP BY stream, arrival_ms, shard_id")
        conn.executemany("UPDATE shards SET trimmed=?, trimmed_seq=? WHERE shard_id=?",
                         [(n, top, sid) for sid, (n, top, _, _) in shards.items()])
        lab.engine.agenda.cancel("stream.trim:s")
        lab.engine.agenda.schedule("stream.trim", "stream.trim:s", at, {
            "stream": "s", "trim": {"stream": "s", "cutoff": cutoff,
                                    "left": total - TRIM_CHUNK, "shards": shards},
            "parts_left": 2})
        lab.engine.flush()
    lab.step(budget=None)
    assert [e["data"]["count"] for e in lab.journal() if e["kind"] == "stream.trimmed"] == [total]
    assert sum(s["trimmed"] for s in streams.shards("s")) == total
    assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def test_a_shorter_retention_trims_at_once_and_journals_one_trim(tmp_path):
    lab, total = _big_trim_lab(tmp_path / "lab.db")
    lab.do("set_retention", StreamName="s", RetentionPeriodHours=48)
    lab.advance_ms(3_600_000)
    assert not [e for e in lab.journal() if e["kind"] == "stream.trimmed"]
    lab.do("set_retention", StreamName="s", RetentionPeriodHours=24)
    trims = [e["data"]["count"] for e in lab.journal() if e["kind"] == "stream.trimmed"]
    assert trims == [total]
    assert lab.store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def _ten_lanes(path, budget):
    lab = Lab.create(path)
    lab.create_function("f", duration={"fixed_ms": 50, "per_record_ms": 0})
    lab.create_stream("s", ShardCount=2)
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", ParallelizationFactor=10, BatchSize=5)
    _steps(lab, budget)
    lab.put_records("s", [{"PartitionKey": f"k{i}", "Data": f"r{i}"} for i in range(300)])
    parts = 0
    for _ in range(30):
        _steps(lab, budget)
        parts = max(parts, lab.engine.agenda.part)
    return lab, parts


def test_a_shard_poll_is_cut_between_its_lanes_without_changing_the_history(tmp_path):
    whole, _ = _ten_lanes(tmp_path / "whole.db", None)
    cut, parts = _ten_lanes(tmp_path / "cut.db", 2)
    assert parts >= 5, "a poll of 10 lanes at budget 2 takes several parts"
    assert _history(cut) == _history(whole)


def _run_clock(path, seed: int, budget: int | None) -> Lab:
    """The random lab of _run, its clock moved by advance and run_until_idle
    only (with the budget given to them)."""
    lab = Lab.create(path, seed=seed)
    rng = random.Random(seed)
    _world(lab, rng)
    lab.advance_ms(1, budget=budget)
    for name, arg in _plan(random.Random(seed * 7919 + 1), 30):
        if name == "burst":
            for b in range(arg // 10):
                lab.send_message_batch("burst", [{"Id": str(k), "MessageBody": f"b{b}-{k}"}
                                                 for k in range(10)])
        elif name in ("steps", "advance"):
            lab.advance_ms(arg if name == "advance" else arg * 250, budget=budget)
        elif name == "run_until_idle":
            assert lab.run_until_idle(limit_ms=arg, budget=budget) in ("idle", "limit")
        else:
            lab.do(name, **arg)
    lab.advance_ms(65_000, budget=budget)
    return lab


@pytest.mark.parametrize("seed", range(4))
def test_advance_and_run_until_idle_in_budgeted_steps_keep_the_history(tmp_path, seed):
    whole = _run_clock(tmp_path / "whole.db", seed, None)
    for budget in (2, STEP_BUDGET):
        pieces = _run_clock(tmp_path / f"b{budget}.db", seed, budget)
        assert _history(pieces) == _history(whole), f"budget {budget} changed the history"
        assert pieces.now_ms == whole.now_ms


def test_step_toward_does_one_step_at_most_and_says_when_it_arrived(tmp_path):
    lab = Lab.create(tmp_path / "lab.db")
    lab.create_function("f", duration={"fixed_ms": 100_000, "per_record_ms": 0}, Timeout=120)
    lab.create_queue("q", {"VisibilityTimeout": "300"})
    lab.send_message_batch("q", [{"Id": str(k), "MessageBody": str(k)} for k in range(10)])
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=1)
    until = lab.now_ms + 10_000
    calls = 0
    while True:
        before = len(lab.commands())
        arrived = lab.step_toward(until, budget=2)
        assert len(lab.commands()) == before + 1, "one command per call"
        calls += 1
        if arrived:
            break
    assert lab.now_ms == until and calls > 3
    assert lab.step_toward(until, budget=2) and len(lab.commands()) == before + 1
