"""Handlers for the lessons: ordinary Python, run by the lab as Lambda runs
them, in a worker process of their own."""

import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def crash_on_poison(event, context):
    """Logs each order; a record whose body says "poison" kills the process
    the way a native library's crash would (no exception, no cleanup)."""
    for record in event["Records"]:
        print(f"processing {record['body']}")
        if "poison" in record["body"]:
            logger.warning("this one will take the runtime down with it")
            os._exit(1)
        logger.info("done with message %s", record["messageId"])
