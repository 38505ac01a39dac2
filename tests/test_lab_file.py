"""Bad lab files: each gets one clear sentence, and a file esmlab refuses is
left byte for byte as it was (docs/bad-inputs.md lists them)."""

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import esmlab.store as store_mod
from esmlab.cli import main, open_or_create
from esmlab.errors import LabDamaged, LabDiskFull, LabError, LabFileError, LabReadOnly
from esmlab.lab import Lab
from esmlab.store import SCHEMA_VERSION, Store

FIXTURES = Path(__file__).parent / "fixtures" / "labs"


def digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def refusal(path, *, readonly=False) -> str:
    with pytest.raises(LabFileError) as err:
        Lab.open(path, readonly=readonly)
    return str(err.value)


def cli_says(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip()


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.db"
    lab = Lab.create(path)
    lab.create_queue("q")
    lab.close()
    return path


def test_a_truncated_lab_is_refused_as_cut_off_and_left_unchanged(tmp_path, good):
    data = good.read_bytes()
    path = tmp_path / "cut.db"
    path.write_bytes(data[:len(data) // 2])
    before = digest(path)
    message = refusal(path)
    assert message == (f"{path} is damaged: the file is cut off ({len(data) // 2:,} of "
                       f"{len(data):,} bytes); restore it from a copy")
    assert refusal(path, readonly=True) == message
    assert digest(path) == before and not Path(f"{path}-wal").exists()


def test_random_bytes_are_refused_as_not_sqlite_and_left_unchanged(tmp_path):
    path = tmp_path / "noise.db"
    path.write_bytes(bytes(range(256)) * 64)
    before = digest(path)
    assert refusal(path) == (f"{path} is not a lab file: it is not an SQLite database "
                             "(esmlab left it unchanged)")
    assert digest(path) == before


def test_a_foreign_sqlite_database_is_refused_by_its_tables_and_gets_no_lab_tables(tmp_path):
    path = tmp_path / "theirs.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    before = digest(path)
    assert refusal(path) == (f"{path} is an SQLite database but not an esmlab lab (its tables: "
                             "customers, invoices); esmlab left it unchanged")
    with pytest.raises(LabFileError):
        Lab.create(path)
    assert digest(path) == before
    tables = sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    assert tables == 2


def test_an_empty_file_is_refused_by_open_and_left_empty(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    assert refusal(path) == (f"{path} is an empty file, not a lab; esmlab left it unchanged "
                             f"(`esmlab --lab {path}` makes a new lab there)")
    assert path.stat().st_size == 0


def test_an_empty_file_becomes_the_starter_lab_on_first_run(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    lab, created = open_or_create(path)
    assert created and lab.engine.queues.names()
    lab.close()
    Lab.open(path).close()   # and it opens from then on


def test_an_empty_sqlite_database_is_refused_by_open(tmp_path):
    path = tmp_path / "blank.db"
    sqlite3.connect(path).execute("PRAGMA user_version=0").connection.close()
    path.write_bytes(path.read_bytes() or b"")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")
    conn.commit()
    conn.close()
    assert "is an empty SQLite database, not a lab" in refusal(path)


def test_a_folder_is_refused(tmp_path):
    assert refusal(tmp_path) == f"{tmp_path} is a folder, not a lab file"


def test_a_path_in_a_missing_folder_is_refused_and_no_folder_is_made(tmp_path, capsys):
    path = tmp_path / "nowhere" / "lab.db"
    assert refusal(path) == f"cannot open {path}: the folder {path.parent} does not exist"
    assert cli_says(["--lab", str(path)], capsys) == (
        f"esmlab: cannot open {path}: the folder {path.parent} does not exist")
    assert not path.parent.exists()


def test_a_missing_lab_is_refused_by_name(tmp_path):
    assert refusal(tmp_path / "none.db") == f"no lab at {tmp_path / 'none.db'}"


def test_a_read_only_lab_is_refused_for_writing_but_can_be_read(good, monkeypatch):
    # Root may write any file, so the check is simulated here; the next test
    # makes the file really read-only when the suite is not run as root.
    monkeypatch.setattr(store_mod, "_writable", lambda path: False)
    before = digest(good)
    assert refusal(good) == (f"{good} is read-only: esmlab can show it (esmlab info, esmlab "
                             "export) but not change it; make the file and its folder writable, "
                             "or copy it (esmlab copy)")
    lab = Lab.open(good, readonly=True)
    assert lab.engine.queues.names() == ["q"]
    lab.close()
    assert digest(good) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a read-only file")
def test_a_chmod_read_only_lab_is_refused_for_writing(good):
    good.chmod(0o444)
    try:
        assert "is read-only" in refusal(good)
        Lab.open(good, readonly=True).close()
    finally:
        good.chmod(0o644)


def test_a_lab_opened_read_only_refuses_commands_and_never_writes(good):
    before = digest(good)
    lab = Lab.open(good, readonly=True)
    with pytest.raises(LabReadOnly) as err:
        lab.send_message("q", "x")
    assert str(err.value) == f"{good} is open read-only here, so nothing was changed"
    assert lab.engine.queues.counts("q")["total"] == 0
    lab.close()
    assert digest(good) == before


def test_a_full_disk_refuses_the_command_and_keeps_the_lab_as_it_was(good):
    lab = Lab.open(good)
    pages = lab.store.conn.execute("PRAGMA page_count").fetchone()[0]
    lab.store.conn.execute(f"PRAGMA max_page_count={pages}")   # the disk is now full
    before = (lab.commands(), lab.journal_signature(), lab.engine.queues.counts("q"))
    with pytest.raises(LabDiskFull) as err:
        lab.send_message_batch("q", [{"Id": str(i), "MessageBody": "x" * 200_000}
                                     for i in range(5)])
    assert str(err.value) == (f"the disk holding {good} is full: the last command was not "
                              "saved and the lab is as it was before it; free some space and "
                              "try again")
    assert (lab.commands(), lab.journal_signature(), lab.engine.queues.counts("q")) == before
    lab.store.conn.execute(f"PRAGMA max_page_count={pages * 100}")  # space again
    lab.send_message("q", "after")
    assert lab.engine.queues.counts("q")["total"] == 1
    lab.close()


def test_a_full_disk_while_making_a_lab_leaves_nothing_behind(tmp_path):
    path = tmp_path / "lab.db"

    def fill_the_disk(lab):
        pages = lab.store.conn.execute("PRAGMA page_count").fetchone()[0]
        lab.store.conn.execute(f"PRAGMA max_page_count={pages}")
        lab.create_queue("q")
        lab.send_message("q", "x" * 200_000)

    with pytest.raises(LabDiskFull) as err:
        Lab.create(path, setup=fill_the_disk)
    assert str(err.value) == (f"the disk holding {path} is full: the new lab was not made and "
                              "nothing was left behind; free some space and try again")
    assert list(tmp_path.iterdir()) == []


def test_a_crash_during_the_first_run_leaves_no_lab_that_is_refused(tmp_path):
    path = tmp_path / "lab.db"
    crash = ("import os, sys; from esmlab.lab import Lab\n"
             "def setup(lab):\n"
             "    lab.create_queue('q')\n"
             "    os._exit(9)   # killed halfway through making the starter lab\n"
             f"Lab.create({str(path)!r}, setup=setup)\n")
    assert subprocess.run([sys.executable, "-c", crash]).returncode == 9
    assert not path.exists()
    lab, created = open_or_create(path)   # the next run just makes the lab
    assert created
    lab.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".new")) == []


def test_a_lab_from_a_newer_esmlab_is_refused_by_name_and_left_unchanged(good):
    conn = sqlite3.connect(good)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    before = digest(good)
    assert refusal(good) == (f"{good} was written by a newer esmlab (lab schema version "
                             f"{SCHEMA_VERSION + 1}); this esmlab reads lab schema versions up to "
                             f"{SCHEMA_VERSION}. Upgrade esmlab to open it.")
    assert digest(good) == before


def test_an_unfinished_lab_from_an_older_esmlab_says_to_delete_it(tmp_path):
    path = tmp_path / "half.db"
    Store(path).close()            # the schema without the lab's initial state
    assert refusal(path) == (f"{path} is an unfinished lab: the run that made it stopped before "
                             "the lab was complete, so it holds nothing; delete it and run esmlab "
                             "again")


def round_one_lab(tmp_path) -> Path:
    """A lab written by the round-1 esmlab (schema version 1), from its SQL dump."""
    path = tmp_path / "round1.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "round1.sql").read_text())
    conn.close()
    return path


def test_a_round_one_lab_opens_and_goes_on(tmp_path):
    lab = Lab.open(round_one_lab(tmp_path))
    assert len(lab.commands()) == 20 and [s["name"] for s in lab.snapshots()] == ["mid"]
    lab.restore_snapshot("mid")
    lab.advance(30)
    assert lab.engine.queues.names() == ["orders"]
    lab.close()


def test_a_round_one_lab_replays_identically(tmp_path):
    lab = Lab.open(round_one_lab(tmp_path))
    before = lab.journal_signature()
    lab.rebuild()
    assert lab.journal_signature() == before


def test_a_table_added_to_the_schema_reaches_existing_labs(good, monkeypatch):
    monkeypatch.setattr(store_mod, "SCHEMA", store_mod.SCHEMA + """
        CREATE TABLE IF NOT EXISTS added_later (x INTEGER);
        CREATE INDEX IF NOT EXISTS added_later_x ON added_later (x);
        CREATE VIEW IF NOT EXISTS added_view AS SELECT name FROM queues;""")
    lab = Lab.open(good)
    names = {n for (n,) in lab.store.conn.execute("SELECT name FROM sqlite_master")}
    assert {"added_later", "added_later_x", "added_view"} <= names
    assert lab.store.conn.execute("SELECT name FROM added_view").fetchall() == [("q",)]
    lab.close()


def test_a_reader_of_an_older_lab_brings_the_schema_up_to_date_first(good, monkeypatch):
    monkeypatch.setattr(store_mod, "SCHEMA", store_mod.SCHEMA +
                        "CREATE TABLE IF NOT EXISTS added_later (x INTEGER);")
    lab = Lab.open(good, readonly=True)
    assert lab.store.conn.execute("SELECT count(*) FROM added_later").fetchone() == (0,)
    lab.close()


def test_a_copy_is_one_self_contained_file_with_everything_in_the_wal(good, tmp_path, capsys):
    lab = Lab.open(good)               # kept open: its last commits are only in lab.db-wal
    lab.send_message("q", "in the wal")
    assert Path(f"{good}-wal").stat().st_size > 0
    target = tmp_path / "copy.db"
    assert main(["--lab", str(good), "copy", str(target)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"copied {good} (with its -wal) to {target}: one self-contained file")
    assert not Path(f"{target}-wal").exists()
    copy = Lab.open(target, readonly=True)
    assert copy.engine.queues.counts("q")["total"] == 1
    assert copy.journal_signature() == lab.journal_signature()
    assert copy.store.holders() == []       # nobody has the copy open
    copy.close()
    assert cli_says(["--lab", str(good), "copy", str(target)], capsys) == (
        f"esmlab: {target} already exists; choose a new file name for the copy")
    lab.close()


def test_an_error_that_is_not_about_the_file_keeps_its_own_type(good):
    lab = Lab.open(good)
    with pytest.raises(sqlite3.OperationalError):
        with lab.store.transaction():
            lab.store.conn.execute("SELECT no_such_column FROM queues")
    assert isinstance(LabDamaged("x"), LabError)
    lab.close()
