"""DynamoDB requests per call on the hot paths (counts are behaviour, not timing), and the per-container
caches that make them possible: a change is honoured within the documented bound, and a stale plan never
oversells (its transaction's condition fails and it plans again from a fresh read)."""
from __future__ import annotations

import collections

import botocore.client
import pytest

from tests.integration.test_shopify_webhooks import SHOP, _order, _send, _setup

TOKENS_TABLE = "stocklink-tokens"   # the API token lookup, cached by auth for 1 s: not the hot path's own


@pytest.fixture
def ddb_calls(monkeypatch):
    """Counter of DynamoDB operations made while the test runs (the token lookup left out)."""
    calls: collections.Counter = collections.Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb" and params.get("TableName") != TOKENS_TABLE:
            calls[operation] += 1
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def _hold(storefront, rid, qty=1):
    return storefront.post("/reservations", {"reservation_id": rid, "channel": "web",
                                             "lines": [{"sku": "TEE-RED-M", "qty": qty}]})


def test_a_reservation_is_one_query_and_one_transaction(stocked, storefront, ddb_calls):
    assert _hold(storefront, "warm").status == 201           # a warm container: catalog cached
    ddb_calls.clear()
    assert _hold(storefront, "r1").status == 201
    assert dict(ddb_calls) == {"Query": 1, "TransactWriteItems": 1}


def test_a_commit_is_one_read_and_one_transaction(stocked, storefront, ddb_calls):
    assert _hold(storefront, "r1").status == 201
    ddb_calls.clear()
    answer = storefront.post("/reservations/r1/commit")
    assert answer.status == 200 and answer.body["status"] == "committed"
    assert dict(ddb_calls) == {"GetItem": 1, "TransactWriteItems": 1}
    assert storefront.get("/reservations/r1").body == answer.body   # what it answered is what is stored


def test_a_replay_answers_the_original_even_when_the_pool_is_empty(stocked, storefront, ddb_calls):
    first = _hold(storefront, "r1", qty=6)
    ddb_calls.clear()
    again = _hold(storefront, "r1", qty=6)                    # nothing left: the replay is still a replay
    assert (again.status, again.body) == (200, first.body)
    assert sum(ddb_calls.values()) <= 2


def test_a_new_shopify_order_and_its_redelivery(staff, webhooks, ddb_calls):
    _setup(staff)
    assert _send(webhooks, "orders/create", _order(order_id=1), webhook_id="w1").status == 200   # warm
    ddb_calls.clear()
    assert _send(webhooks, "orders/create", _order(order_id=2), webhook_id="w2").body["outcomes"][0][
        "status"] == "applied"
    # the marker check, the stock read, and the transaction (with channel sync's note of the order: sync.shown)
    assert dict(ddb_calls) == {"GetItem": 1, "Query": 1, "TransactWriteItems": 1}
    ddb_calls.clear()
    assert _send(webhooks, "orders/create", _order(order_id=2), webhook_id="w2").body["outcomes"][0]["duplicate"]
    assert dict(ddb_calls) == {"GetItem": 1}


def test_a_changed_warehouse_priority_is_honoured_within_its_bound(stocked, storefront, monkeypatch):
    from stocklink.store import keys, repository

    now = [0.0]
    monkeypatch.setattr(repository._priorities, "clock", lambda: now[0])
    repository.forget_warehouse_priorities()
    assert _hold(storefront, "r1").body["allocations"][0]["warehouse_id"] == "wh-a"
    # another container makes wh-b the first choice (this one's cache is not told)
    repository.put_catalog(keys.WAREHOUSE, "wh-b", {"warehouse_id": "wh-b", "name": "B", "priority": 0}, 1)
    now[0] = 29.0
    assert _hold(storefront, "r2").body["allocations"][0]["warehouse_id"] == "wh-a"   # stale, within 30 s
    now[0] = 30.5
    assert _hold(storefront, "r3").body["allocations"][0]["warehouse_id"] == "wh-b"


def test_a_stale_plan_fails_its_condition_and_plans_again(stocked, storefront, monkeypatch):
    """A plan made from a view that is no longer true (here: wh-a shown with units it no longer has) is
    refused by the transaction's guard and made again from a fresh read: nothing oversold."""
    from stocklink.domain.stock import WarehouseStock
    from stocklink.store import repository

    assert _hold(storefront, "drain-a", qty=3).body["allocations"] == [
        {"sku": "TEE-RED-M", "warehouse_id": "wh-a", "qty": 3}]
    real, reads = repository.stock_read, []

    def first_read_stale(skus):
        levels, items = real(skus)
        reads.append(1)
        if len(reads) == 1:
            levels = {sku: [WarehouseStock(w.warehouse_id, 3, w.priority) for w in ws] for sku, ws in levels.items()}
        return levels, items

    monkeypatch.setattr(repository, "stock_read", first_read_stale)
    answer = _hold(storefront, "r1", qty=2)
    assert answer.status == 201 and answer.body["allocations"] == [
        {"sku": "TEE-RED-M", "warehouse_id": "wh-b", "qty": 2}]
    assert len(reads) == 2
    levels = {w.warehouse_id: w.available for w in real(["TEE-RED-M"])[0]["TEE-RED-M"]}
    assert levels == {"wh-a": 0, "wh-b": 1}


def test_a_listing_mapped_in_another_container_is_used_within_its_bound(staff, webhooks, monkeypatch):
    from stocklink.store import catalog, keys, repository

    _setup(staff)
    now = [0.0]
    monkeypatch.setattr(catalog._listings, "clock", lambda: now[0])
    catalog.forget_cached()
    lines = [{"id": 1, "variant_id": 4242, "sku": "", "title": "case", "quantity": 1, "price": "5.00"}]
    assert _send(webhooks, "orders/create", _order(order_id=1, lines=lines), webhook_id="w1").body[
        "outcomes"][0]["status"] == "unmapped"
    repository.put_catalog(keys.listing_pk("shopify", SHOP), "4242", {   # mapped by another container
        "platform": "shopify", "shop": SHOP, "listing_id": "4242", "components": [{"sku": "CASE-CLEAR", "qty": 1}],
        "platform_ids": {}}, 1)
    now[0] = catalog.CATALOG_SECONDS + 0.5
    outcome = _send(webhooks, "orders/create", _order(order_id=2, lines=lines), webhook_id="w2").body["outcomes"][0]
    assert outcome["status"] == "applied" and outcome["allocations"][0]["sku"] == "CASE-CLEAR"
