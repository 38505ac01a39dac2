"""The lab file: one SQLite database, its schema, version and transactions.

Every public Lab call runs inside `Store.transaction()`, so the file holds
either the state before the call or the state after it, never a half-written
mix, even if the process is killed (WAL journal + one BEGIN IMMEDIATE ...
COMMIT per call).

A file is inspected through a read-only connection before anything writes to
it, so a file esmlab refuses (not SQLite, damaged, someone else's database, a
newer esmlab's lab) is left byte for byte as it was. Several processes may
open one lab: a writer notices another connection's commits (PRAGMA
data_version) at the start of each transaction and reloads its in-memory
state first; readers open the file read-only and never take the write lock.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from esmlab.errors import LabBusy, LabDamaged, LabDiskFull, LabFileError, LabReadOnly
from esmlab.views import VIEWS

SCHEMA_VERSION = 8

# The journal as every reader knows it (id, at_ms, kind, resource, subject,
# reason, data), rebuilt from its compact rows (version 7, below).
JOURNAL_VIEW = """
CREATE VIEW IF NOT EXISTS journal AS
SELECT r.id, r.at_ms, k.kind, r.resource, r.subject,
       CASE WHEN r.n IS NULL THEN t.text ELSE replace(t.text, char(31), r.n) END AS reason,
       CASE WHEN r.ids_of IS NULL THEN r.data
            ELSE replace(r.data, char(31), json(i.records)) END AS data
