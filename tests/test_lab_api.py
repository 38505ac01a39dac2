"""The Lab facade: bad input changes nothing, reads never write, caches never
disagree with the file."""

import pytest

from esmlab.engine import arns
from esmlab.errors import AwsError
from esmlab.lab import Lab


def test_a_failed_command_inside_a_step_is_undone_on_its_own(lab):
    lab.create_queue("q")
    with lab.store.transaction():
        lab.send_message("q", "kept")
        with pytest.raises(AwsError):
            lab.send_message("missing-queue", "x")
        lab.send_message("q", "kept too")
    assert lab.engine.queues.counts("q")["total"] == 2
    assert [c["name"] for c in lab.commands()].count("send_message") == 2


def test_queue_totals_are_right_after_reopening_the_lab(tmp_path):
    path = tmp_path / "lab.db"
    lab = Lab.create(path)
    lab.create_queue("q")
    lab.send_message("q", "one")
    lab.close()
    lab = Lab.open(path)
    lab.send_message("q", "two")
    assert lab.engine.queues.counts("q") | {"oldest_age_ms": 0} == {
        "visible": 2, "in_flight": 0, "delayed": 0, "total": 2, "oldest_age_ms": 0}


def test_queue_totals_are_right_after_a_rolled_back_command(lab):
    lab.create_queue("q")
    lab.send_message("q", "one")
    with pytest.raises(AwsError):
        lab.send_message("q", "x" * 1_048_577)  # over MaximumMessageSize
    lab.send_message("q", "two")
    assert lab.engine.queues.counts("q")["total"] == 2


def test_reading_the_lab_never_writes(lab):
    lab.create_function("f")
    lab.create_queue("q", {"MessageRetentionPeriod": "60"})
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "m")
    lab.advance(3600)
    conn = lab.store.conn
    before = conn.total_changes
    lab.engine.queues.counts("q")
    lab.engine.queues.page("q")
    lab.summary()
    lab.journal(limit=5)
    lab.invocations()
    assert conn.total_changes == before


def test_queue_retention_expires_messages_at_their_instant_without_a_reader(lab):
    lab.create_queue("q", {"MessageRetentionPeriod": "60"})
    lab.send_message("q", "old")
    lab.advance(59)
    assert lab.journal(kind="sqs.expired") == []
    lab.advance(2)
    expired = lab.journal(kind="sqs.expired")
    assert len(expired) == 1 and expired[0]["at_ms"] == lab.engine.start_ms + 60_000


def test_receive_message_answers_in_aws_shape(lab):
    lab.create_queue("q")
    lab.send_message("q", "hello")
    got = lab.do("receive_message", QueueName="q")
    msg = got["Messages"][0]
    assert msg["Body"] == "hello" and msg["Attributes"]["ApproximateReceiveCount"] == "1"
    assert lab.do("delete_message", QueueName="q", ReceiptHandle=msg["ReceiptHandle"])


def test_account_concurrency_is_a_recorded_command(lab):
    lab.do("set_account_concurrency", ConcurrentExecutions=3000)
    assert lab.engine.account_concurrency == 3000
    lab.rebuild()
    assert lab.engine.account_concurrency == 3000


def test_iterator_age_is_recorded_per_mapping_and_per_shard(lab):
    lab.create_function("f")
    lab.create_stream("s", ShardCount=2)
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON")
    lab.step()
    result = lab.put_record("s", "k", "x")
    lab.advance(5)
    per_shard = lab.metric_series(f"m/{result['ShardId']}", "IteratorAge")
    assert len(per_shard) == 1 and per_shard[0][1] > 0
    assert lab.metric_series("m", "IteratorAge") == per_shard
