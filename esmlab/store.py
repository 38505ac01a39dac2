"""The lab file: one SQLite database, its schema, version and transactions.

Every public Lab call runs inside `Store.transaction()`, so the file holds
either the state before the call or the state after it, never a half-written
mix, even if the process is killed (WAL journal + one BEGIN IMMEDIATE ...
COMMIT per call).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from esmlab.errors import LabError

SCHEMA_VERSION = 2

# All engine state lives in these tables, so the journal and metrics are
# ordinary tables anyone can query with sqlite3.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS handler_results (
    ordinal INTEGER PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    name TEXT PRIMARY KEY, saved_at_ms INTEGER NOT NULL, meta TEXT NOT NULL,
    commands TEXT NOT NULL, handler_results TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agenda (
    seq INTEGER PRIMARY KEY, due_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE, data TEXT);
CREATE INDEX IF NOT EXISTS agenda_due ON agenda (due_ms, seq);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    resource TEXT NOT NULL, subject TEXT, reason TEXT NOT NULL, data TEXT);
CREATE INDEX IF NOT EXISTS journal_resource ON journal (resource, id);
CREATE INDEX IF NOT EXISTS journal_kind ON journal (kind, id);
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
""" + """
-- Version 2. Each invocation's aws_request_id, and what a user's handler
-- wrote (CloudWatch events: the START/END/REPORT lines are built from the
-- invocation row when read).
ALTER TABLE invocations ADD COLUMN request_id TEXT;
CREATE TABLE IF NOT EXISTS invocation_logs (
    invocation INTEGER PRIMARY KEY, events TEXT NOT NULL);
"""

# Tables that hold the lab's state (everything a replay rebuilds). The
# command log, handler results and snapshots are the lab's history and
# survive a reset.
STATE_TABLES = (
    "agenda", "journal", "metrics", "queues", "messages", "dedup", "streams",
    "shards", "records", "tables", "items", "functions", "invocations",
    "mappings", "lanes", "sinks", "sink_items", "invocation_logs",
)

# version -> SQL that brings a lab from version-1 to version.
MIGRATIONS: dict[int, str] = {
    2: SCHEMA[SCHEMA.index("-- Version 2."):],
}


class Store:
    """One open lab file."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode is still atomic and consistent after a crash;
        # only the last commits may be lost on power failure, not corrupted.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        self._depth = 0
        self._prepare()

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

    def _migrate(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise LabError(
                f"{self.path} was written by a newer esmlab (lab schema version {version}); "
                f"this esmlab reads lab schema versions up to {SCHEMA_VERSION}. "
                "Upgrade esmlab to open it.")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS.get(target, "")):
                self.conn.execute(statement)
            self.set_meta("schema_version", str(target))

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT. A nested call is a SAVEPOINT, so a
        failing inner call is undone on its own and the outer one decides."""
        if self._depth:
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            self.conn.execute(f"RELEASE {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

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

    def close(self) -> None:
        self.conn.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