FROM journal_rows AS r JOIN journal_kinds AS k ON k.id = r.kind
JOIN journal_texts AS t ON t.id = r.reason
LEFT JOIN invocations AS i ON i.id = r.ids_of;
"""

# All engine state lives in these tables, so the journal and metrics are
# ordinary tables anyone can query with sqlite3.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL,
    end_ms INTEGER);
CREATE TABLE IF NOT EXISTS handler_results (
    ordinal INTEGER PRIMARY KEY, result TEXT NOT NULL, digest TEXT);
CREATE TABLE IF NOT EXISTS snapshots (
    name TEXT PRIMARY KEY, saved_at_ms INTEGER NOT NULL, meta TEXT NOT NULL,
    commands TEXT NOT NULL, handler_results TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agenda (
    seq INTEGER PRIMARY KEY, due_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE, data TEXT);
CREATE INDEX IF NOT EXISTS agenda_due ON agenda (due_ms, seq);
CREATE TABLE IF NOT EXISTS metrics (
    at_ms INTEGER NOT NULL, resource TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_series ON metrics (resource, name, at_ms);

CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY, fifo INTEGER NOT NULL, attributes TEXT NOT NULL,
    duplicate_rate REAL NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,
    next_seq INTEGER NOT NULL DEFAULT 0);
-- One row per message copy. visible_ms is when it can next be received
-- (send time + delay, or end of its visibility timeout), receipt_handle is
-- set by the latest receive (NULL = never received in this queue), so
-- "in flight" is visible_ms > now AND receipt_handle IS NOT NULL. head = 1
-- marks the oldest message of a FIFO message group (NULL otherwise).
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, queue TEXT NOT NULL, message_id TEXT NOT NULL,
    body TEXT NOT NULL, attributes TEXT, size INTEGER NOT NULL, sent_ms INTEGER NOT NULL,
    enqueued_ms INTEGER NOT NULL, visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0, first_receive_ms INTEGER, received_ms INTEGER,
    receipt_handle TEXT, group_id TEXT, dedup_id TEXT, seq_no TEXT, head INTEGER,
    holder TEXT);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible_ms, id);
CREATE INDEX IF NOT EXISTS messages_enqueued ON messages (queue, enqueued_ms);
CREATE INDEX IF NOT EXISTS messages_group ON messages (queue, group_id, id)
    WHERE group_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_heads ON messages (queue, id, visible_ms) WHERE head = 1;
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL, dedup_id TEXT NOT NULL, expires_ms INTEGER NOT NULL,
    message_id TEXT NOT NULL, seq_no TEXT, PRIMARY KEY (queue, dedup_id));
CREATE INDEX IF NOT EXISTS dedup_expiry ON dedup (queue, expires_ms);

CREATE TABLE IF NOT EXISTS streams (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, arn TEXT NOT NULL, retention_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL, next_shard INTEGER NOT NULL DEFAULT 0,
    next_seq INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'ACTIVE',
    routing TEXT NOT NULL DEFAULT '[]', view_type TEXT);
CREATE INDEX IF NOT EXISTS streams_arn ON streams (arn);
-- Kinesis stream settings beyond the streams row (MaxRecordSizeInKiB): a
-- stream without a row has AWS's defaults.
CREATE TABLE IF NOT EXISTS stream_settings (
    name TEXT PRIMARY KEY, max_record_kib INTEGER NOT NULL);
-- Kinesis enhanced fan-out consumers (RegisterStreamConsumer), see
-- engine/sources/consumers.py. created_ms is the lab time of registration.
CREATE TABLE IF NOT EXISTS stream_consumers (
    arn TEXT PRIMARY KEY, stream TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS stream_consumers_stream ON stream_consumers (stream);
CREATE TABLE IF NOT EXISTS shards (
    stream TEXT NOT NULL, shard_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    parent TEXT, adjacent_parent TEXT, hash_start TEXT NOT NULL, hash_end TEXT NOT NULL,
    start_seq TEXT NOT NULL, end_seq TEXT, created_ms INTEGER NOT NULL, closed_ms INTEGER,
    last_seq TEXT, trimmed_seq TEXT, trimmed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream, shard_id));
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY, stream TEXT NOT NULL, shard_id TEXT NOT NULL, seq TEXT NOT NULL,
    partition_key TEXT NOT NULL, data BLOB, arrival_ms INTEGER NOT NULL, size INTEGER NOT NULL,
    detail TEXT, khash INTEGER NOT NULL DEFAULT 0);
-- khash: the top 56 bits of MD5(partition key), so a ParallelizationFactor
-- lane (khash % factor) is found in the index without reading the rows.
CREATE INDEX IF NOT EXISTS records_shard ON records (stream, shard_id, seq, khash, arrival_ms);
CREATE INDEX IF NOT EXISTS records_arrival ON records (stream, arrival_ms);

CREATE TABLE IF NOT EXISTS tables (
    name TEXT PRIMARY KEY, key_schema TEXT NOT NULL, attribute_definitions TEXT,
    stream_view_type TEXT, stream_name TEXT, created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tables_stream ON tables (stream_name);
CREATE TABLE IF NOT EXISTS items (
    table_name TEXT NOT NULL, key TEXT NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (table_name, key));

CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY, config TEXT NOT NULL, behaviour TEXT NOT NULL,
    invocations INTEGER NOT NULL DEFAULT 0, running INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY, function TEXT NOT NULL, mapping TEXT, source TEXT,
    start_ms INTEGER NOT NULL, end_ms INTEGER, status TEXT NOT NULL, attempt INTEGER,
    size INTEGER NOT NULL, records TEXT NOT NULL, event TEXT, response TEXT,
    error TEXT, detail TEXT);
CREATE INDEX IF NOT EXISTS invocations_mapping ON invocations (mapping, id);
CREATE INDEX IF NOT EXISTS invocations_function ON invocations (function, id);

CREATE TABLE IF NOT EXISTS mappings (
    uuid TEXT PRIMARY KEY, label TEXT NOT NULL, function TEXT NOT NULL,
    source_arn TEXT NOT NULL, source_kind TEXT NOT NULL, config TEXT NOT NULL,
    state TEXT NOT NULL, transition_reason TEXT NOT NULL, last_result TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL, runtime TEXT NOT NULL, created_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lanes (
    mapping TEXT NOT NULL, shard_id TEXT NOT NULL, lane INTEGER NOT NULL,
    checkpoint TEXT, state TEXT NOT NULL, inflight INTEGER,
    PRIMARY KEY (mapping, shard_id, lane));

CREATE TABLE IF NOT EXISTS sinks (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, arn TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sink_items (
    id INTEGER PRIMARY KEY, sink TEXT NOT NULL, at_ms INTEGER NOT NULL, key TEXT,
    body TEXT NOT NULL, reason TEXT);
CREATE INDEX IF NOT EXISTS sink_items_sink ON sink_items (sink, id);

-- The processes that have the lab open for writing (not lab state: never
-- replayed, snapshotted or exported), so a refused writer can say who holds
-- the lab. `since` is wall-clock UTC, the one wall-clock value in the file.
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL,
    command TEXT NOT NULL, since TEXT NOT NULL);
""" + """
-- Version 2. Each invocation's aws_request_id, and what a user's handler
-- wrote (CloudWatch events: the START/END/REPORT lines are built from the
-- invocation row when read).
ALTER TABLE invocations ADD COLUMN request_id TEXT;
CREATE TABLE IF NOT EXISTS invocation_logs (
    invocation INTEGER PRIMARY KEY, events TEXT NOT NULL);
""" + """
-- Version 4. DLQ redrive: the queue a redrive policy moved a message from
-- (ReceiveMessage's DeadLetterQueueSourceArn), and SQS message move tasks
-- (StartMessageMoveTask, see engine/sources/message_moves.py).
ALTER TABLE messages ADD COLUMN dlq_source TEXT;
CREATE TABLE IF NOT EXISTS message_move_tasks (
    task_id TEXT PRIMARY KEY, handle TEXT NOT NULL, source_arn TEXT NOT NULL,
    destination_arn TEXT, rate INTEGER, status TEXT NOT NULL, to_move INTEGER NOT NULL,
    moved INTEGER NOT NULL, started_ms INTEGER NOT NULL, failure TEXT);
CREATE INDEX IF NOT EXISTS message_move_tasks_source ON message_move_tasks (source_arn);
""" + """
-- Version 5. A message's AWSTraceHeader system attribute: what a function
-- sends carries its invocation's X-Ray header, whose Lineage is how Lambda
-- detects a recursive loop (engine/mappings/recursion.py).
ALTER TABLE messages ADD COLUMN trace_header TEXT;
""" + """
-- Version 6. An invocation's event is stored packed (engine/event_store.py:
-- what varies between records and deliveries, not what the lab can say
-- again) and rebuilt on read. `event` keeps the whole events of invocations
-- made before version 6.
ALTER TABLE invocations ADD COLUMN event_parts TEXT;
""" + """
-- Version 7. The journal is stored compact (engine/journal.py) and read
-- through the view `journal`, whose rows are the text every reader saw
-- before: a kind is a small number (journal_kinds), a reason a template
-- kept once (journal_texts, keyed by a hash of its text) whose char(31) stands
-- for the number in `n`, and a `message_ids` list that is an invocation's
-- record ids is a char(31) in `data`, read back from invocations.records (ids_of).
CREATE TABLE IF NOT EXISTS journal_kinds (id INTEGER PRIMARY KEY, kind TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS journal_texts (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal_rows (
    id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, kind INTEGER NOT NULL,
    resource TEXT NOT NULL, subject TEXT, reason INTEGER NOT NULL, n INTEGER, data TEXT,
    ids_of INTEGER);
CREATE INDEX IF NOT EXISTS journal_rows_resource ON journal_rows (resource, id);
CREATE INDEX IF NOT EXISTS journal_rows_kind ON journal_rows (kind, id);
""" + JOURNAL_VIEW + """
-- Version 8. Retention trims a stream logically (engine/sources/stream.py):
-- the stream's horizon `trimmed_ms` (records that arrived at or before it
-- are trimmed) moves in one statement, the per-shard counts come from
-- `record_instants` (records per stream, arrival instant and shard), and the
-- rows themselves (`record_rows`) are freed a bounded number at a time, later.
-- `records` is the view of the records not trimmed: every reader reads it.
ALTER TABLE records RENAME TO record_rows;
ALTER TABLE streams ADD COLUMN trimmed_ms INTEGER;
CREATE TABLE IF NOT EXISTS record_instants (
    stream TEXT NOT NULL, arrival_ms INTEGER NOT NULL, shard_id TEXT NOT NULL,
    n INTEGER NOT NULL, first_seq TEXT NOT NULL, last_seq TEXT NOT NULL,
    PRIMARY KEY (stream, arrival_ms, shard_id)) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS records AS
SELECT r.id, r.stream, r.shard_id, r.seq, r.partition_key, r.data, r.arrival_ms, r.size,
       r.detail, r.khash
FROM record_rows AS r JOIN streams AS s ON s.name = r.stream
WHERE s.trimmed_ms IS NULL OR r.arrival_ms > s.trimmed_ms;
"""

