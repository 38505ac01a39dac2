"""The control plane as AWS runs it: deletes leave mappings in place and make
them fail, execution-role permissions, versions and aliases, list filters and
AWS's exact error texts (reference 8.5). Each test is named after its rule."""

import pytest

from esmlab.engine import arns
from esmlab.errors import AwsError

STREAM = arns.stream_arn("clicks")
QUEUE = arns.queue_arn("jobs")


def stream_mapping(lab, function="worker", **params):
    if "clicks" not in lab.engine.streams.names():
        lab.create_stream("clicks")
    made = lab.create_mapping(FunctionName=function, EventSourceArn=STREAM,
                              StartingPosition="TRIM_HORIZON", **params)
    lab.run_until_idle()
    return made["UUID"]


def queue_mapping(lab, function="worker", **params):
    lab.create_queue("jobs")
    made = lab.create_mapping(FunctionName=function, EventSourceArn=QUEUE, **params)
    lab.run_until_idle()
    return made["UUID"]


def refused(call, *args, **kwargs) -> AwsError:
    with pytest.raises(AwsError) as caught:
        call(*args, **kwargs)
    return caught.value


# -- deletes -------------------------------------------------------------------------------


def test_a_mapping_survives_delete_function_and_get_still_answers_enabled(lab):
    lab.create_function("worker")
    uuid = stream_mapping(lab)
    lab.delete_function("worker")
    got = lab.engine.mappings.get(uuid)
    assert got["State"] == "Enabled" and got["FunctionArn"] == arns.function_arn("worker")


def test_after_delete_function_a_stream_mapping_reports_a_problem_and_processes_nothing(lab):
    lab.create_function("worker")
    uuid = stream_mapping(lab)
    lab.delete_function("worker")
    lab.put_record("clicks", "k", "hello")
    lab.run_until_idle()
    assert lab.engine.mappings.get(uuid)["LastProcessingResult"].startswith(
        "PROBLEM: Function not found")
    assert lab.invocations() == []
    assert [e["kind"] for e in lab.journal(kind="mapping.problem")] == ["mapping.problem"]


def test_a_recreated_function_resumes_the_mappings_a_deleted_one_left(lab):
    lab.create_function("worker")
    uuid = stream_mapping(lab)
    lab.delete_function("worker")
    lab.put_record("clicks", "k", "hello")
    lab.run_until_idle()
    lab.create_function("worker")
    lab.run_until_idle()
    assert lab.engine.mappings.get(uuid)["LastProcessingResult"] == "OK"
    assert len(lab.invocations()) == 1


def test_delete_queue_leaves_the_mapping_enabled_and_nothing_is_invoked(lab):
    lab.create_function("worker")
    uuid = queue_mapping(lab)
    lab.send_message("jobs", "m1")
    lab.delete_queue("jobs")
    lab.run_until_idle()
    assert lab.engine.mappings.get(uuid)["State"] == "Enabled"
    assert "LastProcessingResult" not in lab.engine.mappings.get(uuid)  # SQS omits it
    assert lab.invocations() == []
    assert lab.journal(kind="sqs.queue_deleted")


def test_delete_stream_leaves_the_mapping_enabled_with_stream_not_found(lab):
    lab.create_function("worker")
    uuid = stream_mapping(lab)
    lab.put_record("clicks", "k", "hello")
    lab.delete_stream("clicks")
    lab.run_until_idle()
    got = lab.engine.mappings.get(uuid)
    assert got["State"] == "Enabled"
    assert got["LastProcessingResult"] == f"PROBLEM: Stream not found: {STREAM}"


def test_delete_table_takes_its_stream_and_leaves_the_mapping_enabled(lab):
    lab.create_function("worker")
    lab.create_table("orders", ["id"], StreamSpecification={"StreamEnabled": True,
                                                            "StreamViewType": "NEW_IMAGE"})
    arn = lab.engine.tables.info("orders")["stream_arn"]
    made = lab.create_mapping(FunctionName="worker", EventSourceArn=arn,
                              StartingPosition="TRIM_HORIZON")
    lab.run_until_idle()
    lab.delete_table("orders")
    lab.run_until_idle()
    got = lab.engine.mappings.get(made["UUID"])
    assert got["State"] == "Enabled" and got["LastProcessingResult"] == \
        f"PROBLEM: Stream not found: {arn}"
    assert "orders" not in lab.engine.tables.names()


