"""`esmlab why` numbers deliveries as AWS does: a queue message by its
receive count (ApproximateReceiveCount, one more at every receive), a stream
batch by its attempt. A throttled SQS batch is invoked again under the same
receive (reference 2.3), which the story says instead of calling it a new
attempt. A message that was processed and deleted is still found."""

import json

from esmlab.cli import main
from esmlab.lab import Lab
from esmlab.readmodels import rel
from esmlab.story import story, story_lines

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"


def _failing_twice(tmp_path):
    """One message that fails on its first two receives, then succeeds."""
    lab = Lab.create(tmp_path / "lab.db")
    lab.create_queue("jobs", Attributes={"VisibilityTimeout": "30"})
    lab.create_function("worker", behaviour={"mode": "fail_first", "count": 2})
    lab.create_mapping(FunctionName="worker", EventSourceArn=QUEUE_ARN, BatchSize=1)
    message_id = lab.send_message("jobs", "job 1")["MessageId"]
    lab.advance(120)
    return lab, message_id


def _invocation_lines(lines):
    return [line for line in lines if line.startswith("  #")]


def test_why_numbers_a_queue_messages_deliveries_by_receive_count(tmp_path):
    lab, message_id = _failing_twice(tmp_path)
    lines = _invocation_lines(story_lines(story(lab, message_id), rel))
    assert len(lines) == 3
    for line, count in zip(lines, (1, 2, 3)):
        assert f"(receive count {count}, 1 in the batch)" in line, line
        assert "attempt" not in line


def test_why_finds_a_processed_and_deleted_message_by_its_short_id(tmp_path, capsys):
    lab, message_id = _failing_twice(tmp_path)
    assert lab.engine.queues.counts("jobs")["total"] == 0     # deleted after its success
    lab.close()
    assert main(["why", "--lab", str(tmp_path / "lab.db"), message_id[:8]]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"message {message_id} in queue jobs")
    assert "success (receive count 3, 1 in the batch)" in out


def test_why_json_gives_each_queue_invocation_its_receive_count(tmp_path, capsys):
    _failing_twice(tmp_path)[0].close()
    lab = Lab.open(tmp_path / "lab.db", readonly=True)
    message_id = lab.invocations()[0]["records"][0]
    lab.close()
    assert main(["why", "--lab", str(tmp_path / "lab.db"), "--json", message_id]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [i["receive_count"] for i in doc["invocations"]] == [1, 2, 3]


def test_why_calls_a_throttled_retry_an_invoke_try_of_the_same_receive(tmp_path):
    lab = Lab.create(tmp_path / "lab.db")
    lab.create_queue("jobs", Attributes={"VisibilityTimeout": "60"})
    lab.create_function("worker", ReservedConcurrentExecutions=0)   # every invoke throttled
    lab.create_mapping(FunctionName="worker", EventSourceArn=QUEUE_ARN, BatchSize=1)
    message_id = lab.send_message("jobs", "job 1")["MessageId"]
    lab.advance(5)
    lines = _invocation_lines(story_lines(story(lab, message_id), rel))
    assert len(lines) >= 2
    assert "throttled (receive count 1, 1 in the batch)" in lines[0]
    assert "throttled (receive count 1, invoke try 2 of this receive after a throttle" in lines[1]


def test_why_keeps_the_attempt_for_a_stream_batch(tmp_path):
    lab = Lab.create(tmp_path / "lab.db")
    lab.create_stream("s")
    lab.create_function("f", behaviour={"mode": "fail_first", "count": 1})
    lab.create_mapping(FunctionName="f", StartingPosition="TRIM_HORIZON",
                       EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/s")
    lab.put_record("s", "k", "news")
    lab.advance(10)
    seq = lab.invocations()[0]["records"][0]
    lines = _invocation_lines(story_lines(story(lab, seq), rel))
    assert [("attempt 1" in lines[0]), ("attempt 2" in lines[1])] == [True, True]
    assert not any("receive count" in line for line in lines)
