"""SQS provisioned mode (ProvisionedPollerConfig), reference 2.5 and 8.6:
ranges, the refusal beside MaximumConcurrency, pollers x 10 concurrency,
+1,000 concurrency a minute up to MaximumPollers x 10 (at most 20,000), the
per-poller receive limits, the ProvisionedPollers metric and the read model
the Scaling panel uses."""

from __future__ import annotations

import pytest

from esmlab.engine import arns
from esmlab.engine.mappings import provisioned
from esmlab.errors import AwsError


def setup(lab, ppc, *, duration=None, vt=6000, **mapping):
    lab.create_function("f", Timeout=900, duration=duration)
    lab.create_queue("q", {"VisibilityTimeout": str(vt)})
    return lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                              ProvisionedPollerConfig=ppc, **mapping)


def refusal(lab, **params):
    lab.create_function("f", Timeout=3)
    lab.create_queue("q")
    with pytest.raises(AwsError) as e:
        lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), **params)
    return e.value


def send_many(lab, n):
    for start in range(0, n, 10):
        lab.send_message_batch("q", [{"Id": f"e{i}", "MessageBody": f"m{i}"}
                                     for i in range(start, min(n, start + 10))])


def test_provisioned_poller_config_is_kept_and_echoed(lab):
    created = setup(lab, {"MinimumPollers": 3, "MaximumPollers": 40})
    assert created["ProvisionedPollerConfig"] == {"MinimumPollers": 3, "MaximumPollers": 40}
    assert lab.engine.mappings.get("m")["ProvisionedPollerConfig"] == created[
        "ProvisionedPollerConfig"]


@pytest.mark.parametrize("ppc,path", [
    ({"MinimumPollers": 0}, "provisionedPollerConfig.minimumPollers"),
    ({"MinimumPollers": 201}, "provisionedPollerConfig.minimumPollers"),
    ({"MaximumPollers": 10001}, "provisionedPollerConfig.maximumPollers"),
], ids=["min 0", "min 201", "max 10001"])
def test_provisioned_poller_ranges_follow_the_api_model(lab, ppc, path):
    e = refusal(lab, ProvisionedPollerConfig=ppc)
    assert e.code == "ValidationException" and path in e.message


@pytest.mark.parametrize("ppc", [{"MinimumPollers": 1}, {"MinimumPollers": 5, "MaximumPollers": 4}],
                         ids=["sqs floor 2", "min above max"])
def test_provisioned_pollers_sqs_rules(lab, ppc):
    assert refusal(lab, ProvisionedPollerConfig=ppc).code == "InvalidParameterValueException"


def test_provisioned_mode_is_refused_together_with_maximum_concurrency(lab):
    e = refusal(lab, ProvisionedPollerConfig={"MinimumPollers": 2},
                ScalingConfig={"MaximumConcurrency": 10})
    assert e.code == "InvalidParameterValueException"
    assert "MaximumConcurrency" in e.message


def test_provisioned_mode_is_refused_on_streams(lab):
    lab.create_function("f")
    lab.create_stream("s")
    with pytest.raises(AwsError) as e:
        lab.create_mapping(FunctionName="f", EventSourceArn=arns.stream_arn("s"),
                           StartingPosition="LATEST",
                           ProvisionedPollerConfig={"MinimumPollers": 2})
    assert e.value.code == "InvalidParameterValueException"


def test_provisioned_mode_starts_with_minimum_pollers_of_ten_invokes_each(lab):
    setup(lab, {"MinimumPollers": 3})
    m = lab.mapping("m")
    assert m["runtime"]["target"] == 30
    view = lab.engine.mappings.queues.scaling_view(m)
    assert view == {"mode": "provisioned", "target": 30, "running": 0, "cap": 2000,
                    "step_per_minute": 1000, "pollers": 3, "min_pollers": 3,
                    "max_pollers": 200}
    assert lab.metric_series("m", "ProvisionedPollers")[-1][1] == 3


def test_provisioned_mode_scales_by_up_to_1000_a_minute_up_to_maximum_pollers(lab):
    lab.do("set_account_concurrency", ConcurrentExecutions=5000)   # 1,000 would throttle
    setup(lab, {"MinimumPollers": 2, "MaximumPollers": 150}, duration={"fixed_ms": 300_000},
          BatchSize=1)
    send_many(lab, 3000)
    lab.advance(61)
    assert lab.mapping("m")["runtime"]["target"] == 1020
    lab.advance(65)
    assert lab.mapping("m")["runtime"]["target"] == 1500          # 150 pollers x 10
    pollers = [v for _, v in lab.metric_series("m", "ProvisionedPollers")]
    assert pollers[0] == 2 and max(pollers) == 150
    assert any("provisioned mode" in j["reason"]
               for j in lab.journal(kind="mapping.scaled_up", limit=10))


def test_provisioned_mode_never_exceeds_20000_concurrency():
    assert provisioned.cap_target({"MinimumPollers": 2, "MaximumPollers": 2000}) == 20_000
    assert provisioned.cap_target({"MinimumPollers": 2, "MaximumPollers": 10_000}) == 20_000


def test_provisioned_mode_keeps_its_minimum_pollers_after_errors(lab):
    lab.create_function("f", behaviour={"mode": "fail"})
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                       ProvisionedPollerConfig={"MinimumPollers": 2}, BatchSize=1)
    send_many(lab, 50)
    lab.advance(5)
    assert lab.mapping("m")["runtime"]["target"] == 20


def test_each_poller_polls_at_most_ten_times_a_second(lab):
    setup(lab, {"MinimumPollers": 2, "MaximumPollers": 2}, duration={"fixed_ms": 10},
          BatchSize=1)
    send_many(lab, 100)
    lab.advance(1)
    first_second = [i for i in lab.invocations()
                    if i["start_ms"] < lab.engine.start_ms + 1000]
    assert len(first_second) == 2 * provisioned.POLLS_PER_POLLER_PER_S
    lab.run_until_idle()
    assert sum(i["size"] for i in lab.invocations()) == 100
