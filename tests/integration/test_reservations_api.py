"""Storefront reservations end to end on moto: split, all-or-nothing, idempotency, transitions, expiry."""
import pytest

from stocklink.logic.sync.sweep import run_pass
from stocklink.time import now_ms


def _stock(staff, wh):
    return next(w for w in staff.get("/skus/TEE-RED-M/stock").body["warehouses"] if w["warehouse_id"] == wh)


def test_hold_splits_across_warehouses_in_priority_order(stocked, storefront):
    answer = storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                               "lines": [{"sku": "TEE-RED-M", "qty": 5}]})
    assert answer.status == 201
    assert answer.body["status"] == "held"
    assert answer.body["allocations"] == [{"sku": "TEE-RED-M", "warehouse_id": "wh-a", "qty": 3},
                                          {"sku": "TEE-RED-M", "warehouse_id": "wh-b", "qty": 2}]
    assert answer.body["expires_at"] - now_ms() // 1000 in range(895, 901)
    assert (_stock(stocked, "wh-a")["available"], _stock(stocked, "wh-b")["available"]) == (0, 1)
    assert (_stock(stocked, "wh-a")["reserved"], _stock(stocked, "wh-b")["reserved"]) == (3, 2)


def test_multi_line_is_all_or_nothing(stocked, storefront):
    stocked.put("/skus/CAP-BLK", {"name": "Black cap"})
    stocked.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "CAP-BLK", "qty": 1}], "reference": "PO-3"})
    refused = storefront.post("/reservations", {"reservation_id": "web-2", "channel": "web",
                                                "lines": [{"sku": "TEE-RED-M", "qty": 2}, {"sku": "CAP-BLK", "qty": 2}]})
    assert refused.status == 409
    assert refused.body == {"error": "insufficient_stock", "message": refused.body["message"],
                            "sku": "CAP-BLK", "requested": 2, "available": 1}
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["reserved"] == 0
    assert storefront.get("/reservations/web-2").status == 404


def test_same_id_same_body_replays_and_different_body_conflicts(stocked, storefront):
    body = {"reservation_id": "web-3", "channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": 1}]}
    first = storefront.post("/reservations", body)
    second = storefront.post("/reservations", body)
    assert first.status == 201 and second.status == 200
    assert second.body["allocations"] == first.body["allocations"]
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["reserved"] == 1
    conflict = storefront.post("/reservations", {**body, "lines": [{"sku": "TEE-RED-M", "qty": 2}]})
    assert conflict.status == 409 and conflict.body["error"] == "idempotency_conflict"
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["reserved"] == 1


def test_commit_ship_moves_stock_and_repeats_are_harmless(stocked, storefront):
    storefront.post("/reservations", {"reservation_id": "web-4", "channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": 4}]})
    assert storefront.post("/reservations/web-4/commit").body["status"] == "committed"
    assert storefront.post("/reservations/web-4/commit").status == 200
    shipped = storefront.post("/reservations/web-4/ship")
    assert shipped.body["status"] == "shipped"
    assert storefront.post("/reservations/web-4/ship").body["status"] == "shipped"
    totals = stocked.get("/skus/TEE-RED-M/stock").body["totals"]
    assert (totals["on_hand"], totals["reserved"], totals["available"]) == (2, 0, 2)
    refused = storefront.post("/reservations/web-4/release")
    assert refused.status == 409 and refused.body["error"] == "invalid_transition"
    movements = [e["movement"] for e in stocked.get("/ledger", query={"sku": "TEE-RED-M"}).body["entries"]]
    assert movements.count("ship") == 2 and movements.count("commit") == 2 and "release" not in movements


def test_release_returns_stock(stocked, storefront):
    storefront.post("/reservations", {"reservation_id": "web-5", "channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": 6}]})
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["available"] == 0
    assert storefront.post("/reservations/web-5/release").body["status"] == "released"
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["available"] == 6
    assert storefront.post("/reservations/web-5/commit").status == 409


def test_expired_hold_reads_released_and_sweep_releases_once(stocked, storefront):
    storefront.post("/reservations", {"reservation_id": "web-6", "channel": "web",
                                      "lines": [{"sku": "TEE-RED-M", "qty": 2}], "hold_seconds": 1})
    storefront.post("/reservations", {"reservation_id": "web-7", "channel": "web",
                                      "lines": [{"sku": "TEE-RED-M", "qty": 1}], "hold_seconds": 600})
    later = now_ms() + 5_000
    from stocklink.logic import storefront as logic
    assert logic.get("web-6", later, owner="shop-front")["status"] == "released"
    assert logic.get("web-6", later, owner="shop-front")["status_reason"] == "hold expired"
    with pytest.raises(Exception) as refused:
        logic.move("web-6", logic.parse_action("commit"), actor="shop-front", now_ms=later)
    assert getattr(refused.value, "status", None) == 409
    report = run_pass(later)
    assert report["released"] == ["web-6"]
    assert run_pass(later)["holds_released"] == 0
    totals = stocked.get("/skus/TEE-RED-M/stock").body["totals"]
    assert (totals["reserved"], totals["available"]) == (1, 5)
    assert storefront.get("/reservations/web-7").body["status"] == "held"


def test_reservation_validation(stocked, storefront):
    assert storefront.post("/reservations", {"reservation_id": "x", "channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": 0}]}).status == 400
    assert storefront.post("/reservations", {"reservation_id": "x", "channel": "web", "lines": [{"sku": "NOPE", "qty": 1}]}).status == 404
    assert storefront.post("/reservations", {"channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": 1}]}).status == 400
    assert storefront.post("/reservations/x/explode").status == 400
    assert stocked.get("/skus/TEE-RED-M/stock").body["totals"]["reserved"] == 0