SCHEMA += "\n-- Views for people who query the file (esmlab/views.py).\n" + VIEWS

# Tables that hold the lab's state (everything a replay rebuilds). The
# command log, handler results and snapshots are the lab's history and
# survive a reset.
STATE_TABLES = (
    "agenda", "journal_rows", "metrics", "queues", "messages", "dedup", "streams", "stream_settings",
    "shards", "record_rows", "record_instants", "tables", "items", "functions", "invocations",
    "mappings", "lanes", "sinks", "sink_items", "invocation_logs",
    "message_move_tasks", "stream_consumers",
)

# version -> SQL that brings a lab from version-1 to version. A new table,
# index or view needs no migration: add it to SCHEMA (always with IF NOT
# EXISTS) and every lab that lacks it gets it when it is next opened for
# writing. A new column, or a changed table or view, needs SCHEMA_VERSION + 1
# and an entry here.
MIGRATIONS: dict[int, str] = {
    2: SCHEMA[SCHEMA.index("-- Version 2."):SCHEMA.index("-- Version 4.")],
    # 3: a command records the clock when it ended (so a rewind cuts a clock
    # command exactly); a handler result records the digest of its call.
    3: "ALTER TABLE commands ADD COLUMN end_ms INTEGER; "
       "ALTER TABLE handler_results ADD COLUMN digest TEXT",
    4: SCHEMA[SCHEMA.index("-- Version 4."):SCHEMA.index("-- Version 5.")],
    5: SCHEMA[SCHEMA.index("-- Version 5."):SCHEMA.index("-- Version 6.")],
    6: SCHEMA[SCHEMA.index("-- Version 6."):SCHEMA.index("-- Version 7.")],
    # 7: the compact journal; the old table's rows move over as they were
    # (each distinct reason once, under negative ids that no hash takes).
    # Run by _move_journal, which skips the move when there is no old table.
    7: SCHEMA[SCHEMA.index("-- Version 7."):SCHEMA.index(JOURNAL_VIEW)] + """
INSERT INTO journal_kinds (kind) SELECT kind FROM journal GROUP BY kind ORDER BY min(id);
INSERT INTO journal_texts (id, text)
    SELECT -row_number() OVER (ORDER BY min(id)), reason FROM journal GROUP BY reason;
CREATE INDEX journal_texts_moving ON journal_texts (text);
INSERT INTO journal_rows (id, at_ms, kind, resource, subject, reason, data)
    SELECT j.id, j.at_ms, k.id, j.resource, j.subject, t.id, j.data
    FROM journal AS j JOIN journal_kinds AS k ON k.kind = j.kind
    JOIN journal_texts AS t ON t.text = j.reason AND t.id < 0 ORDER BY j.id;
DROP INDEX journal_texts_moving;
DROP TABLE journal;
""" + JOURNAL_VIEW,
    # 8: v_records reads `records`, which becomes a view: the old view goes
    # first (a rename would point it at record_rows) and comes back from
    # SCHEMA; the records a lab holds are counted into record_instants.
    8: "DROP VIEW IF EXISTS v_records; "
       + SCHEMA[SCHEMA.index("-- Version 8."):SCHEMA.index("-- Views for people")]
       + "; INSERT INTO record_instants (stream, arrival_ms, shard_id, n, first_seq, last_seq) "
         "SELECT stream, arrival_ms, shard_id, count(*), min(seq), max(seq) FROM record_rows "
         "GROUP BY stream, arrival_ms, shard_id",
}

