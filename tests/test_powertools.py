"""A handler written with aws-lambda-powertools' batch utilities runs
unchanged in the lab, and its partial failures behave as on AWS."""

from __future__ import annotations

import sys

import pytest

from esmlab.engine import arns

pytest.importorskip("aws_lambda_powertools")

STANDARD = '''
from aws_lambda_powertools.utilities.batch import (BatchProcessor, EventType,
                                                   process_partial_response)

processor = BatchProcessor(event_type=EventType.SQS)

def record_handler(record):
    if "bad" in record.body:
        raise ValueError(f"cannot process {record.body}")
    return record.body

def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)
'''

FIFO = '''
from aws_lambda_powertools.utilities.batch import (SqsFifoPartialProcessor,
                                                   process_partial_response)

processor = SqsFifoPartialProcessor()

def record_handler(record):
    if "bad" in record.body:
        raise ValueError(f"cannot process {record.body}")
    return record.body

def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)
'''


def _lab_with(lab, tmp_path, monkeypatch, name, source, queue, fifo):
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    lab.create_function("f", Timeout=3, behaviour={"mode": "handler", "handler": f"{name}:handler"})
    attrs = {"VisibilityTimeout": "20"}
    if fifo:
        attrs.update(FifoQueue="true", ContentBasedDeduplication="true")
    lab.create_queue(queue, attrs)
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn(queue),
                       FunctionResponseTypes=["ReportBatchItemFailures"])


def _left(lab, queue):
    return [p["body"] for p in lab.engine.queues.page(queue)]


def test_powertools_batch_processor_partial_failure_keeps_only_failed_messages(
        lab, tmp_path, monkeypatch):
    _lab_with(lab, tmp_path, monkeypatch, "pt_sqs_handler", STANDARD, "q", fifo=False)
    for body in ("ok-1", "bad-2", "ok-3", "bad-4"):
        lab.send_message("q", body)
    lab.advance(1)
    [inv] = lab.invocations()
    assert inv["status"] == "success"
    failed = {f["itemIdentifier"] for f in inv["response"]["response"]["batchItemFailures"]}
    by_body = {r["body"]: r["messageId"] for r in inv["event"]["Records"]}
    assert failed == {by_body["bad-2"], by_body["bad-4"]}
    assert sorted(_left(lab, "q")) == ["bad-2", "bad-4"]
    assert lab.journal(kind="batch.partial")
    # They come back after the visibility timeout with a higher receive count.
    lab.advance(20)
    retry = lab.invocations()[1]
    assert sorted(r["body"] for r in retry["event"]["Records"]) == ["bad-2", "bad-4"]
    assert {r["attributes"]["ApproximateReceiveCount"]
            for r in retry["event"]["Records"]} == {"2"}


def test_powertools_batch_processor_all_failed_is_a_function_error(lab, tmp_path, monkeypatch):
    _lab_with(lab, tmp_path, monkeypatch, "pt_sqs_all_bad", STANDARD, "q", fifo=False)
    for body in ("bad-1", "bad-2"):
        lab.send_message("q", body)
    lab.advance(1)
    [inv] = lab.invocations()
    # Powertools raises BatchProcessingError when every record failed.
    assert inv["status"] == "error"
    assert inv["error"]["errorType"] == "BatchProcessingError"
    assert sorted(_left(lab, "q")) == ["bad-1", "bad-2"]
    assert lab.journal(kind="batch.failed")


def test_powertools_fifo_processor_reports_the_failure_and_everything_after_it(
        lab, tmp_path, monkeypatch):
    _lab_with(lab, tmp_path, monkeypatch, "pt_fifo_handler", FIFO, "q.fifo", fifo=True)
    for body in ("ok-1", "bad-2", "ok-3", "ok-4"):
        lab.send_message("q.fifo", body, MessageGroupId="g")
    lab.advance(1)
    [inv] = lab.invocations()
    assert inv["status"] == "success"
    assert len(inv["response"]["response"]["batchItemFailures"]) == 3
    assert _left(lab, "q.fifo") == ["bad-2", "ok-3", "ok-4"]
    assert lab.journal(kind="batch.fifo_order_broken") == []
    # The group stays blocked until the failed run returns, then in order.
    lab.advance(20)
    assert [r["body"] for r in lab.invocations()[1]["event"]["Records"]] == \
        ["bad-2", "ok-3", "ok-4"]
