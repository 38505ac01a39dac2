"""Recursive loop detection (reference 8.6): a function that sends to the
queue it reads forms a chain; Lambda stops the chain after about 16
invocations unless the function's RecursiveLoop is Allow
(PutFunctionRecursionConfig; default Terminate).

Lambda follows a chain through the X-Ray trace header a message carries
(its AWSTraceHeader system attribute): the header's Lineage field counts
the invocations of the function in the chain. Recorded on AWS (stackd
captures, recursion_execution.json) the n-th execution of a looping
function saw `...;Sampled=0;Lineage=n:<8 hex>:n-1`, the Terminate chain ran
16 executions and no 17th, the Allow chain ran on. The lab does the same:
an invocation's chain number is one more than the largest Lineage count of
this function among the batch's messages (1 when none carries one); the
invocation that would be the 17th is not made. Its messages are not
deleted: they come back when their visibility timeout ends and, received
again and again, reach the DLQ per the queue's RedrivePolicy. Each stopped
invocation counts 1 in the function metric RecursiveInvocationsDropped.

The lab's choices: the 8-hex Lineage id is the first 8 hex digits of the
MD5 of the function's ARN; Root and Parent are derived from the chain's
first message (deterministic, no draw from the generator); the whole batch
is stopped when any of its messages would take the chain past 16.
"""

from __future__ import annotations

import hashlib
import re

LIMIT = 16                     # invocations of one chain that run (recorded)
METRIC = "RecursiveInvocationsDropped"
VALUES = ("Allow", "Terminate")
DEFAULT = "Terminate"

_LINEAGE = re.compile(r"Lineage=(\d+):([0-9a-f]{8}):(\d+)")
_ROOT = re.compile(r"Root=([^;]+)")


def function_id(function_arn: str) -> str:
    return hashlib.md5(function_arn.encode()).hexdigest()[:8]


def chain_number(msgs: list[dict], function_arn: str) -> int:
    """The invocation's place in its chain (1 = not part of a loop yet)."""
    fid = function_id(function_arn)
    seen = 0
    for msg in msgs:
        for n, lid, _count in _LINEAGE.findall(msg.get("trace_header") or ""):
            if lid == fid:
                seen = max(seen, int(n))
    return seen + 1


def trace_header(msgs: list[dict], function_arn: str, n: int) -> str:
    """The X-Ray header of the invocation (and of what it sends)."""
    first = next((m.get("trace_header") for m in msgs if m.get("trace_header")), None)
    root = _ROOT.search(first).group(1) if first and _ROOT.search(first) else None
    seed = hashlib.md5(f"{function_arn}|{msgs[0]['message_id'] if msgs else ''}".encode())
    digest = seed.hexdigest()
    if root is None:
        root = f"1-{digest[:8]}-{digest[8:32]}"
    parent = hashlib.md5(f"{root}|{n}".encode()).hexdigest()[:16]
    return f"Root={root};Parent={parent};Sampled=0;Lineage={n}:{function_id(function_arn)}:{n - 1}"


def stopped(n: int, recursive_loop: str) -> bool:
    return n > LIMIT and recursive_loop != "Allow"