BUSY_TIMEOUT_MS = 5000
# The write-ahead log (lab.db-wal) grows to hold a whole command's changes
# (a long run_until_idle is one transaction). A command that leaves it past
# WAL_CHECKPOINT_BYTES (SQLite's own checkpoint size: 1,000 pages of 4 KiB)
# is folded into the lab file at once, closing the lab folds it too, and
# SQLite cuts a WAL it starts over back to WAL_KEEP_BYTES: the WAL never
# grows like the lab.
WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024
WAL_KEEP_BYTES = 4 * 1024 * 1024
_SQLITE_HEADER = b"SQLite format 3\x00"
_OBJECT = re.compile(r"CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+IF\s+NOT\s+EXISTS\s+(\w+)",
                     re.IGNORECASE)


class Store:
    """One open lab file (or a new one at a path that holds nothing yet).

    `readonly=True` opens it read-only (SQLite's mode=ro): such a store never
    takes the write lock, never blocks a writer, and cannot change the file.
    `session` (e.g. "esmlab snapshot save x") is recorded while a writer has
    the lab open, so another process it blocks can name it.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False, create: bool = True,
                 session: str | None = None):
        self.path = str(path)
        self.readonly = readonly
        self._depth = 0
        self._session_id: int | None = None
        self._data_version: int | None = None
        # Called at the start of a write transaction when another connection
        # committed since this one last looked (the Lab reloads its engine).
        self.on_external_change = None
        if self.path != ":memory:":
            version = inspect_lab_file(self.path, must_exist=readonly or not create)
            if version is None and (readonly or not create):
                raise LabFileError(nothing_there_message(self.path))
            if readonly and _needs_upgrade(self.path, version):
                _upgrade_if_writable(self.path)
            if not readonly and version is not None and not _writable(self.path):
                raise LabReadOnly(readonly_message(self.path))
        try:
            self.conn = self._connect()
            if not readonly:
                self._prepare()
                if session is not None:
                    self._register(session)
            self._data_version = self._read_data_version()
        except sqlite3.Error as exc:
            self._close_quietly()
            raise file_error(self.path, exc) or LabFileError(f"cannot use {self.path}: {exc}") \
                from None
        except BaseException:
            self._close_quietly()
            raise

    # -- opening ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            conn = connect_readonly(self.path, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn = conn
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not self.readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode is still atomic and consistent after a crash;
            # only the last commits may be lost on power failure, not corrupted.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
        return conn

    def _prepare(self) -> None:
        with self.transaction():
            exists = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
            version = self.get_meta("schema_version") if exists else None
            if version is None:
                for statement in _statements(SCHEMA):
                    self.conn.execute(statement)
                self.set_meta("schema_version", str(SCHEMA_VERSION))
                return
            self._migrate(int(version))
            self._add_missing_objects()

    def _migrate(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise LabFileError(newer_message(self.path, version))
        for target in range(version + 1, SCHEMA_VERSION + 1):
            if target == 7:
                self._move_journal()
            else:
                for statement in _statements(MIGRATIONS.get(target, "")):
                    self.conn.execute(statement)
            self.set_meta("schema_version", str(target))

    def _move_journal(self) -> None:
        """Migration 7, when the lab has the old journal table (a lab whose
        `journal` is already the view has nothing to move)."""
        kind = self.conn.execute("SELECT type FROM sqlite_master WHERE name='journal'").fetchone()
        if kind is None or kind[0] != "table":
            return
        for statement in _statements(MIGRATIONS[7]):
            self.conn.execute(statement)

    def _add_missing_objects(self) -> None:
        """Create the SCHEMA tables, indexes and views this lab lacks (a lab
        made before another part of esmlab added one)."""
        have = {name for (name,) in self.conn.execute("SELECT name FROM sqlite_master")}
        for statement in _statements(SCHEMA):
            match = _OBJECT.search(statement)
            if match and match.group(1) not in have:
                self.conn.execute(statement)

    # -- who has the lab open --------------------------------------------------------

    def _register(self, command: str) -> None:
        host = socket.gethostname()
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        with self.transaction():
            stale = [(i,) for i, pid, h in self.conn.execute("SELECT id, pid, host FROM sessions")
                     if h == host and not process_alive(pid)]
            self.conn.executemany("DELETE FROM sessions WHERE id=?", stale)
            self._session_id = self.conn.execute(
                "INSERT INTO sessions (pid, host, command, since) VALUES (?, ?, ?, ?)",
                (os.getpid(), host, command, since)).lastrowid

    def holders(self) -> list[str]:
        """The other live processes that have this lab open for writing, in words."""
        try:
            rows = list(self.conn.execute("SELECT id, pid, host, command, since FROM sessions"))
        except sqlite3.Error:
            return []
        here = socket.gethostname()
        return [f"pid {pid}{'' if host == here else ' on ' + host}: `{command}`, open since {since}"
                for i, pid, host, command, since in rows
                if i != self._session_id and (host != here or process_alive(pid))]

    # -- other processes' commits ----------------------------------------------------

    def _read_data_version(self) -> int:
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def changed_elsewhere(self) -> bool:
        """True once after another connection committed to the file."""
        version = self._read_data_version()
        if version == self._data_version:
            return False
        self._data_version = version
        return True

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT. A nested call is a SAVEPOINT, so a
        failing inner call is undone on its own and the outer one decides."""
        if self._depth:
            yield from _savepoint(self)
            return
        if self.readonly:
            raise LabReadOnly(readonly_message(self.path, opened_readonly=True))
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise file_error(self.path, exc, self) or exc from None
        self._depth = 1
        try:
            if self.changed_elsewhere() and self.on_external_change is not None:
                self.on_external_change()
            yield self
            self.conn.execute("COMMIT")
            self._depth = 0
            if self.wal_bytes() > WAL_CHECKPOINT_BYTES:
                self.checkpoint()
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            error = file_error(self.path, exc, self) if isinstance(exc, sqlite3.Error) else None
            if error is not None:
                raise error from exc
            raise
        finally:
            self._depth = 0

    # -- the write-ahead log ------------------------------------------------------------

    def wal_bytes(self) -> int:
        """The size of the lab's -wal file now (0 when there is none)."""
        try:
            return os.stat(self.path + "-wal").st_size
        except OSError:
            return 0

    def checkpoint(self) -> bool:
        """Fold the WAL into the lab file and cut it to nothing. Never waits:
        when another process is reading or writing just then, it is left for
        a later command (or SQLite's own checkpoints). True when done."""
        if self.readonly or self._depth or self.path == ":memory:":
            return False
        try:
            self.conn.execute("PRAGMA busy_timeout=0")
            try:
                busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            return False
        return busy == 0

    def vacuum(self) -> bool:
        """Rewrite the file without its free pages (after `esmlab compact`)."""
        if self.readonly or self._depth:
            return False
        try:
            self.conn.execute("VACUUM")
        except sqlite3.Error:
            return False
        self.checkpoint()
        return True

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))

    def clear_state(self) -> None:
        """Empty every state table (used before a replay rebuilds them)."""
        for table in STATE_TABLES:
            self.conn.execute(f"DELETE FROM {table}")

    def copy_to(self, target: str | Path) -> None:
        """Write the whole lab, WAL included, into one self-contained file
        (SQLite's online backup: consistent even while others write)."""
        target = Path(target)
        if target.exists():
            raise LabFileError(f"{target} already exists; choose a new file name for the copy")
        if not target.parent.is_dir():
            raise LabFileError(f"cannot write {target}: the folder {target.parent} does not exist")
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        try:
            out = sqlite3.connect(partial)
            try:
                self.conn.backup(out)
                out.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
                out.execute("DELETE FROM sessions")        # nobody has the copy open
                out.commit()
            finally:
                out.close()
            os.replace(partial, target)
        except (OSError, sqlite3.Error) as exc:
            partial.unlink(missing_ok=True)
            if isinstance(exc, sqlite3.Error):
                raise file_error(str(target), exc) or LabFileError(
                    f"cannot write {target}: {exc}") from None
            raise LabFileError(f"cannot write {target}: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self._session_id is not None:
            try:
                self.conn.execute("DELETE FROM sessions WHERE id=?", (self._session_id,))
            except sqlite3.Error:
                pass  # a stale row is skipped by holders() once this pid is gone
            self._session_id = None
        self.checkpoint()  # leave one file behind, even if another process has it open
        self.conn.close()

    def _close_quietly(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()


def _savepoint(store: Store):
    name = f"sp{store._depth}"
    store.conn.execute(f"SAVEPOINT {name}")
    store._depth += 1
    try:
        yield store
    except BaseException:
        if store.conn.in_transaction:
            store.conn.execute(f"ROLLBACK TO {name}")
            store.conn.execute(f"RELEASE {name}")
        raise
    finally:
        store._depth -= 1
    store.conn.execute(f"RELEASE {name}")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _writable(path: str) -> bool:
    """The file and its folder (where SQLite keeps the -wal and -shm files)."""
    return os.access(path, os.W_OK) and os.access(Path(path).parent, os.W_OK)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def session_name() -> str:
    """How this process was started, for the sessions table (`esmlab info x.db`)."""
    args = sys.argv[1:]
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if prog in ("__main__.py", "cli.py"):
        prog = "esmlab"
    elif prog == "-c" or prog.endswith(".py"):
        prog = f"python {prog}"
    return " ".join([prog, *args])[:200]


# -- looking at a file before writing to it -----------------------------------------------

def connect_readonly(path: str, **kw) -> sqlite3.Connection:
    """A connection that cannot write. A lab in WAL mode is read through its
    -shm file; where that cannot be made (a read-only folder or file system,
    so nobody can be writing) the file is read as immutable instead."""
    uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
    shm = Path(path + "-shm")
    if not shm.exists() and not os.access(Path(path).parent, os.W_OK) \
            and not Path(path + "-wal").exists():
        uri += "&immutable=1"
    return sqlite3.connect(uri, uri=True, **kw)


def inspect_lab_file(path: str, *, must_exist: bool) -> int | None:
    """The lab schema version of the file at `path`, or None when there is
    nothing there yet (no file, an empty file, an SQLite file with no tables).
    Raises a LabFileError, having written nothing, for anything else."""
    p = Path(path)
    if p.is_dir():
        raise LabFileError(f"{path} is a folder, not a lab file")
    if not p.exists():
        if not p.parent.is_dir():
            raise LabFileError(f"cannot open {path}: the folder {p.parent} does not exist")
        if must_exist:
            raise LabFileError(f"no lab at {path}")
        return None
    try:
        with open(p, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise LabFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not header:
        return None
    if not header.startswith(_SQLITE_HEADER):
        raise LabDamaged(f"{path} is not a lab file: it is not an SQLite database "
                         "(esmlab left it unchanged)")
    _check_length(p, header)
    try:
        conn = connect_readonly(path)
        try:
            tables = [n for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            version = conn.execute("SELECT value FROM meta WHERE key='schema_version'"
                                   ).fetchone() if "meta" in tables else None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise file_error(path, exc) or LabDamaged(f"{path} cannot be read ({exc})") from None
    if not tables:
        return None
    if version is None or not str(version[0]).isdigit():
        listed = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise LabFileError(f"{path} is an SQLite database but not an esmlab lab (its tables: "
                           f"{listed}); esmlab left it unchanged")
    version = int(version[0])
    if version > SCHEMA_VERSION:
        raise LabFileError(newer_message(path, version))
    return version


def _check_length(p: Path, header: bytes) -> None:
    """A file shorter than its own header says was cut off (a partial copy or
    download). Only checked without a -wal file: a checkpoint interrupted by a
    crash may leave the main file short until the WAL is replayed."""
    if len(header) < 100:
        raise LabDamaged(f"{p} is damaged: the file is cut off ({len(header)} bytes, shorter than "
                         "an SQLite header); restore it from a copy")
    wal = Path(str(p) + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]
    size = p.stat().st_size
    if valid and pages and size < pages * page_size:
        raise LabDamaged(f"{p} is damaged: the file is cut off ({size:,} of {pages * page_size:,} "
                         "bytes); restore it from a copy")


def nothing_there_message(path: str) -> str:
    p = Path(path)
    if not p.exists():
        return f"no lab at {path}"
    what = "an empty file" if p.stat().st_size == 0 else "an empty SQLite database"
    return (f"{path} is {what}, not a lab; esmlab left it unchanged "
            f"(`esmlab --lab {path}` makes a new lab there)")


def _needs_upgrade(path: str, version: int) -> bool:
    if version < SCHEMA_VERSION:
        return True
    conn = connect_readonly(path)
    try:
        have = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    return any(m.group(1) not in have for m in map(_OBJECT.search, _statements(SCHEMA)) if m)


def _upgrade_if_writable(path: str) -> None:
    """A reader of an older lab first brings it up to date when it may write
    (a one-off, short write); a lab it may not write is read as it is."""
    try:
        Store(path).close()
    except (LabReadOnly, LabBusy):
        pass


# -- SQLite's errors as sentences -----------------------------------------------------------

def newer_message(path: str, version: int) -> str:
    return (f"{path} was written by a newer esmlab (lab schema version {version}); "
            f"this esmlab reads lab schema versions up to {SCHEMA_VERSION}. "
            "Upgrade esmlab to open it.")


def readonly_message(path: str, opened_readonly: bool = False) -> str:
    if opened_readonly:
        return f"{path} is open read-only here, so nothing was changed"
    return (f"{path} is read-only: esmlab can show it (esmlab info, esmlab export) but not change "
            "it; make the file and its folder writable, or copy it (esmlab copy)")


def file_error(path: str, exc: sqlite3.Error, store: Store | None = None) -> LabFileError | None:
    """The sentence a user gets for an SQLite error about the lab file, or
    None when the error is not about the file (a bug's bad SQL keeps its own)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        holders = store.holders() if store is not None else []
        who = f" ({'; '.join(holders)})" if holders else ""
        return LabBusy(f"{path} is busy: another esmlab process{who} is changing it and did not "
                       f"finish within {BUSY_TIMEOUT_MS // 1000} s; nothing was changed here. "
                       "Try again when it has finished.")
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return LabDiskFull(f"the disk holding {path} is full: the last command was not saved and "
                           "the lab is as it was before it; free some space and try again")
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return LabReadOnly(readonly_message(path))
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text \
            or "not a database" in text:
        return LabDamaged(f"{path} is damaged ({text}); esmlab cannot use it. "
                          "Restore it from a copy")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM", "SQLITE_AUTH")) \
            or "unable to open" in text or "disk I/O" in text:
        return LabFileError(f"cannot use {path}: {text}")
    return None
