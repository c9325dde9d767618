"""Pools of worker processes that emulate Lambda containers (DESIGN §5).

Handler modules keep per-request state at module level (powertools' resolver holds the current event), so
each worker is its own process with its own import of the handler and handles one event at a time. A
pool lends a free worker to one caller at a time; callers block until one is free.
"""
from __future__ import annotations

import collections
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

log = logging.getLogger("stocklink.local")


@dataclass
class InvocationResult:
    ok: bool
    payload: Any = None               # the handler's return value when ok
    error: str | None = None          # exception type (or Runtime.* / Sandbox.Timedout)
    traceback: str | None = None
    duration_ms: float = 0.0
    request_id: str = ""
    worker: str = ""


def function_environment(function, *, ddb_endpoint: str, aws_endpoint: str, extra: dict | None = None) -> dict:
    """The environment one function's containers run with: what CDK sets, pointed at the local services,
    plus the one flag that lets outbound calls reach the marketplace simulators on 127.0.0.1 (never set by
    the CDK stack: tests/infra asserts it)."""
    from infra.local.provision import table_env
    from stocklink.config import LOOPBACK_FLAG

    # Workers write bytecode (the Makefile's PYTHONDONTWRITEBYTECODE is not passed on): StockLink's own
    # modules were compiled again at every worker start, 40-75 ms of each function's cold import
    # (tests/bench/cold_import.py), where a deployment ships them compiled like its libraries.
    dropped = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "POWERTOOLS_", "STOCKLINK_")) and k not in dropped}
    env.update(table_env())
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "shared"), str(REPO_ROOT)]),
        "PYTHONUNBUFFERED": "1",
        "EVENT_BUS_NAME": "stocklink",
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": ddb_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": f"stocklink-{function.name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "POWERTOOLS_SERVICE_NAME": function.name,
        "POWERTOOLS_METRICS_NAMESPACE": "StockLink",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",          # as CDK sets it: no entry-point scan at cold start
        "OPENBLAS_NUM_THREADS": "1",                    # as CDK sets it: numpy starts no BLAS threads
        "STOCKLINK_LOCAL": "1",
        LOOPBACK_FLAG: "1",
    })
    if os.environ.get("STOCKLINK_WORKER_PROFILE"):   # opt-in cProfile of each container (infra/local/_worker)
        env["STOCKLINK_WORKER_PROFILE"] = os.environ["STOCKLINK_WORKER_PROFILE"]
    if extra:
        env.update(extra)
    return env


class Worker:
    """One container: a child process and a reader thread for its replies."""

    def __init__(self, function, index: int, env: dict, relay: Callable[[str, str], None] | None = None):
        self.function = function
        self.name = f"{function.name}#{index}"
        self.env = env
        self.relay = relay or (lambda name, line: sys.stderr.write(f"[{name}] {line}"))
        self.proc: subprocess.Popen | None = None
        self.replies: queue.Queue = queue.Queue()
        self.cold_start_ms: float | None = None      # handler import, measured in the child
        self.spawn_to_ready_ms: float | None = None  # process start to ready, measured here
        self.import_error: str | None = None
        self.invocations = 0

    def start(self) -> None:
        self.replies = queue.Queue()
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local._worker", self.function.handler, self.function.name],
            cwd=REPO_ROOT, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1,
            # Own session: a terminal Ctrl-C reaches only the runtime, which then stops workers in order.
            start_new_session=True)
        threading.Thread(target=self._read_replies, args=(self.proc,), daemon=True,
                         name=f"{self.name}-out").start()
        threading.Thread(target=self._relay_stderr, args=(self.proc,), daemon=True,
                         name=f"{self.name}-err").start()
        self._started = started

    def wait_ready(self, timeout: float = 60.0) -> None:
        try:
            hello = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"{self.name} did not start within {timeout:.0f} s") from None
        if hello is None:
            raise RuntimeError(f"{self.name} exited during start-up")
        self.spawn_to_ready_ms = (time.perf_counter() - self._started) * 1000
        self.cold_start_ms = hello["import_ms"]
        self.import_error = hello.get("error")
        if self.import_error:
            log.error("%s cannot import %s (every invocation will fail):\n%s",
                      self.name, self.function.handler, self.import_error)
        else:
            log.debug("%s cold start: import %.0f ms, process start to ready %.0f ms",
                     self.name, self.cold_start_ms, self.spawn_to_ready_ms)

    def _read_replies(self, proc) -> None:
        for line in proc.stdout:
            try:
                self.replies.put(json.loads(line))
            except ValueError:
                self.relay(self.name, line)
        self.replies.put(None)  # EOF: the process is gone

    def _relay_stderr(self, proc) -> None:
        for line in proc.stderr:
            self.relay(self.name, line)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def invoke(self, event: dict, request_id: str | None = None) -> InvocationResult:
        request_id = request_id or str(uuid.uuid4())
        fn = self.function
        request = {"event": event, "context": {
            "function_name": f"stocklink-{fn.name}",
            "invoked_function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:stocklink-{fn.name}",
            "memory_limit_in_mb": fn.memory_mb,
            "aws_request_id": request_id,
            "timeout_s": fn.timeout_s,
            "log_stream_name": self.name,
        }}
        started = time.monotonic()
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            reply = self.replies.get(timeout=fn.timeout_s + 2)  # Lambda's timeout, plus slack for the pipe
        except (BrokenPipeError, OSError, ValueError):
            reply = None
        except queue.Empty:
            # Lambda kills a timed-out container; the next invocation gets a fresh one.
            self.kill(graceful=False)
            return InvocationResult(False, error="Sandbox.Timedout",
                                    traceback=f"Task timed out after {fn.timeout_s} seconds",
                                    duration_ms=(time.monotonic() - started) * 1000,
                                    request_id=request_id, worker=self.name)
        self.invocations += 1
        if reply is None:
            self.kill()
            return InvocationResult(False, error="Runtime.ExitError", traceback="worker process exited",
                                    duration_ms=(time.monotonic() - started) * 1000,
                                    request_id=request_id, worker=self.name)
        return InvocationResult(reply["ok"], reply.get("result"), reply.get("error"), reply.get("traceback"),
                                reply.get("duration_ms", 0.0), request_id, self.name)

    def kill(self, graceful: bool = True) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        if not graceful:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
            return
        try:
            proc.stdin.close()  # a clean end: the worker's read loop finishes
        except (OSError, ValueError):
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)


