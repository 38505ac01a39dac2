"""A user's own handler (`module:function`) is called as Lambda would call
it, in a worker process of its own: its failures are treated as AWS treats
them, nothing it does can stop the lab, and what it writes is its log."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from esmlab.engine import arns
from tests.old_schema import UNDO_VERSION_8

HANDLERS = textwrap.dedent("""
    import ctypes, json, logging, os, sys, time
    from pathlib import Path

    CALLS = Path(__file__).with_name("calls.jsonl")

    def ok(event, context):
        with CALLS.open("a") as f:
            f.write(json.dumps(event) + "\\n")
        return {"remaining": context.get_remaining_time_in_millis(),
                "name": context.function_name, "n": len(event["Records"])}

    def boom(event, context):
        raise ValueError("bad order")

    def hang(event, context):
        Path(__file__).with_name("pid").write_text(str(os.getpid()))
        while True:
            pass

    def garbage(event, context):
        return object()

    def mutate(event, context):
        event["Records"].clear()

    def exits(event, context):
        print("about to leave")
        os._exit(3)

    def exits_once(event, context):
        marker = Path(__file__).with_name("exited")
        if not marker.exists():
            marker.write_text("1")
            os._exit(1)
        return {"second": True}

    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no words for it")

    def bad_str(event, context):
        raise Unprintable()

    def recurse(event, context):
        def down(n):
            return down(n + 1) + 1
        return down(0)

    def segfault(event, context):
        ctypes.string_at(0)

    def big(event, context):
        return "x" * 7_000_000

    def talk(event, context):
        print("plain print")
        print("to stderr", file=sys.stderr)
        logging.getLogger().warning("two\\nlines")
        logging.getLogger().info("not shown: the root logger is at WARNING, as on Lambda")
        context.log("via context.log")
        return None

    def environ(event, context):
        names = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                 "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                 "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER",
                 "AWS_EXECUTION_ENV", "AWS_LAMBDA_INITIALIZATION_TYPE", "TZ", "TABLE_NAME",
                 "HOME_OF_THE_LAB"]
        return {n: os.environ.get(n) for n in names}

    def fields(event, context):
        return {"aws_request_id": context.aws_request_id,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
                "client_context": context.client_context, "tenant_id": context.tenant_id,
                "identity": [context.identity.cognito_identity_id,
                             context.identity.cognito_identity_pool_id]}
