"""The scenario file format: loading, validation, errors with file and line."""

import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from esmlab.scenario import schema
from esmlab.scenario.durations import DurationError, format_duration, parse_duration
from esmlab.scenario.loader import Check, ScenarioError, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent
COMPLETE = ROOT / "tests/fixtures/scenarios/complete.yaml"
DOCS = ROOT / "docs/scenarios.md"

HEAD = """\
name: demo
title: Demo
see: Something happens.
resources:
  functions:
    - FunctionName: worker
  queues:
    - QueueName: orders
  streams:
    - StreamName: clicks
"""


def load(text: str):
    return load_scenario_text(text, "t.yaml")


def fails(text: str, *fragments: str) -> ScenarioError:
    """Loading `text` raises on the line marked `# <-`, with every fragment."""
    marked = [n for n, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    assert len(marked) == 1, "mark exactly one line with # <-"
    with pytest.raises(ScenarioError) as caught:
        load(text)
    error = caught.value
    assert (error.file, error.line) == ("t.yaml", marked[0]), str(error)
    assert str(error) == f"t.yaml:{marked[0]}: {error.message}"
    for fragment in fragments:
        assert fragment in error.message
    return error


# --- a complete valid file ---------------------------------------------------


@pytest.fixture(scope="module")
def complete():
    return load_scenario(COMPLETE)


def test_complete_file_loads_top_level_fields(complete):
    assert (complete.name, complete.seed, complete.profile) == ("complete-tour", 7, "classic")
    assert complete.start == "2024-05-01T09:00:00Z"
    assert complete.path == str(COMPLETE)
    assert len(complete.steps) == 27


def test_complete_file_records_resource_and_step_lines(complete):
    assert complete.lines[("functions", 0)] == 13
    assert complete.lines[("mappings", 1)] == 59
    first, second = complete.steps[:2]
    assert (first.kind, first.line, first.index) == ("say", 79, 1)
    assert (second.line, second.index, second.note) == (80, 2, "{n} becomes 1 to 10")


def test_complete_file_expect_returns_checks_in_file_order_with_lines(complete):
    expect = complete.steps[-1]
    assert expect.kind == "expect" and expect.note == "every check"
    assert [c.kind for c in expect.args] == list(schema.CHECKS)
    assert expect.args[0] == Check("invocations",
                                   {"function": "worker", "outcome": "error", "count": 2}, 129)
    state = next(c for c in expect.args if c.kind == "mapping_state")
    assert state.args["note"] == "read-only fields"


def test_function_defaults_are_applied():
    worker = load(HEAD + "steps: [{say: hi}]\n").resources["functions"][0]
    assert worker == {"FunctionName": "worker", "Timeout": 3,
                      "duration": {"fixed": 100, "per_record": 0},
                      "behaviour": {"mode": "succeed"}}


def test_top_level_and_resource_defaults_are_applied():
    scenario = load(HEAD + "steps: [{say: hi}]\n")
    assert (scenario.seed, scenario.profile, scenario.start) == (1, "current", None)
    assert scenario.resources["queues"][0] == {"QueueName": "orders", "Attributes": {},
                                               "duplicate_rate": 0.0}
    assert scenario.resources["streams"][0]["RetentionPeriodHours"] == 24
    assert scenario.resources["mappings"] == [] and scenario.resources["tables"] == []


def test_step_defaults_apply_to_empty_values(complete):
    by_index = {step.index: step for step in complete.steps}
    assert by_index[10].args == 1  # `step:` alone
    assert by_index[12].args == 3_600_000  # `run_until_idle:` alone: one hour
    assert by_index[2].args["count"] == 10 and by_index[4].args["count"] == 3


def test_check_defaults_are_applied(complete):
    checks = {c.kind: c.args for c in complete.steps[-1].args}
    assert checks["destination"]["at_least"] == 1  # no count given
    assert checks["message"]["present"] is True
    assert "at_least" not in checks["invocations"]  # count given instead


def test_durations_are_converted_to_milliseconds(complete):
    worker = complete.resources["functions"][0]
    assert worker["duration"] == {"fixed": 1500, "per_record": 10}
    assert complete.steps[8].args == 90_000  # advance: 90s
    assert complete.steps[12].args == 600_000  # run_until_idle: 10m


def test_update_function_duration_gets_no_defaults(complete):
    update = complete.steps[14].args
    assert update["duration"] == {"per_record": 5}
    assert update["ReservedConcurrentExecutions"] is None  # null removes the limit


def test_mapping_id_defaults_to_function_name_even_from_an_arn():
    text = HEAD.replace("  queues:", "    - FunctionName: reader\n  queues:") + """\
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders
    - FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:reader
      EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks
steps: [{enable_mapping: reader}]
"""
    assert [m["id"] for m in load(text).resources["mappings"]] == ["worker", "reader"]


def test_queue_attributes_written_as_aws_strings_become_values(complete):
    orders = complete.resources["queues"][1]["Attributes"]
    assert orders["VisibilityTimeout"] == 30
    assert orders["RedrivePolicy"] == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:orders-dlq",
        "maxReceiveCount": 3}


