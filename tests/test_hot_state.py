"""Hot state kept in memory during a command (engine/mappings/service.py:
mapping rows and their runtime; engine/mappings/stream_poller.py: a stream
mapping's lanes) is in the lab file when the command ends, a lookup by label
never brings back an older runtime than memory has, and a lane is written
once per command, not once per change."""

import json
import sqlite3

from esmlab.engine import arns
from esmlab.lab import Lab


def _lab(path):
    lab = Lab.create(path)
    lab.create_function("f", duration={"fixed_ms": 100, "per_record_ms": 0})
    lab.create_queue("q")
    lab.create_mapping(label="qm", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                       BatchSize=1)
    lab.step()
    lab.send_message_batch("q", [{"Id": str(k), "MessageBody": str(k)} for k in range(10)])
    return lab


def test_a_mappings_runtime_is_in_the_file_when_each_command_ends(tmp_path):
    lab = _lab(tmp_path / "lab.db")
    for _ in range(4):
        lab.step()
        other = sqlite3.connect(tmp_path / "lab.db")
        stored = json.loads(other.execute("SELECT runtime FROM mappings").fetchone()[0])
        other.close()
        assert stored == lab.mapping("qm")["runtime"]
    assert lab.invocations(), "the steps invoked: the runtime changed"


def test_a_lookup_by_label_sees_the_runtime_of_the_command_in_progress(tmp_path):
    lab = _lab(tmp_path / "lab.db")
    lab.step()
    with lab.store.transaction():
        mappings = lab.engine.mappings
        m = mappings.get_row(lab.mapping("qm")["uuid"])
        m["runtime"]["busy"] += 7
        mappings.save_runtime(m)
        assert mappings.get_row("qm")["runtime"]["busy"] == m["runtime"]["busy"]
        lab.engine.flush()


def _stream_lab(path):
    lab = Lab.create(path)
    lab.create_function("f", duration={"fixed_ms": 50, "per_record_ms": 0})
    lab.create_stream("s", ShardCount=2)
    lab.create_mapping(label="sm", FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", ParallelizationFactor=3, BatchSize=2)
    lab.step()
    lab.put_records("s", [{"PartitionKey": f"k{i}", "Data": f"r{i}"} for i in range(40)])
    return lab


def test_a_streams_lanes_are_in_the_file_when_each_command_ends(tmp_path):
    lab = _stream_lab(tmp_path / "lab.db")
    poller = lab.engine.mappings.streams
    uuid = lab.mapping("sm")["uuid"]
    moved = 0
    for _ in range(12):
        lab.step()
        other = sqlite3.connect(tmp_path / "lab.db")
        stored = {(s, n): (c, json.loads(st), inflight) for s, n, c, st, inflight in other.execute(
            "SELECT shard_id, lane, checkpoint, state, inflight FROM lanes WHERE mapping=?",
            (uuid,))}
        other.close()
        for (s, n), (checkpoint, state, inflight) in stored.items():
            assert (checkpoint, state) == poller.lane(uuid, s, n)
            assert inflight == state["inflight"]
        moved += sum(1 for c, _, _ in stored.values() if c is not None)
    assert moved, "the steps moved checkpoints: the lanes changed"


def test_a_lane_changed_several_times_in_one_command_is_written_once(tmp_path):
    lab = _stream_lab(tmp_path / "lab.db")
    poller = lab.engine.mappings.streams
    saves, save = [], poller.save_lane
    poller.save_lane = lambda *a: (saves.append(a[:3]), save(*a))
    updates = []
    lab.store.conn.set_trace_callback(
        lambda sql: updates.append(sql) if sql.startswith("UPDATE lanes") else None)
    lab.run_until_idle()              # one command: every lane polled and finished many times
    lab.store.conn.set_trace_callback(None)
    assert len(lab.invocations()) > 6
    # written when the command ends (and when a read of the table needs them
    # first), never once per change: 6 lanes, each saved several times
    assert len(saves) >= 3 * len(updates) > 0


def test_a_rolled_back_command_leaves_no_lane_change_in_memory(tmp_path):
    lab = _stream_lab(tmp_path / "lab.db")
    uuid = lab.mapping("sm")["uuid"]
    shard = lab.engine.streams.shards("s")[0]["shard_id"]
    before = lab.engine.mappings.streams.lane(uuid, shard, 0)
    try:
        with lab.store.transaction():
            poller = lab.engine.mappings.streams
            checkpoint, state = poller.lane(uuid, shard, 0)
            state["status"] = "changed in a command that fails"
            poller.save_lane(uuid, shard, 0, "999", state)
            raise RuntimeError("the command fails")
    except RuntimeError:
        lab.engine.load()             # what Lab.do does after a failed command
    assert lab.engine.mappings.streams.lane(uuid, shard, 0) == before
