"""The console's read API on moto: the stock board (and its settings), SKUs, warehouses summary, shops and
listings — shapes, filters, sort, pages, counts, bad query values — and what one board page costs."""
from __future__ import annotations

import pytest

from tests.integration.conftest import ADMIN_TOKEN, VIEWER_TOKEN, as_admin
from tests.integration.apigw import ApiClient
from tests.integration.test_request_counts import ddb_calls  # noqa: F401 - the fixture


@pytest.fixture
def seeded(staff):
    """Two warehouses, six SKUs (one without a unit cost), stock in both, forecast facts for three."""
    from stocklink.logic.forecasting_service import plan_facts
    from stocklink.store import sales_models

    staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 1})
    staff.put("/warehouses/wh-b", {"name": "Dongguan B", "priority": 2})
    for sku, name, cost, category in [("TEE-RED-M", "Red tee M", 6.5, "tees"), ("TEE-BLU-M", "Blue tee M", 6.0, "tees"),
                                      ("CAP-01", "Cap", 3.0, "caps"), ("MUG-01", "Mug", None, "home"),
                                      ("BAG-01", "Bag", 10.0, "bags"), ("SOCK-01", "Socks", 1.0, "tees")]:
        body = {"name": name, "category": category, **({"unit_cost": cost} if cost is not None else {})}
        assert staff.put(f"/skus/{sku}", body).status == 200
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1", "lines": [
        {"sku": "TEE-RED-M", "qty": 30}, {"sku": "TEE-BLU-M", "qty": 10}, {"sku": "CAP-01", "qty": 500},
        {"sku": "MUG-01", "qty": 4}]})
    staff.post("/stock/receipts", {"warehouse_id": "wh-b", "reference": "PO-2", "lines": [
        {"sku": "TEE-RED-M", "qty": 20}, {"sku": "BAG-01", "qty": 40}]})
    results = [{"sku": "TEE-RED-M", "forecast": [2.0] * 14, "safety_stock": 12.4, "abc_class": "A"},
               {"sku": "CAP-01", "forecast": [1.0] * 14, "safety_stock": 3.0, "abc_class": "C"},
               {"sku": "BAG-01", "forecast": [0.5] * 14, "safety_stock": 60.0, "abc_class": "B"}]
    sales_models.put_results([], [], 1, plans={r["sku"]: plan_facts(r) for r in results})
    return staff


def _board(client, **query):
    answer = client.get("/stock/board", query={k: str(v) for k, v in query.items()} or None)
    assert answer.status == 200, answer.body
    return answer.body


def test_the_board_sums_warehouses_and_grades_every_sku(seeded):
    body = _board(seeded)
    rows = {r["sku"]: r for r in body["rows"]}
    assert rows["TEE-RED-M"] == {"sku": "TEE-RED-M", "name": "Red tee M", "on_hand": 50, "reserved": 0,
                                 "available": 50, "in_transit": 0, "presold": 0, "days_of_cover": 25.0,
                                 "status": "normal", "abc": "A", "safety_stock": 13}
    assert {sku: r["status"] for sku, r in rows.items()} == {
        "TEE-RED-M": "normal", "TEE-BLU-M": "low", "CAP-01": "over", "MUG-01": "low", "BAG-01": "low",  # < its SS
        "SOCK-01": "zero"}
    assert body["counts"] == {"normal": 1, "low": 3, "zero": 1, "over": 1} and body["total"] == 6
    assert body["settings"] == {"low_floor": 15, "over_days": 90} and body["next"] is None
    assert [r["sku"] for r in body["rows"]] == sorted(rows)                                     # by SKU


def test_a_warehouse_filter_shows_that_warehouse_only(seeded):
    body = _board(seeded, warehouse_id="wh-b")
    assert {r["sku"]: r["on_hand"] for r in body["rows"]} == {"TEE-RED-M": 20, "BAG-01": 40}


