"""Stream mappings against behaviour recorded on real AWS (reference section 8):
partial batch responses and bisect (8.1), failure records (8.2), request ids
and the retry back-off. One test per rule, named after it."""

from __future__ import annotations

import base64
import json
import re
import sys
import textwrap

import pytest

from esmlab.engine import arns

S = arns.stream_arn("s")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    """Handlers that report records by their data, and one that records the
    request ids it was called with (in a file: handlers run in a worker
    process)."""
    (tmp_path / "recorded_rules.py").write_text(textwrap.dedent("""
        import base64
        from pathlib import Path

        SEEN = Path(__file__).with_name("seen.txt")

        def _remember(context):
            with SEEN.open("a") as f:
                f.write(context.aws_request_id + "\\n")

        def _report(event, wanted):
            return {"batchItemFailures": [
                {"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event["Records"]
                if base64.b64decode(r["kinesis"]["data"]).decode() in wanted]}

        def report_6(event, context):
            return _report(event, {"6"})

        def report_2(event, context):
            return _report(event, {"2"})

        def fail_and_remember(event, context):
            _remember(context)
            raise RuntimeError("boom")

        def report_2_and_remember(event, context):
            _remember(context)
            return _report(event, {"2"})
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    return _Seen(tmp_path / "seen.txt")


class _Seen:
    def __init__(self, path):
        self.path = path

    @property
    def SEEN(self) -> list[str]:
        return self.path.read_text().split() if self.path.exists() else []


def setup(lab, handler=None, behaviour=None, dest=True, **params):
    lab.create_function("f", Timeout=3)
    if handler:
        lab.set_behaviour("f", mode="handler", handler=f"recorded_rules:{handler}")
    if behaviour:
        lab.set_behaviour("f", **behaviour)
    lab.create_stream("s")
    p = {"FunctionName": "f", "EventSourceArn": S, "StartingPosition": "TRIM_HORIZON"}
    if dest:
        lab.create_queue("dest")
        p["DestinationConfig"] = {"OnFailure": {"Destination": arns.queue_arn("dest")}}
    p.update(params)
    lab.create_mapping(label="m", **p)


def put_all(lab, texts):
    return [lab.put_record("s", "k", t)["SequenceNumber"] for t in texts]


def invs(lab):
    return [i for i in lab.invocations(mapping="m", limit=10**6) if i["status"] != "throttled"]


def payload_texts(inv):
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in inv["event"]["Records"]]


def records_at_dest(lab):
    return [json.loads(m["body"]) for m in lab.engine.queues.page("dest")]


# -- 8.1 partial batch responses ----------------------------------------------------------

def test_a_partial_response_that_moves_the_checkpoint_starts_a_new_batch_with_a_fresh_budget(
        lab, handlers):
    # The recorded example: MaximumRetryAttempts 3, batch [4,5,6], record 6 reported.
    setup(lab, "report_6", BatchSize=3, MaximumRetryAttempts=3,
          FunctionResponseTypes=["ReportBatchItemFailures"])
    put_all(lab, ["4", "5", "6"])
    lab.run_until_idle()
    payloads = [payload_texts(i) for i in invs(lab)]
    assert payloads == [["4", "5", "6"]] + [["6"]] * 4     # record 6 in 5 payloads
    [record] = records_at_dest(lab)
    assert record["requestContext"]["approximateInvokeCount"] == 4
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_partial_response_that_does_not_move_the_checkpoint_uses_up_an_attempt(lab, handlers):
    # The recorded example: MaximumRetryAttempts 1, [1,2,3,4] reporting 2.
    setup(lab, "report_2", BatchSize=4, MaximumRetryAttempts=1,
          FunctionResponseTypes=["ReportBatchItemFailures"])
    put_all(lab, ["1", "2", "3", "4"])
    lab.run_until_idle()
    assert [payload_texts(i) for i in invs(lab)] == [["1", "2", "3", "4"], ["2", "3", "4"],
                                                     ["2", "3", "4"]]
    [record] = records_at_dest(lab)
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["KinesisBatchInfo"]["batchSize"] == 3


def test_the_suffix_after_a_valid_partial_response_is_retried_at_once(lab, handlers):
    setup(lab, "report_2", BatchSize=4, MaximumRetryAttempts=1,
          FunctionResponseTypes=["ReportBatchItemFailures"])
    put_all(lab, ["1", "2", "3", "4"])
    lab.run_until_idle()
    first, suffix, retry = invs(lab)
    assert suffix["start_ms"] == first["end_ms"]          # no error back-off
    assert retry["start_ms"] > suffix["end_ms"]           # an attempt used up: back-off


def test_with_bisect_a_failing_suffix_is_bisected_and_each_half_starts_a_fresh_budget(
        lab, handlers):
    # Recorded: [1,2,3,4] reports 2 -> [2,3,4] reports 2 -> halves [2] and [3,4];
    # [2] is retried within its own budget, then [3,4] runs.
    setup(lab, "report_2", BatchSize=4, MaximumRetryAttempts=1,
          BisectBatchOnFunctionError=True, FunctionResponseTypes=["ReportBatchItemFailures"])
    put_all(lab, ["1", "2", "3", "4"])
    lab.run_until_idle()
    assert [payload_texts(i) for i in invs(lab)] == [
        ["1", "2", "3", "4"], ["2", "3", "4"], ["2"], ["2"], ["3", "4"]]
    [record] = records_at_dest(lab)
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    assert len(lab.journal(kind="batch.bisected")) == 1


def test_bisected_halves_start_a_fresh_retry_budget_after_a_function_error(lab):
    setup(lab, behaviour={"mode": "poison", "match": {"text": "bad"}}, BatchSize=2,
          MaximumRetryAttempts=1, BisectBatchOnFunctionError=True)
    put_all(lab, ["ok", "bad"])
    lab.run_until_idle()
    # the pair fails once (no attempt used: bisected); [bad] gets 1 + 1 attempts
    assert [payload_texts(i) for i in invs(lab)] == [["ok", "bad"], ["ok"], ["bad"], ["bad"]]
    [record] = records_at_dest(lab)
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_last_processing_result_is_ok_after_a_valid_partial_response(lab, handlers):
    setup(lab, "report_2", BatchSize=4, MaximumRetryAttempts=0, dest=False,
          FunctionResponseTypes=["ReportBatchItemFailures"])
    put_all(lab, ["1", "2"])
    lab.run_until_idle()
    assert lab.mapping("m")["last_result"] == "OK"


# -- 8.2 failure records --------------------------------------------------------------------

def test_function_error_is_unhandled_after_an_error_and_null_after_a_return(lab, handlers):
    setup(lab, "report_2", BatchSize=1, MaximumRetryAttempts=0,
          FunctionResponseTypes=["ReportBatchItemFailures"])
    put_all(lab, ["2"])
    lab.run_until_idle()
    lab.set_behaviour("f", mode="fail")
    put_all(lab, ["x"])
    lab.run_until_idle()
    returned, errored = records_at_dest(lab)
    assert returned["responseContext"]["functionError"] is None
    assert "functionError" in returned["responseContext"]
    assert errored["responseContext"]["functionError"] == "Unhandled"


def test_failure_record_request_id_is_the_last_failed_invocations(lab, handlers):
    setup(lab, "fail_and_remember", MaximumRetryAttempts=2)
    put_all(lab, ["x"])
    lab.run_until_idle()
    [record] = records_at_dest(lab)
    assert record["requestContext"]["requestId"] == handlers.SEEN[-1]


# -- 8.1 request ids --------------------------------------------------------------------------

def test_a_retry_of_an_unchanged_batch_reuses_the_request_id(lab, handlers):
    setup(lab, "fail_and_remember", MaximumRetryAttempts=2)
    put_all(lab, ["x"])
    lab.run_until_idle()
    assert len(handlers.SEEN) == 3 and len(set(handlers.SEEN)) == 1
    assert UUID.match(handlers.SEEN[0])
    assert [i["detail"]["request_id"] for i in invs(lab)] == handlers.SEEN


def test_a_changed_batch_gets_a_new_request_id(lab, handlers):
    setup(lab, "report_2_and_remember", BatchSize=4, MaximumRetryAttempts=1,
          BisectBatchOnFunctionError=True, FunctionResponseTypes=["ReportBatchItemFailures"])
    put_all(lab, ["1", "2", "3", "4"])
    lab.run_until_idle()
    # [1,2,3,4] | suffix [2,3,4] | half [2], its retry | half [3,4]
    whole, suffix, half, half_retry, other_half = handlers.SEEN
    assert len({whole, suffix, half, other_half}) == 4
    assert half_retry == half
    assert all(UUID.match(r) for r in handlers.SEEN)


def test_request_ids_are_uuids_derived_from_the_labs_seed(tmp_path):
    from esmlab.lab import Lab

    def run(path, seed):
        other = Lab.create(path, seed=seed)
        setup(other, behaviour={"mode": "fail"}, MaximumRetryAttempts=1, dest=False)
        put_all(other, ["x"])
        other.run_until_idle()
        ids = [i["detail"]["request_id"] for i in invs(other)]
        other.close()
        return ids

    same = run(tmp_path / "a.db", 7)
    assert same == run(tmp_path / "b.db", 7) and all(UUID.match(r) for r in same)
    assert same != run(tmp_path / "c.db", 8)


# -- retry timing ------------------------------------------------------------------------------

def test_function_error_back_off_gives_8_invocations_within_a_60_s_record_age(lab):
    # Recorded (reference 8.1): an always-failing function, MaximumRetryAttempts
    # -1, MaximumRecordAgeInSeconds 60: 8 invocations, then the age discard.
    setup(lab, behaviour={"mode": "fail"}, MaximumRecordAgeInSeconds=60)
    put_all(lab, ["x"])
    lab.advance(300)
    assert len(invs(lab)) == 8
    [record] = records_at_dest(lab)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 8
    assert "responseContext" not in record


# -- 8.2 tumbling windows and SNS -------------------------------------------------------------

def test_a_failed_final_window_invoke_writes_a_record_with_time_window_info(lab, tmp_path,
                                                                            monkeypatch):
    (tmp_path / "final_fails.py").write_text(textwrap.dedent("""
        def handler(event, context):
            if event["isFinalInvokeForWindow"]:
                raise RuntimeError("cannot close the window")
            return {"state": {"n": len(event["Records"])}}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("final_fails", None)
    lab.do("create_bucket", Bucket="fails")
    lab.create_function("f", Timeout=3)
    lab.set_behaviour("f", mode="handler", handler="final_fails:handler")
    lab.create_stream("s")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON", TumblingWindowInSeconds=30,
                       MaximumRetryAttempts=0,
                       DestinationConfig={"OnFailure": {"Destination": arns.bucket_arn("fails")}})
    lab.advance(0.5)
    put_all(lab, ["a"])
    lab.advance(300)
    [item] = lab.engine.sinks.items("fails")
    body = item["body"]
    final = [i for i in invs(lab) if i["event"]["isFinalInvokeForWindow"]][-1]["event"]
    assert body["KinesisBatchInfo"] == {"shardId": final["shardId"], "streamArn": S}
    assert body["timeWindowInfo"] == {"window": final["window"],
                                      "isFinalInvokeForWindow": True,
                                      "isWindowTerminatedEarly": False}
    assert json.loads(body["payload"]) == final
    assert body["responseContext"]["functionError"] == "Unhandled"


def test_an_sns_destination_delivers_a_notification_whose_message_is_the_record(lab):
    lab.do("create_topic", Name="fails")
    setup(lab, behaviour={"mode": "fail"}, dest=False, MaximumRetryAttempts=0,
          DestinationConfig={"OnFailure": {"Destination": arns.topic_arn("fails")}})
    put_all(lab, ["x"])
    lab.run_until_idle()
    [item] = lab.engine.sinks.items("fails")
    note = item["body"]
    assert list(note)[:5] == ["Type", "MessageId", "TopicArn", "Message", "Timestamp"]
    assert note["Type"] == "Notification" and note["TopicArn"] == arns.topic_arn("fails")
    record = json.loads(note["Message"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["KinesisBatchInfo"]["batchSize"] == 1


# -- 8.5 LastProcessingResult --------------------------------------------------------------

def test_last_processing_result_texts_follow_aws(lab):
    lab.create_stream("s")
    put_all(lab, ["old"])
    lab.advance(120)
    setup_args = dict(behaviour={"mode": "fail"}, MaximumRecordAgeInSeconds=60,
                      MaximumRetryAttempts=0)
    lab.create_function("f", Timeout=3)
    lab.set_behaviour("f", **setup_args.pop("behaviour"))
    lab.create_queue("dest")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON",
                       DestinationConfig={"OnFailure": {"Destination": arns.queue_arn("dest")}},
                       **setup_args)
    assert lab.mapping("m")["last_result"] == "No records processed"
    lab.run_until_idle()
    # the record expired before any invocation: still nothing processed
    assert invs(lab) == [] and len(records_at_dest(lab)) == 1
    assert lab.mapping("m")["last_result"] == "No records processed"
    put_all(lab, ["x"])
    lab.run_until_idle()
    assert lab.mapping("m")["last_result"] == "PROBLEM: Function call failed"
    lab.set_behaviour("f", mode="succeed")
    put_all(lab, ["y"])
    lab.run_until_idle()
    assert lab.mapping("m")["last_result"] == "OK"


# -- 8.3 tumbling-window admission ------------------------------------------------------------

def _tumbling_request(**extra):
    p = {"FunctionName": "f", "EventSourceArn": S, "StartingPosition": "TRIM_HORIZON",
         "TumblingWindowInSeconds": 60}
    p.update(extra)
    return p


def test_tumbling_windows_refuse_parallelization_factor_above_1(lab):
    from esmlab.errors import AwsError
    lab.create_function("f")
    lab.create_stream("s")
    with pytest.raises(AwsError) as err:
        lab.create_mapping(**_tumbling_request(ParallelizationFactor=2))
    assert err.value.code == "InvalidParameterValueException"
    assert err.value.message == ("Parallelization factor must be equal to 1 when tumbling "
                                      "window period is configured")
    m = lab.create_mapping(label="m", FunctionName="f", EventSourceArn=S,
                           StartingPosition="TRIM_HORIZON", ParallelizationFactor=10)
    with pytest.raises(AwsError):
        lab.update_mapping(m["UUID"], TumblingWindowInSeconds=1)


def test_tumbling_windows_refuse_filters_but_accept_an_empty_filter_list(lab):
    from esmlab.errors import AwsError
    lab.create_function("f")
    lab.create_stream("s")
    pattern = {"Filters": [{"Pattern": json.dumps({"data": {"kind": ["a"]}})}]}
    with pytest.raises(AwsError) as err:
        lab.create_mapping(**_tumbling_request(FilterCriteria=pattern))
    assert err.value.code == "InvalidParameterValueException"
    m = lab.create_mapping(**_tumbling_request(FilterCriteria={"Filters": []}))
    assert "FilterCriteria" not in m


def test_window_state_over_1_mb_terminates_the_window_early(lab, tmp_path, monkeypatch):
    (tmp_path / "big_state.py").write_text(textwrap.dedent("""
        def handler(event, context):
            if event["isFinalInvokeForWindow"]:
                return {"state": {}}
            return {"state": {"blob": "x" * (1024 * 1024 + 64)}}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("big_state", None)
    lab.create_function("f", Timeout=3)
    lab.set_behaviour("f", mode="handler", handler="big_state:handler")
    lab.create_stream("s")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=S,
                       StartingPosition="TRIM_HORIZON", TumblingWindowInSeconds=60)
    lab.advance(0.5)
    put_all(lab, ["a"])
    lab.advance(5)
    events = [i["event"] for i in invs(lab)]
    assert [(e["isFinalInvokeForWindow"], e["isWindowTerminatedEarly"]) for e in events] == [
        (False, False), (True, True)]
    assert events[1]["Records"] == [] and len(events[1]["state"]["blob"]) > 1024 * 1024
    assert lab.journal(kind="window.terminated_early")


# -- 8.1 Kinesis records over the 6 MB invoke cap ----------------------------------------------

@pytest.mark.parametrize("retries", [0, 2])
def test_a_record_over_the_6_mb_invoke_cap_never_reaches_the_function_and_uses_up_retries(
        lab, retries):
    setup(lab, BatchSize=1, MaximumRetryAttempts=retries)
    lab.update_max_record_size("s", 10240)
    big, after = put_all(lab, ["x" * (7 * 1024 * 1024), "small"])
    lab.run_until_idle()
    # only the next record reached the function
    assert [payload_texts(i) for i in invs(lab)] == [["small"]]
    assert len(lab.journal(kind="invoke.refused")) == retries + 1
    [record] = records_at_dest(lab)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == retries + 1
    assert "responseContext" not in record
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == big


def test_max_record_size_in_kib_bounds_what_a_stream_takes(lab):
    from esmlab.errors import AwsError
    lab.create_stream("s")
    with pytest.raises(AwsError) as err:
        lab.put_record("s", "k", "x" * (1024 * 1024 + 1))
    assert err.value.code == "ValidationException"
    with pytest.raises(AwsError):
        lab.update_max_record_size("s", 10241)
    lab.update_max_record_size("s", 2048)
    lab.put_record("s", "k", "x" * (2 * 1024 * 1024))
    assert lab.engine.streams.info("s")["max_record_kib"] == 2048


# -- audit against recorded events ---------------------------------------------------------------

def test_dynamodb_size_bytes_match_the_recorded_events():
    # LocalStack's AWS-validated DynamoDB ESM snapshots: SizeBytes 70, 32, 46, 20.
    from esmlab.engine.payloads import item_size
    s = lambda v: {"S": v}  # noqa: E731
    assert item_size({"my_partition_key": s("hello world")}) + item_size(
        {"binary_key": {"B": "Zm9vYmFy"}, "my_partition_key": s("hello world")}) == 70
    keys = {"id": s("id_value")}
    assert item_size(keys) + item_size({"id2": s("id2_value"), "id": s("id_value")}) == 32
    assert item_size(keys) + item_size({"id2": s("id2_new_value"), "id": s("id_value")}) \
        + item_size(keys) == 46
    assert item_size(keys) + item_size(keys) == 20