""")


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    (tmp_path / "myhandlers.py").write_text(HANDLERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _run(lab, handler, timeout=3, messages=1, **function):
    lab.create_function("f", Timeout=timeout, **function)
    lab.set_behaviour("f", mode="handler", handler=f"myhandlers:{handler}")
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"),
                       BatchSize=1)
    for n in range(messages):
        lab.send_message("q", f"order {n + 1}")
    lab.advance(5)
    return lab.invocations(mapping="m")[0]


def _calls(folder: Path) -> list:
    path = folder / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _messages(lab, inv) -> list[str]:
    return [e["message"] for e in lab.invocation_logs(inv["id"])]


def test_the_handler_gets_the_event_and_a_context_on_the_virtual_clock(lab, handlers):
    inv = _run(lab, "ok", timeout=7)
    assert inv["status"] == "success"
    assert inv["response"]["response"] == {"remaining": 7000, "name": "f", "n": 1}
    assert _calls(handlers)[0]["Records"][0]["body"] == "order 1"


def test_an_exception_is_a_function_error_in_the_runtimes_shape(lab, handlers):
    inv = _run(lab, "boom")
    assert inv["status"] == "error"
    error = inv["error"]
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad order")
    assert error["requestId"] == inv["request_id"]
    assert 'raise ValueError("bad order")' in error["stackTrace"][-1]
    assert all("bootstrap.py" not in frame for frame in error["stackTrace"])
    assert lab.engine.queues.counts("q")["in_flight"] == 1  # nothing deleted
    logged = [m for m in _messages(lab, inv) if m.startswith("[ERROR]")]
    assert logged[0].startswith("[ERROR] ValueError: bad order\nTraceback (most recent call last):")


def test_a_handler_spinning_past_its_timeout_is_stopped_and_times_out(lab, handlers):
    inv = _run(lab, "hang", timeout=1)
    assert inv["status"] == "timeout"
    assert inv["error"]["errorMessage"] == (
        f"2024-01-01T00:00:01.000Z {inv['request_id']} Task timed out after 1.00 seconds")
    pid = int((handlers / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker was killed, not left spinning
    messages = _messages(lab, inv)
    assert messages[-3] == (f"2024-01-01T00:00:01.000Z {inv['request_id']} "
                            "Task timed out after 1.00 seconds\n")
    assert messages[-1].endswith("Status: timeout\t\n")


def test_a_response_that_is_not_json_is_a_marshal_error(lab, handlers):
    inv = _run(lab, "garbage")
    assert inv["status"] == "error"
    assert inv["error"]["errorType"] == "Runtime.MarshalError"
    assert inv["error"]["errorMessage"] == (
        "Unable to marshal response: Object of type object is not JSON serializable")


def test_a_handler_changing_its_event_does_not_change_the_stored_event(lab, handlers):
    inv = _run(lab, "mutate")
    assert len(inv["event"]["Records"]) == 1


def test_os_exit_is_a_runtime_exit_error_and_the_next_invocation_gets_a_new_worker(
        lab, handlers):
    inv = _run(lab, "exits")
    assert inv["status"] == "error"
    assert inv["error"] == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {inv['request_id']} Error: Runtime exited with error: "
                        "exit status 3"}
    messages = _messages(lab, inv)
    assert "about to leave\n" in messages
    assert messages[-1].endswith("Status: error\tError Type: Runtime.ExitError\t\n")


def test_the_lab_carries_on_after_a_handler_kills_its_process(lab, handlers):
    _run(lab, "exits_once", messages=2)
    outcomes = [(i["status"], (i["response"] or {}).get("response"))
                for i in lab.invocations(mapping="m")]
    assert outcomes[0] == ("error", None)
    assert ("success", {"second": True}) in outcomes[1:]


def test_an_exception_whose_str_raises_ends_the_runtime_as_on_aws(lab, handlers):
    inv = _run(lab, "bad_str")
    assert inv["error"]["errorType"] == "Runtime.ExitError"
    assert inv["error"]["errorMessage"].endswith("Runtime exited with error: exit status 1")
    assert any("no words for it" in m for m in _messages(lab, inv))


def test_infinite_recursion_is_a_recursion_error(lab, handlers):
    inv = _run(lab, "recurse")
    assert inv["status"] == "error"
    assert inv["error"]["errorType"] == "RecursionError"
    assert inv["error"]["errorMessage"].startswith("maximum recursion depth exceeded")


def test_a_segfault_is_a_runtime_exit_error_naming_the_signal(lab, handlers):
    inv = _run(lab, "segfault")
    assert inv["error"]["errorType"] == "Runtime.ExitError"
    assert inv["error"]["errorMessage"].endswith(
        "Runtime exited with error: signal: segmentation fault")


def test_a_result_over_6_mb_is_function_response_size_too_large_and_not_stored(lab, handlers):
    inv = _run(lab, "big")
    assert inv["status"] == "error"
    assert inv["error"] == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size (7000002 bytes) exceeded maximum allowed "
                        "payload size (6291556 bytes)."}
    stored = lab.store.conn.execute(
        "SELECT max(length(result)) FROM handler_results").fetchone()[0]
    response = lab.store.conn.execute(
        "SELECT length(response) FROM invocations WHERE id=?", (inv["id"],)).fetchone()[0]
    assert stored < 10_000 and response < 10_000


def test_a_missing_module_is_runtime_import_module_error(lab, handlers):
    lab.create_function("g", Timeout=3)
    lab.set_behaviour("g", mode="handler", handler="no_such_module:handler")
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="g", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "x")
    lab.advance(2)
    error = lab.invocations(mapping="m")[0]["error"]
    assert error == {"errorMessage": "Unable to import module 'no_such_module': No module "
                                     "named 'no_such_module'",
                     "errorType": "Runtime.ImportModuleError", "requestId": "",
                     "stackTrace": []}


def test_a_missing_function_is_runtime_handler_not_found(lab, handlers):
    inv = _run(lab, "nope")
    assert inv["error"]["errorType"] == "Runtime.HandlerNotFound"
    assert inv["error"]["errorMessage"] == "Handler 'nope' missing on module 'myhandlers'"


def test_print_stderr_logging_and_context_log_are_the_invocations_log(lab, handlers):
    inv = _run(lab, "talk")
    rid = inv["request_id"]
    events = lab.invocation_logs(inv["id"])
    assert [e["message"] for e in events] == [
        f"START RequestId: {rid} Version: $LATEST\n",
        "plain print\n",
        "to stderr\n",
        f"[WARNING]\t2024-01-01T00:00:00.000Z\t{rid}\ttwo\nlines\n",
        "via context.log\n",
        f"END RequestId: {rid}\n",
        f"REPORT RequestId: {rid}\tDuration: 100.00 ms\tBilled Duration: 100 ms\t"
        "Memory Size: 128 MB\t\n",
    ]
    assert [e["at_ms"] for e in events] == [1704067200000] * 5 + [1704067200100] * 2


def test_a_built_in_behaviour_has_start_end_and_report_lines(lab):
    lab.create_function("f", Timeout=3, MemorySize=256)
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "x")
    lab.advance(2)
    inv = lab.invocations(mapping="m")[0]
    messages = _messages(lab, inv)
    assert [m.split(" ")[0] for m in messages] == ["START", "END", "REPORT"]
    assert "Memory Size: 256 MB" in messages[2]


def test_the_function_environment_and_lambdas_reserved_variables_are_set_in_the_worker(
        lab, handlers):
    inv = _run(lab, "environ", MemorySize=512,
               Environment={"Variables": {"TABLE_NAME": "orders"}})
    env = inv["response"]["response"]
    assert env["TABLE_NAME"] == "orders"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "f"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/f"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].startswith("2024/01/01/[$LATEST]")
    assert env["_HANDLER"] == "myhandlers:environ"
    assert env["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["TZ"] == ":UTC"
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ  # the lab's own process is untouched


def test_an_environment_change_reaches_the_next_invocation(lab, handlers):
    _run(lab, "environ", Environment={"Variables": {"TABLE_NAME": "orders"}})
    lab.update_function("f", Environment={"Variables": {"TABLE_NAME": "returns"}})
    lab.send_message("q", "again")
    lab.advance(5)
    assert lab.invocations(mapping="m")[-1]["response"]["response"]["TABLE_NAME"] == "returns"


@pytest.mark.parametrize("variables, code, message", [
    ({"AWS_REGION": "eu-west-1"}, "InvalidParameterValueException",
     "Lambda was unable to configure your environment variables because the environment "
     "variables you have provided contains reserved keys that are currently not supported for "
     "modification. Reserved keys used in this request: AWS_REGION"),
    ({"A": "x"}, "ValidationException",
     "1 validation error detected: Value at 'environment.variables' failed to satisfy "
     "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
     "pattern: [a-zA-Z]([a-zA-Z0-9_])+]"),
    ({"BIG": "x" * 5000}, "InvalidParameterValueException",
     "Lambda was unable to configure your environment variables because the environment "
     "variables you have provided exceeded the 4KB limit. String measured: "
     '{"BIG":"' + "x" * 5000 + '"}'),
])
def test_environment_variables_are_checked_as_create_function_checks_them(
        lab, variables, code, message):
    from esmlab.errors import AwsError
    with pytest.raises(AwsError) as caught:
        lab.create_function("f", Environment={"Variables": variables})
    assert (caught.value.code, caught.value.message) == (code, message)
    assert not lab.engine.functions.exists("f")


def test_the_context_object_is_awslambdarics(lab, handlers):
    inv = _run(lab, "fields", timeout=9, MemorySize=1024)
    fields = inv["response"]["response"]
    assert fields["aws_request_id"] == inv["request_id"]
    import uuid
    assert uuid.UUID(fields["aws_request_id"]).version == 4
    assert fields["memory_limit_in_mb"] == "1024"  # a string, as awslambdaric reads it
    assert fields["function_name"] == "f" and fields["function_version"] == "$LATEST"
    assert fields["invoked_function_arn"] == arns.function_arn("f")
    assert fields["log_group_name"] == "/aws/lambda/f"
    assert fields["log_stream_name"].startswith("2024/01/01/[$LATEST]")
    assert fields["remaining"] == 9000
    assert fields["client_context"] is None and fields["tenant_id"] is None
    assert fields["identity"] == [None, None]


def test_request_ids_are_deterministic_and_differ_between_invocations(tmp_path, handlers):
    from esmlab.lab import Lab

    def ids(path):
        lab = Lab.create(path, name="t", seed=7)
        _run(lab, "ok", messages=3)
        found = [i["request_id"] for i in lab.invocations()]
        lab.close()
        return found

    first, second = ids(tmp_path / "a.db"), ids(tmp_path / "b.db")
    assert first == second and len(set(first)) == 3


def test_a_caller_can_reuse_a_request_id(lab):
    from esmlab.engine.function import Item
    lab.create_function("f")
    with lab.store.transaction():
        inv_id, _ = lab.engine.functions.invoke(
            "f", {"Records": []}, [Item("1", "x", None, None)], mapping="m", source="s",
            attempt=2, request_id="0f6e3c1c-8a52-4c8e-9d6e-2f3b1a0c9d11")
    assert lab.engine.functions.invocation(inv_id)["request_id"] == (
        "0f6e3c1c-8a52-4c8e-9d6e-2f3b1a0c9d11")


def test_a_replay_reuses_the_stored_result_and_logs_instead_of_calling_the_handler(
        lab, handlers):
    inv = _run(lab, "ok")
    journal = lab.journal_signature()
    logs = lab.invocation_logs(inv["id"])
    calls = len(_calls(handlers))
    lab.rebuild()
    assert len(_calls(handlers)) == calls
    assert lab.journal_signature() == journal
    assert lab.invocation_logs(inv["id"]) == logs


POWERTOOLS = textwrap.dedent("""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    logger = Logger(service="orders")
    metrics = Metrics(namespace="Lab", service="orders")

    @metrics.log_metrics
    @logger.inject_lambda_context
    def handler(event, context):
        logger.info("processing", extra={"records": len(event["Records"])})
        metrics.add_metric(name="Processed", unit=MetricUnit.Count, value=1)
        return None
