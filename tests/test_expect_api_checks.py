"""The `expect` checks conformance cases need: an API response's fields, an
error's exact code/message/status, a record's number of appearances, and two
fields compared. Each has a passing case and a failing one whose message
names what was expected and what the lab showed."""

from esmlab.scenario.loader import load_scenario_text
from esmlab.scenario.player import Player

BASE = """\
name: api-checks
title: checks on API answers
see: responses, errors, appearances, comparisons.
resources:
  functions:
    - FunctionName: worker
      behaviour: {mode: fail_first, count: 1}
  queues:
    - QueueName: jobs
steps:
  - create_mapping: {id: jobs, FunctionName: worker,
                     EventSourceArn: "arn:aws:sqs:us-east-1:123456789012:jobs"}
    as: created
  - create_mapping: {id: nowhere, FunctionName: worker}
    fails_with: InvalidParameterValueException
    as: refused
  - send_message: {QueueName: jobs, MessageBody: m1}
  - run_until_idle:
  - list_mappings: {FunctionName: worker}
    as: listed
  - expect:
      CHECK
"""


def play(tmp_path, check: str):
    scenario = load_scenario_text(BASE.replace("CHECK", check))
    result = Player.new(scenario, tmp_path / "lab.db").run()
    assert result.error is None, str(result.error)
    return result.steps[-1].checks[0]


def test_response_check_passes_on_the_fields_of_a_named_steps_response(tmp_path):
    check = play(tmp_path, "response: {of: created, fields: {State: Creating, BatchSize: 10}, "
                           "absent: [LastProcessingResult], present: [UUID]}")
    assert check.ok, check.message


def test_response_check_fails_naming_the_field_and_its_actual_value(tmp_path):
    check = play(tmp_path, "response: {of: created, fields: {State: Enabled}, absent: [UUID]}")
    assert not check.ok
    assert "State = Creating" in check.message and "UUID present" in check.message
    assert "expected created's response: State = Enabled" in check.message


def test_error_check_passes_on_exact_code_message_and_status(tmp_path):
    check = play(tmp_path, "error: {of: refused, code: InvalidParameterValueException, "
                           "message: Unrecognized event source., status: 400}")
    assert check.ok, check.message


def test_error_check_fails_on_a_message_that_is_not_awss_whole_text(tmp_path):
    check = play(tmp_path, "error: {of: refused, message: Unrecognized event source, status: 404}")
    assert not check.ok
    assert "message 'Unrecognized event source.'" in check.message
    assert "status 400" in check.message
    assert "lab hint:" in check.message  # the hint is shown beside, never compared


def test_error_check_fails_when_the_step_succeeded(tmp_path):
    check = play(tmp_path, "error: {of: created, code: InvalidParameterValueException}")
    assert not check.ok and "it succeeded" in check.message


def test_appearances_counts_the_payloads_a_record_was_in(tmp_path):
    assert play(tmp_path, "appearances: {record: m1, mapping: jobs, count: 2}").ok


def test_appearances_check_fails_with_the_actual_count_and_the_invocations(tmp_path):
    check = play(tmp_path, "appearances: {record: m1, count: 1}")
    assert not check.ok
    assert "expected 'm1' in exactly 1 payload(s), actual 2" in check.message
    assert len(check.records) == 2


def test_compare_passes_when_two_fields_are_equal(tmp_path):
    check = play(tmp_path, "compare: {left: {of: response, step: created, path: UUID}, "
                           "right: {of: response, step: listed, path: EventSourceMappings.0.UUID}}")
    assert check.ok, check.message


def test_compare_fails_showing_both_values(tmp_path):
    check = play(tmp_path, "compare: {left: {of: response, step: created, path: State}, "
                           "right: {of: response, step: listed, path: EventSourceMappings.0.State}}")
    assert not check.ok
    assert "actual Creating and Enabled" in check.message


def test_compare_different_and_a_missing_field_fails(tmp_path):
    check = play(tmp_path, "compare: {left: {of: invocation, nth: 1, path: Records.0.messageId}, "
                           "right: {of: invocation, nth: 2, path: Records.0.messageId}, "
                           "relation: different}")
    assert not check.ok  # a redelivery keeps its messageId
    (tmp_path / "b").mkdir()
    check = play(tmp_path / "b", "compare: {left: {of: invocation, nth: 9, path: Records}, "
                                 "right: {of: response, step: created, path: UUID}}")
    assert not check.ok and "absent" in check.message
