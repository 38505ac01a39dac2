"""The starter lab every new ./lab.db begins with: a Kinesis stream with two
shards and a mapping, a standard queue with a DLQ and a mapping, a FIFO
queue with a mapping, and handlers the user can break. A little traffic is
already waiting, so the first Step shows a poll and an invocation. Built
from ordinary commands, so it replays like anything else."""

from __future__ import annotations

from esmlab.engine import arns


def build_starter(lab) -> None:
    lab.create_function("orders-handler", Timeout=3, duration={"fixed_ms": 200,
                                                               "per_record_ms": 10})
    lab.create_function("clicks-handler", Timeout=3, duration={"fixed_ms": 100,
                                                               "per_record_ms": 5})
    lab.create_function("payments-handler", Timeout=3, duration={"fixed_ms": 150,
                                                                 "per_record_ms": 10})
    lab.create_queue("orders-dlq")
    lab.create_queue("orders", {"VisibilityTimeout": "30", "RedrivePolicy": {
        "deadLetterTargetArn": arns.queue_arn("orders-dlq"), "maxReceiveCount": 3}})
    lab.create_queue("payments.fifo", {"FifoQueue": "true",
                                       "ContentBasedDeduplication": "true",
                                       "VisibilityTimeout": "30"})
    lab.create_stream("clicks", ShardCount=2)
    lab.create_mapping(label="clicks", FunctionName="clicks-handler",
                       EventSourceArn=arns.stream_arn("clicks"), StartingPosition="LATEST",
                       BatchSize=10)
    lab.create_mapping(label="orders", FunctionName="orders-handler",
                       EventSourceArn=arns.queue_arn("orders"), BatchSize=5)
    lab.create_mapping(label="payments", FunctionName="payments-handler",
                       EventSourceArn=arns.queue_arn("payments.fifo"), BatchSize=5)
    lab.step()  # the mappings become Enabled
    for n in range(1, 4):
        lab.send_message("orders", f"order {n}")
    for user in ("alice", "bob"):
        lab.put_record("clicks", user, f"{user} clicked")
    lab.send_message("payments.fifo", "pay 1 for alice", MessageGroupId="alice")
