"""The container's thread pools, kept for its life: their threads (and their DynamoDB sessions) serve every
invocation. Shops of one event are pushed from `shops()`; independent requests (a shop's platform calls and
their bookkeeping, per-SKU reads) go to `io()`. Separate pools because shop threads wait on io tasks, and
io tasks never submit further work."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

PUSH_WORKERS = 8              # shops of one event pushed at once (each keeps its own limiter and retries)
IO_WORKERS = 16               # concurrent requests of the shops' threads (DynamoDB bookkeeping, platform calls)

_executors: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()
_warmed = False


def warm_once() -> None:
    """Build this container's AWS clients before the threads need them all at once (every function that
    reaches a pool, reconciliation and the staff API included, before their first thread)."""
    global _warmed
    if not _warmed:
        from stocklink.store.models import warm_clients

        warm_clients()
        _warmed = True


def _pool(name: str, workers: int) -> ThreadPoolExecutor:
    with _lock:
        if name not in _executors:
            warm_once()
            _executors[name] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        return _executors[name]


def shops() -> ThreadPoolExecutor:
    return _pool("channel-push", PUSH_WORKERS)


def io() -> ThreadPoolExecutor:
    return _pool("channel-push-io", IO_WORKERS)
