"""Which record a failed check is about, as an id the X-ray can show.

A failed check lists "the records involved" in words (checks.py): an
invocation (`invocation 3 (orders, error: 'a', 'b')`), a message by its
body (`'file 3' (in flight, received 2x)`), a message id with its state,
or a bare id (the `always:` invariants). `first_ref` turns the first of
them that the lab knows into an id `esmlab.story` resolves: an invocation
number, a message id or a sequence number. A body or a record's data is
looked up among the messages still in the lab, then among the records the
invocations carried (a message the mapping deleted lives on only there).
A check that names no record but is about one (`message`'s body,
`appearances`' record) gives that one. Plain data, no Textual.
"""

from __future__ import annotations

import ast
import re

from esmlab import story

INVOCATION = re.compile(r"invocation (\d+)\b")
SCANNED = 2000        # invocations looked through for a body: a bounded read


def first_ref(lab, records: list[str], expected=None) -> str | None:
    """The story id of the first record involved that the lab knows, or None."""
    texts = list(records or [])
    if isinstance(expected, dict):
        for key in ("body", "record"):
            if isinstance(expected.get(key), str):
                texts.append(repr(expected[key]))
    for text in texts:
        ref = _ref_of(lab, str(text))
        if ref is not None:
            return ref
    return None


def _ref_of(lab, text: str) -> str | None:
    found = INVOCATION.match(text)
    if found:
        return found.group(1)
    key = _quoted(text)
    if key is not None:
        return _by_key(lab, key)
    token = text.split(" (", 1)[0].strip()
    if token and story.resolve(lab, token) is not None:
        return token
    return None


def _quoted(text: str) -> str | None:
    """The text of a leading Python string repr (`'file 3' (in flight…)`)."""
    if text[:1] not in ("'", '"'):
        return None
    head = text.split(" (", 1)[0]
    try:
        value = ast.literal_eval(head)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _by_key(lab, key: str) -> str | None:
    """A message id or sequence number for a record's identity (an SQS body,
    a Kinesis record's data, a DynamoDB item key as JSON)."""
    from esmlab.scenario.checks import normal_key, records_of
    conn = lab.store.conn
    row = conn.execute("SELECT message_id FROM messages WHERE body=? ORDER BY id LIMIT 1",
                       (key,)).fetchone()
    if row:
        return row[0]
    wanted = normal_key(key)
    for inv in lab.invocations(limit=SCANNED):
        for rec in records_of(inv):
            if rec.key == wanted or rec.key == key:
                return rec.id
    return None
