"""`esmlab import`: SAM, CloudFormation and Terraform into a lab, then played."""

from pathlib import Path

import pytest

from esmlab.cli import main
from esmlab.imports import TemplateError, build_lab, read_plan

T = Path(__file__).parent / "fixtures" / "templates"


def _import(tmp_path, name, **parameters):
    plan = read_plan(str(T / name), parameters)
    return plan, build_lab(plan, str(tmp_path / "lab.db"))


def _mapping(lab, label):
    return next(m for m in lab.engine.mappings.all_rows() if m["label"] == label)


def test_sam_sqs_event_becomes_a_mapping_on_the_queue_with_its_dlq(tmp_path):
    plan, lab = _import(tmp_path, "sam-sqs.yaml", Stage="dev")
    assert lab.engine.queues.info("orders-dev").dlq_name == "orders-dlq-dev"
    m = _mapping(lab, "orders-dev")
    assert m["function"] == "OrderWorker"
    assert m["config"]["BatchSize"] == 5   # the parameter's default, through !Ref
    assert m["config"]["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert lab.engine.functions.config("OrderWorker")["Timeout"] == 20   # from Globals
    assert plan.assumed == []
    # then played: a message sent to the queue reaches the function
    lab.send_message("orders-dev", "order 1")
    lab.advance(5)
    assert [i["status"] for i in lab.invocations()] == ["success"]


def test_a_parameter_without_default_is_assumed_and_said(tmp_path):
    plan, lab = _import(tmp_path, "sam-sqs.yaml")
    assert "orders-Stage" in lab.engine.queues.names()
    assert plan.assumed == ["parameter Stage has no default: assumed 'Stage' "
                            "(give --parameter Stage=VALUE)"]


def test_what_the_lab_does_not_model_is_listed_not_dropped(tmp_path):
    plan, _ = _import(tmp_path, "sam-sqs.yaml", Stage="dev")
    text = "\n".join(plan.not_modelled)
    assert "WorkerAlarm (AWS::CloudWatch::Alarm)" in text
    assert "OrderWorker.Events.Nightly (type Schedule" in text
    assert "Handler, Runtime, CodeUri, Policies" in text


def test_sam_fifo_queue_without_a_name_gets_a_fifo_name_and_a_fifo_dlq(tmp_path):
    _, lab = _import(tmp_path, "sam-fifo.yaml")
    assert lab.engine.queues.info("payments.fifo").dlq_name == "PaymentsDLQ.fifo"
    lab.send_message("payments.fifo", "pay 1", MessageGroupId="alice")
    lab.advance(5)
    assert lab.invocations()[0]["function"] == "payments-handler"


def test_sam_kinesis_with_condition_and_on_failure_destination(tmp_path):
    _, lab = _import(tmp_path, "sam-kinesis.yaml")
    assert len(lab.engine.streams.shards("clicks")) == 2   # !If IsProd (us-east-1) -> 2
    m = _mapping(lab, "clicks")
    c = m["config"]
    assert c["DestinationConfig"] == {"OnFailure": {
        "Destination": "arn:aws:sqs:us-east-1:123456789012:ClickFailures"}}   # SAM's Type dropped
    assert (c["BisectBatchOnFunctionError"], c["ParallelizationFactor"]) == (True, 2)
    assert lab.engine.functions.config("ClickFn")["Environment"] == {
        "Variables": {"TABLE": "sam-kinesis"}}   # !Ref AWS::StackName
    lab.set_behaviour("ClickFn", mode="fail")
    lab.put_record("clicks", "user-1", "click")
    lab.advance(600)
    assert lab.engine.queues.counts("ClickFailures")["total"] == 1   # retries ran out


def test_sam_dynamodb_stream_with_filter(tmp_path):
    _, lab = _import(tmp_path, "sam-dynamodb.yaml")
    m = _mapping(lab, "orders")
    assert "/stream/" in m["source_arn"]
    assert m["config"]["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}
    lab.advance(1)   # LATEST is taken when the mapping is enabled
    lab.do("put_item", TableName="orders", Item={"pk": {"S": "a"}})
    lab.do("put_item", TableName="orders", Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    lab.advance(5)
    assert [i["size"] for i in lab.invocations()] == [1]   # the MODIFY was filtered out


def test_raw_cloudformation_mapping_in_json(tmp_path):
    plan, lab = _import(tmp_path, "cfn-mapping.json")
    m = _mapping(lab, "JobsMapping")
    assert (m["function"], m["config"]["BatchSize"]) == ("jobs-worker", 20)
    assert m["config"]["MaximumBatchingWindowInSeconds"] == 5
    assert "JobsRole (AWS::IAM::Role)" in plan.not_modelled
    lab.send_message("jobs", "job 1")
    lab.advance(30)
    assert len(lab.invocations()) == 1


def test_terraform_queue_dlq_and_mapping_with_jsonencode(tmp_path):
    plan, lab = _import(tmp_path, "terraform-sqs", environment="prod")
    assert lab.engine.queues.info("shop-prod-orders").dlq_name == "shop-prod-orders-dlq"
    c = _mapping(lab, "orders")["config"]
    assert c["FilterCriteria"] == {"Filters": [{"Pattern": '{"body":{"type":["order"]}}'}]}
    assert c["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert lab.engine.functions.config("order-worker")["ReservedConcurrentExecutions"] == 10
    assert lab.engine.functions.config("order-worker")["Environment"] == {
        "Variables": {"STAGE": "prod"}}
    assert "aws_iam_role.worker" in plan.not_modelled
    lab.send_message("shop-prod-orders", '{"type": "order"}')
    lab.send_message("shop-prod-orders", '{"type": "refund"}')
    lab.advance(10)
    assert [i["size"] for i in lab.invocations()] == [1]


def test_terraform_streams_and_a_data_source_mapping_left_out(tmp_path):
    plan, lab = _import(tmp_path, "terraform-kinesis.tf")
    labels = {m["label"] for m in lab.engine.mappings.all_rows()}
    assert labels == {"events", "users"}
    assert any("data.aws_kinesis_stream.shared.arn reads a data source" in n
               for n in plan.not_modelled)
    assert _mapping(lab, "events")["config"]["DestinationConfig"]["OnFailure"]["Destination"] \
        == "arn:aws:sns:us-east-1:123456789012:stream-failures"


def test_a_mapping_aws_would_refuse_is_left_out_with_aws_message(tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text("""
Resources:
  Q: {Type: AWS::SQS::Queue, Properties: {QueueName: q, VisibilityTimeout: 5}}
  F: {Type: AWS::Lambda::Function, Properties: {FunctionName: f, Timeout: 30}}
  M: {Type: AWS::Lambda::EventSourceMapping,
      Properties: {EventSourceArn: !GetAtt Q.Arn, FunctionName: !Ref F}}
""")
    plan = read_plan(str(template))
    lab = build_lab(plan, str(tmp_path / "lab.db"))
    assert lab.engine.mappings.all_rows() == []
    assert any(n.startswith("mapping M was not created:") and "visibility timeout" in n.lower()
               for n in plan.notes)


@pytest.mark.parametrize("text, words", [
    ("Resources: [1, 2", "not a readable template"),
    ("Description: no resources", "no Resources map"),
])
def test_a_file_that_is_not_a_template_is_refused(tmp_path, text, words):
    template = tmp_path / "t.yaml"
    template.write_text(text)
    with pytest.raises(TemplateError) as error:
        read_plan(str(template))
    assert words in str(error.value)


def test_cli_import_builds_the_lab_and_refuses_an_existing_one(tmp_path, capsys):
    lab = tmp_path / "mine.db"
    assert main(["import", str(T / "sam-fifo.yaml"), "--lab", str(lab), "--no-input"]) == 0
    out = capsys.readouterr().out
    assert "2 queues, 1 function, 1 mapping" in out and f"esmlab --lab {lab}" in out
    before = lab.read_bytes()
    assert main(["import", str(T / "sam-fifo.yaml"), "--lab", str(lab), "--no-input"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert lab.read_bytes() == before


def test_cli_import_writes_a_lesson_that_plays(tmp_path, capsys):
    lesson = tmp_path / "imported.yaml"
    assert main(["import", str(T / "terraform-kinesis.tf"), "--lab", str(tmp_path / "l.db"),
                 "--scenario", str(lesson), "--no-input"]) == 0
    capsys.readouterr()
    assert main(["play", str(lesson), "--quiet"]) == 0
