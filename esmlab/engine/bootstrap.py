"""Inside the worker process: a small Lambda runtime for the user's handler.

`esmlab.engine.runtime` starts this module in a process of its own, one per
function, and talks to it over a socket. Whatever the handler does here
(`os._exit`, a segfault, endless recursion, a loop that never ends) ends
at most this process; the lab sees a Runtime.ExitError or a timeout.

It behaves as awslambdaric's bootstrap does: the handler is imported once
(the init phase), then called with (event, context) for each invocation;
an exception becomes `{errorMessage, errorType, requestId, stackTrace}` and
an `[ERROR]` log event; a return value that is not JSON is
Runtime.MarshalError. The root logger gets Lambda's text format, with the
request id, stamped in the lab's virtual time.

Log capture: file descriptors 1 and 2 are a file the lab reads after each
invocation, so `print`, `logging`, C-level writes and a dying
interpreter's last words all land in the invocation's log. One CloudWatch
event is one line; a log record or error that spans lines keeps its
newlines as "\\r" here (as awslambdaric's plain log sink does) and the lab
turns them back, so a traceback stays one event, as on AWS.

Only the standard library is imported before the handler is, so the
handler's own imports are what they would be on Lambda.
"""

from __future__ import annotations

import decimal
import importlib
import io
import json
import logging
import os
import select
import socket
import sys
import threading
import time
import traceback

# The service's limit on a synchronous invoke's response (AWS: "maximum
# allowed payload size (6291556 bytes)").
MAX_RESPONSE_BYTES = 6_291_556
NBSP = "\u00a0"  # awslambdaric indents stack traces in logs with no-break spaces

_request_id = ""
_virtual_ms = 0
_sends: list[dict] = []  # context.send_message calls of the current invocation


class Channel:
    """Length-prefixed messages over a socket (both ends use it)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def send(self, data: bytes) -> None:
        header = len(data).to_bytes(4, "big")
        if len(data) < 65536:
            self.sock.sendall(header + data)
        else:  # no copy of a big event
            self.sock.sendall(header)
            self.sock.sendall(data)

    def _exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def recv(self) -> bytes:
        return self._exactly(int.from_bytes(self._exactly(4), "big"))

    def poll(self, timeout_s: float) -> bool:
        return bool(select.select([self.sock], [], [], timeout_s)[0])

    def close(self) -> None:
        self.sock.close()


# -- the log sink ----------------------------------------------------------------


def _out():
    return sys.stdout


def emit(message: str) -> None:
    """Write one log event: inner newlines travel as "\\r", one "\\n" ends it."""
    body = message[:-1] if message.endswith("\n") else message
    _out().write(body.replace("\n", "\r") + "\n")


class LambdaLogSink:
    def log(self, msg: str, frame_type=None) -> None:
        emit(msg)

    def log_error(self, message_lines: list[str]) -> None:
        emit("\n".join(message_lines))


class LambdaLoggerHandler(logging.Handler):
    """The root logger's handler, as the Lambda Python runtime installs it."""

    def __init__(self, sink: LambdaLogSink):
        super().__init__()
        self.log_sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.log_sink.log(self.format(record))


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        record.tenant_id = None
        return True


def _setup_logging(sink: LambdaLogSink) -> None:
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler(sink)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)
    # Every log record is stamped in virtual time: the lab's clock does not
    # move while the handler runs, so each record carries the invocation's
    # start (Powertools' Logger reads the same field).
    plain = logging.getLogRecordFactory()

    def virtual_record(*args, **kwargs):
        record = plain(*args, **kwargs)
        record.created = _virtual_ms / 1000
        record.msecs = float(_virtual_ms % 1000)
        return record

    logging.setLogRecordFactory(virtual_record)


def _unbuffered(fd: int) -> io.TextIOWrapper:
    # As awslambdaric's Unbuffered streams: every write reaches the file at
    # once, so a process killed mid-invocation loses nothing it printed.
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                            errors="backslashreplace", write_through=True)


# -- the context object ------------------------------------------------------------


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self):
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None

    def __repr__(self):
        return (f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
                f"cognito_identity_pool_id={self.cognito_identity_pool_id}])")


class LambdaContext:
    """awslambdaric's context: names from the environment (so
    `memory_limit_in_mb` is a string, as on AWS), the remaining time on the
    lab's virtual clock."""

    def __init__(self, request_id: str, deadline_ms: int, arn: str, sink: LambdaLogSink):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = arn
        self.tenant_id = None
        self.client_context = None  # only a mobile SDK's Invoke carries one
        self.identity = CognitoIdentity()
        self._deadline_ms = deadline_ms
        self._sink = sink

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - _virtual_ms, 0)

    def log(self, msg) -> None:
        self._sink.log(str(msg))

    def send_message(self, QueueName: str, MessageBody: str) -> None:
        """A lab API, not awslambdaric's: send a message to a lab queue (name,
        URL or ARN) when this invocation ends, as the handler's SDK call
        would (it is how a handler makes a recursive loop in the lab)."""
        if not isinstance(QueueName, str) or not isinstance(MessageBody, str):
            raise TypeError("send_message takes QueueName and MessageBody as strings")
        _sends.append({"QueueName": QueueName, "MessageBody": MessageBody})

    def __repr__(self):
        return (f"LambdaContext([aws_request_id={self.aws_request_id},"
                f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
                f"function_name={self.function_name},"
                f"memory_limit_in_mb={self.memory_limit_in_mb},"
                f"function_version={self.function_version},"
                f"invoked_function_arn={self.invoked_function_arn},client_context=None,"
                f"identity={self.identity},tenant_id=None])")


