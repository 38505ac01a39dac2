"""EventCount metrics of stream mappings (reference 1.10, 8.6): published
only with MetricsConfig {"Metrics": ["EventCount"]}, with AWS's definitions."""

from __future__ import annotations

from esmlab.engine import arns

S = arns.stream_arn("s")
ON = {"MetricsConfig": {"Metrics": ["EventCount"]}}


def setup(lab, behaviour=None, **params):
    lab.create_function("f", Timeout=3)
    if behaviour:
        lab.set_behaviour("f", **behaviour)
    lab.create_stream("s")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON", **params)


def total(lab, name):
    return sum(v for _, v in lab.metric_series("m", name))


def names(lab):
    return {n for (n,) in lab.store.conn.execute(
        "SELECT DISTINCT name FROM metrics WHERE resource='m' AND name LIKE '%EventCount'")}


def test_event_counts_are_published_only_with_metrics_config(lab):
    setup(lab, behaviour={"mode": "fail_first", "count": 1})
    lab.put_record("s", "k", "a")
    lab.run_until_idle()
    assert names(lab) == set()          # absent is not zero
    lab.update_mapping("m", **ON)
    lab.put_record("s", "k", "b")
    lab.run_until_idle()
    assert {"PolledEventCount", "InvokedEventCount"} <= names(lab)


def test_polled_event_count_has_a_datapoint_every_minute_while_enabled(lab):
    setup(lab, **ON)
    lab.advance(3 * 60 + 1)
    minutes = [at for at, v in lab.metric_series("m", "PolledEventCount")
               if v == 0 and at % 60_000 == 0]
    assert len(minutes) >= 3
    lab.put_record("s", "k", "a")
    lab.run_until_idle()
    assert total(lab, "PolledEventCount") == 1


def test_invoked_counts_every_retry_and_failed_invoke_counts_named_failures(lab):
    setup(lab, behaviour={"mode": "partial", "match": {"text": "r2"}}, BatchSize=3,
          MaximumRetryAttempts=1, FunctionResponseTypes=["ReportBatchItemFailures"], **ON)
    for i in range(3):
        lab.put_record("s", "k", f"r{i}")
    lab.run_until_idle()
    # [r0, r1, r2] names r2 -> new batch [r2], sent twice (1 + 1 retry)
    assert total(lab, "InvokedEventCount") == 3 + 1 + 1
    assert total(lab, "FailedInvokeEventCount") == 1 + 1 + 1


def test_dropped_counts_records_whose_destination_delivery_failed(lab):
    lab.do("create_topic", Name="t")
    setup(lab, behaviour={"mode": "fail"}, MaximumRetryAttempts=0,
          DestinationConfig={"OnFailure": {"Destination": arns.topic_arn("t")}}, **ON)
    lab.put_record("s", "k", "a")
    lab.run_until_idle()
    assert total(lab, "OnFailureDestinationDeliveredEventCount") == 1
    assert total(lab, "DroppedEventCount") == 0
    # the topic goes away: the next failure record cannot be delivered
    lab.store.conn.execute("DELETE FROM sinks WHERE name='t'")
    lab.put_record("s", "k", "b")
    lab.run_until_idle()
    assert total(lab, "DroppedEventCount") == 1
    assert sum(v for _, v in lab.metric_series("f", "DestinationDeliveryFailures")) == 1


def test_a_discard_without_destination_publishes_no_dropped_datapoint(lab):
    setup(lab, behaviour={"mode": "fail"}, MaximumRetryAttempts=0, **ON)
    lab.put_record("s", "k", "a")
    lab.run_until_idle()
    assert lab.journal(kind="batch.discarded")
    assert lab.metric_series("m", "DroppedEventCount") == []   # as recorded (8.6)
