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
def test_a_push_with_the_guard_on_reads_listings_and_stock_once(linked, aws, sandbox_base, counted, monkeypatch):
    """One SKU on three shops, not at risk (plenty of stock), the last-units rule on: the guard decides from
    one read of the SKU and the shared sync pushes from the same read."""
    from stocklink.logic.sync import push as push_logic
    # the read is reused while younger than SNAPSHOT_MAX_AGE_MS (250 ms); on moto under a loaded CI machine the
    # guard alone can take longer, and the sync then reads again (correctly): this test counts the fresh path
    monkeypatch.setattr(push_logic, "SNAPSHOT_MAX_AGE_MS", 60_000)
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
    # the SKU's stock, once; its listings were read by the warm-up push and nothing changed them since
    assert queries == {"stocklink-stock": 1}, counted
    ops = _by_operation(counted)
    # guard states with the listings version, sync states: 2 BatchGetItem; 3 shops x (call slot, claim, record)
    # + the reconciliation marker: 10 UpdateItem; 1 Query. The SKU's sales log is neither read nor written: no
    # shop uses the dynamic buffer, its only reader (the guard reads the listings' own recent sales).
    # (22 requests at first: the listings, stock and sync states were read twice; 18 with them read once; 15
    # with the sales log read and written on every push)
    assert ops.get("BatchGetItem", 0) <= 2, ops
    assert "GetItem" not in ops and "PutItem" not in ops, ops
    assert sum(ops.values()) <= 13, ops


@pytest.mark.usefixtures("loopback_simulators")
def test_the_sales_log_is_kept_only_while_a_shop_uses_the_dynamic_buffer(linked, aws, counted):
    """Sales velocity feeds the dynamic buffer alone: with a shop on it, a push learns the batch's sales (its
    log read and written); the same push without one leaves the log alone."""
    from stocklink.logic.sync import config
    from stocklink.store import sync_models

    def push_one_change() -> dict[str, int]:
        assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -1,
                                                  "reason": "damaged"}).status == 201
        events = _stock_changed_events(aws)
        counted.clear()
        assert push(sqs_batch(*events)) == {"batchItemFailures": []}
        return {op: n for (op, table), n in counted.items() if op in ("GetItem", "PutItem")}

    _guard_on(linked)
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": 100,
                                              "reason": "found"}).status == 201
    push_one_change()                                 # warm: shop records, limiters, policy
    assert push_one_change() == {}
    assert sync_models.velocity(SKU) == {}
    assert linked.put("/shops/lazada/s1/allocation", {"rule": "shared", "buffer_mode": "dynamic"}).status == 200
    config.forget()                                   # a new container: the shop's mode is read again
    push_one_change()
    learnt = push_one_change()     # the log read and written (and the dynamic buffer reads the shops' latencies)
    assert learnt["PutItem"] == 1 and learnt["GetItem"] >= 1, learnt
    assert sync_models.velocity(SKU)["last_total"] >= 0


@pytest.mark.usefixtures("loopback_simulators")
def test_a_listing_linked_or_remapped_after_a_push_is_pushed_by_the_next(linked, aws, sandbox_base):
    """The listings of a SKU are kept per container under the catalog's listings version: linking a listing
    or changing what one holds bumps it, so the next push reads them again and pushes the new mapping."""
    push(sqs_batch({"detail-type": "stock.changed", "source": "stocklink", "detail": {"sku": SKU}}))
    assert {r["platform"]: r["quantity"] for r in control(sandbox_base, "GET", "listings")["listings"]} == {
        "tiktok": 6, "lazada": 6, "shopify": 6}
    control(sandbox_base, "PUT", "listings", {"platform": "shopify", "shop": "s1", "listings": [
        {"listing_id": "808950812", "quantity": 0, "platform_ids": {"inventory_item_id": "5003"}}]})
    assert linked.put("/listings/shopify/s1/808950812", {"components": [{"sku": SKU, "qty": 1}],
                                                         "platform_ids": {"inventory_item_id": "5003"}}).status == 200
    tiktok = next(r for r in control(sandbox_base, "GET", "listings", query="?platform=tiktok")["listings"])
    assert linked.put(f"/listings/tiktok/s1/{tiktok['listing_id']}", {
        "components": [{"sku": SKU, "qty": 2}], "platform_ids": tiktok["platform_ids"]}).status == 200
    aws.drain()
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": SKU, "delta": -2,
                                              "reason": "damaged"}).status == 201
    assert push(sqs_batch(*_stock_changed_events(aws))) == {"batchItemFailures": []}
    shown = {(r["platform"], r["listing_id"]): r["quantity"] for r in control(sandbox_base, "GET", "listings")["listings"]}
    assert shown[("shopify", "808950812")] == 4          # linked after the first push: pushed by the next
    assert shown[("tiktok", tiktok["listing_id"])] == 2   # now a pack of 2: 4 units make 2


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


@pytest.mark.usefixtures("loopback_simulators")
def test_a_sku_no_platform_shows_costs_no_stock_read_and_is_never_at_risk(linked, aws, counted):
    """A storefront-only SKU (no listing holds it), its last unit sold with the last-units rule on: nothing to
    push or allocate, so the push reads none of its stock and never flags it at risk."""
    from stocklink.store import last_units_models

    _guard_on(linked)
    assert linked.put("/skus/STOREFRONT-ONLY", {"name": "Sold on our own site only"}).status in (200, 201)
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "STOREFRONT-ONLY", "delta": 1,
                                              "reason": "found"}).status == 201
    push(sqs_batch(*_stock_changed_events(aws)))                    # warm: policy, listings version
    assert linked.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "STOREFRONT-ONLY", "delta": -1,
                                              "reason": "damaged"}).status == 201
    events = _stock_changed_events(aws)
    counted.clear()
    assert push(sqs_batch(*events)) == {"batchItemFailures": []}
    assert ("Query", "stocklink-stock") not in counted, counted
    assert last_units_models.skus_at_risk(["STOREFRONT-ONLY"]) == set()


@pytest.mark.usefixtures("loopback_simulators")
def test_listing_status_reuses_stock_its_caller_read(linked, counted):
    """The alert function grades a SKU's listings right after reading the SKU's stock items: listing_status
    takes those figures instead of reading the SKU's stock again, and computes the same quantities."""
    from stocklink.logic.sync import displays, views

    read_here = views.listing_status(SKU, 1_000_000)
    known = displays.available([SKU])
    counted.clear()
    reused = views.listing_status(SKU, 1_000_000, known)
    assert ("Query", "stocklink-stock") not in counted, counted
    assert [s.computed_qty for s in reused] == [s.computed_qty for s in read_here] and reused
