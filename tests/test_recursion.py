"""Recursive loop detection (reference 8.6, recorded in the stackd captures'
recursion_execution.json): a function that sends to the queue it reads is
stopped after 16 invocations of one chain unless RecursiveLoop is Allow."""

from __future__ import annotations

import pytest

from esmlab.engine import arns
from esmlab.engine.mappings import recursion
from esmlab.errors import AwsError
from tests.old_schema import UNDO_VERSION_8


def setup(lab, *, max_receive=3, vt=5):
    lab.create_function("loop", behaviour={"mode": "resend"})
    lab.create_queue("q-dlq")
    lab.create_queue("q", {"VisibilityTimeout": str(vt), "RedrivePolicy": {
        "deadLetterTargetArn": arns.queue_arn("q-dlq"), "maxReceiveCount": max_receive}})
    lab.create_mapping(label="m", FunctionName="loop", EventSourceArn=arns.queue_arn("q"),
                       BatchSize=1)


def ran(lab):
    return [i for i in lab.invocations(limit=1000) if i["status"] != "throttled"]


def test_a_recursive_loop_is_stopped_after_16_invocations_of_one_chain(lab):
    setup(lab)
    lab.send_message("q", "ping")
    lab.advance(60)
    invs = ran(lab)
    assert len(invs) == 16
    stopped = lab.journal(kind="recursion.stopped", limit=100)
    assert stopped and "invocation 17" in stopped[0]["reason"]
    assert sum(v for _, v in lab.metric_series("loop", recursion.METRIC)) == len(stopped)


def test_the_stopped_message_returns_and_reaches_the_dlq_per_redrive(lab):
    setup(lab, max_receive=3)
    lab.send_message("q", "ping")
    lab.advance(120)
    assert lab.engine.queues.counts("q")["total"] == 0
    [msg] = lab.engine.queues.page("q-dlq")
    assert msg["body"] == "ping" and msg["receive_count"] == 3
    assert len(lab.journal(kind="recursion.stopped", limit=100)) == 3
    assert len(ran(lab)) == 16


def test_each_invocation_of_the_chain_carries_its_lineage(lab):
    setup(lab)
    lab.send_message("q", "ping")
    lab.advance(60)
    fid = recursion.function_id(arns.function_arn("loop"))
    invs = ran(lab)
    headers = [i["event"]["Records"][0]["attributes"].get("AWSTraceHeader") for i in invs]
    assert headers[0] is None                           # the message the user sent
    assert headers[1].endswith(f"Lineage=1:{fid}:0")    # sent by invocation 1
    assert headers[15].endswith(f"Lineage=15:{fid}:14")
    assert len({h.split(";")[0] for h in headers[1:]}) == 1   # one Root for the chain


def test_recursive_loop_allow_lets_the_loop_run(lab):
    setup(lab)
    assert lab.put_function_recursion_config("loop", "Allow") == {"RecursiveLoop": "Allow"}
    assert lab.get_function_recursion_config("loop") == {"RecursiveLoop": "Allow"}
    lab.send_message("q", "ping")
    lab.advance(60)
    assert len(ran(lab)) > 16
    assert lab.journal(kind="recursion.stopped", limit=10) == []


def test_recursion_config_defaults_to_terminate_and_takes_only_aws_values(lab):
    lab.create_function("f")
    assert lab.get_function_recursion_config("f") == {"RecursiveLoop": "Terminate"}
    with pytest.raises(AwsError) as e:
        lab.put_function_recursion_config("f", "Sometimes")
    assert e.value.code == "ValidationException"


def test_a_user_send_without_lineage_starts_a_new_chain(lab):
    setup(lab)
    lab.send_message("q", "one")
    lab.advance(60)
    lab.send_message("q", "two")
    lab.advance(60)
    assert len(ran(lab)) == 32


def test_a_version_4_lab_gains_trace_headers_when_opened(tmp_path):
    import sqlite3

    from esmlab.lab import Lab
    path = tmp_path / "old.db"
    lab = Lab.create(path, name="t", seed=3)
    setup(lab)
    lab.send_message("q", "ping")
    lab.advance(5)
    journal = lab.journal_signature()
    lab.close()
    conn = sqlite3.connect(path)   # a lab written before version 5
    conn.executescript("ALTER TABLE messages DROP COLUMN trace_header; "
                       "ALTER TABLE invocations DROP COLUMN event_parts; "   # version 6
                       + UNDO_VERSION_8 +
                       "UPDATE meta SET value='4' WHERE key='schema_version';")
    conn.close()
    lab = Lab.open(path)
    lab.rebuild()
    assert lab.journal_signature() == journal
    assert len(lab.journal(kind="recursion.stopped", limit=10)) == 1
    lab.close()
