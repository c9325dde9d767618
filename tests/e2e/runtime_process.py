"""Start and stop `python -m infra.local.cli local` as a subprocess, as `make run` does (for tests and benches)."""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_PREFIX = "StockLink ready at "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def handlers_exist(*names: str) -> bool:
    return all((REPO_ROOT / "functions" / name / "handler.py").exists() for name in names)


def processes_with_env(needle: str) -> list[tuple[int, str]]:
    """(pid, cmdline) of live processes whose environment or command line contains `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            env = (entry / "environ").read_bytes().decode(errors="replace")
            state = next((line for line in (entry / "status").read_text().splitlines()
                          if line.startswith("State:")), "")
        except OSError:
            continue
        if "Z (zombie)" in state:
            continue
        if needle in env or needle in cmd:
            found.append((int(entry.name), cmd))
    return found


class RuntimeProcess:
    """One `infra.local.cli local` subprocess, its output collected in the background."""

    def __init__(self, *args: str, token: str | None = None, port: int | None = None, env: dict | None = None):
        self.port = port or free_port()
        self.token = token or secrets.token_urlsafe(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.args = [sys.executable, "-m", "infra.local.cli", "local", "--port", str(self.port), *args]
        self.env = {**os.environ, "STOCKLINK_DEV_TOKEN": self.token, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.lines: list[str] = []
        self.proc: subprocess.Popen | None = None
        self._ready = threading.Event()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def start(self, timeout: float = 90.0) -> "RuntimeProcess":
        self.proc = subprocess.Popen(self.args, cwd=REPO_ROOT, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._collect, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"local runtime did not become ready:\n{self.output[-4000:]}")
        return self

    def _collect(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith(READY_PREFIX):
                self._ready.set()

    def ddb_port(self) -> str | None:
        for line in self.lines:
            if "DynamoDB Local at http://127.0.0.1:" in line:
                return line.split("DynamoDB Local at http://127.0.0.1:")[1].split()[0]
        return None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60.0) -> int:
        """Stops like Ctrl-C and returns the exit code; asserts nothing of the runtime is left running."""
        ddb_port = self.ddb_port()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"runtime did not stop on {sig!r}:\n{self.output[-4000:]}")
        if ddb_port:
            # Workers carry the DynamoDB Local endpoint in their environment, java its port on the command line.
            leftovers = processes_with_env(f"127.0.0.1:{ddb_port}") + processes_with_env(f"-port {ddb_port} ")
            assert not leftovers, f"processes left after stop: {leftovers}"
        return code

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def running(*args: str) -> Iterator[RuntimeProcess]:
    """A started runtime for the block; stopped like Ctrl-C after it, which must exit 0 and leave nothing
    behind (unless the block already stopped it)."""
    runtime = RuntimeProcess(*args).start()
    try:
        yield runtime
    finally:
        if runtime.proc.poll() is None:
            code = runtime.stop()
            assert code == 0, f"runtime exited with {code}:\n{runtime.output[-4000:]}"


def demo_result(*args: str) -> tuple[dict, str]:
    """`local --demo --exit` in memory on free ports with `args` (the sale's size and flags), run to its end
    as a user would: (the summary it prints as `DEMO RESULT {...}`, its whole output). Fails when it exits
    non-zero, prints no result, or leaves a process of its runtime behind."""
    import json

    rt = RuntimeProcess("--in-memory", "--demo", "--exit", "--sandbox-port", "0", *args)
    rt.start()
    try:
        code = rt.proc.wait(timeout=240)    # a bound on waiting, not an assertion on speed
    except Exception:
        rt.kill()
        raise
    ddb_port = rt.ddb_port()
    if ddb_port:
        leftovers = processes_with_env(f"127.0.0.1:{ddb_port}") + processes_with_env(f"-port {ddb_port} ")
        assert not leftovers, f"processes left after --exit: {leftovers}"
    lines = [l for l in rt.lines if l.startswith("DEMO RESULT ")]
    assert code == 0 and lines, f"demo exited with {code}:\n{rt.output[-6000:]}"
    return json.loads(lines[-1][len("DEMO RESULT "):]), rt.output
