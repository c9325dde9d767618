"""The 30 s reconciliation pass.

One pass, under a lease (a conditional write with an expiry: two passes never overlap, a crashed one
blocks at most its lease time), within a time budget (the Lambda's remaining time minus a margin):
  1. release expired holds (reservations.release_expired: each its own guarded transaction);
  2. retry listings whose pushes failed since the last pass (their SKUs become dirty) and raise
     `push_failures` anomalies for listings failing repeatedly;
  3. verify dirty SKUs (changed since they were last verified; low stock and fresh sales first), then a
     rotating slice of every SKU, sized so each listing is read back at least every `verify_every_s`
     and cut by each shop's read allowance — read back, compare, push corrections, raise anomalies;
     SKUs at risk are left to the last-units guard, which runs for each of them;
  4. raise `unmapped_sku` anomalies for orders recorded unmapped since the last pass;
  5. replay the ledger of a rotating sample of stock items; a difference is a red `ledger.mismatch`,
     never fixed here;
  6. store the report, publish the events, emit metrics (EMF).
When the budget runs out the cursor is already saved (after every slice chunk) and dirty markers are only
cleared once their SKU is verified, so the next pass continues where this one stopped. Everything the
pass changes is itself a complete transaction or a single conditional write: a crash loses nothing.
"""
from __future__ import annotations

import uuid
from typing import Callable

from stocklink import bus, events
from stocklink.logic import reservations
from stocklink.logic.paging import PageRequest
from stocklink.logic.sync.reconciliation import (
    CHUNK,
    DEFAULT_VERIFY_EVERY_S,
    FAILURE_WINDOW_MS,
    MIN_SLICE,
    PASS_INTERVAL_S,
    Budget,
    PassFigures,
    Verifier,
    accuracy_pct,
    cover_ended_before,
    priority,
    repeated_failures,
    slice_size,
)
from stocklink.observability import logger, metrics
from stocklink.store import catalog, last_units_models, reconcile_models
from stocklink.time import iso_now

DEFAULT_BUDGET_MS = 20_000
LEASE_MARGIN_MS = 5_000
TAIL_RESERVE_MS = 1_500          # kept back from verification for anomalies, ledger sample and the report
LEDGER_SAMPLE = 25               # stock items replayed per pass
REPORT_RETENTION_MS = 7 * 86_400_000
UNREACHABLE_LISTED = 50
YIELD_FOR_MS = 120_000           # a changed SKU's read-back yields to its shops' pushes this long after its change


def run_pass(now_ms: int, *, budget_ms: int = DEFAULT_BUDGET_MS, budget: Budget | None = None,
             owner: str | None = None, verify_every_s: int = DEFAULT_VERIFY_EVERY_S, min_slice: int = MIN_SLICE,
             lease_ttl_ms: int | None = None, transport: Callable | None = None) -> dict:
    owner = owner or uuid.uuid4().hex
    budget = budget or Budget(budget_ms)
    ttl = lease_ttl_ms if lease_ttl_ms is not None else budget.budget_ms + LEASE_MARGIN_MS
    if not reconcile_models.acquire_lease(owner, now_ms, ttl):
        logger.info("another reconciliation pass holds the lease; skipping")
        metrics.add_metric(name="ReconcileSkipped", unit="Count", value=1)
        return {"skipped": True, "reason": "another pass holds the lease", "holds_released": 0, "released": []}
    try:
        return _run(now_ms, budget, verify_every_s, min_slice, transport)
    finally:
        reconcile_models.release_lease(owner)


