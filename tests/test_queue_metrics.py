"""SQS EventCount metrics (reference 8.4, 8.6): published only with
MetricsConfig EventCount, AWS's definitions, throttled attempts counted as
AWS counts them, a PolledEventCount datapoint every minute while enabled."""

from __future__ import annotations

from esmlab.engine import arns

EVENT_COUNT = {"MetricsConfig": {"Metrics": ["EventCount"]}}
COUNTERS = ("PolledEventCount", "FilteredOutEventCount", "InvokedEventCount",
            "FailedInvokeEventCount", "DeletedEventCount")


def total(lab, name, resource="m"):
    return sum(v for _, v in lab.metric_series(resource, name))


def names(lab, resource="m"):
    return {n for (n,) in lab.store.conn.execute(
        "SELECT DISTINCT name FROM metrics WHERE resource=?", (resource,))}


def setup(lab, *, behaviour=None, reserved=None, vt=30, max_receive=None, **mapping):
    lab.create_function("f", ReservedConcurrentExecutions=reserved, behaviour=behaviour)
    attrs = {"VisibilityTimeout": str(vt)}
    if max_receive:
        lab.create_queue("dlq")
        attrs["RedrivePolicy"] = {"deadLetterTargetArn": arns.queue_arn("dlq"),
                                  "maxReceiveCount": max_receive}
    lab.create_queue("q", attrs)
    return lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                              **mapping)


def send(lab, *bodies):
    for b in bodies:
        lab.send_message("q", b)


def test_sqs_event_counts_are_not_published_without_metrics_config(lab):
    setup(lab)
    send(lab, "a", "b")
    lab.run_until_idle()
    assert lab.invocations()
    assert not names(lab) & set(COUNTERS)


def test_metrics_config_is_echoed_by_create_and_get(lab):
    created = setup(lab, **EVENT_COUNT)
    assert created["MetricsConfig"] == {"Metrics": ["EventCount"]}
    assert lab.engine.mappings.get("m")["MetricsConfig"] == {"Metrics": ["EventCount"]}


def test_sqs_event_counts_follow_aws_definitions_on_success(lab):
    setup(lab, **EVENT_COUNT)
    send(lab, "a", "b", "c")
    lab.run_until_idle()
    assert total(lab, "PolledEventCount") == 3
    assert total(lab, "InvokedEventCount") == 3
    assert total(lab, "DeletedEventCount") == 3
    assert total(lab, "FailedInvokeEventCount") == 0


def test_failed_invoke_counts_the_batch_and_deletes_nothing(lab):
    setup(lab, behaviour={"mode": "fail"}, vt=10, max_receive=2, **EVENT_COUNT)
    send(lab, "a")
    lab.run_until_idle()
    assert total(lab, "InvokedEventCount") == 2          # every retry counts again
    assert total(lab, "FailedInvokeEventCount") == 2
    assert total(lab, "DeletedEventCount") == 0


def test_each_throttled_invoke_attempt_counts_as_invoked_and_failed(lab):
    setup(lab, reserved=0, vt=10, max_receive=1, BatchSize=1, **EVENT_COUNT)
    send(lab, "a")
    lab.run_until_idle()
    attempts = lab.invocations(status="throttled")
    assert len(attempts) > 1
    assert total(lab, "InvokedEventCount") == len(attempts)
    assert total(lab, "FailedInvokeEventCount") == len(attempts)
    assert total(lab, "DeletedEventCount") == 0


def test_polled_event_count_has_a_zero_datapoint_every_minute_while_enabled(lab):
    setup(lab, **EVENT_COUNT)
    lab.advance(1)
    start = lab.engine.now_ms
    lab.advance(5 * 60)
    minutes = {at // 60_000 for at, v in lab.metric_series("m", "PolledEventCount")
               if start <= at <= lab.engine.now_ms}
    assert len(minutes) >= 5
    assert total(lab, "PolledEventCount") == 0


def test_polled_event_count_minute_datapoints_stop_when_disabled(lab):
    setup(lab, **EVENT_COUNT)
    lab.advance(1)
    lab.update_mapping("m", Enabled=False)
    lab.advance(2)
    before = len(lab.metric_series("m", "PolledEventCount"))
    lab.advance(10 * 60)
    assert len(lab.metric_series("m", "PolledEventCount")) == before


def test_minute_datapoints_do_not_keep_run_until_idle_busy(lab):
    setup(lab, **EVENT_COUNT)
    send(lab, "a")
    lab.run_until_idle()
    assert total(lab, "DeletedEventCount") == 1


def test_metrics_config_accepts_only_the_model_enum_and_not_kafka_metrics_on_sqs(lab):
    import pytest

    from esmlab.errors import AwsError
    lab.create_function("f")
    lab.create_queue("q")
    with pytest.raises(AwsError) as bogus:
        lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                           MetricsConfig={"Metrics": ["Bogus"]})
    assert bogus.value.code == "ValidationException"
    with pytest.raises(AwsError) as kafka:
        lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                           MetricsConfig={"Metrics": ["ErrorCount"]})
    assert kafka.value.code == "InvalidParameterValueException"
