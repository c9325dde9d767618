"""DynamoDB requests per channel_push batch (counted at the botocore layer, on moto): the guard's read of a
batch's SKUs (listings, settings, stock, sync states) is the shared sync's too, so each is read once per
batch, and the batch's sales logs are read together. A count is behaviour: figures from
tests/bench/push_requests.py, which makes the same pushes against DynamoDB Local and the simulators."""
from __future__ import annotations

import collections

import botocore.client
import pytest

from tests.integration.test_channel_sync import SKU, fast_retries, linked, push, sqs_batch  # noqa: F401
from tests.sandbox_support import control, loopback_simulators, receiver, sandbox_base  # noqa: F401 (fixtures)


@pytest.fixture
def counted(monkeypatch):
    """Every AWS request made while the fixture is active: (operation, table) -> count."""
    calls: collections.Counter = collections.Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        calls[(operation, params.get("TableName") or ",".join(params.get("RequestItems") or ()))] += 1
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def _stock_changed_events(aws) -> list[dict]:
    return [e for e in aws.drain() if e["detail-type"] == "stock.changed"]


def _guard_on(linked) -> None:
    assert linked.put("/allocation/last-units", {"enabled": True}).status == 200


def _by_operation(calls) -> dict[str, int]:
    out: collections.Counter = collections.Counter()
    for (operation, _), n in calls.items():
        out[operation] += 1 * n
    return dict(out)


@pytest.mark.usefixtures("loopback_simulators")
def test_a_push_with_the_guard_on_reads_listings_and_stock_once(linked, aws, sandbox_base, counted):
    """One SKU on three shops, not at risk (plenty of stock), the last-units rule on: the guard decides from
    one read of the SKU and the shared sync pushes from the same read."""
    _guard_on(linked)
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": 100,
                                              "reason": "found"}).status == 201
    push(sqs_batch(*_stock_changed_events(aws)))                    # warm: shop records, limiters, policy
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                              "reason": "damaged"}).status == 201
    events = _stock_changed_events(aws)
    counted.clear()
    result = push(sqs_batch(*events))
    assert result == {"batchItemFailures": []}
    control_calls = {r["platform"]: r["quantity"] for r in control(sandbox_base, "GET", "listings")["listings"]}
    assert control_calls == {"tiktok": 105, "lazada": 105, "shopify": 105}
    queries = collections.Counter(table for (op, table), n in counted.items() if op == "Query" for _ in range(n))
    assert sum(queries.values()) == 2, counted        # the SKU's listings (reverse index) and its stock, once each
    ops = _by_operation(counted)
    # guard state, listings + settings, sync states, at-risk re-check: 4 BatchGetItem; 3 shops x (call slot,
    # claim, record) + the reconciliation marker: 10 UpdateItem; the sales log read and written: 1 GetItem,
    # 1 PutItem; 2 Query (before: 22 requests: the listings, stock and sync states were read twice)
    assert ops.get("BatchGetItem", 0) <= 4, ops
    assert sum(ops.values()) <= 18, ops


def test_a_batch_of_skus_reads_its_sales_logs_together(aws, counted):
    """Sales velocity for three SKUs of a batch: one BatchGetItem for their logs (not a GetItem each), one
    write each; what was learnt is the same as SKU by SKU."""
    from stocklink.logic.sync import velocity
    from stocklink.store import sync_models

    changed = {sku: [{"sku": sku, "total_available": 10, "cause": "reserve", "source": "shopify:s1"},
                     {"sku": sku, "total_available": 8, "cause": "reserve", "source": "tiktok:s1"}]
               for sku in ("A", "B", "C")}
    velocity.note_sales_many(changed, 1_000_000)
    ops = _by_operation(counted)
    assert ops == {"BatchGetItem": 1, "PutItem": 3}, ops
    assert sync_models.velocity("B")["sales"] == {"tiktok#s1": [[1_000_000, 2]]}