def _run(now_ms: int, budget: Budget, verify_every_s: int, min_slice: int, transport) -> dict:
    released = reservations.release_expired(now_ms)                                     # 1.
    state = reconcile_models.load_state()
    last_pass = int(state.get("last_pass_at") or now_ms - PASS_INTERVAL_S * 1000)
    figures = PassFigures()
    verifier = Verifier(now_ms, figures, transport)
    _retry_failed_pushes(now_ms, last_pass, figures)                                    # 2.
    done: set[str] = set()
    dirty_verified, dirty_left = _verify_dirty(budget, verifier, done, now_ms)          # 3a.
    slice_report = _rotate(state, now_ms, verify_every_s, min_slice, budget, verifier, done)   # 3b.
    last_units = _guard_at_risk(now_ms)                                                 # 3c.
    figures.anomalies.extend(_unmapped_anomalies(last_pass))                            # 4.
    mismatches, ledger_checked = ([], 0) if budget.exhausted(TAIL_RESERVE_MS // 3) else _ledger_sample(state)  # 5.
    state["last_pass_at"] = now_ms
    reconcile_models.save_state(state, now_ms)
    report = {                                                                          # 6.
        "started_at": now_ms,
        "duration_ms": budget.used_ms(),
        "holds_released": len(released),
        "released": released,
        "listings_checked": figures.checked,
        "in_sync": figures.in_sync,
        "drift_found": figures.drift_found,
        "drift_fixed": figures.drift_fixed,
        "sync_accuracy_pct": accuracy_pct(figures.checked, figures.in_sync),
        "shops": figures.by_shop,          # per platform#shop: listings read back and found in sync
        "drifts": figures.drifts,
        "dirty_skus_verified": dirty_verified,
        "dirty_skus_left": dirty_left,
        "slice": slice_report,
        "read_calls": figures.read_calls,
        "push_calls": figures.push_calls,
        "push_failed": figures.push_failed,
        "superseded": figures.superseded,
        "in_flight": figures.in_flight,     # differed while channel_push was pushing them: not judged
        "yielded_to_pushes": figures.yielded,   # changed listings left to the next pass: their shop was busy
        "unreachable": len(figures.unreachable),
        "unreachable_listings": figures.unreachable[:UNREACHABLE_LISTED],
        "shops_down": {ch: st.down for ch, st in verifier.shops.items() if st is not None and st.down},
        "anomaly_count": len(figures.anomalies),
        "anomalies": figures.anomalies[:100],
        "ledger_checked": ledger_checked,
        "ledger_mismatches": mismatches,
        "budget_exhausted": bool(dirty_left) or slice_report["stopped"] == "budget",
        "last_units": last_units,
    }
    _publish(report, figures.anomalies, mismatches, now_ms)
    return report


def _retry_failed_pushes(now_ms: int, last_pass: int, figures: PassFigures) -> None:
    """Push failures since the last pass: their SKUs become dirty (verified, so retried, this pass), and
    listings failing repeatedly are raised as anomalies."""
    failures = reconcile_models.failures_since(now_ms - FAILURE_WINDOW_MS)
    for failure in failures:
        if int(failure.get("at_ms") or 0) > last_pass:
            data = catalog.listing(failure["platform"], failure["shop"], str(failure["listing_id"]))
            for component in (data or {}).get("components", []):
                reconcile_models.mark_dirty(component["sku"], now_ms, {"cause": "push_failed"})
    for anomaly in repeated_failures(failures, last_pass):
        data = catalog.listing(anomaly["platform"], anomaly["shop"], anomaly["listing_id"])
        skus = [c["sku"] for c in (data or {}).get("components", [])]
        figures.anomalies.append({**anomaly, "sku": "+".join(skus) or anomaly["listing_id"], "skus": skus})


def _guard_at_risk(now_ms: int) -> dict:
    """SKUs at risk are moved again: a drain that ended lets its units go where they sell."""
    skus = last_units_models.all_at_risk()
    if not skus:
        return {"at_risk": 0, "pushed": 0}
    from stocklink.logic.sync import guard   # only when a SKU is at risk: the pass's cold start stays small

    try:
        guarded, report = guard.guard_skus(skus, lambda: now_ms)
    except Exception:  # noqa: BLE001 - the next change of each SKU runs the guard too
        logger.exception("last-units pass failed")
        return {"at_risk": len(skus), "pushed": 0, "error": True}
    return {"at_risk": len(guarded), "pushed": report.pushed, "failed": report.failed}


def _verify_dirty(budget: Budget, verifier: Verifier, done: set[str], now_ms: int) -> tuple[int, int]:
    """Dirty SKUs, most urgent first; a marker is cleared only once its SKU is verified (added to `done`).
    A chunk whose SKUs all changed within YIELD_FOR_MS yields to busy shops (Verifier.verify): their pushes
    are still coming; a SKU that stopped changing is read whatever its shop's load, so a shop kept busy by
    other SKUs never holds its verification back for long. Returns (verified, left for the next pass)."""
    dirty = sorted(reconcile_models.dirty_skus(), key=lambda d: priority(d[2], d[1]))
    verified = left = 0
    for start in range(0, len(dirty), CHUNK):
        if budget.exhausted(TAIL_RESERVE_MS):
            left = len(dirty) - start
            break
        chunk = dirty[start:start + CHUNK]
        recent = all(changed_at >= now_ms - YIELD_FOR_MS for _, changed_at, _ in chunk)
        result = verifier.verify([sku for sku, _, _ in chunk], yield_to_pushes=recent)
        for sku, changed_at, _ in chunk:
            if sku in result.verified:
                # a marker still covering changes when this pass began (a push within MARK_COVERS_MS did not
                # write it again) stays for the next pass: those changes may be newer than this read-back
                if cover_ended_before(changed_at, now_ms):
                    reconcile_models.clear_dirty(sku, changed_at)
                done.add(sku)
                verified += 1
            else:
                left += 1
                if result.yielded:      # a busy shop's turn is the next pass: not the slice's either
                    done.add(sku)
    return verified, left


def _unmapped_anomalies(last_pass: int) -> list[dict]:
    """Order lines recorded unmapped since the last pass."""
    out = []
    for event in reconcile_models.unmapped_since(iso_now(last_pass)):
        for line in (event.outcome or {}).get("unmapped") or [{}]:
            out.append({
                "kind": "unmapped_sku", "platform": event.platform, "shop": event.shop, "channel": event.platform,
                "listing_id": line.get("listing_id"), "seller_sku": line.get("seller_sku"),
                "sku": line.get("seller_sku") or line.get("listing_id") or "?", "order_id": event.order_id,
                "severity": "orange", "description": "order line maps to no SKU"})
    return out


def _publish(report: dict, anomalies: list[dict], mismatches: list[dict], now_ms: int) -> None:
    """Store the report, publish its events, emit its metrics."""
    reconcile_models.save_report(now_ms, report)
    reconcile_models.prune_reports(now_ms - REPORT_RETENTION_MS)
    if anomalies:
        bus.publish(events.SYNC_ANOMALY, anomalies)
    if mismatches:
        bus.publish(events.LEDGER_MISMATCH, mismatches)
    _metrics(report)
    logger.info("reconciliation pass", extra={k: v for k, v in report.items()
                                              if k not in ("drifts", "unreachable_listings", "anomalies", "released")})


def _rotate(state: dict, now_ms: int, verify_every_s: int, min_slice: int, budget: Budget, verifier: Verifier,
            done: set[str]) -> dict:
    if not state.get("sku_cursor"):
        if state.get("cycle_started_at") is None or state.get("cycle_done", 0) == 0:
            state["cycle_started_at"] = now_ms
    size = slice_size(state, now_ms, verify_every_s, min_slice=min_slice)
    cursor = state.get("sku_cursor")
    skus = reconcile_models.sku_page(cursor, size)
    out = {"from": cursor, "size": size, "verified": 0, "stopped": None, "cycle_completed": False}
    verified = 0
    for start in range(0, len(skus), CHUNK):
        if budget.exhausted(TAIL_RESERVE_MS):
            out["stopped"] = "budget"
            break
        chunk = [s for s in skus[start:start + CHUNK]]
        todo = [s for s in chunk if s not in done]
        result = verifier.verify(todo, strict_allowance=True) if todo else None
        if result is not None and result.deferred:
            out["stopped"] = "rate limit"
            break
        for sku in (result.incomplete if result else ()):
            reconcile_models.mark_dirty(sku, now_ms, {"cause": "unreachable"})   # retried next pass
        verified += len(chunk)
        state["sku_cursor"] = chunk[-1]
        state["cycle_done"] = int(state.get("cycle_done") or 0) + len(chunk)
        reconcile_models.save_state(state, now_ms)
    out["verified"] = verified
    out["to"] = state.get("sku_cursor")
    if out["stopped"] is None and len(skus) < size:
        # The end of the catalogue: the cycle is complete; learn its size, start the next one.
        out["cycle_completed"] = True
        out["cycle_seconds"] = (now_ms - int(state.get("cycle_started_at") or now_ms)) / 1000
        state["sku_count"] = int(state.get("cycle_done") or 0)
        state["last_cycle_s"] = out["cycle_seconds"]
        state["sku_cursor"] = None
        state["cycle_done"] = 0
        state["cycle_started_at"] = None
    deadline = int(state.get("cycle_started_at") or now_ms) + verify_every_s * 1000
    out["behind"] = not out["cycle_completed"] and now_ms > deadline
    return out


def _ledger_sample(state: dict) -> tuple[list[dict], int]:
    from stocklink.logic.inventory import replay_ledger

    items, next_key = reconcile_models.stock_page(state.get("ledger_cursor"), LEDGER_SAMPLE)
    state["ledger_cursor"] = next_key
    mismatches = []
    for item in items:
        for _attempt in range(3):
            stored = {"on_hand": int(item.on_hand), "reserved": int(item.reserved), "available": int(item.available),
                      "in_transit": int(item.in_transit or 0), "presold": int(item.presold or 0)}
            replayed = replay_ledger(item.sku, item.warehouse_id)
            if stored == replayed:
                break
            again = reconcile_models.stock_item(item.sku, item.warehouse_id)
            if again is not None and int(again.version or 0) == int(item.version or 0):
                field = next(k for k in ("available", "on_hand", "reserved", "in_transit", "presold") if stored[k] != replayed[k])
                mismatches.append({"sku": item.sku, "warehouse_id": item.warehouse_id, "field": field,
                                   "stored": stored[field], "replayed": replayed[field],
                                   "stored_counters": stored, "replayed_counters": replayed,
                                   "severity": "red"})
                break
            if again is None:
                break
            item = again   # moved while we read: compare the new version
    return mismatches, len(items)


def _metrics(report: dict) -> None:
    metrics.add_metric(name="HoldsReleased", unit="Count", value=report["holds_released"])
    metrics.add_metric(name="ListingsChecked", unit="Count", value=report["listings_checked"])
    metrics.add_metric(name="DriftFound", unit="Count", value=report["drift_found"])
    metrics.add_metric(name="DriftFixed", unit="Count", value=report["drift_fixed"])
    metrics.add_metric(name="ListingsUnreachable", unit="Count", value=report["unreachable"])
    metrics.add_metric(name="SyncAnomalies", unit="Count", value=report["anomaly_count"])
    metrics.add_metric(name="LedgerMismatches", unit="Count", value=len(report["ledger_mismatches"]))
    metrics.add_metric(name="PlatformReadCalls", unit="Count", value=report["read_calls"])
    metrics.add_metric(name="PassDuration", unit="Milliseconds", value=report["duration_ms"])
    if report["sync_accuracy_pct"] is not None:
        metrics.add_metric(name="SyncAccuracy", unit="Percent", value=report["sync_accuracy_pct"])


def last_report() -> dict | None:
    found = reconcile_models.reports(1)
    return found[0] if found else None


def history(page: PageRequest) -> dict:
    """GET /reconciliation/history: pass summaries, newest first; `next` continues the list."""
    found = reconcile_models.reports_page(page.limit, page.cursor)
    keep = ("started_at", "duration_ms", "holds_released", "listings_checked", "drift_found", "drift_fixed",
            "sync_accuracy_pct", "unreachable", "read_calls", "budget_exhausted", "ledger_checked")
    return {"passes": [{**{k: r.get(k) for k in keep}, "anomalies": r.get("anomaly_count", 0),
                        "ledger_mismatches": len(r.get("ledger_mismatches") or [])}
                       for r in found.items], "next": found.next}