""")


def test_powertools_logger_and_metrics_lines_are_captured(lab, tmp_path, monkeypatch):
    pytest.importorskip("aws_lambda_powertools")
    (tmp_path / "pt_logs.py").write_text(POWERTOOLS)
    monkeypatch.syspath_prepend(str(tmp_path))
    lab.create_function("f", Timeout=3, behaviour={"mode": "handler",
                                                    "handler": "pt_logs:handler"})
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "x")
    lab.advance(5)
    inv = lab.invocations(mapping="m")[0]
    assert inv["status"] == "success", inv["error"]
    lines = [json.loads(m) for m in _messages(lab, inv) if m.startswith("{")]
    log = next(line for line in lines if line.get("message") == "processing")
    assert log["level"] == "INFO" and log["records"] == 1 and log["service"] == "orders"
    assert log["function_request_id"] == inv["request_id"]
    assert log["timestamp"].startswith("2024-01-01 00:00:00")  # virtual time
    emf = next(line for line in lines if "_aws" in line)
    assert emf["Processed"] == [1.0] or emf["Processed"] == 1.0
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Lab"


SCENARIO = """\
name: chatty
title: A handler that prints
see: its print does not reach the report's stdout.
resources:
  functions:
    - FunctionName: worker
      behaviour: {mode: handler, handler: "chatty:handler"}
  queues:
    - QueueName: orders
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:orders
steps:
  - send_message: {QueueName: orders, MessageBody: 'order 1'}
  - advance: 5s
