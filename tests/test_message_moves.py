"""DLQ redrive (reference 8.6): StartMessageMoveTask, ListMessageMoveTasks,
CancelMessageMoveTask at a bounded rate on the virtual clock, one active task
per queue, AWS's statuses and messages (recorded in LocalStack's AWS-validated
test_sqs_move_task snapshots), DeadLetterQueueSourceArn on moved messages."""

from __future__ import annotations

import base64
import json

import pytest

from esmlab.engine import arns
from esmlab.errors import AwsError
from tests.old_schema import UNDO_VERSION_8

DLQ = arns.queue_arn("jobs-dlq")
SOURCE = arns.queue_arn("jobs")


def setup(lab, n=3, max_receive=1):
    lab.create_queue("jobs-dlq")
    lab.create_queue("jobs", {"VisibilityTimeout": "1", "RedrivePolicy": {
        "deadLetterTargetArn": DLQ, "maxReceiveCount": max_receive}})
    for i in range(n):
        lab.send_message("jobs", f"m{i}")
    # Receive each message max_receive times without deleting it: the next
    # receive moves it to the DLQ.
    for _ in range(max_receive):
        while lab.do("receive_message", QueueName="jobs", MaxNumberOfMessages=10)["Messages"]:
            pass
        lab.advance(2)
    lab.do("receive_message", QueueName="jobs", MaxNumberOfMessages=10)
    assert lab.engine.queues.counts("jobs-dlq")["total"] == n


def error(call, *args, **kw) -> AwsError:
    with pytest.raises(AwsError) as e:
        call(*args, **kw)
    return e.value


def test_a_message_moved_to_a_dlq_carries_dead_letter_queue_source_arn(lab):
    setup(lab, n=1)
    [msg] = lab.do("receive_message", QueueName="jobs-dlq")["Messages"]
    assert list(msg["Attributes"])[0] == "DeadLetterQueueSourceArn"
    assert msg["Attributes"]["DeadLetterQueueSourceArn"] == SOURCE


def test_a_lambda_event_from_a_dlq_carries_dead_letter_queue_source_arn(lab):
    setup(lab, n=1)
    lab.create_function("f")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=DLQ)
    lab.run_until_idle()
    [inv] = lab.invocations()
    [rec] = inv["event"]["Records"]
    assert list(rec["attributes"])[:2] == ["DeadLetterQueueSourceArn", "ApproximateReceiveCount"]
    assert rec["attributes"]["DeadLetterQueueSourceArn"] == SOURCE


def test_message_move_task_moves_messages_back_to_their_source_queue(lab):
    setup(lab, n=3)
    ids = {p["message_id"] for p in lab.engine.queues.page("jobs-dlq")}
    handle = lab.start_message_move_task(DLQ)["TaskHandle"]
    assert json.loads(base64.b64decode(handle))["sourceArn"] == DLQ
    lab.advance(1)
    assert lab.engine.queues.counts("jobs-dlq")["total"] == 0
    back = lab.engine.queues.page("jobs")
    assert {p["message_id"] for p in back} == ids
    assert all(p["receive_count"] == 0 and p["state"] == "visible" for p in back)
    [task] = lab.list_message_move_tasks(DLQ)["Results"]
    assert task == {"ApproximateNumberOfMessagesMoved": 3,
                    "ApproximateNumberOfMessagesToMove": 3, "SourceArn": DLQ,
                    "StartedTimestamp": task["StartedTimestamp"], "Status": "COMPLETED"}


def test_message_move_task_moves_at_most_max_number_of_messages_per_second(lab):
    setup(lab, n=5)
    lab.create_queue("other")
    lab.start_message_move_task(DLQ, DestinationArn=arns.queue_arn("other"),
                                MaxNumberOfMessagesPerSecond=2)
    moved = []
    lab.advance(0.5)                      # the first step runs when the task starts
    for _ in range(3):
        moved.append(lab.engine.queues.counts("other")["total"])
        lab.advance(1)
    assert moved == [2, 4, 5]
    [task] = lab.list_message_move_tasks(DLQ)["Results"]
    assert task["Status"] == "COMPLETED" and task["MaxNumberOfMessagesPerSecond"] == 2
    assert task["DestinationArn"] == arns.queue_arn("other")


def test_only_one_active_message_move_task_per_queue(lab):
    setup(lab, n=5)
    lab.start_message_move_task(DLQ, MaxNumberOfMessagesPerSecond=1)
    e = error(lab.start_message_move_task, DLQ)
    assert (e.code, e.message) == ("InvalidParameterValue", "There is already a task running. "
                                   "Only one active task is allowed for a source queue arn at a "
                                   "given time.")
    [task] = lab.list_message_move_tasks(DLQ)["Results"]
    assert task["Status"] == "RUNNING" and "TaskHandle" in task


