"""The timing checks: an invocation's start and end (`invocation.start`,
`invocation.end`, times since the scenario began) and the gap between two
invocations (`gap`). Each has a passing case and a failing one whose message
names the scenario, the step, what was expected, what the lab showed and the
invocations involved.

The lab below is the visibility-timeout rule of the reference (2.2): a
failed SQS message comes back one VisibilityTimeout after it was received.
"""

import pytest

from esmlab.scenario.loader import ScenarioError, load_scenario_text
from esmlab.scenario.player import Player

BASE = """\
name: timing-checks
title: checks on when invocations ran
see: start, end and the gap between two deliveries.
resources:
  functions:
    - FunctionName: worker
      Timeout: 5
      duration: {fixed: 1s}
      behaviour: {mode: fail_first, count: 1}
    - FunctionName: other
      duration: {fixed: 1s}
  queues:
    - QueueName: jobs
      Attributes: {VisibilityTimeout: 30}
    - QueueName: side
  mappings:
    - {id: jobs, FunctionName: worker, EventSourceArn: "arn:aws:sqs:us-east-1:123456789012:jobs"}
    - {id: side, FunctionName: other, EventSourceArn: "arn:aws:sqs:us-east-1:123456789012:side"}
steps:
  - send_message: {QueueName: jobs, MessageBody: m1}
  - advance: 2s
  - send_message: {QueueName: side, MessageBody: s1}
  - advance: 40s
  - expect:
      CHECK
"""


def play(tmp_path, check: str):
    scenario = load_scenario_text(BASE.replace("CHECK", check))
    result = Player.new(scenario, tmp_path / "lab.db").run()
    assert result.error is None, str(result.error)
    return result.steps[-1].checks[0]


def test_invocation_start_and_end_are_times_since_the_scenario_began(tmp_path):
    check = play(tmp_path, "invocation: {nth: 2, mapping: jobs, records: [m1], start: 30s, end: 31s}")
    assert check.ok, check.message
    assert "start T+30s, end T+31s" in check.message


def test_invocation_start_check_fails_naming_expected_and_actual_times(tmp_path):
    check = play(tmp_path, "invocation: {nth: 2, mapping: jobs, start: 31s, end: 31.5s}")
    assert not check.ok
    assert check.message.startswith("scenario timing-checks, step 5 (<text>:")
    assert "expect invocation {nth: 2, mapping: jobs, start: 31s, end: 31.5s}" in check.message
    assert "expected invocation 3 with start T+31s, end T+31.5s, " \
           "actual start T+30s, end T+31s" in check.message
    assert "records involved: invocation 3 (jobs, success: 'm1')" in check.message


def test_invocation_end_of_a_running_invocation_says_so(tmp_path):
    text = BASE.replace("  - advance: 40s\n", "  - advance: 500ms\n")
    scenario = load_scenario_text(text.replace("CHECK", "invocation: {nth: 1, mapping: side, end: 3s}"))
    result = Player.new(scenario, tmp_path / "lab.db").run()
    check = result.steps[-1].checks[0]
    assert not check.ok and "actual end (still running)" in check.message


def test_gap_between_two_deliveries_of_a_message_is_the_visibility_timeout(tmp_path):
    check = play(tmp_path, "gap: {from: {record: m1}, to: {nth: 2}, value: 30s}")
    assert check.ok, check.message
    assert check.actual == 30_000


def test_gap_since_the_end_counts_from_when_the_first_invocation_ended(tmp_path):
    check = play(tmp_path, "gap: {from: {record: m1}, to: {nth: 2}, since: end, value: 30s}")
    assert not check.ok
    assert check.message.startswith("scenario timing-checks, step 5 (<text>:")
    assert ("expected the gap from the end of the 1st invocation holding 'm1' to the start of "
            "the 2nd invocation holding 'm1' exactly 30s, actual 29s (from invocation 1's end "
            "at T+1s to invocation 3's start at T+30s)") in check.message
    assert "records involved: invocation 1 (jobs, error: 'm1'), invocation 3 (jobs, success: 'm1')" \
        in check.message


def test_gap_between_invocations_of_two_mappings(tmp_path):
    check = play(tmp_path, "gap: {from: {mapping: jobs}, to: {mapping: side}, at_least: 2s, "
                           "note: s1 was sent 2 s after m1}")
    assert check.ok, check.message
    (tmp_path / "b").mkdir()
    failing = play(tmp_path / "b", "gap: {from: {mapping: jobs}, to: {mapping: side}, at_most: 1s, "
                                   "note: s1 was sent 2 s after m1}")
    assert not failing.ok
    assert "at most 1s, actual 2s" in failing.message
    assert "(note: s1 was sent 2 s after m1)" in failing.message


def test_gap_to_an_earlier_invocation_is_negative_and_says_so(tmp_path):
    check = play(tmp_path, "gap: {from: {mapping: side}, to: {mapping: jobs, nth: 1}, at_least: 0s}")
    assert not check.ok
    assert "actual -2s" in check.message and "which is earlier" in check.message


def test_gap_to_an_invocation_that_does_not_exist_fails_naming_those_that_do(tmp_path):
    check = play(tmp_path, "gap: {from: {record: m1}, to: {nth: 3}, value: 30s}")
    assert not check.ok
    assert "expected the 3rd invocation holding 'm1' to exist, actual only 2 such invocation(s)" \
        in check.message
    assert len(check.records) == 2


def test_gap_needs_exactly_one_bound(tmp_path):
    with pytest.raises(ScenarioError):
        load_scenario_text(BASE.replace("CHECK", "gap: {from: {record: m1}, to: {nth: 2}}"))
    with pytest.raises(ScenarioError):
        load_scenario_text(BASE.replace("CHECK", "gap: {from: {record: m1}, to: {nth: 2}, "
                                                 "value: 30s, at_most: 31s}"))