"""


def test_a_handlers_print_never_corrupts_the_json_report(tmp_path):
    (tmp_path / "chatty.py").write_text(
        "import sys\n"
        "def handler(event, context):\n"
        "    print('} not json {')\n"
        "    print('neither is this', file=sys.stderr)\n")
    (tmp_path / "chatty.yaml").write_text(SCENARIO)
    done = subprocess.run([sys.executable, "-m", "esmlab", "play", "chatty.yaml",
                           "--report", "json"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    logs = doc["invocations"][0]["logs"]
    assert [e["message"] for e in logs][1:3] == ["} not json {\n", "neither is this\n"]
    assert "not json" not in done.stderr


def test_a_version_1_lab_gains_request_ids_and_logs_when_opened(tmp_path):
    import sqlite3

    from esmlab.lab import Lab
    path = tmp_path / "old.db"
    lab = Lab.create(path, name="t", seed=7)
    lab.create_function("f")
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "x")
    lab.advance(2)
    journal = lab.journal_signature()
    lab.close()
    conn = sqlite3.connect(path)  # make it a lab written by the round-1 esmlab
    conn.executescript("ALTER TABLE invocations DROP COLUMN request_id; "
                       "DROP TABLE invocation_logs; "
                       "ALTER TABLE commands DROP COLUMN end_ms; "
                       "ALTER TABLE handler_results DROP COLUMN digest; "
                       "ALTER TABLE messages DROP COLUMN dlq_source; "   # version 4
                       "ALTER TABLE messages DROP COLUMN trace_header; "   # version 5
                       "DROP TABLE message_move_tasks; "
                       "ALTER TABLE invocations DROP COLUMN event_parts; "   # version 6
                       + UNDO_VERSION_8 +
                       "UPDATE meta SET value='1' WHERE key='schema_version';")
    conn.close()
    lab = Lab.open(path)
    lab.rebuild()
    inv = lab.invocations()[0]
    assert inv["request_id"] and lab.invocation_logs(inv["id"])[0]["message"].startswith("START")
    assert lab.journal_signature() == journal
    lab.close()


def test_a_module_with_a_syntax_error_is_runtime_user_code_syntax_error(lab, tmp_path,
                                                                       monkeypatch):
    (tmp_path / "broken_syntax.py").write_text("def handler(event, context)\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lab.create_function("f", behaviour={"mode": "handler", "handler": "broken_syntax:handler"})
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "x")
    lab.advance(2)
    error = lab.invocations(mapping="m")[0]["error"]
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert error["errorMessage"].startswith("Syntax error in module 'broken_syntax': ")


def test_an_environment_value_that_is_not_a_string_is_refused(lab):
    from esmlab.errors import AwsError
    with pytest.raises(AwsError, match="Environment Variables must map names to strings"):
        lab.create_function("f", Environment={"Variables": {"PORT": 8080}})


def test_a_handler_printing_without_end_keeps_one_mib_of_log(lab, tmp_path, monkeypatch):
    (tmp_path / "loud.py").write_text(
        "def handler(event, context):\n"
        "    for n in range(40_000):\n"
        "        print('x' * 60)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lab.create_function("f", behaviour={"mode": "handler", "handler": "loud:handler"})
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "x")
    lab.advance(2)
    inv = lab.invocations(mapping="m")[0]
    assert inv["status"] == "success"
    messages = _messages(lab, inv)
    assert messages[-3].startswith("[esmlab] ") and "more bytes of output were not kept" in (
        messages[-3])
    stored = lab.store.conn.execute("SELECT length(events) FROM invocation_logs").fetchone()[0]
    assert stored < 1.2 * (1 << 20)


ENV_SCENARIO = """\
name: env
title: A function's Environment reaches its handler
see: TABLE_NAME is set in the worker.
resources:
  functions:
    - FunctionName: worker
      Environment: {Variables: {TABLE_NAME: orders}}
      behaviour: {mode: handler, handler: "myhandlers:environ"}
  queues:
    - QueueName: q
  mappings:
    - FunctionName: worker
      EventSourceArn: arn:aws:sqs:us-east-1:123456789012:q