def test_cancel_message_move_task_goes_through_cancelling_to_cancelled(lab):
    setup(lab, n=5)
    handle = lab.start_message_move_task(DLQ, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    lab.advance(1.5)
    assert lab.cancel_message_move_task(handle) == {"ApproximateNumberOfMessagesMoved": 2}
    assert lab.list_message_move_tasks(DLQ)["Results"][0]["Status"] == "CANCELLING"
    lab.advance(3)
    [task] = lab.list_message_move_tasks(DLQ)["Results"]
    assert task["Status"] == "CANCELLED" and "TaskHandle" not in task
    assert lab.engine.queues.counts("jobs-dlq")["total"] == 3


def test_message_move_task_errors_are_aws_words(lab):
    lab.create_queue("plain")
    e = error(lab.start_message_move_task, arns.queue_arn("plain"))
    assert (e.code, e.message) == ("InvalidParameterValue",
                                   "Source queue must be configured as a Dead Letter Queue.")
    setup(lab, n=1)
    e = error(lab.start_message_move_task, DLQ, DestinationArn=arns.queue_arn("ghost"))
    assert (e.code, e.status, e.message) == (
        "ResourceNotFoundException", 404,
        "The resource that you specified for the DestinationArn parameter doesn't exist.")
    assert error(lab.start_message_move_task, DLQ,
                 MaxNumberOfMessagesPerSecond=501).code == "InvalidParameterValue"
    e = error(lab.cancel_message_move_task, "not-a-handle")
    assert e.message == "Value for parameter TaskHandle is invalid."
    fake = base64.b64encode(json.dumps({"taskId": "nope", "sourceArn": DLQ}).encode()).decode()
    e = error(lab.cancel_message_move_task, fake)
    assert (e.code, e.message) == ("ResourceNotFoundException", "Task does not exist.")


def test_list_message_move_tasks_returns_the_most_recent_first(lab):
    setup(lab, n=2)
    lab.start_message_move_task(DLQ)
    lab.advance(1)
    assert len(lab.list_message_move_tasks(DLQ, MaxResults=10)["Results"]) == 1
    assert lab.list_message_move_tasks(arns.queue_arn("jobs-dlq"))["Results"][0]["Status"] == \
        "COMPLETED"


def test_message_move_tasks_replay_to_the_same_journal(lab):
    setup(lab, n=4)
    lab.start_message_move_task(DLQ, MaxNumberOfMessagesPerSecond=3)
    lab.advance(5)
    before = [(j["kind"], j["reason"]) for j in lab.journal(limit=10000)]
    lab.rebuild()
    assert [(j["kind"], j["reason"]) for j in lab.journal(limit=10000)] == before


def test_a_version_3_lab_gains_dlq_sources_and_move_tasks_when_opened(tmp_path):
    import sqlite3

    from esmlab.lab import Lab
    path = tmp_path / "old.db"
    lab = Lab.create(path, name="t", seed=7)
    setup(lab, n=2)
    journal = lab.journal_signature()
    lab.close()
    conn = sqlite3.connect(path)   # a lab written before version 4
    conn.executescript("ALTER TABLE messages DROP COLUMN dlq_source; "
                       "ALTER TABLE messages DROP COLUMN trace_header; "   # version 5
                       "DROP TABLE message_move_tasks; "
                       "ALTER TABLE invocations DROP COLUMN event_parts; "   # version 6
                       + UNDO_VERSION_8 +
                       "UPDATE meta SET value='3' WHERE key='schema_version';")
    conn.close()
    lab = Lab.open(path)
    lab.rebuild()
    assert lab.journal_signature() == journal
    lab.start_message_move_task(DLQ)
    lab.advance(1)
    assert lab.engine.queues.counts("jobs")["total"] == 2
    lab.close()


def test_a_lab_with_redrive_and_recursion_config_exports_and_replays_identically(tmp_path):
    from esmlab.lab import Lab
    from esmlab.scenario.export import export_scenario
    from esmlab.scenario.loader import load_scenario_text
    from esmlab.scenario.player import Player
    lab = Lab.create(tmp_path / "lab.db", name="t", seed=5)
    setup(lab, n=3)
    lab.create_function("f")
    lab.put_function_recursion_config("f", "Allow")
    handle = lab.start_message_move_task(DLQ, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    lab.advance(1.5)
    lab.cancel_message_move_task(handle)
    lab.advance(2)
    scenario = load_scenario_text(export_scenario(lab, "redrive"), "exported.yaml")
    player = Player.new(scenario, tmp_path / "replayed.db")
    result = player.run()
    assert result.error is None and result.ok
    assert player.lab.journal_signature() == lab.journal_signature()
    lab.close()
