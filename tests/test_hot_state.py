"""Hot state kept in memory during a command (engine/mappings/service.py:
mapping rows and their runtime) is in the lab file when the command ends,
and a lookup by label never brings back an older runtime than memory has."""

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