# -- errors in AWS's shape ---------------------------------------------------------------


def make_error(message: str, error_type: str, stack: list[str] | None,
               request_id: str = "") -> dict:
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id, "stackTrace": stack or []}


def log_error(error: dict, sink: LambdaLogSink) -> None:
    head = "[ERROR]"
    if error["errorType"]:
        head += " " + error["errorType"] + (":" if error["errorMessage"] else "")
    if error["errorMessage"]:
        head += " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        for line in element.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append(NBSP * (len(line) - len(stripped)) + stripped)
    sink.log_error(lines)


def _user_frames(tb) -> list[str]:
    frames = traceback.extract_tb(tb)
    mine = __file__.rstrip("c")
    while frames and frames[0].filename.rstrip("c") == mine:
        frames.pop(0)
    return traceback.format_list(frames)


def load(spec: str):
    """Import `module:function` as the init phase does, with awslambdaric's
    fault types and messages (Runtime.ImportModuleError, ...)."""
    module_name, _, attr = spec.partition(":")
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise _Fault("Runtime.BuiltInModuleConflict",
                         f"Cannot use built-in module {module_name} as a handler module")
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        raise _Fault("Runtime.UserCodeSyntaxError",
                     f"Syntax error in module '{module_name}': {exc}",
                     [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound",
                     f"Handler '{attr}' missing on module '{module_name}'") from None


class _Fault(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace


def _json_default(value):
    # awslambdaric's encoder writes a Decimal as a number (boto3's DynamoDB
    # deserializer hands handlers Decimals).
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(response) -> tuple[str | None, dict | None]:
    try:
        text = json.dumps(response, default=_json_default, ensure_ascii=False)
    except Exception as exc:
        return None, make_error(f"Unable to marshal response: {exc}", "Runtime.MarshalError",
                                None)
    size = len(text.encode("utf-8"))
    if size > MAX_RESPONSE_BYTES:
        # The service's error for a synchronous invoke, not the runtime's:
        # two fields, and the response itself is dropped.
        return None, {"errorMessage": f"Response payload size ({size} bytes) exceeded maximum "
                                      f"allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                      "errorType": "Function.ResponseSizeTooLarge"}
    return text, None


# -- the loop ----------------------------------------------------------------------------


def invoke(handler, message: dict, event: bytes, sink: LambdaLogSink) -> tuple[dict, str | None]:
    """One invocation: (reply header, response JSON text or None)."""
    global _request_id, _virtual_ms, _sends
    _sends = []
    _request_id = message["request_id"]
    _virtual_ms = message["now_ms"]
    context = LambdaContext(_request_id, message["deadline_ms"], message["arn"], sink)
    try:
        response = handler(json.loads(event), context)
    except Exception:
        _type, value, tb = sys.exc_info()
        # str() of the exception may itself raise: then, as with the real
        # runtime, the error escapes the loop and the process exits with
        # status 1 (the lab reports Runtime.ExitError).
        error = make_error(str(value), type(value).__name__, _user_frames(tb), _request_id)
        log_error(error, sink)
        return {"error": error}, None
    text, error = marshal(response)
    if error is not None:
        if error["errorType"] == "Runtime.MarshalError":
            error["requestId"] = _request_id
            log_error(error, sink)
        return {"error": error}, None
    return {"ok": True}, text


def _flush_c_stdio() -> None:
    # A handler's C code (ctypes, an extension) writes through libc's
    # buffered stdout; flush it so its lines belong to this invocation.
    if "ctypes" in sys.modules:
        import ctypes
        try:
            ctypes.CDLL(None).fflush(None)
        except (OSError, AttributeError):
            pass


def _watch_parent(parent: int) -> None:
    # The lab may be killed while a handler spins: never outlive it.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main() -> None:
    conn = Channel(socket.socket(fileno=int(sys.argv[1])))
    parent = int(sys.argv[2])
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    sys.stdout = _unbuffered(1)
    sys.stderr = _unbuffered(2)
    sink = LambdaLogSink()
    setup = json.loads(conn.recv())
    sys.path[:] = setup["path"]
    global _virtual_ms
    _virtual_ms = setup["now_ms"]
    _setup_logging(sink)
    try:
        handler = load(setup["handler"])
    except _Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception:
        _type, value, tb = sys.exc_info()
        error = make_error(str(value), type(value).__name__, _user_frames(tb))
    else:
        error = None
    if error is not None:
        log_error(error, sink)
        conn.send(json.dumps({"init_error": error}).encode())
        sys.exit(1)
    conn.send(b'{"init": "ok"}')
    while True:
        try:
            message = json.loads(conn.recv())
            event = conn.recv()
        except EOFError:
            return
        reply, text = invoke(handler, message, event, sink)
        if _sends:
            reply["sends"] = _sends
        _flush_c_stdio()
        conn.send(json.dumps(reply, ensure_ascii=False).encode())
        if text is not None:
            conn.send(text.encode("utf-8"))


if __name__ == "__main__":
    main()