def test_filter_pattern_written_as_yaml_becomes_json_text(complete):
    filters = complete.resources["mappings"][0]["FilterCriteria"]["Filters"]
    assert filters[0]["Pattern"] == '{"body": {"type": ["order"]}}'


def test_hash_keys_written_as_numbers_stay_text(complete):
    assert complete.steps[24].args["NewStartingHashKey"] == "85070591730234615865843651857942052864"
    assert complete.steps[4].args["Records"][0]["ExplicitHashKey"] == "12345"


def test_unquoted_dates_stay_text(complete):
    assert complete.resources["mappings"][1]["LastModified"] == "2024-04-30T12:00:00.000+00:00"


def test_yaml_anchors_and_merge_keys_work():
    text = HEAD.replace("  queues:", "    - &w {FunctionName: other, Timeout: 9}\n  queues:") \
        + "steps:\n  - update_function: {<<: *w, FunctionName: worker}\n"
    assert load(text).steps[0].args == {"FunctionName": "worker", "Timeout": 9}


# --- errors -------------------------------------------------------------------


def test_yaml_syntax_error_names_its_line():
    fails(HEAD + "steps:\n  - say: [unclosed\n  - advance: 1s  # <-\n", "YAML syntax error")


def test_unknown_top_level_key_suggests_the_closest():
    fails("nmae: demo  # <-\n" + HEAD, "unknown key 'nmae'", "did you mean 'name'?")


def test_misspelt_mapping_key_suggests_the_aws_name():
    text = HEAD + """\
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders
      Batchsize: 10  # <-
steps: [{say: hi}]
"""
    fails(text, "unknown key 'Batchsize'", "did you mean 'BatchSize'?")


def test_unknown_step_kind_suggests_the_closest():
    fails(HEAD + "steps:\n  - say: hi\n  - advnce: 1s  # <-\n", "did you mean 'advance'?")


def test_unknown_check_suggests_the_closest():
    text = HEAD + "steps:\n  - expect:\n      invocation: {nth: 1}\n      invocatons: {}  # <-\n"
    fails(text, "unknown key 'invocatons'", "did you mean 'invocations'?")


def test_unknown_key_without_close_match_lists_known_keys():
    fails(HEAD + "steps:\n  - send_message: {QueueName: orders, MessageBody: x, zzz: 1}  # <-\n",
          "unknown key 'zzz' in send_message", "known keys: QueueName, MessageBody")


def test_missing_required_key_names_the_map_line():
    text = HEAD.replace("  queues:", "    - Timeout: 5  # <-\n  queues:") + "steps: [{say: hi}]\n"
    fails(text, "missing required key 'FunctionName'")


def test_missing_required_top_level_key():
    fails("name: demo  # <-\ntitle: T\nsee: S\n", "missing required key 'steps'")


def test_wrong_type_names_the_value_line():
    text = HEAD.replace("- FunctionName: worker",
                        "- FunctionName: worker\n      Timeout: soon  # <-")
    fails(text + "steps: [{say: hi}]\n", "Timeout: expected a whole number", "'soon'")


