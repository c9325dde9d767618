"""Reconciliation passes racing on DynamoDB Local: the lease lets one pass run at a time, and even two
passes that both run (a stale pass whose lease expired) release every expired hold exactly once."""
from __future__ import annotations

import threading

import pytest

from stocklink.domain.requests import ReceiptIn, SkuIn, WarehouseIn
from stocklink.domain.stock import Line
from stocklink.logic import catalog, inventory, reservations
from stocklink.logic.sync import sweep
from stocklink.store import last_units_models, reconcile_models, repository, sync_models
from stocklink.store.models import LedgerEntry
from stocklink.time import now_ms

HOLDS = 24


@pytest.fixture
def tables(local_tables, dynamodb_local, monkeypatch):
    extra = (*reconcile_models.MODELS, sync_models.ListingSync, sync_models.SyncFailure, sync_models.ShopSyncStats,
             sync_models.SkuVelocity, last_units_models.SkuGuard)
    for model in extra:
        monkeypatch.setattr(model.Meta, "host", dynamodb_local, raising=False)
        monkeypatch.setattr(model, "_connection", None, raising=False)
    yield local_tables
    for model in extra:
        model._connection = None


def _expired_holds(t: int) -> list[str]:
    catalog.put_sku("HOLD-1", SkuIn(name="held"), t)
    catalog.put_warehouse("wh-a", WarehouseIn(name="wh-a", priority=1), t)
    inventory.receive(ReceiptIn(warehouse_id="wh-a", reference="PO-1", lines=[{"sku": "HOLD-1", "qty": HOLDS}]),
                      actor="test", now_ms=t)
    ids = [f"hold-{i}" for i in range(HOLDS)]
    for rid in ids:
        reservations.reserve(reservations.ReservationRequest(rid, "web", (Line("HOLD-1", 1),), rid, "storefront", 60),
                             actor="web", now_ms=t - 120_000)
    return ids


def _race(*kwargs_list) -> list[dict]:
    barrier = threading.Barrier(len(kwargs_list))
    results: list[dict | BaseException] = [None] * len(kwargs_list)

    def go(i, kwargs):
        barrier.wait()
        try:
            results[i] = sweep.run_pass(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i, kw)) for i, kw in enumerate(kwargs_list)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def _assert_released_once(ids: list[str], reports: list[dict], exact_report: bool = True):
    released = [rid for r in reports for rid in r["released"]]
    assert set(released) == set(ids)
    if exact_report:
        assert sorted(released) == sorted(ids)
    # The effect happened exactly once per hold: one release movement each, counters back in balance.
    entries = list(LedgerEntry.query("HOLD-1#wh-a", consistent_read=True))
    assert sum(1 for e in entries if e.movement == "release") == HOLDS
    (item,) = repository.stock_items("HOLD-1")
    assert (int(item.on_hand), int(item.reserved), int(item.available)) == (HOLDS, 0, HOLDS)
    assert inventory.replay_ledger("HOLD-1", "wh-a") == {"on_hand": HOLDS, "reserved": 0, "available": HOLDS,
                                                         "in_transit": 0, "presold": 0}
    assert all(repository.get_reservation(rid).status == "released" for rid in ids)


def test_the_lease_lets_only_one_of_two_racing_passes_run(tables):
    t = now_ms()
    ids = _expired_holds(t)
    reports = _race({"now_ms": t, "owner": "pass-a"}, {"now_ms": t, "owner": "pass-b"})
    ran = [r for r in reports if not r.get("skipped")]
    assert len(ran) == 1 and len(reports) - len(ran) == 1
    _assert_released_once(ids, ran)
    assert reconcile_models.lease() is None


def test_two_passes_that_both_run_release_each_expired_hold_exactly_once(tables):
    """A stale pass (lease expired, still running) and a fresh one: the guarded transitions decide."""
    t = now_ms()
    ids = _expired_holds(t)
    # Leases that are already expired when taken: whichever pass comes second finds the other's expired.
    reports = _race({"now_ms": t, "owner": "stale", "lease_ttl_ms": -1_000},
                    {"now_ms": t + 1, "owner": "fresh", "lease_ttl_ms": -1_000})
    assert not any(r.get("skipped") for r in reports)
    # release_expired lists a hold the other pass released first as released too (it reads the final
    # status), so the two reports may overlap; the ledger and the counters prove exactly-once.
    _assert_released_once(ids, reports, exact_report=False)
