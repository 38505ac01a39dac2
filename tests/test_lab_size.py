"""A lab file that stays small: the write-ahead log is folded into the lab
file after a big command and when the lab is closed, never waiting on
another process, so lab.db-wal does not grow like the lab."""

import sqlite3

from esmlab import store as store_module
from esmlab.engine import arns
from esmlab.lab import Lab


def _busy_lab(path):
    lab = Lab.create(path, seed=3)
    lab.create_function("f")
    lab.create_queue("q")
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=10)
    return lab


def _send(lab, n, start=0):
    for b in range(start, start + n):
        lab.send_message_batch("q", [{"Id": str(k), "MessageBody": f"m{b}-{k} " + "x" * 200}
                                     for k in range(10)])


def test_after_a_command_the_wal_is_never_past_the_checkpoint_size(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "WAL_CHECKPOINT_BYTES", 64 * 1024)
    lab = _busy_lab(tmp_path / "lab.db")
    sizes = []
    for b in range(30):
        _send(lab, 5, start=5 * b)
        sizes.append(lab.store.wal_bytes())
    lab.run_until_idle()
    sizes.append(lab.store.wal_bytes())
    assert max(sizes) <= 64 * 1024
    assert lab.engine.queues.counts("q")["total"] == 0
    assert len(lab.invocations()) == 150
    lab.close()


def test_closing_the_lab_folds_the_wal_in_even_while_another_process_has_it_open(tmp_path):
    path = tmp_path / "lab.db"
    lab = _busy_lab(path)
    reader = Lab.open(path, readonly=True)
    _send(lab, 20)
    lab.run_until_idle()
    assert lab.store.wal_bytes() > 0
    lab.close()
    wal = tmp_path / "lab.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert len(reader.invocations()) == 20      # the reader still sees everything
    reader.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)  # the file alone
    assert conn.execute("SELECT count(*) FROM invocations").fetchone()[0] == 20
    conn.close()


def test_a_checkpoint_never_waits_for_a_reader_in_the_middle_of_a_read(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "WAL_CHECKPOINT_BYTES", 1)
    path = tmp_path / "lab.db"
    lab = _busy_lab(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM invocations").fetchone() == (0,)  # a snapshot
    _send(lab, 3)                        # commits; its checkpoint gives up at once
    assert lab.store.checkpoint() is False
    assert lab.engine.queues.counts("q")["total"] == 30
    reader.execute("COMMIT")
    assert lab.store.checkpoint() is True
    assert lab.store.wal_bytes() == 0
    reader.close()
    lab.close()