def test_number_where_text_is_expected_hints_at_quotes():
    fails(HEAD + "steps:\n  - say: 42  # <-\n", "expected a string", "put text in quotes")
    fails(HEAD + "steps:\n  - put_record: {StreamName: clicks, PartitionKey: k,\n"
                 "      Data: {n}}  # <-\n", "Data: expected a string, found a map", "quotes")


def test_value_out_of_range():
    text = HEAD.replace("- StreamName: clicks",
                        "- StreamName: clicks\n      RetentionPeriodHours: 2  # <-")
    fails(text + "steps: [{say: hi}]\n", "from 24 to 8760", "the number 2")


def test_bad_enum_lists_choices_and_suggests():
    text = HEAD + "profile: clasic  # <-\nsteps: [{say: hi}]\n"
    fails(text, "expected one of current, classic", "did you mean 'classic'?")


def test_bad_duration_explains_how_to_write_one():
    fails(HEAD + "steps:\n  - advance: 5 minutes  # <-\n", "advance:", "like 500ms, 90s")


def test_negative_duration_is_refused():
    fails(HEAD + "steps:\n  - advance: -5  # <-\n", "negative")


def test_step_with_two_actions_points_at_the_second():
    fails(HEAD + "steps:\n  - say: hi\n    advance: 1s  # <-\n",
          "two actions, 'say' and 'advance'", "split it")


def test_step_with_only_a_note_has_no_action():
    fails(HEAD + "steps:\n  - note: lonely  # <-\n", "step 1 has no action")


def test_empty_steps_are_refused():
    fails(HEAD + "steps: []  # <-\n", "at least one step")


def test_empty_file_is_refused():
    with pytest.raises(ScenarioError, match=r"^t\.yaml:1: the file is empty"):
        load("# only a comment\n")


def test_unreadable_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(missing)
    assert caught.value.file == str(missing) and "cannot read" in str(caught.value)


def test_repeated_key_names_both_lines():
    fails(HEAD + "steps:\n  - send_message:\n      QueueName: orders\n"
                 "      QueueName: orders  # <-\n", "appears twice (first on line 13)")


def test_reference_to_an_undeclared_queue_suggests_the_closest():
    fails(HEAD + "steps:\n  - send_message: {QueueName: order, MessageBody: x}  # <-\n",
          "no queue named 'order'", "did you mean 'orders'?")


def test_mapping_must_be_created_before_a_step_uses_it():
    text = HEAD + """\
steps:
  - enable_mapping: late  # <-
  - create_mapping: {id: late, FunctionName: worker, EventSourceArn: x}
"""
    fails(text, "no mapping named 'late'")


def test_two_mappings_with_the_same_id_are_refused():
    text = HEAD + """\
  mappings:
    - {FunctionName: worker, EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders}
    - FunctionName: worker  # <-
      EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks
steps: [{say: hi}]
"""
    fails(text, "mapping 'worker' is declared twice", "give it its own 'id'")


def test_mapping_needs_a_function():
    text = HEAD + "  mappings:\n    - EventSourceArn: x  # <-\nsteps: [{say: hi}]\n"
    fails(text, "missing 'FunctionName' or 'FunctionArn'")


def test_update_mapping_refuses_create_only_keys():
    text = HEAD + """\
  mappings:
    - {FunctionName: worker, EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/clicks}
steps:
  - update_mapping: {id: worker, StartingPosition: LATEST}  # <-
"""
    fails(text, "StartingPosition is set when a mapping is created")


def test_behaviour_option_for_another_mode_is_refused():
    fails(HEAD + "steps:\n  - behaviour: {function: worker, mode: fail,\n"
                 "      probability: 0.5}  # <-\n",
          "'probability' does not apply to mode 'fail'")


def test_behaviour_mode_requires_its_options():
    fails(HEAD + "steps:\n  - behaviour: {function: worker, mode: poison}  # <-\n",
          "missing required key 'match'")


def test_fail_first_count_defaults_to_one():
    steps = load(HEAD + "steps: [{behaviour: {function: worker, mode: fail_first}}]\n").steps
    assert steps[0].args == {"function": "worker", "mode": "fail_first", "count": 1}