def test_deleting_a_dead_letter_queue_another_queue_uses_is_refused_with_a_hint(lab):
    lab.create_queue("dlq")
    lab.create_queue("jobs", {"RedrivePolicy": {"deadLetterTargetArn": arns.queue_arn("dlq"),
                                                "maxReceiveCount": 3}})
    error = refused(lab.delete_queue, "dlq")
    assert "jobs" in error.message and error.hint
    assert "dlq" in lab.engine.queues.names()


def test_delete_of_a_missing_function_is_not_found(lab):
    error = refused(lab.delete_function, "ghost")
    assert (error.code, error.status) == ("ResourceNotFoundException", 404)


# -- unknown UUIDs, filters ------------------------------------------------------------------


def test_unknown_uuid_on_get_update_and_delete_is_404_with_awss_exact_text(lab):
    for call in (lambda: lab.engine.mappings.get("nope"),
                 lambda: lab.update_mapping("nope", Enabled=False),
                 lambda: lab.delete_mapping("nope")):
        error = refused(call)
        assert (error.code, error.status, error.message) == (
            "ResourceNotFoundException", 404, "The resource you requested does not exist.")


def test_list_event_source_mappings_filters_and_unknown_names_give_an_empty_list(lab):
    lab.create_function("worker")
    queue_mapping(lab)
    listed = lab.engine.mappings.list
    assert len(listed(EventSourceArn=QUEUE)) == 1
    assert len(listed(FunctionName="worker")) == 1
    assert len(listed(FunctionName=arns.function_arn("worker"))) == 1
    assert listed(FunctionName="doesnotexist") == []
    assert listed(EventSourceArn=arns.queue_arn("somequeue")) == []
    assert listed(EventSourceArn=QUEUE, FunctionName="other") == []


def test_update_without_function_name_does_not_recheck_the_visibility_timeout(lab):
    lab.create_function("worker", Timeout=10)
    uuid = queue_mapping(lab)
    lab.update_function("worker", Timeout=60)  # now over the queue's 30 s
    lab.update_mapping(uuid, BatchSize=5)      # accepted: FunctionName not named
    lab.run_until_idle()
    error = refused(lab.update_mapping, uuid, FunctionName="worker")
    assert error.message.startswith("Queue visibility timeout: 30 seconds is less than")


# -- roles ------------------------------------------------------------------------------------


def test_create_refuses_a_role_that_cannot_read_the_queue_naming_the_action(lab):
    lab.create_function("worker")
    lab.update_role("worker", revoke=["sqs:GetQueueAttributes"])
    error = refused(queue_mapping, lab)
    assert (error.code, error.status) == ("InvalidParameterValueException", 400)
    assert error.message == ("The function execution role does not have permissions to call "
                             "GetQueueAttributes on SQS.")
    assert lab.engine.mappings.all_rows() == []


def test_create_refuses_a_role_that_cannot_read_the_stream(lab):
    lab.create_function("worker")
    lab.update_role("worker", revoke=["kinesis:GetRecords"])
    error = refused(stream_mapping, lab)
    assert error.message == (
        f"Cannot access stream {STREAM}. Please ensure the role can perform the GetRecords, "
        "GetShardIterator, DescribeStream, DescribeStreamSummary, ListShards, and ListStreams "
        "Actions on your stream.")


def test_create_accepts_a_kinesis_role_without_list_streams_as_recorded(lab):
    lab.create_function("worker")
    lab.update_role("worker", revoke=["kinesis:ListStreams", "kinesis:ListShards",
                                      "kinesis:DescribeStreamSummary"])
    assert lab.engine.mappings.get(stream_mapping(lab))["State"] == "Enabled"


def test_the_default_role_allows_what_the_managed_execution_policies_grant(lab):
    from esmlab.engine.roles import MANAGED_POLICIES
    lab.create_function("worker")
    actions = set(lab.engine.functions.role("worker")["Actions"])
    for policy in MANAGED_POLICIES.values():
        assert set(policy) <= actions