class _FreeContainers:
    """The pool's free containers, lent in turn: callers waiting for one are served in arrival order, a freed
    container handed straight to the longest waiting (a queue.Queue lets a caller arriving just then take it
    first, and the waiter it woke goes back to the end of the line: under 32 clients on 3 containers that
    unfairness, not the work, set the flash sale's p99). Free containers are reused last freed first: as
    Lambda reuses a free warm environment, and its memory is still in the CPU's caches (a FIFO rotated calls
    over every container: ~1.6x the handler CPU per call, cpu_per_order)."""

    def __init__(self):
        self._free: list[Worker] = []
        self._waiting: collections.deque[list] = collections.deque()    # [container or None, Event]
        self._lock = threading.Lock()

    def get(self) -> "Worker":
        with self._lock:
            if self._free and not self._waiting:
                return self._free.pop()
            turn: list = [None, threading.Event()]
            self._waiting.append(turn)
        turn[1].wait()
        return turn[0]

    def put(self, worker: "Worker") -> None:
        with self._lock:
            if self._waiting:
                turn = self._waiting.popleft()
                turn[0] = worker
                turn[1].set()
            else:
                self._free.append(worker)


class WorkerPool:
    """`function.local_workers` containers of one function; `invoke` borrows a free one."""

    def __init__(self, function, env: dict, size: int | None = None, relay=None):
        self.function = function
        self.env = env
        self.size = size or function.local_workers
        self.relay = relay
        self.workers = [Worker(function, i + 1, env, relay) for i in range(self.size)]
        self._idle = _FreeContainers()
        self._async = ThreadPoolExecutor(max_workers=max(2, self.size * 2),
                                         thread_name_prefix=f"{function.name}-async")
        self.dead_letters: list[dict] = []
        self._closed = False

    def start(self) -> None:
        for w in self.workers:
            w.start()

    def wait_ready(self, timeout: float = 90.0) -> None:
        for w in self.workers:
            w.wait_ready(timeout)
            self._idle.put(w)

    def invoke(self, event: dict, request_id: str | None = None) -> InvocationResult:
        """Synchronous (RequestResponse) invocation; blocks until a container is free."""
        worker = self._idle.get()
        try:
            if not worker.alive:
                try:
                    worker.start()  # replaces a crashed or timed-out container: a new cold start
                    worker.wait_ready()
                except Exception as exc:  # noqa: BLE001 - reported as an invocation error
                    worker.kill(graceful=False)
                    return InvocationResult(False, error="Runtime.InitError", traceback=str(exc),
                                            request_id=request_id or "", worker=worker.name)
            return worker.invoke(event, request_id)
        finally:
            self._idle.put(worker)

    def invoke_async(self, event: dict, retries: int = 2, retry_delays: tuple[float, ...] = (1.0, 2.0),
                     on_done: Callable[[InvocationResult], None] | None = None):
        """Event invocation as EventBridge does it: retried twice on error, then dead-lettered."""

        def run() -> InvocationResult:
            result = None
            for attempt in range(retries + 1):
                if self._closed:
                    break
                result = self.invoke(event)
                if result.ok:
                    break
                if self._closed:     # the runtime is stopping: its containers were stopped under it
                    log.info("%s: an in-flight event was dropped by the stop", self.function.name)
                    return result
                log.warning("%s async invocation failed (attempt %d/%d): %s", self.function.name,
                            attempt + 1, retries + 1, (result.traceback or result.error or "").strip())
                if attempt < retries:
                    time.sleep(retry_delays[min(attempt, len(retry_delays) - 1)])
            if result is not None and not result.ok:
                self.dead_letters.append({"function": self.function.name, "event": event,
                                          "error": result.error, "traceback": result.traceback})
                log.error("%s: event dead-lettered after %d attempts: %s", self.function.name,
                          retries + 1, event.get("detail-type", event.get("id")))
            if on_done and result is not None:
                on_done(result)
            return result

        return self._async.submit(run)

    def cold_starts(self) -> list[tuple[str, float | None]]:
        return [(w.name, w.cold_start_ms) for w in self.workers]

    def begin_stop(self) -> None:
        """Asks every container to finish (stdin closed) without waiting: pools then exit in parallel."""
        self._closed = True
        self._async.shutdown(wait=False, cancel_futures=True)
        for w in self.workers:
            if w.proc is not None and w.proc.poll() is None:
                try:
                    w.proc.stdin.close()
                except OSError:
                    pass

    def stop(self) -> None:
        self.begin_stop()
        for w in self.workers:
            w.kill()
