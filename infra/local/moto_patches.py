"""Two hot paths of moto 5.x (pinned <6) that made the local stand-in, not StockLink, the busiest process
of a local flash sale. Applied once by MotoServer.start; behaviour is unchanged, only the cost.

Measured with py-spy on `python -m tests.bench.sync_latency` (samples holding the GIL in the runtime's
process): 45 % of the stand-in's CPU was SQS `receive_message` checking each returned message's retention
through `get_queue_attributes`, which rebuilds every attribute of the queue, including approximate
message counts over all its messages (O(queue length) per message received); 24 % was EventBridge
`put_events` building a fresh jsonpath parser (ply yacc tables) for each of the 8 default input paths, for
every target of every event.

A third, found with cProfile on moto's `put_events` (tests/bench/cpu_per_order.py had the runtime process at
~60 ms per reservation): SQS `send_message` reads `queue.attributes` for one flag, which counts the queue's
visible, delayed and in-flight messages, and each message's visibility check asks moto's `unix_time()`,
which builds two datetimes (~30 us). A queue holding a batching window's records (sales: up to 200 for 5 s)
made each send cost milliseconds. `time.time()` is the same clock, without the datetimes. The same
`attributes` converts 14 attribute names from CamelCase each time: a pure function of the name, cached.

A fourth, found with py-spy on the runtime process during sequential reservations (~10 % of its samples):
moto's server resolves each request's backend by listing its own package directory (a listdir and an isdir
per service folder, ~200) on every request; the folders of an installed package do not change, so the list
is read once.
"""
from __future__ import annotations

import functools
import threading
import time

_lock = threading.Lock()
_applied = False


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        _patch_sqs_retention_check()
        _patch_jsonpath_parse()
        _patch_sqs_clock()
        _patch_backend_module_list()
        _applied = True


def _patch_sqs_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self, queue_name: str, message) -> bool:
        # moto's own reads the period through get_queue_attributes (all attributes, counts included)
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def _patch_jsonpath_parse() -> None:
    import jsonpath_ng.ext as ext

    # A parsed expression is immutable and find() keeps no state, so one per distinct path is enough.
    # moto imports `parse` inside EventTemplateParser.parse at each call, so the module attribute is
    # what it gets.
    if not hasattr(ext.parse, "cache_info"):
        ext.parse = functools.lru_cache(maxsize=256)(ext.parse)


def _patch_sqs_clock() -> None:
    import moto.sqs.models as sqs_models
    from moto.core.utils import unix_time

    # moto's unix_time(None) is (utcnow() - utcfromtimestamp(0)) in seconds: time.time(), the slow way.
    def fast_unix_time(dt=None) -> float:
        return time.time() if dt is None else unix_time(dt)

    def fast_unix_time_millis(dt=None) -> float:
        return fast_unix_time(dt) * 1000.0

    sqs_models.unix_time = fast_unix_time
    sqs_models.unix_time_millis = fast_unix_time_millis
    if not hasattr(sqs_models.camelcase_to_underscores, "cache_info"):
        sqs_models.camelcase_to_underscores = functools.lru_cache(maxsize=256)(sqs_models.camelcase_to_underscores)


def _patch_backend_module_list() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def patch_dynamodb_transaction_backup() -> None:
    """moto's TransactWriteItems backs up (deep-copies) the whole table once per item of the transaction, not
    once per table: a 99-item transaction on a table of n items copied it 99 times, O(items x n). A catalogue
    import's chunks (99 items each, into a growing ledger) took minutes and gigabytes in the in-process tests.
    Here each table is copied once per transaction; the backup restored on a failure is the same state.
    Callers serialise moto (tests/conftest.py), so swapping the module's `copy` for the call is safe."""
    import types

    from moto.dynamodb import models

    if getattr(models.DynamoDBBackend.transact_write_items, "_copies_once", False):
        return
    original = models.DynamoDBBackend.transact_write_items
    real_copy = models.copy

    def transact_write_items(self, transact_items):
        copies: dict[int, object] = {}

        def deepcopy(obj, *args, **kwargs):
            if isinstance(obj, models.Table):
                if id(obj) not in copies:
                    copies[id(obj)] = real_copy.deepcopy(obj, *args, **kwargs)
                return copies[id(obj)]
            return real_copy.deepcopy(obj, *args, **kwargs)

        models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=real_copy.copy)
        try:
            return original(self, transact_items)
        finally:
            models.copy = real_copy

    transact_write_items._copies_once = True
    models.DynamoDBBackend.transact_write_items = transact_write_items
