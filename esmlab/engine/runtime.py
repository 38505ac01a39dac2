"""Where a user's own handler runs: one worker process per function.

The lab never calls user code in its own process. Each function with a
`module:function` handler gets a worker (`bootstrap.py`), started on its
first invocation and kept warm, like a Lambda execution environment. The
worker is replaced when it dies, when it is stopped at a timeout, and when
what it was started with changes (the handler, the function's environment,
the module's file on disk).

The wall clock is read here and only here: a handler that has not answered
after min(Timeout, WALL_LIMIT_S) seconds is treated as running past its
Timeout and its worker is killed. The outcome is stored by the engine and
reused by every replay, so the lab stays a function of its commands.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.machinery
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from esmlab.engine import arns
from esmlab.engine.bootstrap import Channel

# A handler that has not returned after this much wall time is treated as
# running past its timeout (it "hangs").
WALL_LIMIT_S = 5.0
# Lambda gives the init phase (importing the handler) 10 seconds of its own.
INIT_LIMIT_S = 10.0
MAX_WORKERS = 16
# What one invocation may leave in the lab file; the rest is dropped (and
# the log says so), so a handler printing in a loop cannot fill the disk.
LOG_LIMIT_BYTES = 1 << 20
NO_ANSWER, DIED = "no answer", "died"
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")


def request_id(seed: int, *parts) -> str:
    """A deterministic UUID (version 4 layout, like Lambda's request ids)
    from the lab's seed and whatever names the invocation."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def log_stream_name(seed: int, function: str, start_ms: int) -> str:
    """One execution environment per function: its stream, named as AWS
    names them (date/[version]id), from the lab's start date and seed."""
    from esmlab.engine.payloads import iso
    day = iso(start_ms)[:10].replace("-", "/")
    return f"{day}/[$LATEST]{hashlib.blake2b(repr((seed, function)).encode(), digest_size=16).hexdigest()}"


def environment(config: dict, handler: str, stream: str) -> dict[str, str]:
    """The worker's environment: the function's own `Environment.Variables`
    and the variables Lambda sets (reserved ones win; they cannot be set)."""
    name = config["FunctionName"]
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin/:/bin"),
           "LANG": "en_US.UTF-8", "TZ": ":UTC"}
    if "LD_LIBRARY_PATH" in os.environ:
        env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
    env.update((config.get("Environment") or {}).get("Variables") or {})
    env.update({
        "_HANDLER": handler,
        "AWS_REGION": arns.REGION,
        "AWS_DEFAULT_REGION": arns.REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "LAMBDA_TASK_ROOT": os.getcwd(),
    })
    return env


@dataclass
class Reply:
    """What one invocation of a worker gave."""
    status: str                      # "success" | "error" | "timeout"
    response: object = None
    error: dict | None = None
    logs: list[str] = field(default_factory=list)       # events after START
    init_logs: list[str] = field(default_factory=list)  # events of a cold start
    sends: list[dict] = field(default_factory=list)     # context.send_message calls


