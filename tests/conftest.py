"""Test-wide environment: fake AWS credentials and StockLink's table/bus names, set before any
stocklink module is imported (pynamodb models read table names at import)."""
import os

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "EVENT_BUS_NAME": "stocklink",
    "POWERTOOLS_SERVICE_NAME": "stocklink",
    "POWERTOOLS_METRICS_NAMESPACE": "StockLink",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
})
for _logical, _env in {"stock": "STOCK_TABLE", "ledger": "LEDGER_TABLE", "reservations": "RESERVATIONS_TABLE",
                       "events": "EVENTS_TABLE", "catalog": "CATALOG_TABLE"}.items():
    os.environ.setdefault(_env, f"stocklink-{_logical}")


import threading  # noqa: E402

import pytest  # noqa: E402
from moto.core.botocore_stubber import BotocoreStubber  # noqa: E402


def _serialise_moto() -> None:
    """moto's in-process backends are not thread-safe (one thread's UpdateItem can iterate an item another
    thread is changing: "dictionary changed size during iteration"); DynamoDB, SQS and EventBridge are.
    The handlers' thread pools stay concurrent in their own code; only moto answers one request at a time.
    Races on real DynamoDB semantics are tested against DynamoDB Local (tests/concurrency)."""
    process = BotocoreStubber.process_request
    lock = threading.RLock()

    def serialised(self, request):
        with lock:
            return process(self, request)

    BotocoreStubber.process_request = serialised


_serialise_moto()
from infra.local import moto_patches  # noqa: E402

moto_patches.apply()                                   # the local runtime's cost-only patches (same behaviour)
moto_patches.patch_dynamodb_transaction_backup()      # serialised above: see its docstring


@pytest.fixture(autouse=True)
def _fresh_container_caches():
    """Each test starts as a fresh Lambda container: no catalog document or priority cached by the last, no
    platform connection kept open by it."""
    from stocklink import outbound
    from stocklink.store import board, catalog, repository

    outbound.forget_connections()
    catalog.forget_cached()
    board.forget_cached()
    repository.forget_warehouse_priorities()
    yield
