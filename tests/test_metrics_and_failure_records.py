"""Metric names and owners follow AWS (reference 1.10); the on-failure
record's responseContext describes the batch's last invocation (4.6)."""

import json
import sys
import textwrap

import pytest

from esmlab import readmodels
from esmlab.engine import arns


def _names(lab, resource):
    return {n for (n,) in lab.store.conn.execute(
        "SELECT DISTINCT name FROM metrics WHERE resource=?", (resource,))}


def _total(lab, resource, name):
    return sum(v for _, v in lab.metric_series(resource, name))


def _kinesis(lab, **config):
    config.setdefault("MetricsConfig", {"Metrics": ["EventCount"]})
    lab.create_queue("dest")
    lab.create_stream("s")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON",
                       DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("dest")}},
                       **config)
    lab.step()


def _failure_record(lab):
    msgs = lab.engine.queues.page("dest")
    assert len(msgs) == 1
    return json.loads(msgs[0]["body"])


@pytest.fixture
def reporter(tmp_path, monkeypatch):
    """A handler module that reports the event's second record as failed."""
    (tmp_path / "reporting.py").write_text(textwrap.dedent("""
        def second(event, context):
            return {"batchItemFailures": [
                {"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]}

        def last(event, context):
            return {"batchItemFailures": [
                {"itemIdentifier": event["Records"][-1]["kinesis"]["sequenceNumber"]}]}

        def not_in_batch(event, context):
            return {"batchItemFailures": [{"itemIdentifier": "1"}]}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("reporting", None)
    yield
    sys.modules.pop("reporting", None)


def test_function_metrics_are_recorded_under_the_function(lab):
    lab.create_function("f", duration={"fixed_ms": 250, "per_record_ms": 0})
    lab.set_behaviour("f", mode="fail_first", count=1)
    _kinesis(lab)
    lab.put_record("s", "k", "a")
    lab.run_until_idle()
    assert _total(lab, "f", "Invocations") == 2
    assert _total(lab, "f", "Errors") == 1
    assert [v for _, v in lab.metric_series("f", "Duration")] == [250, 250]
    assert "Errors" not in _names(lab, "m")


def test_mapping_event_counts_follow_aws_names(lab):
    lab.create_function("f")
    lab.set_behaviour("f", mode="fail_first", count=1)
    _kinesis(lab)
    for i in range(3):
        lab.put_record("s", "k", f"r{i}")
    lab.run_until_idle()
    assert _total(lab, "m", "PolledEventCount") == 3
    assert _total(lab, "m", "InvokedEventCount") == 6      # the failed batch, then its retry
    assert _total(lab, "m", "FailedInvokeEventCount") == 3
    assert "MovedToDLQ" not in _names(lab, "m")


def test_a_partial_response_names_its_failures_and_function_error_is_null(lab, reporter):
    lab.create_function("f")
    lab.set_behaviour("f", mode="handler", handler="reporting:last")
    _kinesis(lab, MaximumRetryAttempts=0, FunctionResponseTypes=["ReportBatchItemFailures"])
    for i in range(3):
        lab.put_record("s", "k", f"r{i}")
    lab.run_until_idle()
    # [r0, r1, r2] names r2 (a new batch [r2]), which names r2 again
    assert _total(lab, "m", "FailedInvokeEventCount") == 2
    assert _total(lab, "f", "Errors") == 0
    record = _failure_record(lab)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # recorded on AWS (reference 8.2): functionError present, null when the function returned
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": None}


def test_an_errored_last_invocation_is_marked_unhandled(lab):
    lab.create_function("f")
    lab.set_behaviour("f", mode="fail")
    _kinesis(lab, MaximumRetryAttempts=0)
    lab.put_record("s", "k", "r")
    lab.run_until_idle()
    assert _failure_record(lab)["responseContext"]["functionError"] == "Unhandled"


def test_record_age_exceeded_after_invocations_has_no_response_context(lab):
    lab.create_function("f")
    lab.set_behaviour("f", mode="fail")
    _kinesis(lab, MaximumRecordAgeInSeconds=60)
    lab.put_record("s", "k", "r")
    lab.advance(120)
    record = _failure_record(lab)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] > 1
    assert "responseContext" not in record     # recorded on AWS (reference 8.2)


def test_an_age_discard_before_any_invocation_has_no_response_context(lab):
    lab.create_function("f")
    lab.create_queue("dest")
    lab.create_stream("s")
    lab.put_record("s", "k", "old")
    lab.advance(120)
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                       StartingPosition="TRIM_HORIZON", MaximumRecordAgeInSeconds=60,
                       DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("dest")}})
    lab.run_until_idle()
    record = _failure_record(lab)
    assert record["requestContext"]["approximateInvokeCount"] == 1   # at least 1 (8.2)
    assert "responseContext" not in record


def test_an_invalid_response_is_bisected_like_any_function_error(lab, reporter):
    lab.create_function("f")
    lab.set_behaviour("f", mode="handler", handler="reporting:not_in_batch")
    _kinesis(lab, BatchSize=4, MaximumRetryAttempts=0, BisectBatchOnFunctionError=True,
             FunctionResponseTypes=["ReportBatchItemFailures"])
    for i in range(4):
        lab.put_record("s", "k", f"r{i}")
    lab.run_until_idle()
    assert [i["size"] for i in lab.invocations(mapping="m")][:3] == [4, 2, 1]
    assert lab.journal(kind="batch.bisected")


def test_the_scaling_view_of_a_fifo_mapping_shows_queue_series(lab):
    lab.create_function("f")
    lab.create_queue("q.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q.fifo"))
    lab.send_message("q.fifo", "x", MessageGroupId="g")
    lab.run_until_idle()
    view = readmodels.scaling(lab, "m")
    assert "ConcurrencyTarget" in view["series"] and "IteratorAge" not in view["series"]
    assert view["target"] == 5
