"""StockLink on a laptop: DynamoDB Local + moto + worker pools + gateway + bus + scheduler, all built from
the topology (infra/topology.py). `infra.local.cli local` runs one; tests may pass a test topology.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

from infra.local.bus import EventBus, Scheduler, Topics
from infra.local.console_files import ConsoleFiles
from infra.local.control import LocalControl
from infra.local.dynamodb_local import DynamoDBLocal
from infra.local.gateway import Gateway
from infra.local.moto_server import MotoServer
from infra.local.workers import REGION, REPO_ROOT, WorkerPool, function_environment

log = logging.getLogger("stocklink.local")

API_TOKENS_SECRET = "stocklink/api-tokens"
DEFAULT_DATA_DIR = REPO_ROOT / ".stocklink" / "data"


def default_topology():
    from infra import topology

    return topology


class LocalRuntime:
    def __init__(self, topology=None, *, port: int = 8080, data_dir: str | os.PathLike | None = None,
                 in_memory: bool = False, schedule_interval: float | None = None,
                 schedule_intervals: dict[str, float] | None = None,
                 dev_token: str | None = None, extra_env: dict | None = None, relay=None):
        self.topology = topology or default_topology()
        self.port = port
        self.in_memory = in_memory
        self.data_dir = None if in_memory else Path(data_dir or DEFAULT_DATA_DIR)
        self.schedule_interval = schedule_interval
        self.schedule_intervals = dict(schedule_intervals or {})   # one schedule's own rate (the demo's poller)
        self.dev_token = dev_token
        self.extra_env = extra_env or {}
        self.relay = relay
        self.ddb: DynamoDBLocal | None = None
        self.moto: MotoServer | None = None
        self.pools: dict[str, WorkerPool] = {}
        self.gateway: Gateway | None = None
        self.bus: EventBus | None = None
        self.scheduler: Scheduler | None = None
        self.topics: Topics | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return self.gateway.url

    # -- start -----------------------------------------------------------------------------------
    def start(self) -> "LocalRuntime":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from infra.local.provision import create_tables, table_env

        t0 = time.perf_counter()
        if self.data_dir is not None:
            self._lock_data_dir()
        # Bind the gateway port first: a taken port should fail before java and workers start.
        self.gateway = Gateway(self.topology.ROUTES, self._invoke_for_gateway, port=self.port,
                               console=ConsoleFiles(), control=LocalControl(
                                   lambda: self.dev_token, lambda: self.scheduler, self.platform_queues))
        self.ddb = DynamoDBLocal(data_dir=None if self.data_dir is None else self.data_dir / "dynamodb").start()
        self.moto = MotoServer(secrets_file=None if self.data_dir is None else self.data_dir / "secrets.json")
        self.moto.start()
        log.info("DynamoDB Local at %s (%s), moto at %s", self.ddb.endpoint_url,
                 "in memory" if self.data_dir is None else self.data_dir / "dynamodb", self.moto.endpoint_url)

        # SNS topics (alerts) with their queue consumers; workers learn the topic ARNs from the environment.
        self.topics = Topics(self.moto, getattr(self.topology, "TOPICS", ()),
                             [q for q in (*getattr(self.topology, "TOPIC_QUEUES", ()),
                                          *getattr(self.topology, "PLATFORM_QUEUES", ()))
                              if q.function in {f.name for f in self.topology.FUNCTIONS}], self._invoke_sync,
                             echo=(lambda line: self.relay("alerts", line)) if self.relay else None)

        # Workers import their handlers while the tables, secret and bus are provisioned.
        for fn in self.topology.FUNCTIONS:
            env = function_environment(fn, ddb_endpoint=self.ddb.endpoint_url, aws_endpoint=self.moto.endpoint_url,
                                       extra={**self._queue_env(), **self._function_env(fn.name), **self.extra_env})
            pool = WorkerPool(fn, env, relay=self.relay)
            pool.start()
            self.pools[fn.name] = pool

        os.environ.update(table_env())  # create_tables reads the physical names from the environment
        import boto3

        ddb_client = boto3.client("dynamodb", endpoint_url=self.ddb.endpoint_url, region_name=REGION,
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
        create_tables(ddb_client)
        self.dev_token = self._provision_api_token(self.dev_token)
        self.bus = EventBus(self.moto, getattr(self.topology, "EVENT_RULES", ()), self._dispatch_async,
                            invoke=self._invoke_sync, concurrency=lambda fn: self.pools[fn].size)
        self.bus.provision()
        self.topics.provision()

        for pool in self.pools.values():
            pool.wait_ready()
        self.gateway.start()
        self.bus.start()
        self.topics.start()
        self.scheduler = Scheduler(getattr(self.topology, "SCHEDULES", ()), self._invoke_sync,
                                   self.schedule_interval, self.schedule_intervals)
        self.scheduler.start()
        imports = {}                 # one line, not one per container: the terminal is for requests
        for name, pool in self.pools.items():
            measured = [ms for _, ms in pool.cold_starts() if ms is not None]
            if measured:
                imports[name] = max(measured)
        slowest = sorted(imports.items(), key=lambda item: -item[1])[:3]
        log.info("started in %.1f s (%d functions, %d containers; slowest imports: %s)",
                 time.perf_counter() - t0, len(self.pools), sum(p.size for p in self.pools.values()),
                 ", ".join(f"{name} {ms:.0f} ms" for name, ms in slowest))

    def _lock_data_dir(self) -> None:
        """One runtime per data dir: two DynamoDB Local processes on one database file corrupt it."""
        import fcntl

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.data_dir / ".lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise RuntimeError(f"another StockLink runtime is using {self.data_dir} "
                               "(stop it, or pass --data-dir / --in-memory)") from None

    def _provision_api_token(self, token: str | None) -> str:
        """The dev token in `stocklink/api-tokens`: the given one, else the restored one, else a new one."""
        sm = self.moto.client("secretsmanager")
        try:
            current = json.loads(sm.get_secret_value(SecretId=API_TOKENS_SECRET)["SecretString"])
            exists = True
        except sm.exceptions.ResourceNotFoundException:
            current, exists = {"tokens": {}}, False
        tokens = dict(current.get("tokens") or {})
        if not token:
            token = next((t for t, info in tokens.items() if info.get("name") == "dev"), None)
        token = token or secrets.token_urlsafe(24)
        tokens = {t: info for t, info in tokens.items() if info.get("name") != "dev"}
        tokens[token] = {"name": "dev", "roles": ["admin"]}
        value = json.dumps({**current, "tokens": tokens})
        if exists:
            sm.put_secret_value(SecretId=API_TOKENS_SECRET, SecretString=value)
        else:
            sm.create_secret(Name=API_TOKENS_SECRET, SecretString=value,
                             Description="StockLink API bearer tokens (local runtime)")
        return token

    def wait_healthy(self, timeout: float = 60.0) -> tuple[bool, str]:
        """Polls GET /health through the gateway; (True, body) once it answers 200."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=10) as resp:
                    body = resp.read().decode(errors="replace")
                    if resp.status == 200:
                        return True, body
                    last = f"{resp.status} {body}"
            except urllib.error.HTTPError as exc:
                last = f"{exc.code} {exc.read().decode(errors='replace')[:300]}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.25)
        return False, last

    # -- invocation ------------------------------------------------------------------------------
    def _invoke_for_gateway(self, function: str, event: dict, request_id: str):
        return self.pools[function].invoke(event, request_id)

    def _queue_env(self) -> dict[str, str]:
        """Topic ARNs, plus every dead-letter queue the alert tick reports (topic queues and queued rules)."""
        env = self.topics.env()
        dlqs = json.loads(env.get("DEAD_LETTER_QUEUES", "{}"))
        dlqs.update({f"{r.name}-dlq": f"stocklink-local-{r.name}-dlq"
                     for r in getattr(self.topology, "EVENT_RULES", ()) if getattr(r, "queue", None)})
        if dlqs:
            env["DEAD_LETTER_QUEUES"] = json.dumps(dlqs)
        return env

    def _function_env(self, function: str) -> dict[str, str]:
        """A function's own event queue, where it may put events back with a delay (QueueDelivery.requeue)."""
        return {"REQUEUE_QUEUE": f"stocklink-local-{r.name}" for r in getattr(self.topology, "EVENT_RULES", ())
                if r.function == function and getattr(r, "queue", None) is not None and r.queue.requeue}

    def platform_queues(self) -> list[dict]:
        """The queues platforms deliver to (topology.PLATFORM_QUEUES), with their URLs on moto."""
        if self.topics is None:
            return []
        return [{"name": q.name, "function": q.function, "url": self.topics.queue_urls[q.name], "region": REGION}
                for q in getattr(self.topology, "PLATFORM_QUEUES", ()) if q.name in self.topics.queue_urls]

    def _invoke_sync(self, function: str, event: dict):
        return self.pools[function].invoke(event)

    def _dispatch_async(self, function: str, event: dict):
        return self.pools[function].invoke_async(event)

    def dead_letters(self) -> list[dict]:
        return [d for pool in self.pools.values() for d in pool.dead_letters]

    def cold_starts(self) -> dict[str, float | None]:
        return {name: ms for pool in self.pools.values() for name, ms in pool.cold_starts()}

    # -- stop ------------------------------------------------------------------------------------
    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        # Outside in: stop taking work, then the workers, then the services they talk to.
        sandbox = getattr(self, "sandbox_server", None)   # the demo's simulators (infra/local/demo/)
        if sandbox is not None:
            sandbox.shutdown()
            sandbox.server_close()
        for part in (self.gateway, self.scheduler, self.bus, self.topics):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001 - keep stopping the rest
                    log.exception("stopping %s", type(part).__name__)
        for pool in self.pools.values():
            pool.begin_stop()
        for pool in self.pools.values():
            pool.stop()
        if self.moto is not None:
            self.moto.stop()
        if self.ddb is not None:
            self.ddb.stop()
        if getattr(self, "_lock_file", None) is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    def __enter__(self) -> "LocalRuntime":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def topology_with(base=None, **overrides) -> SimpleNamespace:
    """A copy of a topology with some declarations replaced (tests add a rule or a function)."""
    base = base or default_topology()
    fields = {k: getattr(base, k) for k in ("FUNCTIONS", "ROUTES", "EVENT_RULES", "SCHEDULES", "TABLES")}
    fields.update({k: getattr(base, k, ()) for k in ("TOPICS", "TOPIC_QUEUES", "PLATFORM_QUEUES")})
    fields.update(overrides)
    return SimpleNamespace(**fields)
