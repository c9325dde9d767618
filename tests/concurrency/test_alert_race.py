"""Alert functions racing on one alert key, on DynamoDB Local (moto's DynamoDB is not safe under threads).

The guard is the conditional write on the alert state's `version` (or attribute_not_exists for a new key),
done (with the alert's outbox entry, in one transaction) before the SNS publish: of several functions that decided the same crossing only the one whose write
lands publishes; the others re-read and find nothing left to send. SNS publishes are counted by a stub.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from stocklink.alerts.levels import Level
from stocklink.domain.requests import ReceiptIn, ReservationIn, SkuIn, WarehouseIn
from stocklink.errors import InsufficientStock
from stocklink.logic import catalog, inventory, storefront
from stocklink.logic.alerting import bus_events, grading, rules_api
from stocklink.store import alert_models
from stocklink.time import now_ms


@pytest.fixture
def alert_tables(local_tables, dynamodb_local, monkeypatch):
    """local_tables plus the alert, sync and forecast models on DynamoDB Local; SNS publishes recorded."""
    from stocklink.store import sales_models, sync_models

    for model in (alert_models.AlertStateRecord, alert_models.ConfigRecord, sync_models.ListingSync,
                  sync_models.SyncFailure, sync_models.ShopSyncStats, sync_models.SkuVelocity,
                  sales_models.ForecastItem):
        monkeypatch.setattr(model.Meta, "host", dynamodb_local, raising=False)
        monkeypatch.setattr(model, "_connection", None, raising=False)
    published: list = []
    lock = threading.Lock()

    def publish(alert):
        with lock:
            published.append(alert)
        return f"msg-{len(published)}"

    monkeypatch.setattr(grading, "publish", publish)
    # create the clients before the threads do: concurrent first use of a botocore session can fail
    alert_models.get_state("warm#up#all")
    alert_models.get_docs(["cfg#global"])
    races = Counter()
    real_save = alert_models.save_state

    def counting_save(*args, **kwargs):
        try:
            return real_save(*args, **kwargs)
        except alert_models.Conflict:
            races["lost"] += 1
            raise

    monkeypatch.setattr(alert_models, "save_state", counting_save)
    yield published, races
    for model in (alert_models.AlertStateRecord, alert_models.ConfigRecord):
        model._connection = None


def _all_read_before_any_write(monkeypatch, parties: int):
    """Make the race certain: every thread's first read of the alert state waits until all have read, so
    all of them decide from the same state and all try to write."""
    barrier = threading.Barrier(parties, timeout=300)  # generous: a loaded 2-core machine
    local = threading.local()
    real = alert_models.get_state

    def get_state(key_id):
        try:
            return real(key_id)
        finally:   # even when the read failed, so the test shows that error instead of a broken barrier
            if not getattr(local, "waited", False):
                local.waited = True
                barrier.wait()

    monkeypatch.setattr(alert_models, "get_state", get_state)
    return real


def test_eight_functions_deciding_the_same_crossing_publish_it_once(alert_tables, monkeypatch):
    published, races = alert_tables
    read = _all_read_before_any_write(monkeypatch, 8)
    events = [{"detail-type": "order.oversold", "time": "2026-11-24T10:00:00Z",
               "detail": {"platform": "shopee", "shop": "s1", "order_id": f"o{n}", "sku": "HOT-1", "shortfall": 1}}
              for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda e: bus_events.handle_event(e, now_ms()), events))

    assert [(a.key, a.event, a.severity) for a in published] == [("oversell#HOT-1#all", "raised", "red")]
    assert sum(len(r) for r in results) == 1
    assert races["lost"] == 7                       # every other function lost the conditional write
    state, last_alert = read("oversell#HOT-1#all")
    assert state.level is Level.RED and list(state.notified) == [Level.RED]
    assert last_alert["id"] == published[0].id and alert_models.outbox() == []


def test_the_same_event_delivered_to_sixteen_functions_at_once_publishes_once(alert_tables, monkeypatch):
    published, races = alert_tables
    _all_read_before_any_write(monkeypatch, 16)
    event = {"detail-type": "ledger.mismatch", "time": "2026-11-24T10:00:00Z",
             "detail": {"sku": "HOT-2", "warehouse_id": "wh-a", "stored": 10, "replayed": 7}}
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda _: bus_events.handle_event(event, now_ms()), range(16)))
    assert [(a.key, a.severity) for a in published] == [("ledger_mismatch#HOT-2#wh:wh-a", "red")]
    assert races["lost"] == 15


def test_stock_draining_under_racing_alert_functions_notifies_each_level_at_most_once(alert_tables):
    """19 buyers take 5 units each from 100 (safety stock 100) while an alert function per stock change
    races the others: yellow (< 50), orange (< 30) and red (< 15 floor) may each be raised at most once,
    red exactly once, and what was published is exactly what the stored state says was notified."""
    published, races = alert_tables
    now = now_ms()
    catalog.put_sku("HOT-3", SkuIn(name="Best-seller"), now)
    catalog.put_warehouse("wh-a", WarehouseIn(name="A", priority=1), now)
    rules_api.put_rule("sku", "HOT-3", {"safety_stock": 100}, now)
    inventory.receive(ReceiptIn(warehouse_id="wh-a", reference="PO-1", lines=[{"sku": "HOT-3", "qty": 100}]),
                      actor="test", now_ms=now)

    def buyer(i: int):
        try:
            storefront.hold(ReservationIn(reservation_id=f"b-{i}", channel="web",
                                          lines=[{"sku": "HOT-3", "qty": 5}]), actor="web", now_ms=now_ms())
        except InsufficientStock:
            pass
        # the alert function for this stock change (EventBridge may deliver them in any order)
        return bus_events.handle_event({"detail-type": "stock.changed",
                                        "detail": {"sku": "HOT-3", "warehouse_id": "wh-a"}}, now_ms())

    with ThreadPoolExecutor(max_workers=19) as pool:
        list(pool.map(buyer, range(19)))
    # and a late duplicate of every event changes nothing
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: bus_events.handle_event({"detail-type": "stock.changed",
                                                         "detail": {"sku": "HOT-3", "warehouse_id": "wh-a"}},
                                                        now_ms()), range(8)))

    raised = Counter(a.severity for a in published if a.key == "low_stock#HOT-3#wh:wh-a" and a.event == "raised")
    assert raised["red"] == 1 and all(n == 1 for n in raised.values()), raised
    assert [a for a in published if a.event != "raised"] == []
    state, _ = alert_models.get_state("low_stock#HOT-3#wh:wh-a")
    assert state.level is Level.RED and alert_models.outbox() == []   # every decided alert was published
    assert {lvl.label for lvl in state.notified} == set(raised)
    assert len({a.id for a in published}) == len(published)