def test_count_and_at_least_are_exclusive():
    text = HEAD + "steps:\n  - expect:\n      invocations: {count: 1,\n        at_least: 2}  # <-\n"
    fails(text, "give only one of 'count' or 'at_least' or 'at_most'")


def test_concurrency_check_needs_a_bound():
    text = HEAD + """\
  mappings:
    - {FunctionName: worker, EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders}
steps:
  - expect:
      concurrency: {mapping: worker}  # <-
"""
    fails(text, "missing 'value' or 'at_least' or 'at_most'")


def test_start_must_be_a_utc_timestamp():
    fails(HEAD + "start: 2024-05-01T09:00:00+02:00  # <-\nsteps: [{say: hi}]\n", "UTC")
    fails(HEAD + "start: yesterday  # <-\nsteps: [{say: hi}]\n", "ISO-8601")


def test_name_must_be_a_lowercase_hyphen_id():
    fails(HEAD.replace("name: demo", "name: My Demo  # <-") + "steps: [{say: hi}]\n",
          "lowercase-hyphen id")


def test_bad_redrive_policy_json_names_the_string_line():
    text = HEAD.replace("- QueueName: orders", """- QueueName: orders
      Attributes:
        RedrivePolicy: '{"deadLetterTargetArn": "x"}'  # <-""")
    fails(text + "steps: [{say: hi}]\n", "missing required key 'maxReceiveCount'")


def test_bad_filter_pattern_json_is_refused():
    text = HEAD + """\
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders
      FilterCriteria: {Filters: [{Pattern: '{"body": '}]}  # <-
steps: [{say: hi}]
"""
    fails(text, "not valid JSON")


# --- durations ----------------------------------------------------------------


@pytest.mark.parametrize("text, ms", [
    ("90s", 90_000), ("1.5s", 1_500), ("500ms", 500), ("5m", 300_000), ("2h", 7_200_000),
    ("1d", 86_400_000), ("1m30s", 90_000), (" 2 s ", 2_000), ("0", 0),
    (90, 90_000), (0.25, 250), ("1.5", 1_500),
])
def test_parse_duration_reads_units_and_bare_seconds(text, ms):
    assert parse_duration(text) == ms


@pytest.mark.parametrize("bad", ["", "5 minutes", "s", "-1s", "1.5.0s", True, None, "0.0001s",
                                 float("nan"), -3])
def test_parse_duration_refuses_nonsense_with_a_clear_error(bad):
    with pytest.raises(DurationError, match="duration|milliseconds|negative"):
        parse_duration(bad)


@pytest.mark.parametrize("ms, text", [
    (0, "0ms"), (500, "500ms"), (1_000, "1s"), (1_500, "1.5s"), (90_000, "1m30s"),
    (3_600_000, "1h"), (90_061_001, "1d1h1m1.001s"), (60_500, "1m0.5s"),
])
def test_format_duration_gives_the_short_form(ms, text):
    assert format_duration(ms) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_format_duration_reads_back_unchanged(ms):
    assert parse_duration(format_duration(ms)) == ms


# --- the reference stays in step with the schema -----------------------------


def test_docs_mention_every_step_kind_and_check():
    docs = DOCS.read_text(encoding="utf-8")
    for name in [*schema.STEPS, *schema.CHECKS, *schema.SCENARIO.keys, *schema.RESOURCES.keys]:
        assert f"`{name}`" in docs, name


def test_docs_example_scenario_loads():
    docs = DOCS.read_text(encoding="utf-8")
    example = re.search(r"## Example\n.*?```yaml\n(.*?)```", docs, re.S).group(1)
    scenario = load_scenario_text(example, "example.yaml")
    assert scenario.resources["queues"] and scenario.resources["mappings"]
    assert any(step.kind == "expect" for step in scenario.steps)


def test_python_tags_are_refused_not_constructed():
    text = HEAD + """\
  tables:
    - {TableName: carts, KeySchema: [{AttributeName: id, KeyType: HASH}]}
steps:
  - put_item: {TableName: carts, Item: !!python/object:os.PathLike {}}  # <-
"""
    fails(text, "YAML error", "python/object")
