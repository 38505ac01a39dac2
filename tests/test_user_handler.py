"""A user's own handler (`module:function`) is called as Lambda would call
it, and its failures are treated as AWS treats them."""

import sys
import textwrap

import pytest

from esmlab.engine import arns

HANDLERS = textwrap.dedent("""
    import time
    CALLS = []

    def ok(event, context):
        CALLS.append(event)
        return {"remaining": context.get_remaining_time_in_millis(),
                "name": context.function_name, "n": len(event["Records"])}

    def boom(event, context):
        raise ValueError("bad order")

    def hang(event, context):
        time.sleep(3)

    def garbage(event, context):
        return object()

    def mutate(event, context):
        event["Records"].clear()
""")


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    (tmp_path / "myhandlers.py").write_text(HANDLERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("myhandlers", None)
    import myhandlers
    yield myhandlers
    sys.modules.pop("myhandlers", None)


def _run(lab, handler, timeout=3):
    lab.create_function("f", Timeout=timeout)
    lab.set_behaviour("f", mode="handler", handler=f"myhandlers:{handler}")
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "order 1")
    lab.advance(5)
    return lab.invocations(mapping="m")[0]


def test_the_handler_gets_the_event_and_a_context_on_the_virtual_clock(lab, handlers):
    inv = _run(lab, "ok", timeout=7)
    assert inv["status"] == "success"
    assert inv["response"]["response"] == {"remaining": 7000, "name": "f", "n": 1}
    assert handlers.CALLS[0]["Records"][0]["body"] == "order 1"


def test_an_exception_is_a_function_error_named_after_it(lab, handlers):
    inv = _run(lab, "boom")
    assert inv["status"] == "error"
    assert inv["error"] == {"errorType": "ValueError", "errorMessage": "bad order"}
    assert lab.engine.queues.counts("q")["in_flight"] == 1  # nothing deleted


def test_a_handler_that_hangs_times_out(lab, handlers):
    inv = _run(lab, "hang", timeout=1)
    assert inv["status"] == "timeout"
    assert "Task timed out after 1.00 seconds" in inv["error"]["errorMessage"]


def test_a_response_that_is_not_json_is_a_marshal_error(lab, handlers):
    inv = _run(lab, "garbage")
    assert inv["status"] == "error"
    assert inv["error"]["errorType"] == "Runtime.MarshalError"


def test_a_handler_changing_its_event_does_not_change_the_stored_event(lab, handlers):
    inv = _run(lab, "mutate")
    assert len(inv["event"]["Records"]) == 1


def test_a_replay_reuses_what_the_handler_returned_instead_of_calling_it(lab, handlers):
    _run(lab, "ok")
    journal = lab.journal_signature()
    calls = len(handlers.CALLS)
    lab.rebuild()
    assert len(handlers.CALLS) == calls
    assert lab.journal_signature() == journal
