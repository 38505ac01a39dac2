"""`esmlab compact`: drop a lab's history from before a point in time.

A lab is its initial state and its command log; the journal, the metric
samples and the finished invocations are what running that log produced.
Compacting at a time T deletes what was produced before T:

- journal events before T, except those that created a resource (they name
  it: `esmlab export scenario` reads the mapping UUIDs from them) and those
  a rewind or a restore wrote (no replay writes them);
- metric samples before T, except each series' latest (the lab samples a
  series at most once a second from its latest sample, so keeping it keeps
  the sampling the same);
- invocations that ended before T, with their CloudWatch-style logs.

It keeps the command log, the handler results and the snapshots (the lab
itself: a replay needs them), and everything that is state now (queues and
their messages, stream records within retention, lanes, pending timers,
what reached destinations, running invocations). The newest journal event
and the newest invocation always stay, so their numbering goes on as if
nothing had been dropped.

Compacting is itself a command in the log (`compact`, with the time), so a
replay, a rewind to a later time or a restore drops exactly the same rows at
the same point, and a rewind to an earlier time gives the lab built up to
then, with its history whole. An exported scenario leaves it out.
"""

from __future__ import annotations

from esmlab.errors import LabError

# Journal events that name a resource when it is made (kept by compaction).
CREATED_KINDS = "kind LIKE '%created'"
# Events a rewind or a restore writes: the session's, not the command log's
# (a replay never writes them), so compaction neither drops nor counts them,
# nor takes one for the newest event it keeps; otherwise the same commands
# would compact differently after a rewind than when replayed.
HISTORY_KINDS = "kind IN ('lab.rewound', 'lab.restored')"


def check_point(before_ms, start_ms: int, now_ms: int) -> int:
    """The compaction point, or a LabError saying why it cannot be one."""
    from esmlab.engine.payloads import iso
    if isinstance(before_ms, bool) or not isinstance(before_ms, int):
        raise LabError(f"compact needs a time in lab milliseconds, not {before_ms!r}")
    if before_ms < start_ms:
        raise LabError(f"{iso(before_ms)} is before the lab started ({iso(start_ms)}): there is "
                       "no history before it to drop; nothing was changed")
    if before_ms > now_ms:
        raise LabError(f"{iso(before_ms)} is after the lab's clock ({iso(now_ms)}): only the "
                       "past can be compacted; nothing was changed")
    return before_ms


def compact(engine, before_ms: int) -> dict:
    """Delete the history from before `before_ms` (see the module's
    docstring); returns how many rows of each kind went."""
    conn = engine.conn
    engine.journal.flush()  # events and samples buffered in this command are in the tables first
    invocations = (
        "FROM invocations WHERE end_ms < ? AND status != 'running' "
        "AND id < (SELECT max(id) FROM invocations)")
    history = f"SELECT id FROM journal_kinds WHERE {HISTORY_KINDS}"
    events = (f"at_ms < ? AND kind NOT IN (SELECT id FROM journal_kinds WHERE {CREATED_KINDS} "
              f"OR {HISTORY_KINDS}) "
              f"AND id < (SELECT max(id) FROM journal_rows WHERE kind NOT IN ({history}))")
    # An event kept whose message ids are read from an invocation that goes
    # (only the newest event can be one) gets them back in its own row first.
    conn.execute(
        "UPDATE journal_rows SET data = replace(data, char(31), "
        "(SELECT json(records) FROM invocations WHERE id = ids_of)), ids_of = NULL "
        f"WHERE ids_of IN (SELECT id {invocations}) AND NOT ({events})",
        (before_ms, before_ms))
    conn.execute(f"DELETE FROM invocation_logs WHERE invocation IN (SELECT id {invocations})",
                 (before_ms,))
    dropped = {"invocations": conn.execute(f"DELETE {invocations}", (before_ms,)).rowcount}
    dropped["journal"] = conn.execute(f"DELETE FROM journal_rows WHERE {events}",
                                      (before_ms,)).rowcount
    dropped["metrics"] = conn.execute(
        "DELETE FROM metrics WHERE at_ms < ? AND rowid NOT IN "
        "(SELECT max(rowid) FROM metrics GROUP BY resource, name)", (before_ms,)).rowcount
    # Records retention trimmed are invisible already; their rows go now
    # (a trim frees only a bounded number itself). Not in the journal event:
    # it is the file's space, not the lab's history.
    engine.streams.free_trimmed()
    from esmlab.engine.payloads import iso
    since = (before_ms - engine.start_ms) / 1000
    engine.log("lab.compacted", "lab",
               f"history before T+{since:g} s ({iso(before_ms)}) dropped: "
               f"{dropped['journal']:,} journal events, {dropped['invocations']:,} invocations, "
               f"{dropped['metrics']:,} metric samples; the command log is kept, so the lab "
               "still replays", data={"before_ms": before_ms, **dropped})
    return dropped


def missing_invocation_note(lab, inv_id: int) -> str:
    """Why invocation `inv_id` may be gone: '' unless a compaction dropped
    invocations numbered around it."""
    from esmlab.engine.payloads import iso
    done = lab.journal(kind="lab.compacted", newest_first=True, limit=1)
    newest = lab.store.conn.execute("SELECT max(id) FROM invocations").fetchone()[0]
    if not done or newest is None or not 0 < inv_id < newest:
        return ""
    return (f" (esmlab compact dropped the invocations that ended before "
            f"{iso(done[0]['data']['before_ms'])})")
