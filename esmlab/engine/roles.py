"""Execution roles: which actions a function's role allows, and what a
mapping needs from it.

Every lab function has a role. By default it allows what AWS's managed
execution policies grant (AWSLambdaSQSQueueExecutionRole,
AWSLambdaKinesisExecutionRole, AWSLambdaDynamoDBExecutionRole), so a mapping
on any source works out of the box, plus the write actions of the on-failure
destinations (what the Lambda console adds when you configure one: the
managed policies do not grant them). A lab command narrows or widens it.

Where the lab checks it, and with which words:
- CreateEventSourceMapping refuses a role that cannot read the source, with
  AWS's text: for SQS "The function execution role does not have permissions
  to call <Action> on SQS." (recorded on AWS, one action named); for streams
  "Cannot access stream <arn>. Please ensure the role can perform the
  GetRecords, GetShardIterator, DescribeStream, DescribeStreamSummary,
  ListShards, and ListStreams Actions on your stream." for Kinesis (recorded:
  GetRecords, GetShardIterator and DescribeStream are what it needs), and for
  DynamoDB streams "... GetRecords, GetShardIterator, DescribeStream, and
  ListStreams Actions on your stream in IAM." (as users quote it).
- A permission removed after the mapping exists makes polling fail: nothing
  is read, nothing is processed, and a stream mapping's LastProcessingResult
  says so (`problem_text`, lab wording: AWS's exact text for this case was
  not found recorded).
- A destination the role cannot write to makes the delivery fail
  (DestinationDeliveryFailures).
"""

from __future__ import annotations

from esmlab.engine import arns
from esmlab.errors import invalid

# The managed policies' actions (their policy documents, as AWS publishes them).
MANAGED_POLICIES = {
    "AWSLambdaSQSQueueExecutionRole": (
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
    "AWSLambdaKinesisExecutionRole": (
        "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
        "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:ListStreams",
        "kinesis:SubscribeToShard", "logs:CreateLogGroup", "logs:CreateLogStream",
        "logs:PutLogEvents"),
    "AWSLambdaDynamoDBExecutionRole": (
        "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
        "dynamodb:ListStreams", "logs:CreateLogGroup", "logs:CreateLogStream",
        "logs:PutLogEvents"),
}
DESTINATION_ACTIONS = {"sqs": "sqs:SendMessage", "sns": "sns:Publish", "s3": "s3:PutObject"}

DEFAULT_ACTIONS = tuple(sorted({a for actions in MANAGED_POLICIES.values() for a in actions}
                               | set(DESTINATION_ACTIONS.values())))

# What a mapping's poller calls, per source kind, in the order the lab checks.
SQS_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# Kinesis as recorded: Create is refused when GetRecords, GetShardIterator or
# DescribeStream is denied, and accepted when only DescribeStreamSummary,
# ListShards or ListStreams is (stackd kinesis_source.json, deny_*_stream).
STREAM_ACTIONS = {
    "kinesis": ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream"),
    "dynamodb": ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
                 "dynamodb:ListStreams"),
}

# A mapping reading through an enhanced fan-out consumer (recorded on AWS,
# stackd testdata/aws/lambda/kinesis_source.json: denying any one of these
# refused the mapping; denying DescribeStream, DescribeStreamConsumer or
# ListStreams did not).
CONSUMER_ACTIONS = ("kinesis:DescribeStreamSummary", "kinesis:ListShards",
                    "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:SubscribeToShard")


def _through_consumer(source_arn: str | None) -> bool:
    return bool(source_arn) and arns.service_of(source_arn) == "kinesis" \
        and "/consumer/" in source_arn


def default_role(function: str) -> dict:
    return {"RoleArn": arns.role_arn(f"{function}-role"), "Actions": list(DEFAULT_ACTIONS)}


def needed(source_kind: str, source_arn: str | None = None) -> tuple[str, ...]:
    if _through_consumer(source_arn):
        return CONSUMER_ACTIONS
    return SQS_ACTIONS if source_kind.startswith("sqs") else STREAM_ACTIONS[source_kind]


def missing(role: dict, source_kind: str, source_arn: str | None = None) -> list[str]:
    allowed = set(role.get("Actions") or ())
    return [a for a in needed(source_kind, source_arn) if a not in allowed]


def create_refusal(role: dict, source_kind: str, source_arn: str) -> str | None:
    """AWS's message refusing a mapping whose role cannot read the source, or None."""
    lacking = missing(role, source_kind, source_arn)
    if not lacking:
        return None
    if _through_consumer(source_arn):
        # AWS wording (recorded, kinesis_source.json deny_*_consumer).
        return (f"Cannot access event source {source_arn}. Please ensure the role can perform "
                "the DescribeStreamSummary, ListShards, GetShardIterator and GetRecords "
                "actions on your stream and SubscribeToShard on your consumer.")
    if source_kind.startswith("sqs"):
        action = lacking[0].split(":", 1)[1]
        return f"The function execution role does not have permissions to call {action} on SQS."
    if source_kind == "kinesis":
        # Recorded on AWS (stackd kinesis_source.json, 2026).
        return (f"Cannot access stream {source_arn}. Please ensure the role can perform the "
                "GetRecords, GetShardIterator, DescribeStream, DescribeStreamSummary, "
                "ListShards, and ListStreams Actions on your stream.")
    # DynamoDB streams: AWS's text as users quote it from real accounts.
    return (f"Cannot access stream {source_arn}. Please ensure the role can perform the "
            "GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your "
            "stream in IAM.")


def problem_text(role: dict, source_kind: str, source_arn: str) -> str | None:
    """The lab's LastProcessingResult when the role lost a read permission."""
    lacking = missing(role, source_kind, source_arn)
    if not lacking:
        return None
    return (f"PROBLEM: The function execution role {role.get('RoleArn')} is not authorized to "
            f"perform {lacking[0]} on {source_arn}")


def can_write(role: dict, destination_kind: str | None) -> bool:
    action = DESTINATION_ACTIONS.get((destination_kind or "").removesuffix("-fifo"))
    return action is None or action in set(role.get("Actions") or ())


def changed(role: dict, grant: list[str] | None, revoke: list[str] | None) -> dict:
    actions = set(role.get("Actions") or ())
    bad = [a for a in [*(grant or []), *(revoke or [])]
           if not isinstance(a, str) or ":" not in a]
    if bad:
        raise invalid(f"Not an IAM action: {bad[0]!r}", own=True,
                      hint="write actions as service:Action, e.g. sqs:ReceiveMessage")
    actions |= set(grant or [])
    actions -= set(revoke or [])
    return {**role, "Actions": sorted(actions)}
