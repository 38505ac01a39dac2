"""`esmlab compare`: a lesson played as written and with changed settings."""

import json

import pytest

from esmlab.cli import main
from esmlab.lessons import resolve
from esmlab.scenario.compare import (CompareError, apply_change, compare,
                                     concurrency_over_time, parse_change)


def _compare(lesson, *settings):
    return compare(resolve(lesson), [parse_change(s) for s in settings])


def test_compare_names_the_first_journal_event_where_bisect_off_parts():
    cmp = _compare("kinesis-bisect-on-error", "mappings.images.BisectBatchOnFunctionError=false")
    written, changed = cmp.runs
    assert cmp.parted["as_written"]["kind"] == "batch.bisected"
    assert cmp.parted["changed"]["kind"] == "batch.failed"
    assert cmp.parted["as_written"]["at"] == cmp.parted["changed"]["at"]
    # Without bisect the whole batch of 8 is retried: no invocation is smaller.
    assert written.records_per_invocation["max"] == changed.records_per_invocation["max"] == 8
    assert written.records_per_invocation["mean"] < 8 == changed.records_per_invocation["mean"]
    assert written.checks_passed == written.checks_total
    assert changed.checks_passed < changed.checks_total


def test_compare_a_longer_visibility_timeout_stops_the_releases():
    cmp = _compare("sqs-visibility-timeout-too-short", "queues.short-vt.VisibilityTimeout=60")
    written, changed = cmp.runs
    assert "VisibilityTimeout 60 s" in cmp.parted["changed"]["reason"]
    assert "VisibilityTimeout 15 s" in cmp.parted["as_written"]["reason"]
    released = [e for e in written.journal if e[1] == "batch.released"]
    assert released and not [e for e in changed.journal if e[1] == "batch.released"]
    assert changed.outcomes["throttled"] < written.outcomes["throttled"]


def test_compare_classic_profile_scales_by_60_a_minute():
    cmp = _compare("sqs-scaling-current", "profile=classic")
    written, changed = cmp.runs
    assert written.concurrency["render"]["by_minute"][:3] == [5, 305, 605]
    assert changed.concurrency["render"]["by_minute"][:3] == [5, 65, 125]
    assert "60 per minute (classic profile)" in cmp.parted["changed"]["reason"]


def test_compare_maximum_concurrency_caps_the_mapping():
    cmp = _compare("sqs-scaling-current", "mappings.render.ScalingConfig.MaximumConcurrency=50")
    assert cmp.runs[1].concurrency["render"]["peak"] == 50
    assert cmp.runs[0].concurrency["render"]["peak"] > 50


def test_compare_a_change_to_the_same_value_never_parts():
    cmp = _compare("kinesis-bisect-on-error", "mappings.images.BisectBatchOnFunctionError=true")
    assert cmp.parted is None
    assert cmp.runs[0].journal == cmp.runs[1].journal


def test_compare_a_value_aws_refuses_stops_the_changed_run_with_aws_error():
    cmp = _compare("sqs-scaling-current", "mappings.render.BatchSize=20000")
    assert cmp.runs[1].error.startswith("ValidationException")
    assert cmp.runs[1].invocations == 0


@pytest.mark.parametrize("setting, words", [
    ("mappings.nothing.BatchSize=5", "has no mapping 'nothing' (it has jobs, render)"),
    ("x=1", "a top-level setting is one of"),
    ("queues=1", "a top-level setting is one of"),
    ("gadgets.a.b=1", "expected KIND.NAME.PARAMETER"),
    ("BatchSize", "expected PATH=VALUE"),
])
def test_compare_a_change_that_names_nothing_is_refused(setting, words):
    data = {"resources": {"mappings": [{"FunctionName": "render",
                                        "EventSourceArn": "arn:aws:sqs:us-east-1:1:jobs"}]}}
    with pytest.raises(CompareError) as error:
        apply_change(data, parse_change(setting))
    assert words in str(error.value)


def test_queue_settings_go_under_attributes():
    data = {"resources": {"queues": [{"QueueName": "q"}]}}
    apply_change(data, parse_change("queues.q.VisibilityTimeout=180"))
    assert data["resources"]["queues"][0] == {"QueueName": "q",
                                              "Attributes": {"VisibilityTimeout": 180}}


def test_concurrency_over_time_keeps_what_runs_through_a_quiet_minute():
    invs = [{"start_ms": 0, "end_ms": 150_000}, {"start_ms": 10_000, "end_ms": 20_000},
            {"start_ms": 20_000, "end_ms": 30_000}]
    # at 20 s one ends as the next starts: never 3 at once
    assert concurrency_over_time(invs, 0) == {"peak": 2, "by_minute": [2, 1, 1]}


def test_cli_compare_prints_json_and_exits_0(capsys):
    code = main(["compare", "kinesis-bisect-on-error", "--set",
                 "mappings.images.BisectBatchOnFunctionError=false", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["first_difference"]["as_written"]["kind"] == "batch.bisected"
    assert doc["seed"] == 1 and doc["esmlab_version"]


def test_cli_compare_rich_table_shows_both_runs(capsys):
    assert main(["compare", "sqs-scaling-current", "--set", "profile=classic"]) == 0
    out = capsys.readouterr().out
    assert "as written" in out and "changed" in out and "The runs part at journal event" in out


@pytest.mark.parametrize("argv, words", [
    (["compare", "no-such-lesson", "--set", "profile=classic"], "no lesson or file named"),
    (["compare", "sqs-scaling-current"], "give at least one change"),
    (["compare", "sqs-scaling-current", "--set", "profile=modern"], "profile"),
])
def test_cli_compare_bad_input_exits_2_with_a_sentence(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
