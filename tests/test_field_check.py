"""The `field` expect check reads inside events and destination records."""

import textwrap

from esmlab.scenario.loader import load_scenario_text
from esmlab.scenario.player import Player

SCENARIO = textwrap.dedent("""
    name: field-check
    title: t
    see: s
    resources:
      functions: [{FunctionName: f}]
      queues: [{QueueName: q}]
      mappings:
        - {FunctionName: f, EventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:q'}
    steps:
      - send_message: {QueueName: q, MessageBody: hello}
      - advance: 2s
      - expect:
          field: {of: invocation, mapping: f, nth: 1, path: Records.0.body, equals: %s}
      - expect:
          field: {of: invocation, mapping: f, nth: 1, path: Records.0.nothing, exists: %s}
""")


def _play(tmp_path, body, exists):
    scenario = load_scenario_text(SCENARIO % (body, exists))
    player = Player.new(scenario, tmp_path / "lab.db")
    return [c for s in player.run().steps for c in s.checks]


def test_field_check_passes_on_the_value_the_function_received(tmp_path):
    assert [c.ok for c in _play(tmp_path, "hello", "false")] == [True, True]


def test_field_check_fails_with_expected_and_actual(tmp_path):
    checks = _play(tmp_path, "goodbye", "true")
    assert [c.ok for c in checks] == [False, False]
    assert "expected Records.0.body = goodbye" in checks[0].message
    assert "actual hello" in checks[0].message
    assert "step 3 (<text>:14)" in checks[0].message