def test_status_filter_keeps_counts_of_every_status(seeded):
    body = _board(seeded, status="low", q="TEE")
    assert [r["sku"] for r in body["rows"]] == ["TEE-BLU-M"]
    assert body["counts"] == {"normal": 1, "low": 1, "zero": 0, "over": 0}      # the text filter applies
    assert body["total"] == 1
    assert [r["sku"] for r in _board(seeded, abc="C")["rows"]] == ["CAP-01"]
    assert [r["sku"] for r in _board(seeded, q="red tee")["rows"]] == ["TEE-RED-M"]   # the name, any case


def test_pages_follow_the_sort_order_to_the_end(seeded):
    seen, cursor = [], None
    while True:
        body = _board(seeded, sort="available", order="desc", limit=4, **({"cursor": cursor} if cursor else {}))
        seen += [(r["sku"], r["available"]) for r in body["rows"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert [a for _, a in seen] == sorted((a for _, a in seen), reverse=True) and len(seen) == 6
    assert len({sku for sku, _ in seen}) == 6


def test_settings_change_the_grades_and_are_audited(seeded):
    answer = seeded.put("/stock/board/settings", {"low_floor": 5, "over_days": 20})
    assert answer.status == 200 and answer.body == {"low_floor": 5, "over_days": 20}
    body = _board(seeded)
    assert body["settings"] == {"low_floor": 5, "over_days": 20}
    assert {r["sku"]: r["status"] for r in body["rows"]}["TEE-RED-M"] == "over"      # 25 days > 20
    entry = as_admin(seeded).get("/audit").body["entries"][0]
    assert (entry["route"], entry["actor"], entry["after"]) == ("/stock/board/settings", "alice",
                                                                {"low_floor": 5, "over_days": 20})
    assert entry["before"] is None


@pytest.mark.parametrize("body", [{"low_floor": -1}, {"over_days": 0}, {"low_floor": "15"}, {"low_floor": 1.5},
                                  {"other": 1}, []])
def test_bad_settings_are_refused_and_nothing_changes(seeded, body):
    assert seeded.put("/stock/board/settings", body).status == 400
    assert _board(seeded)["settings"] == {"low_floor": 15, "over_days": 90}


def test_a_viewer_reads_the_board_but_cannot_change_its_settings(seeded):
    viewer = ApiClient(seeded.handler, VIEWER_TOKEN)
    assert viewer.get("/stock/board").status == 200
    assert viewer.put("/stock/board/settings", {"low_floor": 1}).status == 403


@pytest.mark.parametrize("query", [{"status": "empty"}, {"abc": "D"}, {"sort": "price"}, {"order": "up"},
                                   {"limit": "0"}, {"limit": "x"}, {"cursor": "not-a-cursor"},
                                   {"warehouse_id": "no such#one"}, {"q": "x" * 201}])
def test_bad_board_queries_are_400(seeded, query):
    answer = seeded.get("/stock/board", query=query)
    assert answer.status == 400, answer.body


def test_a_cursor_of_another_sort_is_400(seeded):
    cursor = _board(seeded, limit=2)["next"]
    assert seeded.get("/stock/board", query={"limit": "2", "cursor": cursor, "sort": "name"}).status == 400


def test_a_board_page_costs_a_fixed_number_of_requests(seeded, ddb_calls):  # noqa: F811
    from stocklink.store import board

    first = _board(seeded, limit=2)                  # settings cached, as in a warm container
    board._reads.forget()
    ddb_calls.clear()
    assert _board(seeded, limit=2) == first
    # the stock scan's segments, the SKU partition, the plan facts, the units on their way (one page each here)
    assert dict(ddb_calls) == {"Scan": board.STOCK_SEGMENTS, "Query": 3}
    ddb_calls.clear()
    second = _board(seeded, limit=2, cursor=first["next"], sort="sku")
    assert [r["sku"] for r in second["rows"]] == ["MUG-01", "SOCK-01"]   # (BAG, CAP | MUG, SOCK | TEE, TEE)
    assert dict(ddb_calls) == {}                      # the next page within READ_SECONDS: no request


def test_a_board_shows_a_change_once_its_reads_are_older_than_their_bound(seeded, monkeypatch):
    from stocklink.store import board

    now = [0.0]
    monkeypatch.setattr(board._reads, "clock", lambda: now[0])
    board._reads.forget()
    before = {r["sku"]: r["on_hand"] for r in _board(seeded)["rows"]}
    seeded.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-3", "lines": [{"sku": "SOCK-01", "qty": 7}]})
    now[0] = board.READ_SECONDS - 0.5
    assert {r["sku"]: r["on_hand"] for r in _board(seeded)["rows"]}["SOCK-01"] == before["SOCK-01"] == 0
    now[0] = board.READ_SECONDS + 0.5
    assert {r["sku"]: r["on_hand"] for r in _board(seeded)["rows"]}["SOCK-01"] == 7


def test_skus_list_filters_and_pages(seeded):
    body = seeded.get("/skus", query={"limit": "4"}).body
    assert [s["sku"] for s in body["skus"]] == ["BAG-01", "CAP-01", "MUG-01", "SOCK-01"] and body["next"]
    rest = seeded.get("/skus", query={"limit": "4", "cursor": body["next"]}).body
    assert [s["sku"] for s in rest["skus"]] == ["TEE-BLU-M", "TEE-RED-M"] and rest["next"] is None
    assert rest["skus"][1] == {"sku": "TEE-RED-M", "name": "Red tee M", "unit_cost": 6.5, "category": "tees"}
    assert [s["sku"] for s in seeded.get("/skus", query={"category": "tees"}).body["skus"]] == [
        "SOCK-01", "TEE-BLU-M", "TEE-RED-M"]
    assert [s["sku"] for s in seeded.get("/skus", query={"q": "blue"}).body["skus"]] == ["TEE-BLU-M"]
    assert seeded.get("/skus", query={"cursor": "zzz"}).status == 400


def test_warehouses_summary_values_stock_at_unit_cost(seeded):
    body = seeded.get("/warehouses/summary").body
    by_id = {w["warehouse_id"]: w for w in body["warehouses"]}
    assert by_id["wh-a"] == {"warehouse_id": "wh-a", "name": "Shenzhen A", "skus": 4, "on_hand": 544, "reserved": 0,
                             "available": 544, "in_transit": 0, "presold": 0,
                             "stock_value": 30 * 6.5 + 10 * 6.0 + 500 * 3.0, "in_transit_value": 0.0,
                             "missing_cost": 1}                # the mug has no cost
    assert by_id["wh-b"]["stock_value"] == 20 * 6.5 + 40 * 10.0 and by_id["wh-b"]["missing_cost"] == 0


@pytest.fixture
def shops(seeded):
    admin = as_admin(seeded)
    admin.put("/shops/shopify/s1", {"webhook_secret": "very-secret", "api_base_url": None})
    admin.put("/shops/tiktok/t1", {"app_key": "k", "app_secret": "also-secret"})
    for lid in ("L-1", "L-2", "L-3"):
        seeded.put(f"/listings/shopify/s1/{lid}", {"components": [{"sku": "TEE-RED-M", "qty": 1}],
                                                   "platform_ids": {"inventory_item_id": lid}})
    seeded.put("/listings/tiktok/t1/T-1", {"components": [{"sku": "TEE-RED-M", "qty": 2}, {"sku": "CAP-01", "qty": 1}],
                                           "platform_ids": {"product_id": "p", "sku_id": "s"}})
    seeded.put("/shops/shopify/s1/allocation", {"rule": "shared", "buffer": 5})
    return seeded


def test_shops_show_settings_and_health_never_a_secret(shops):
    from stocklink.store import sync_models

    sync_models.record_pushed("shopify", "s1", "L-1", 45, 1_000)
    sync_models.record_unchanged("shopify", "s1", "L-1", 45, 1_000)
    sync_models.record_listing_failed("shopify", "s1", "L-2", "HTTP 500", 2_000)
    answer = shops.get("/shops")
    assert answer.status == 200
    assert "secret" not in str(answer.body).replace("secret_name", "")
    by_shop = {s["shop"]: s for s in answer.body["shops"]}
    s1 = by_shop["s1"]
    assert (s1["platform"], s1["sync"], s1["rule"], s1["allocation"]["buffer"]) == ("shopify", True, "shared", 5)
    assert s1["health"] == {"last_push_at": 1_000, "failures": 1, "listings": 3, "in_sync": 1, "rate_limit_use": 0.0,
                            "reconciliation_accuracy": None, "needs_person": 0}
    assert by_shop["t1"]["health"]["listings"] == 1
    page = shops.get("/shops", query={"limit": "1"}).body
    assert [s["shop"] for s in page["shops"]] == ["s1"] and page["next"]


def test_listings_page_across_shops_with_their_quantities(shops):
    seen, cursor = [], None
    while True:
        body = shops.get("/listings", query={"limit": "3", **({"cursor": cursor} if cursor else {})}).body
        seen += body["listings"]
        cursor = body["next"]
        if cursor is None:
            break
    assert [(l["platform"], l["listing_id"]) for l in seen] == [
        ("shopify", "L-1"), ("shopify", "L-2"), ("shopify", "L-3"), ("tiktok", "T-1")]
    assert {l["listing_id"]: l["computed_qty"] for l in seen} == {"L-1": 45, "L-2": 45, "L-3": 45, "T-1": 25}
    assert seen[0]["read_back_qty"] is None and seen[0]["in_sync"] is False
    only = shops.get("/listings", query={"platform": "tiktok"}).body["listings"]
    assert [l["listing_id"] for l in only] == ["T-1"]
    by_sku = shops.get("/listings", query={"sku": "CAP-01"}).body["listings"]
    assert [l["listing_id"] for l in by_sku] == ["T-1"]
    assert shops.get("/listings", query={"shop": "s1"}).status == 400          # a shop needs its platform
    assert shops.get("/listings", query={"cursor": "eyJ4IjoxfQ"}).status == 400


def test_channels_explain_each_listings_number(shops):
    shops.post("/stock/adjustments", {"warehouse_id": "wh-a", "sku": "TEE-RED-M", "delta": -4, "reason": "damaged"})
    from functions.storefront_api.handler import handler
    ApiClient(handler, ADMIN_TOKEN).post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                                            "lines": [{"sku": "TEE-RED-M", "qty": 6}]})
    listings = {l["listing_id"]: l for l in shops.get("/skus/TEE-RED-M/channels").body["listings"]}
    explain = listings["L-1"]["explain"]
    assert (explain["pool"], explain["reserved"], explain["buffer"], explain["rule"]) == (46, 6, 5, "shared")
    assert explain["pool"] - explain["reserved"] - explain["buffer"] + explain["rule_adjustment"] \
        == listings["L-1"]["computed_qty"] == explain["shown"] == 35
    bundle = listings["T-1"]["explain"]
    assert bundle["pool"] - bundle["reserved"] - bundle["buffer"] + bundle["rule_adjustment"] \
        == listings["T-1"]["computed_qty"] == 20
    assert "bundle" in bundle["sources"]["rule_adjustment"]


def test_a_forecast_run_gives_the_board_its_plan_facts(staff):
    from stocklink.logic import forecasting_service
    from stocklink.store import sales_models

    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    staff.put("/skus/TEE-RED-M", {"name": "Red tee M", "price": 19.9})
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1", "lines": [{"sku": "TEE-RED-M", "qty": 9}]})
    assert _board(staff)["rows"][0]["abc"] is None                            # before any run
    forecasting_service.run("r1", 1_796_000_000_000)
    result = sales_models.get_result("TEE-RED-M")
    from stocklink.store import board
    board.forget_cached()
    row = _board(staff)["rows"][0]
    assert row["abc"] == result["abc_class"]
    assert row["safety_stock"] is not None and row["safety_stock"] >= result["safety_stock"]
