"""The store's part of "first paid wins" on moto: a hold released and its units reserved again in one
transaction (one counter update per stock item, guards shifted), release_hold's guard, active_holds."""
import pytest

from stocklink.domain.stock import Movement
from stocklink.logic import inventory
from stocklink.store import repository
from stocklink.store.transactions import StockOp, StockTransaction, TransactionRefused
from stocklink.time import now_ms


def _hold(storefront, rid, qty, hold_seconds=None):
    body = {"reservation_id": rid, "channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": qty}]}
    if hold_seconds:
        body["hold_seconds"] = hold_seconds
    answer = storefront.post("/reservations", body)
    assert answer.status == 201, answer.body
    return answer.body


def _counters(wh):
    item = next(i for i in repository.stock_items("TEE-RED-M") if i.warehouse_id == wh)
    return int(item.on_hand), int(item.reserved), int(item.available)


def test_release_and_reserve_of_one_item_is_one_guarded_update_with_two_ledger_entries(stocked, storefront):
    _hold(storefront, "web-1", 3)                  # all of wh-a
    assert _counters("wh-a") == (3, 3, 0)
    hold = repository.get_reservation("web-1")
    txn = StockTransaction(actor="shopify:s", source="shopify:s:o1", reason=None, now_ms=now_ms())
    txn.release_hold(hold, "preempted by paid order shopify/s/o1")
    txn.stock(StockOp("TEE-RED-M", "wh-a", Movement.RESERVE, 3))
    txn.stock(StockOp("TEE-RED-M", "wh-a", Movement.COMMIT, 3))
    assert txn.size == 5   # hold update, one counter update, three ledger entries
    txn.commit()
    assert _counters("wh-a") == (3, 3, 0)
    released = repository.get_reservation("web-1")
    assert released.status == "released" and released.status_reason == "preempted by paid order shopify/s/o1"
    assert released.hold_shard is None and released.expires_at is None
    entries = repository.ledger_entries("TEE-RED-M", "wh-a")
    release = next(e for e in entries if e.movement == "release")
    assert (release.source, release.reason, release.actor) == ("storefront:web-1", "preempted by paid order "
                                                               "shopify/s/o1", "shopify:s")
    assert sorted(e.movement for e in entries) == ["commit", "receive", "release", "reserve", "reserve"]
    assert inventory.replay_ledger("TEE-RED-M", "wh-a") == {"on_hand": 3, "reserved": 3, "available": 0, "in_transit": 0, "presold": 0}


def test_the_shifted_guard_still_refuses_more_than_the_release_frees(stocked, storefront):
    _hold(storefront, "web-1", 3)
    hold = repository.get_reservation("web-1")
    txn = StockTransaction(actor="t", source="t", reason=None, now_ms=now_ms())
    txn.release_hold(hold, "preempted")
    txn.stock(StockOp("TEE-RED-M", "wh-a", Movement.RESERVE, 4))   # 0 available + 3 released < 4
    with pytest.raises(TransactionRefused) as refused:
        txn.commit()
    assert refused.value.failed == ["stock:TEE-RED-M:wh-a"] and not refused.value.holds_changed
    assert repository.get_reservation("web-1").status == "held" and _counters("wh-a") == (3, 3, 0)


def test_release_hold_is_refused_once_the_hold_was_paid(stocked, storefront):
    _hold(storefront, "web-1", 2)
    seen = repository.get_reservation("web-1")
    assert storefront.post("/reservations/web-1/commit").body["status"] == "committed"
    txn = StockTransaction(actor="t", source="t", reason=None, now_ms=now_ms())
    txn.release_hold(seen, "preempted")
    txn.stock(StockOp("TEE-RED-M", "wh-a", Movement.RESERVE, 3))
    with pytest.raises(TransactionRefused) as refused:
        txn.commit()
    assert refused.value.holds_changed == ["web-1"] and not refused.value.reservation_refused
    assert repository.get_reservation("web-1").status == "committed" and _counters("wh-a") == (3, 2, 1)


def test_active_holds_lists_unexpired_holds_latest_expiry_first(stocked, storefront):
    _hold(storefront, "short", 1, hold_seconds=60)
    _hold(storefront, "long", 1, hold_seconds=3600)
    _hold(storefront, "mid", 1, hold_seconds=600)
    _hold(storefront, "paid", 1)
    storefront.post("/reservations/paid/commit")
    now_s = now_ms() // 1000
    assert [h.reservation_id for h in repository.active_holds(now_s, 100)] == ["long", "mid", "short"]
    assert [h.reservation_id for h in repository.active_holds(now_s + 120, 100)] == ["long", "mid"]
    assert len(repository.active_holds(now_s, 1)) == 1
