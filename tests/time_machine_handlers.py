"""User handlers for the time-machine tests and the round-1 fixture lab.

Each answer depends on the batch it is given, so a stored result reused for
a different batch shows in the journal and the invocations table.
"""

import base64


def _texts(event: dict) -> list[tuple[str, str]]:
    """(batchItemFailures identifier, text) for each record of the batch."""
    out = []
    for r in event.get("Records", []):
        if "messageId" in r:
            out.append((r["messageId"], r.get("body", "")))
        elif "kinesis" in r:
            data = base64.b64decode(r["kinesis"]["data"]).decode("utf-8", "replace")
            out.append((r["kinesis"]["sequenceNumber"], data))
        elif "dynamodb" in r:
            out.append((r["dynamodb"]["SequenceNumber"], str(r["dynamodb"].get("Keys"))))
    return out


def judge(event, context):
    """Raises when a record holds "boom"; reports records holding "x" as
    failed; and names the records it saw."""
    texts = _texts(event)
    if any("boom" in text for _, text in texts):
        raise ValueError("boom in the batch")
    return {"seen": [i for i, _ in texts],
            "batchItemFailures": [{"itemIdentifier": i} for i, text in texts if "x" in text]}
