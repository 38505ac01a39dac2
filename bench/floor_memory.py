"""The in-memory floor of an SQS drain: `python bench/floor_memory.py [N]`.

What a standard-queue mapping draining N messages in batches of 10 must do
at the least, in plain Python with nothing persisted and nothing journaled:
keep the queue (visible messages in order, receive counts, visibility
deadlines, receipt handles), receive 10 at a time, build each batch's Lambda
event in AWS's shape (the same fields payloads.sqs_record gives, md5 of each
body included) and serialise it as an invoke would, then delete the batch
when the invocation succeeds. The drain benchmark in bench/run.py divides
the lab's time by this one (`ratio_memory`).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import deque

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:q"
VISIBILITY_MS = 30_000


def drain(n: int, now_ms: int = 1_704_067_200_000) -> float:
    """Seconds to drain n messages (their sending is not timed)."""
    messages = {}
    ready = deque()
    for i in range(n):
        mid = f"{i:08x}-0000-4000-8000-{i:012x}"
        messages[mid] = {"body": f"m{i // 10}-{i % 10}", "sent": now_ms, "count": 0,
                         "first": None, "visible": now_ms, "handle": None}
        ready.append(mid)
    start = time.perf_counter()
    md5 = hashlib.md5
    dumps = json.dumps
    handles = 0
    while ready:
        batch = [ready.popleft() for _ in range(min(10, len(ready)))]
        records = []
        for mid in batch:                      # ReceiveMessage: the bookkeeping
            m = messages[mid]
            m["count"] += 1
            m["first"] = m["first"] or now_ms
            m["visible"] = now_ms + VISIBILITY_MS
            handles += 1
            m["handle"] = f"rh-{handles}"
            records.append({                   # the event record, in AWS's shape
                "messageId": mid, "receiptHandle": m["handle"], "body": m["body"],
                "attributes": {"ApproximateReceiveCount": str(m["count"]),
                               "SentTimestamp": str(m["sent"]),
                               "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                               "ApproximateFirstReceiveTimestamp": str(m["first"])},
                "messageAttributes": {}, "md5OfMessageAttributes": None,
                "md5OfBody": md5(m["body"].encode()).hexdigest(),
                "eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1"})
        dumps({"Records": records}, separators=(",", ":"))   # the invoke's payload
        now_ms += 100                          # the invocation's duration
        for mid in batch:                      # success: DeleteMessageBatch
            del messages[mid]
    elapsed = time.perf_counter() - start
    assert not messages
    return elapsed


if __name__ == "__main__":
    print(f"{drain(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000):.3f} s")