class Worker:
    """One warm worker process and its log file."""

    def __init__(self, key: tuple, handler: str, env: dict, path: list[str], now_ms: int):
        self.key = key
        self.init_logs: list[str] = []
        self.init_error: dict | None = None
        self.init_timed_out = False
        fd, log_path = tempfile.mkstemp(prefix="esmlab-handler-", suffix=".log")
        os.close(fd)
        # O_APPEND: the worker's stdout and stderr share it and the lab
        # truncates it after each read, so writes always land at the end.
        self.log_fd = os.open(log_path, os.O_RDWR | os.O_APPEND)
        os.unlink(log_path)
        ours, theirs = socket.socketpair()
        self.proc = subprocess.Popen(
            [sys.executable, str(BOOTSTRAP), str(theirs.fileno()), str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=self.log_fd, stderr=self.log_fd,
            env=env, pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.conn = Channel(ours)
        self.closed = False
        self.conn.send(json.dumps({"handler": handler, "path": path,
                                         "now_ms": now_ms}).encode())
        reply = self._answer(INIT_LIMIT_S)
        self.init_timed_out = reply == NO_ANSWER
        if not isinstance(reply, dict) or "init_error" in reply:
            self.init_error = reply.get("init_error") if isinstance(reply, dict) else None
            self.stop()
        self.init_logs = self.read_logs()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self.closed

    def _answer(self, wait_s: float) -> dict | str:
        """The worker's next message, or NO_ANSWER, or DIED (then it has
        exited and its return code is known)."""
        try:
            if not self.conn.poll(wait_s):
                return NO_ANSWER
            return json.loads(self.conn.recv())
        except (EOFError, OSError):
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.stop()
            return DIED

    def read_logs(self) -> list[str]:
        size = os.fstat(self.log_fd).st_size
        data = os.pread(self.log_fd, min(size, LOG_LIMIT_BYTES), 0) if size else b""
        os.ftruncate(self.log_fd, 0)
        events = split_events(data.decode("utf-8", "replace"))
        if size > LOG_LIMIT_BYTES:
            events.append(f"[esmlab] {size - LOG_LIMIT_BYTES} more bytes of output were not "
                          "kept (the lab keeps 1 MiB per invocation)\n")
        return events

    def invoke(self, event_json: str, request: dict, wait_s: float) -> Reply:
        try:
            self.conn.send(json.dumps(request).encode())
            self.conn.send(event_json.encode("utf-8"))
        except OSError:
            pass  # it died; _answer says so
        reply = self._answer(wait_s)
        if reply == NO_ANSWER:  # still running at its timeout: stop it, as Lambda does
            self.stop()
            return Reply("timeout", logs=self.read_logs())
        if reply == DIED:
            self.stop()
            how = exit_description(self.proc.returncode)
            message = f"RequestId: {request['request_id']} Error: Runtime exited with error: {how}"
            return Reply("error", error={"errorType": "Runtime.ExitError",
                                         "errorMessage": message},
                         logs=self.read_logs() + [message + "\nRuntime.ExitError\n"])
        sends = reply.get("sends", [])
        if "error" in reply:
            return Reply("error", error=reply["error"], logs=self.read_logs(), sends=sends)
        text = self.conn.recv().decode("utf-8")
        return Reply("success", response=json.loads(text), logs=self.read_logs(), sends=sends)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
        self.proc.wait()
        self.conn.close()
        self.closed = True

    def close(self) -> None:
        self.stop()
        os.close(self.log_fd)


def split_events(text: str) -> list[str]:
    """Captured output as CloudWatch events: one per line, each ending in
    "\\n"; a "\\r" inside a line was a newline inside one log record."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.replace("\r", "\n") + "\n" for line in lines]


def exit_description(code: int) -> str:
    """How Lambda's runtime manager words a process exit."""
    if code is not None and code < 0:
        try:
            name = signal.strsignal(-code) or f"signal {-code}"
        except ValueError:
            name = f"signal {-code}"
        return f"signal: {name.lower()}"
    return f"exit status {code}"


class Runtime:
    """The warm workers of this process, keyed by what they were started with."""

    def __init__(self):
        self.workers: dict[str, Worker] = {}
        self.lock = threading.Lock()
        atexit.register(self.close)

    def run(self, handler: str, config: dict, event_json: str, *, request_id: str,
            now_ms: int, env: dict) -> Reply:
        name = config["FunctionName"]
        path = list(sys.path) if "" in sys.path or "." in sys.path else ["", *sys.path]
        key = (handler, _module_stamp(handler.partition(":")[0], path),
               tuple(sorted(env.items())), tuple(path))
        with self.lock:
            worker = self.workers.get(name)
            init_logs: list[str] = []
            if worker is None or worker.key != key or not worker.alive:
                if worker is not None:
                    worker.close()
                    del self.workers[name]
                try:
                    worker = Worker(key, handler, env, path, now_ms)
                except OSError as exc:  # no process could be started at all
                    return Reply("error", error={"errorType": "Runtime.Unknown",
                                                 "errorMessage": "Unknown application error "
                                                                 "occurred"},
                                 init_logs=[f"[esmlab] the lab could not start a process for "
                                            f"this handler: {exc}\n"])
                init_logs = worker.init_logs
                if worker.init_error is not None or not worker.alive:
                    worker.close()
                    return self._init_failed(worker, request_id, init_logs)
                self._evict()
                self.workers[name] = worker
            timeout_ms = config["Timeout"] * 1000
            request = {"request_id": request_id, "now_ms": now_ms,
                       "deadline_ms": now_ms + timeout_ms, "arn": config["FunctionArn"]}
            reply = worker.invoke(event_json, request, min(config["Timeout"], WALL_LIMIT_S))
            if not worker.alive:
                worker.close()
                self.workers.pop(name, None)
            reply.init_logs = init_logs
            return reply

    @staticmethod
    def _init_failed(worker: Worker, request_id: str, logs: list[str]) -> Reply:
        if worker.init_timed_out:  # the import itself ran past Lambda's 10 s init limit
            return Reply("timeout", init_logs=logs)
        if worker.init_error is not None:
            return Reply("error", error=worker.init_error, init_logs=logs)
        how = exit_description(worker.proc.returncode)
        message = f"RequestId: {request_id} Error: Runtime exited with error: {how}"
        return Reply("error", error={"errorType": "Runtime.ExitError", "errorMessage": message},
                     init_logs=logs + [message + "\nRuntime.ExitError\n"])

    def _evict(self) -> None:
        while len(self.workers) >= MAX_WORKERS:
            oldest = next(iter(self.workers))
            self.workers.pop(oldest).close()

    def close(self) -> None:
        with self.lock:
            for worker in self.workers.values():
                worker.close()
            self.workers.clear()


_origins: dict[tuple, str | None] = {}


def _module_stamp(module: str, path: list[str]):
    """Where the handler's module file is and when it last changed, found
    without importing it (its code runs only in the worker)."""
    key = (module, tuple(path))
    if key not in _origins:
        _origins[key] = _find_origin(module, path)
    origin = _origins[key]
    try:
        stat = os.stat(origin) if origin else None
    except OSError:
        stat = None
    if stat is None:
        _origins.pop(key, None)  # look again next time: it may appear
        return None
    return origin, stat.st_mtime_ns, stat.st_size


def _find_origin(module: str, path: list[str]) -> str | None:
    try:
        search: list[str] | None = path
        spec = None
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth]), search)
            if spec is None:
                return None
            search = list(spec.submodule_search_locations or [])
        return spec.origin if spec is not None and spec.has_location else None
    except (ImportError, ValueError, OSError):
        return None


RUNTIME = Runtime()
