"""The lab file and the virtual clock: versions, transactions, the agenda."""

import sqlite3
import subprocess
import sys

import pytest

from esmlab.engine.rng import LabRandom
from esmlab.errors import AwsError, LabError
from esmlab.lab import Lab
from esmlab.store import SCHEMA_VERSION, Store


def test_new_lab_records_the_schema_version(tmp_path):
    lab = Lab.create(tmp_path / "a.db")
    assert lab.store.get_meta("schema_version") == str(SCHEMA_VERSION)


def test_lab_from_a_newer_esmlab_is_refused_with_both_versions(tmp_path):
    path = tmp_path / "new.db"
    Lab.create(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 3),))
    conn.commit()
    conn.close()
    with pytest.raises(LabError) as err:
        Lab.open(path)
    assert f"version {SCHEMA_VERSION + 3}" in str(err.value)
    assert f"up to {SCHEMA_VERSION}" in str(err.value)


def test_older_lab_is_migrated_to_the_current_version(tmp_path, monkeypatch):
    import esmlab.store as store_mod
    path = tmp_path / "old.db"
    Lab.create(path).close()
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(store_mod.MIGRATIONS, SCHEMA_VERSION + 1,
                        "CREATE TABLE added_in_next (x INTEGER)")
    store = Store(path)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION + 1)
    assert store.conn.execute("SELECT count(*) FROM added_in_next").fetchone() == (0,)


def test_a_file_that_is_not_a_lab_is_refused(tmp_path):
    path = tmp_path / "x.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(LabError):
        Lab.open(path)


def test_invalid_request_changes_nothing(lab):
    lab.create_function("f")
    before = (lab.now_ms, lab.commands(), lab.journal_signature())
    with pytest.raises(AwsError):
        lab.create_function("f")  # already exists
    assert (lab.now_ms, lab.commands(), lab.journal_signature()) == before


def test_agenda_fires_in_due_time_then_insertion_order(lab):
    e = lab.engine
    fired = []
    e.agenda.on("t", lambda key, data: fired.append(key))
    with lab.store.transaction():
        e.agenda.schedule("t", "late", e.now_ms + 2000)
        e.agenda.schedule("t", "first", e.now_ms + 1000)
        e.agenda.schedule("t", "second", e.now_ms + 1000)
        e.agenda.run_until(e.now_ms + 5000)
    assert fired == ["first", "second", "late"]


def test_rescheduling_a_key_keeps_the_earlier_time(lab):
    e = lab.engine
    with lab.store.transaction():
        e.agenda.schedule("t", "k", e.now_ms + 5000)
        e.agenda.schedule("t", "k", e.now_ms + 1000)
        e.agenda.schedule("t", "k", e.now_ms + 9000)
        assert e.agenda.pending("k") == e.now_ms + 1000


def test_step_processes_one_instant(lab):
    e = lab.engine
    fired = []
    e.agenda.on("t", lambda key, data: fired.append((e.now_ms, key)))
    start = e.now_ms
    with lab.store.transaction():
        e.agenda.schedule("t", "a", start + 10)
        e.agenda.schedule("t", "b", start + 10)
        e.agenda.schedule("t", "c", start + 20)
        assert e.agenda.run_instant()
    assert fired == [(start + 10, "a"), (start + 10, "b")]


def test_advance_skips_idle_time_and_lands_on_the_target(lab):
    start = lab.now_ms
    assert lab.advance(86_400) == 0   # a day with nothing due: no instants run
    assert lab.now_ms == start + 86_400_000


def test_run_until_idle_stops_when_nothing_is_pending(lab):
    assert lab.run_until_idle() == "idle"


def test_generator_is_deterministic_and_persisted(tmp_path):
    a, b = LabRandom.from_seed(42), LabRandom.from_seed(42)
    assert [a.next64() for _ in range(5)] == [b.next64() for _ in range(5)]
    assert LabRandom.from_seed(1).uuid() != LabRandom.from_seed(2).uuid()
    lab = Lab.create(tmp_path / "r.db", seed=42)
    lab.create_function("f")
    state = lab.engine.rng.state
    lab.close()
    assert Lab.open(tmp_path / "r.db").engine.rng.state == state


def test_the_engine_imports_nothing_from_textual():
    code = "import sys, esmlab.lab, esmlab.cli; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
