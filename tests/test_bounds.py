"""Inputs that would run away (a clock past its range, ten million sends,
10,000-deep nesting, a copy of a copy of a copy): each is refused with a
sentence or held to a documented bound (docs/bad-inputs.md)."""

import pytest

from esmlab.engine import arns
from esmlab.errors import AwsError, LabError
from esmlab.lab import MAX_CLOCK_MS
from esmlab.scenario.loader import ScenarioError, load_scenario_text

HEAD = """name: bounds
title: bounds
see: bounds
resources:
  queues:
    - QueueName: q
steps:
"""


def refusal(text: str) -> str:
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, "x.yaml")
    return str(err.value)


def test_an_advance_past_the_clocks_range_is_refused_and_the_lab_goes_on(lab):
    lab.create_queue("q")
    before = (lab.now_ms, lab.commands())
    with pytest.raises(LabError) as err:
        lab.advance(1e20)
    assert str(err.value) == (
        "advance of 99,999,999,999,999,991,611,392 ms would take the clock past "
        "9999-12-31T23:59:59.999Z, the last time the lab can show; the clock stays at "
        "2024-01-01T00:00:00.000Z")
    assert (lab.now_ms, lab.commands()) == before
    lab.advance_ms(MAX_CLOCK_MS - lab.now_ms)          # the very end of the range is fine
    lab.send_message("q", "at the end of time")
    assert lab.engine.queues.counts("q")["total"] == 1
    with pytest.raises(LabError):
        lab.run_until_idle()


def test_an_advance_backwards_or_by_no_number_is_refused(lab):
    with pytest.raises(LabError) as err:
        lab.advance(-1)
    assert str(err.value) == ("advance needs a duration of 0 or more, not -1000 ms: the clock "
                              "only moves forward (rewind goes back)")
    with pytest.raises(LabError) as err:
        lab.advance(float("nan"))
    assert str(err.value) == "advance needs a number of seconds, not nan"
    assert lab.commands() == []


def test_a_count_of_ten_million_is_refused_before_anything_runs():
    text = HEAD + "  - send_message: {QueueName: q, MessageBody: 'm {n}', count: 10000000}\n"
    assert refusal(text) == ("x.yaml:8: send_message.count: expected a whole number from 1 to "
                             "100000, found the number 10000000")
    assert refusal(HEAD + "  - step: 10000000\n") == (
        "x.yaml:8: step: expected a whole number from 1 to 100000, found the number 10000000")


def test_ten_thousand_deep_yaml_is_refused_at_its_line():
    flow = HEAD + "  - say: " + "[" * 10_000 + "]" * 10_000 + "\n"
    assert refusal(flow) == "x.yaml:8: nested more than 64 levels deep; esmlab reads at most 64"
    block = HEAD + "".join("  " * i + "- \n" for i in range(1, 10_000))
    assert refusal(block) == ("x.yaml:71: nested more than 64 levels deep; esmlab reads at "
                              "most 64")


def test_ten_thousand_deep_filter_pattern_in_a_scenario_is_refused():
    deep = "{a: " * 10_000 + "[1]" + "}" * 10_000
    text = HEAD.replace("steps:\n", f"""  functions:
    - FunctionName: f
  mappings:
    - FunctionName: f
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:q
      FilterCriteria:
        Filters:
          - Pattern: {deep}
steps: []
""")
    assert refusal(text) == "x.yaml:14: nested more than 64 levels deep; esmlab reads at most 64"
    as_text = text.replace(deep, "'" + '{"a":' * 3000 + "[1]" + "}" * 3000 + "'")
    assert refusal(as_text) == ("x.yaml:14: resources.mappings.FilterCriteria.Filters.Pattern: "
                                "JSON nested too deep to read")


def test_aliases_expanding_to_billions_of_values_are_refused():
    laughs = "lol0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9))
    assert refusal(laughs) == ("x.yaml:6: the file expands to more than 1,000,000 values "
                               "(through its &anchors and *aliases); esmlab reads at most "
                               "1,000,000")


def test_ten_thousand_deep_filter_pattern_gets_awss_length_limit(lab):
    lab.create_function("f")
    lab.create_queue("q")
    deep = '{"a":' * 10_000 + "[1]" + "}" * 10_000
    with pytest.raises(AwsError) as err:
        lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                           FilterCriteria={"Filters": [{"Pattern": deep}]})
    assert err.value.code == "ValidationException"
    assert str(err.value.message).endswith(
        "at 'filterCriteria.filters.1.member.pattern' failed to satisfy constraint: Member must "
        "have length less than or equal to 4096")
    # the deepest pattern within 4,096 characters compiles and filters
    pattern = '{"body":' + '{"a":' * 670 + "[1]" + "}" * 671
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                       FilterCriteria={"Filters": [{"Pattern": pattern}]})
    lab.send_message("q", '{"a":' * 670 + "1" + "}" * 670)
    lab.send_message("q", "[" * 5000 + "]" * 5000)      # too deep to read: plain text
    lab.run_until_idle()
    assert [i["status"] for i in lab.invocations()] == ["success"]


def test_duplicate_rate_one_delivers_each_message_exactly_twice(lab):
    lab.create_function("f")
    lab.create_queue("q", duplicate_rate=1.0)
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=1)
    lab.send_message("q", "one message")
    assert lab.run_until_idle() == "idle"
    assert [i["status"] for i in lab.invocations()] == ["success", "success"]
    assert lab.engine.queues.counts("q")["total"] == 0


def test_duplicate_rate_one_with_a_failing_handler_grows_linearly_not_exponentially(lab):
    lab.create_function("f")
    lab.set_behaviour("f", mode="fail")
    lab.create_queue("q", {"VisibilityTimeout": "30"}, duplicate_rate=1.0)
    lab.create_mapping(FunctionName="f", EventSourceArn=arns.queue_arn("q"), BatchSize=1)
    lab.send_message("q", "one message")
    lab.run_until_idle(600_000)
    # the message and its one copy, each received once per 30 s visibility timeout
    assert len(lab.invocations()) <= 2 * (600 // 30 + 1)
    assert lab.engine.queues.counts("q")["total"] == 2
