"""Small handlers the lessons and conformance cases run (behaviour mode
`handler`, e.g. "esmlab.handlers:empty_failure_entry"), for responses no
built-in behaviour gives: the forms AWS's docs and recordings disagree on."""


def empty_failure_entry(event, context):
    """batchItemFailures with one entry that has no itemIdentifier key."""
    return {"batchItemFailures": [{}]}


def empty_identifier(event, context):
    """batchItemFailures naming an empty-string itemIdentifier."""
    return {"batchItemFailures": [{"itemIdentifier": ""}]}


def number_identifier(event, context):
    """batchItemFailures naming a number instead of a messageId."""
    return {"batchItemFailures": [{"itemIdentifier": 123}]}


def unknown_identifier(event, context):
    """batchItemFailures naming a messageId that is not in the batch."""
    return {"batchItemFailures": [{"itemIdentifier": "00000000-0000-0000-0000-999000999000"}]}


def failures_not_a_list(event, context):
    """batchItemFailures that is not a list."""
    return {"batchItemFailures": "not-an-array"}


def receipt_handle_as_identifier(event, context):
    """The classic mistake: batchItemFailures naming each bad message by its
    receiptHandle instead of its messageId."""
    return {"batchItemFailures": [{"itemIdentifier": r["receiptHandle"]}
                                  for r in event["Records"] if "bad" in r["body"]]}
