"""Names and ARNs of lab resources.

The lab lives in one fixed Region and account, so every ARN is predictable
and a scenario can write them by hand.
"""

REGION = "us-east-1"
ACCOUNT = "123456789012"


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


def stream_arn(name: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def table_stream_arn(name: str, label: str) -> str:
    return f"{table_arn(name)}/stream/{label}"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def mapping_arn(uuid: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{uuid}"


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def role_arn(name: str = "esmlab-role") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def service_of(arn: str) -> str:
    """'sqs', 'kinesis', 'dynamodb', 'sns', 's3', 'lambda' or '' for a non-ARN."""
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 and parts[0] == "arn" else ""


def name_of(arn: str) -> str:
    """The resource name an ARN points at (queue, stream, table, topic, bucket)."""
    service = service_of(arn)
    tail = arn.split(":", 5)[-1]
    if service == "kinesis":
        return tail.split("/", 1)[1] if "/" in tail else tail
    if service == "dynamodb":
        return tail.split("/")[1] if "/" in tail else tail
    return tail


def unqualified(arn: str) -> str:
    """A function ARN without its version or alias qualifier."""
    return ":".join(arn.split(":")[:7])


def qualifier_of(arn: str) -> str | None:
    """The version or alias of a qualified function ARN (None when unqualified)."""
    parts = arn.split(":")
    return parts[7] if len(parts) > 7 else None
