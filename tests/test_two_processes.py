"""Two processes on one lab file (the screen open for a whole session while
`esmlab snapshot`, `info` or a second screen use the same file): a writer
catches up with the other's commits before it acts, readers never take the
write lock, and a writer kept waiting too long is told who holds the lab."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from esmlab.engine import arns
from esmlab.errors import LabBusy
from esmlab.lab import Lab

# A process that opens the lab once and keeps it open (as the screen does),
# then runs the Lab calls it is sent, one JSON line each, answering each.
WORKER = r"""
import json, sys
from esmlab.lab import Lab
lab = Lab.open(sys.argv[1], session=sys.argv[2])
print("ready", flush=True)
for line in sys.stdin:
    call = json.loads(line)
    if call["method"] == "hold":          # keep the write lock until the next line
        lab.store.conn.execute("BEGIN IMMEDIATE")
        print("holding", flush=True)
        sys.stdin.readline()
        lab.store.conn.execute("ROLLBACK")
        print("released", flush=True)
        continue
    try:
        result = getattr(lab, call["method"])(*call.get("args", []), **call.get("kw", {}))
        print(json.dumps({"ok": True, "result": repr(result)}), flush=True)
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
"""


class Worker:
    def __init__(self, path, name):
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, str(path), name],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def call(self, method, *args, **kw):
        self.proc.stdin.write(json.dumps({"method": method, "args": args, "kw": kw}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        assert answer["ok"], answer["error"]
        return answer["result"]

    def send_line(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0


SETUP = [
    ("create_function", ["f"], {}),
    ("create_queue", ["q"], {"Attributes": {"VisibilityTimeout": "10"}}),
    ("create_stream", ["s"], {"ShardCount": 2}),
    ("create_mapping", [], {"label": "qm", "FunctionName": "f",
                            "EventSourceArn": arns.queue_arn("q"), "BatchSize": 2}),
    ("create_mapping", [], {"label": "sm", "FunctionName": "f",
                            "EventSourceArn": arns.stream_arn("s"),
                            "StartingPosition": "TRIM_HORIZON"}),
]

# Every kind of call the screen and the command line make, relative clock
# moves among them (they must start from the clock the other process left).
SESSION = [
    ("send_message", ["q", "one"], {}), ("advance", [2], {}),
    ("put_record", ["s", "k1", "r1"], {}), ("step", [3], {}),
    ("set_behaviour", ["f"], {"mode": "fail"}), ("send_message", ["q", "two"], {}),
    ("advance", [15], {}), ("save_snapshot", ["mid"], {}),
    ("put_record", ["s", "k2", "r2"], {}), ("run_until_idle", [20_000], {}),
    ("set_behaviour", ["f"], {"mode": "succeed"}), ("advance", [5], {}),
    ("send_message", ["q", "three"], {}), ("restore_snapshot", ["mid"], {}),
    ("advance", [3], {}), ("send_message", ["q", "four"], {}), ("step", [2], {}),
    ("run_until_idle", [60_000], {}),
]


def new_lab(path) -> Lab:
    lab = Lab.create(path, seed=11)
    for method, args, kw in SETUP:
        getattr(lab, method)(*args, **kw)
    return lab


def test_two_processes_interleaving_commands_give_the_one_process_lab(tmp_path):
    alone = new_lab(tmp_path / "alone.db")
    for method, args, kw in SESSION:
        getattr(alone, method)(*args, **kw)
    new_lab(tmp_path / "shared.db").close()
    a, b = Worker(tmp_path / "shared.db", "a"), Worker(tmp_path / "shared.db", "b")
    for n, (method, args, kw) in enumerate(SESSION):
        (a if n % 2 == 0 else b).call(method, *args, **kw)
    a.close()
    b.close()
    shared = Lab.open(tmp_path / "shared.db")
    assert shared.commands() == alone.commands()
    assert shared.journal_signature() == alone.journal_signature()
    assert shared.now_ms == alone.now_ms and shared.engine.rng.state == alone.engine.rng.state
    shared.rebuild()                    # and the file replays as the one-process lab does
    alone.rebuild()
    assert shared.journal_signature() == alone.journal_signature()


def test_two_processes_racing_on_one_lab_lose_no_command(tmp_path):
    path = tmp_path / "race.db"
    lab = Lab.create(path, seed=3)
    lab.create_queue("q")
    lab.close()
    racer = ("import sys\nfrom esmlab.lab import Lab\n"
             "lab = Lab.open(sys.argv[1])\n"
             "for i in range(25):\n"
             "    lab.send_message('q', sys.argv[2] + str(i))\n"
             "    lab.advance(1)\n")
    procs = [subprocess.Popen([sys.executable, "-c", racer, str(path), who]) for who in "ab"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    lab = Lab.open(path)
    names = [c["name"] for c in lab.commands()]
    assert names.count("send_message") == 50 and names.count("advance_to") == 50
    assert lab.engine.queues.counts("q")["total"] == 50
    assert lab.now_ms - lab.engine.start_ms == 50_000       # every advance counted from the last
    before = lab.journal_signature()
    lab.rebuild()
    assert lab.journal_signature() == before


def test_a_screen_left_open_catches_up_when_it_next_acts_or_draws(tmp_path):
    screen = new_lab(tmp_path / "lab.db")
    other = Lab.open(tmp_path / "lab.db")
    other.send_message("q", "from the command line")
    other.advance(30)
    assert screen.sync() is True                       # what the screen calls before drawing
    assert screen.now_ms == other.now_ms
    assert screen.sync() is False
    other.advance(10)
    screen.advance(5)                                  # from the clock the other left
    assert screen.now_ms - screen.engine.start_ms == 45_000
    other.close()
    screen.close()


def test_a_reader_never_takes_the_write_lock_nor_blocks_a_writer(tmp_path):
    writer = new_lab(tmp_path / "lab.db")
    reader = Lab.open(tmp_path / "lab.db", readonly=True)
    reader.store.conn.execute("BEGIN")                 # a long read, as a viewer may hold
    assert reader.store.conn.execute("SELECT count(*) FROM commands").fetchone()[0] == 5
    writer.store.conn.execute("PRAGMA busy_timeout=0")  # any wait would fail at once
    writer.send_message("q", "while someone reads")
    assert writer.engine.queues.counts("q")["total"] == 1
    reader.store.conn.execute("COMMIT")
    assert reader.store.holders() == [h for h in reader.store.holders()]
    other = Worker(tmp_path / "lab.db", "holder")
    assert other.send_line(json.dumps({"method": "hold"})) == "holding"
    assert reader.summary()["commands"] == 6           # reads go on while the lock is held
    assert other.send_line("") == "released"
    other.close()
    reader.close()
    writer.close()


def test_a_writer_kept_waiting_is_told_which_process_holds_the_lab(tmp_path):
    path = tmp_path / "lab.db"
    new_lab(path).close()
    holder = Worker(path, "esmlab (the screen)")
    lab = Lab.open(path)
    lab.store.conn.execute("PRAGMA busy_timeout=50")
    assert holder.send_line(json.dumps({"method": "hold"})) == "holding"
    before = lab.commands()
    with pytest.raises(LabBusy) as err:
        lab.send_message("q", "x")
    [row] = lab.store.conn.execute("SELECT pid, since FROM sessions WHERE command=?",
                                   ("esmlab (the screen)",)).fetchall()
    assert str(err.value) == (
        f"{path} is busy: another esmlab process (pid {row[0]}: `esmlab (the screen)`, open "
        f"since {row[1]}) is changing it and did not finish within 5 s; nothing was changed "
        "here. Try again when it has finished.")
    assert holder.send_line("") == "released"
    assert lab.commands() == before
    lab.send_message("q", "x")                          # and goes on once it is free
    holder.close()
    lab.close()
    assert Lab.open(path, readonly=True).store.holders() == []   # nobody left holding it


def test_a_process_killed_with_the_lab_open_is_not_named_as_a_holder(tmp_path):
    path = tmp_path / "lab.db"
    new_lab(path).close()
    killed = subprocess.run([sys.executable, "-c", "import os, sys\nfrom esmlab.lab import Lab\n"
                             "Lab.open(sys.argv[1], session='gone')\nos._exit(9)", str(path)])
    assert killed.returncode == 9
    lab = Lab.open(path)
    assert lab.store.holders() == []
    assert [c for (c,) in lab.store.conn.execute("SELECT command FROM sessions")] != ["gone"]
    lab.close()


def test_the_sessions_table_is_not_part_of_the_lab(tmp_path):
    """Who had a lab open is not replayed, snapshotted or exported."""
    from esmlab.store import STATE_TABLES
    lab = new_lab(tmp_path / "lab.db")
    assert "sessions" not in STATE_TABLES
    lab.save_snapshot("s")
    lab.restore_snapshot("s")
    assert lab.store.conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    lab.close()
    assert Path(tmp_path / "lab.db").exists()


def _commit_just_before_the_transaction(lab: Lab, other: Lab, action):
    """Make `other` commit right when `lab` is about to open its transaction:
    the window in which a log read outside the transaction goes stale."""
    def late_transaction():
        del lab.store.transaction          # once: later calls are the store's own
        action(other)
        return lab.store.transaction()
    lab.store.transaction = late_transaction


def test_rewind_and_rebuild_read_the_command_log_inside_their_transaction(tmp_path):
    screen = new_lab(tmp_path / "lab.db")
    screen.send_message("q", "mine")
    other = Lab.open(tmp_path / "lab.db")
    _commit_just_before_the_transaction(screen, other,
                                        lambda o: o.send_message("q", "from the other process"))
    screen.rebuild()
    assert [c["args"].get("MessageBody") for c in screen.commands()][-2:] == \
        ["mine", "from the other process"]
    assert screen.engine.queues.counts("q")["total"] == 2      # the rebuilt state has it too

    later = screen.now_ms
    _commit_just_before_the_transaction(screen, other,
                                        lambda o: o.send_message("q", "one more"))
    screen.rewind(later)
    assert screen.engine.queues.counts("q")["total"] == 3
    other.close()
    screen.close()


def test_restore_reads_the_snapshot_inside_its_transaction(tmp_path):
    screen = new_lab(tmp_path / "lab.db")
    screen.save_snapshot("s")
    other = Lab.open(tmp_path / "lab.db")

    def replace_snapshot(o):
        o.send_message("q", "saved by the other process")
        o.save_snapshot("s")
    _commit_just_before_the_transaction(screen, other, replace_snapshot)
    screen.restore_snapshot("s")
    assert screen.engine.queues.counts("q")["total"] == 1       # the snapshot as it is now
    other.close()
    screen.close()
