"""An invocation's log, as CloudWatch Logs shows it in /aws/lambda/<name>.

Every invocation that reached the function has one: START, what a user's
handler wrote (stored in `invocation_logs`), the "Task timed out" line on a
timeout, END and REPORT, stamped in virtual time. Only the handler's own
output is stored; the platform lines are rebuilt from the invocation row,
so a built-in behaviour's invocation costs no log storage.

The lab does not measure memory, so REPORT has no `Max Memory Used` (nor an
`Init Duration`: the lab does not model cold-start time).
"""

from __future__ import annotations

import json
import math

from esmlab.engine.payloads import iso


def events(conn, inv: dict, memory_mb: int, timeout_s: int, now_ms: int) -> list[dict]:
    """[{"at_ms", "message"}, ...] of one invocation, up to `now_ms` (a
    running invocation has no END yet)."""
    if inv["status"] == "throttled" or not inv.get("request_id"):
        return []
    rid = inv["request_id"]
    start, end = inv["start_ms"], inv["end_ms"]
    row = conn.execute("SELECT events FROM invocation_logs WHERE invocation=?",
                       (inv["id"],)).fetchone()
    stored = json.loads(row[0]) if row else {"init": [], "run": []}
    out = [(start, m) for m in stored["init"]]
    out.append((start, f"START RequestId: {rid} Version: $LATEST\n"))
    out.extend((start, m) for m in stored["run"])
    status = (inv.get("response") or {}).get("status", inv["status"])
    if status == "timeout":
        out.append((end, f"{iso(end)} {rid} Task timed out after {timeout_s:.2f} seconds\n"))
    out.append((end, f"END RequestId: {rid}\n"))
    out.append((end, report_line(rid, end - start, memory_mb, status, inv.get("error"))))
    return [{"at_ms": at, "message": message} for at, message in out if at <= now_ms]


def report_line(rid: str, duration_ms: int, memory_mb: int, status: str,
                error: dict | None) -> str:
    line = (f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {memory_mb} MB\t")
    # The platform adds a status when it ended the invocation itself.
    if status == "timeout":
        line += "Status: timeout\t"
    elif error and error.get("errorType") == "Runtime.ExitError":
        line += "Status: error\tError Type: Runtime.ExitError\t"
    return line + "\n"