def test_a_permission_revoked_later_stops_processing_with_a_not_authorized_problem(lab):
    lab.create_function("worker")
    uuid = stream_mapping(lab)
    lab.update_role("worker", revoke=["kinesis:GetRecords"])
    lab.put_record("clicks", "k", "hello")
    lab.run_until_idle()
    result = lab.engine.mappings.get(uuid)["LastProcessingResult"]
    assert result.startswith("PROBLEM:") and "not authorized" in result
    assert lab.invocations() == []
    lab.update_role("worker", grant=["kinesis:GetRecords"])
    lab.run_until_idle()
    assert len(lab.invocations()) == 1 and lab.journal(kind="mapping.recovered")


def test_a_destination_the_role_cannot_write_to_counts_destination_delivery_failures(lab):
    lab.create_function("worker", behaviour={"mode": "fail"})
    lab.create_queue("failures")
    lab.update_role("worker", revoke=["sqs:SendMessage"])
    stream_mapping(lab, MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": arns.queue_arn("failures")}})
    lab.put_record("clicks", "k", "hello")
    lab.run_until_idle()
    assert lab.engine.queues.counts("failures")["total"] == 0
    assert sum(v for _, v in lab.metric_series("worker", "DestinationDeliveryFailures")) == 1


# -- versions and aliases ---------------------------------------------------------------------


def test_a_mapping_on_a_qualified_arn_keeps_the_qualifier_in_function_arn(lab):
    lab.create_function("worker")
    lab.publish_version("worker")
    uuid = stream_mapping(lab, function=arns.function_arn("worker") + ":1")
    assert lab.engine.mappings.get(uuid)["FunctionArn"] == arns.function_arn("worker") + ":1"


def test_update_retargets_a_mapping_to_an_alias_updating_then_enabled(lab):
    lab.create_function("worker")
    lab.publish_version("worker")
    lab.create_alias("worker", "live", "1")
    uuid = stream_mapping(lab, function="worker:1")
    answer = lab.update_mapping(uuid, FunctionName="worker:live")
    assert (answer["State"], answer["FunctionArn"]) == (
        "Updating", arns.function_arn("worker") + ":live")
    lab.run_until_idle()
    assert lab.engine.mappings.get(uuid)["State"] == "Enabled"


def test_a_mapping_on_an_unknown_version_is_refused_as_function_does_not_exist(lab):
    lab.create_function("worker")
    lab.create_stream("clicks")
    error = refused(lab.create_mapping, FunctionName="worker:7", EventSourceArn=STREAM,
                    StartingPosition="LATEST")
    assert error.message == "Function does not exist"


def test_executed_version_in_failure_records_follows_the_alias(lab):
    import json
    lab.create_function("worker", behaviour={"mode": "fail"})
    lab.publish_version("worker")
    lab.publish_version("worker")
    lab.create_alias("worker", "live", "2")
    lab.create_queue("failures")
    stream_mapping(lab, function="worker:live", MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": arns.queue_arn("failures")}})
    lab.put_record("clicks", "k", "hello")
    lab.run_until_idle()
    body = json.loads(lab.engine.queues.page("failures")[0]["body"])
    assert body["responseContext"]["executedVersion"] == "2"
    assert body["requestContext"]["functionArn"] == arns.function_arn("worker") + ":live"


# -- echoed fields ----------------------------------------------------------------------------


def test_get_echoes_kms_key_logging_config_and_list_tags_answers_the_tags(lab):
    lab.create_function("worker")
    lab.create_queue("jobs")
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    made = lab.create_mapping(FunctionName="worker", EventSourceArn=QUEUE, KMSKeyArn=key,
                              LoggingConfig={"SystemLogLevel": "WARN"}, Tags={"team": "a"})
    got = lab.engine.mappings.get(made["UUID"])
    assert (got["KMSKeyArn"], got["LoggingConfig"]) == (key, {"SystemLogLevel": "WARN"})
    assert "Tags" not in got and "Tags" not in made
    assert lab.engine.mappings.list_tags(made["UUID"]) == {"Tags": {"team": "a"}}


def test_parameters_of_sources_the_lab_does_not_simulate_are_refused(lab):
    lab.create_function("worker")
    lab.create_queue("jobs")
    error = refused(lab.create_mapping, FunctionName="worker", EventSourceArn=QUEUE,
                    Topics=["orders"])
    assert error.code == "InvalidParameterValueException" and "'topics'" in error.message
    assert error.hint
