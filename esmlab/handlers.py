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


# -- stream responses recorded on AWS (LocalStack's Kinesis success and failure
# scenarios): every complete-success form, and the malformed entries that fail
# the whole batch.

def returns_null(event, context):
    """null: a complete success."""
    return None


def returns_empty_object(event, context):
    """{}: a complete success."""
    return {}


def returns_empty_list(event, context):
    """[]: a complete success (an empty top-level list)."""
    return []


def empty_failure_list(event, context):
    """{"batchItemFailures": []}: a complete success."""
    return {"batchItemFailures": []}


def null_failure_list(event, context):
    """{"batchItemFailures": null}: a complete success."""
    return {"batchItemFailures": None}


def null_identifier(event, context):
    """batchItemFailures naming a null itemIdentifier."""
    return {"batchItemFailures": [{"itemIdentifier": None}]}


def misnamed_identifier_key(event, context):
    """batchItemFailures whose entry names `foo` instead of itemIdentifier."""
    return {"batchItemFailures": [{"foo": 123}]}


def big_window_state(event, context):
    """A tumbling-window handler whose state passes the 1 MB limit at once; the
    final invoke of the window returns an empty state."""
    if event.get("isFinalInvokeForWindow"):
        return {"state": {}}
    return {"state": {"blob": "x" * (1024 * 1024 + 64)}}


def send_back_through_context(event, context):
    """Sends each SQS message's body back to the queue it came from with the
    lab's context.send_message, as a handler's SendMessage call would: a
    recursive loop made by user code."""
    for record in event["Records"]:
        context.send_message(QueueName=record["eventSourceARN"], MessageBody=record["body"])