steps:
  - send_message: {QueueName: q, MessageBody: 'x'}
  - advance: 2s
  - update_function: {FunctionName: worker, Environment: {Variables: {TABLE_NAME: returns}}}
  - send_message: {QueueName: q, MessageBody: 'y'}
  - advance: 2s
"""


def test_a_scenario_sets_and_changes_a_functions_environment_and_export_keeps_it(
        tmp_path, handlers):
    from esmlab.scenario.export import export_scenario
    from esmlab.scenario.loader import load_scenario_text
    from esmlab.scenario.player import Player

    player = Player.new(load_scenario_text(ENV_SCENARIO, "env.yaml"), tmp_path / "a.db")
    assert player.run().ok
    seen = [i["response"]["response"]["TABLE_NAME"] for i in player.lab.invocations()]
    assert seen == ["orders", "returns"]
    text = export_scenario(player.lab, "env again")
    assert "TABLE_NAME: orders" in text and "TABLE_NAME: returns" in text
    again = Player.new(load_scenario_text(text, "again.yaml"), tmp_path / "b.db")
    assert again.run().ok
    assert again.lab.journal_signature() == player.lab.journal_signature()


def test_context_send_message_is_recorded_with_the_result_and_replayed(lab, tmp_path,
                                                                        monkeypatch):
    (tmp_path / "forwarder.py").write_text(
        "def handler(event, context):\n"
        "    for record in event['Records']:\n"
        "        context.send_message(QueueName='out', MessageBody=record['body'])\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lab.create_function("f", behaviour={"mode": "handler", "handler": "forwarder:handler"})
    lab.create_queue("q", {"VisibilityTimeout": "30"})
    lab.create_queue("out")
    lab.create_mapping(label="m", FunctionName="f", EventSourceArn=arns.queue_arn("q"))
    lab.send_message("q", "order 1")
    lab.advance(2)
    inv = lab.invocations(mapping="m")[0]
    assert inv["response"]["sends"] == [{"QueueName": "out", "MessageBody": "order 1"}]
    lab.rebuild()
    assert lab.invocations(mapping="m")[0]["response"]["sends"] == inv["response"]["sends"]
