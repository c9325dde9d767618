"""Suppliers on moto: records, quotes, receipt history and scorecards, the recommended supplier per SKU, the
old per-SKU settings read through and migrated, and who may do what (the buyer role)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.apigw import ApiClient
from tests.integration.conftest import (ADMIN_TOKEN, BUYER_TOKEN, STAFF_TOKEN, STOREFRONT_TOKEN, VIEWER_TOKEN)

ACME = {"name": "Acme Textiles", "currency": "CNY", "lead_time_days": 12, "lead_time_spread_days": 2, "moq": 100,
        "case_pack": 12, "payment_terms": "30% deposit", "contact": {"name": "Li Wei", "email": "li@acme.example",
                                                                      "phone": "+86 755 1234"}}
BLUE = {"name": "Blue Mill", "currency": "CNY", "lead_time_days": 12, "moq": 1}


def ms(day: str) -> int:
    return int(dt.datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp() * 1000)


@pytest.fixture
def api(aws):
    """Clients by role on forecast_api, and two SKUs in the catalogue."""
    from functions.forecast_api.handler import handler
    from functions.staff_api.handler import handler as staff_handler

    admin = ApiClient(staff_handler, ADMIN_TOKEN)
    for sku in ("TEE", "CAP"):
        assert admin.put(f"/skus/{sku}", {"name": sku, "unit_cost": 5.0}).status == 200
    return {role: ApiClient(handler, token) for role, token in
            (("buyer", BUYER_TOKEN), ("staff", STAFF_TOKEN), ("viewer", VIEWER_TOKEN), ("admin", ADMIN_TOKEN),
             ("storefront", STOREFRONT_TOKEN))} | {"staff_api": admin}


def test_a_buyer_creates_reads_pages_and_retires_suppliers(api):
    buyer = api["buyer"]
    made = buyer.put("/suppliers/acme", ACME)
    assert made.status == 200
    assert made.body["supplier_id"] == "acme" and made.body["contact"]["email"] == "li@acme.example"
    assert made.body["active"] is True and made.body["moq"] == 100
    assert buyer.put("/suppliers/blue", BLUE).status == 200
    assert buyer.get("/suppliers/acme").body == made.body

    first = buyer.get("/suppliers", query={"limit": "1"}).body
    second = buyer.get("/suppliers", query={"limit": "1", "cursor": first["next"]}).body
    assert [s["supplier_id"] for s in first["suppliers"] + second["suppliers"]] == ["acme", "blue"]
    assert buyer.get("/suppliers", query={"cursor": "bm90LWEtY3Vyc29y"}).status == 400

    retired = buyer.put("/suppliers/blue", {**BLUE, "active": False}).body
    assert retired["active"] is False
    assert [s["supplier_id"] for s in buyer.get("/suppliers", query={"active": "true"}).body["suppliers"]] == ["acme"]
    assert [s["supplier_id"] for s in buyer.get("/suppliers", query={"active": "false"}).body["suppliers"]] == ["blue"]
    assert buyer.get("/suppliers", query={"active": "yes"}).status == 400


@pytest.mark.parametrize("body, field", [
    ({"currency": "CNY"}, "name"),
    ({"name": "X"}, "currency"),
    ({"name": "X", "currency": "usd"}, "currency"),
    ({"name": "X", "currency": "XAU"}, "currency"),             # gold is not what a supplier invoices in
    ({"name": "X", "currency": "CNY", "moq": 0}, "moq"),
    ({"name": "X", "currency": "CNY", "lead_time_days": 0}, "lead_time_days"),
    ({"name": "X", "currency": "CNY", "contact": {"email": "not-an-email"}}, "contact.email"),
    ({"name": "X", "currency": "CNY", "active": "false"}, "active"),
    ({"name": "X", "currency": "CNY", "discount": 5}, "discount"),
])
def test_a_bad_supplier_is_a_400_naming_the_field_and_nothing_is_written(api, body, field):
    answer = api["buyer"].put("/suppliers/x", body)
    assert answer.status == 400 and answer.body["field"] == field
    assert api["buyer"].get("/suppliers/x").status == 404


def test_unknown_suppliers_are_404_on_every_route(api):
    buyer = api["buyer"]
    assert buyer.get("/suppliers/nope").body["error"] == "not_found"
    assert buyer.get("/suppliers/nope/scorecard").status == 404
    assert buyer.put("/suppliers/nope/quotes/TEE", {"price_breaks": [{"min_qty": 1, "unit_price": 1.0}]}).status == 404
    assert buyer.get("/suppliers/bad%23id").status == 400        # ids are identifiers, as in every body


def test_buyers_manage_suppliers_staff_and_viewers_only_read_them(api):
    assert api["buyer"].put("/suppliers/acme", ACME).status == 200
    for role in ("staff", "viewer", "storefront"):
        assert api[role].put("/suppliers/acme", ACME).status == 403, role
        assert api[role].put("/suppliers/acme/quotes/TEE",
                             {"price_breaks": [{"min_qty": 1, "unit_price": 1.0}]}).status == 403, role
    for role in ("staff", "viewer", "admin"):
        assert api[role].get("/suppliers/acme").status == 200, role
        assert api[role].get("/skus/TEE/suppliers").status == 200, role
    assert api["storefront"].get("/suppliers/acme").status == 403
    assert api["admin"].put("/suppliers/acme", {**ACME, "payment_terms": "net 30"}).status == 200


def test_buyer_writes_are_in_the_audit_trail_and_buyer_tokens_can_be_made(api):
    admin = api["staff_api"]
    api["buyer"].put("/suppliers/acme", ACME)
    entry = admin.get("/audit").body["entries"][0]
    assert (entry["actor"], entry["route"], entry["status"]) == ("bo", "/suppliers/{supplier_id}", 200)
    assert entry["after"]["name"] == "Acme Textiles" and entry["before"] is None

    made = admin.post("/tokens", {"name": "purchasing", "roles": ["buyer"]})
    assert made.status == 201 and made.body["roles"] == ["buyer"]
    buyer = ApiClient(api["buyer"].handler, made.body["token"])
    assert buyer.put("/suppliers/blue", BLUE).status == 200
    assert buyer.put("/warehouses/wh-x", {"name": "nope"}).status in (403, 404)   # not a staff route
    assert ApiClient(admin.handler, made.body["token"]).put("/warehouses/wh-x", {"name": "x"}).status == 403


# --- quotes ---------------------------------------------------------------------------------------------------

def test_a_quote_is_stored_with_the_terms_it_inherits_and_the_first_one_becomes_the_skus_choice(api):
    buyer = api["buyer"]
    buyer.put("/suppliers/acme", ACME)
    buyer.put("/suppliers/blue", BLUE)
    quote = buyer.put("/suppliers/acme/quotes/TEE", {"price_breaks": [{"min_qty": 100, "unit_price": 4.0},
                                                                      {"min_qty": 600, "unit_price": 3.5}],
                                                     "case_pack": 24})
    assert quote.status == 200
    assert quote.body["terms"] == {"lead_time_days": 12.0, "lead_time_spread_days": 2.0, "moq": 100, "case_pack": 24}
    assert quote.body["currency"] == "CNY"
    assert buyer.put("/suppliers/blue/quotes/TEE", {"price_breaks": [{"min_qty": 1, "unit_price": 4.5}]}).status == 200

    terms = buyer.get("/skus/TEE/supplier").body            # what replenishment plans with
    assert (terms["supplier_id"], terms["supplier"], terms["currency"]) == ("acme", "Acme Textiles", "CNY")
    assert (terms["moq"], terms["case_pack"], terms["lead_time_days"], terms["lead_time_std_days"]) == (100, 24, 12, 2)
    assert terms["price_breaks"] == [{"min_qty": 100, "unit_cost": 4.0}, {"min_qty": 600, "unit_cost": 3.5}]


@pytest.mark.parametrize("body, problem", [
    ({"price_breaks": []}, "at least 1"),
    ({"price_breaks": [{"min_qty": 10, "unit_price": 2.0}, {"min_qty": 5, "unit_price": 1.0}]}, "ascending"),
    ({"price_breaks": [{"min_qty": 10, "unit_price": 2.0}, {"min_qty": 50, "unit_price": 3.0}]}, "must not rise"),
    ({"price_breaks": [{"min_qty": 0, "unit_price": 2.0}]}, "greater than or equal to 1"),
    ({"price_breaks": [{"min_qty": 1, "unit_price": 0}]}, "greater than 0"),
    ({"price_breaks": [{"min_qty": 1, "unit_price": "2.0"}]}, "number"),
])
def test_bad_price_breaks_are_a_400_and_nothing_is_written(api, body, problem):
    from stocklink.logic import suppliers

    api["buyer"].put("/suppliers/acme", ACME)
    answer = api["buyer"].put("/suppliers/acme/quotes/TEE", body)
    assert answer.status == 400 and answer.body["field"].startswith("price_breaks"), answer.body
    assert problem in answer.body["message"]
    assert api["buyer"].get("/skus/TEE/supplier").status == 404      # no quote, no choice
    assert suppliers.store.quotes_for("TEE") == []


def test_a_quote_for_an_unknown_supplier_or_sku_writes_nothing(api):
    from stocklink.logic import suppliers

    breaks = {"price_breaks": [{"min_qty": 1, "unit_price": 1.0}]}
    assert api["buyer"].put("/suppliers/ghost/quotes/TEE", breaks).status == 404
    assert suppliers.store.quotes_for("TEE") == [] and api["buyer"].get("/skus/TEE/supplier").status == 404
    api["buyer"].put("/suppliers/acme", ACME)
    assert api["buyer"].put("/suppliers/acme/quotes/NOPE", breaks).body == {
        "error": "not_found", "message": "unknown SKU NOPE", "sku": "NOPE"}


def test_an_order_line_is_rounded_and_priced_for_the_po_work(api):
    from stocklink.errors import NotFound
    from stocklink.logic import suppliers

    api["buyer"].put("/suppliers/acme", ACME)
    api["buyer"].put("/suppliers/acme/quotes/TEE", {"price_breaks": [{"min_qty": 100, "unit_price": 4.0},
                                                                     {"min_qty": 600, "unit_price": 3.5}]})
    assert suppliers.order_line("acme", "TEE", 10) == {
        "supplier_id": "acme", "sku": "TEE", "requested_qty": 10, "qty": 108, "unit_price": 4.0, "currency": "CNY",
        "line_cost": 432.0}
    assert suppliers.order_line("acme", "TEE", 590)["qty"] == 600
    assert suppliers.order_line("acme", "TEE", 590)["unit_price"] == 3.5
    with pytest.raises(NotFound):
        suppliers.order_line("acme", "CAP", 10)


# --- receipt history, scorecards, the recommended supplier ---------------------------------------------------

def receive(supplier_id, *, lead_days, promised_days, qty=100, rejected=0, price=4.0, sku="TEE", ordered="2026-03-01",
            reference=None):
    from stocklink.logic import suppliers

    ordered_at = ms(ordered)
    promised = (dt.date.fromisoformat(ordered) + dt.timedelta(days=promised_days)).isoformat()
    return suppliers.record_receipt(supplier_id, sku, ordered_at, promised, ordered_at + lead_days * 86_400_000,
                                    qty, rejected, price, reference=reference, now_ms=ordered_at)


def test_the_scorecard_counts_each_receipt_once(api, monkeypatch):
    from stocklink.logic import suppliers

    buyer = api["buyer"]
    buyer.put("/suppliers/acme", ACME)
    buyer.put("/suppliers/blue", BLUE)
    buyer.put("/suppliers/acme/quotes/TEE", {"price_breaks": [{"min_qty": 1, "unit_price": 4.4}]})
    buyer.put("/suppliers/blue/quotes/TEE", {"price_breaks": [{"min_qty": 1, "unit_price": 4.0}]})
    first = receive("acme", lead_days=10, promised_days=12, rejected=4, price=4.4, reference="PO-1#1#1")
    assert first["recorded"] is True and first["on_time"] is True and first["ref_price"] == 4.0
    assert receive("acme", lead_days=10, promised_days=12, rejected=4, price=4.4,
                   reference="PO-1#1#1")["recorded"] is False
    receive("acme", lead_days=14, promised_days=12, price=4.4, reference="PO-2#1#1")

    import functions.forecast_api.handler as fa
    monkeypatch.setattr(fa, "now_ms", lambda: ms("2026-03-20"))
    card = buyer.get("/suppliers/acme/scorecard").body
    assert (card["receipts"], card["late_receipts"], card["mean_days_late"]) == (2, 1, 2)
    assert card["on_time_rate"] == 0.5
    assert card["lead_time_days"] == {"mean": 12.0, "spread": 2.0}
    assert (card["received_units"], card["rejected_units"], card["reject_rate"]) == (200, 4, 0.02)
    assert card["price_index"] == pytest.approx(1.1)
    assert card["window"] == {"from_month": "2025-04", "to_month": "2026-03"}
    # a year on, those receipts have left the window
    monkeypatch.setattr(fa, "now_ms", lambda: ms("2027-04-01"))
    assert buyer.get("/suppliers/acme/scorecard").body["receipts"] == 0
    assert suppliers.store.get_receipt("acme", "PO-1#1#1")["rejected_qty"] == 4


def test_a_bad_receipt_is_refused_and_counts_nothing(api):
    from stocklink.errors import NotFound, ValidationFailed

    api["buyer"].put("/suppliers/acme", ACME)
    with pytest.raises(ValidationFailed):
        receive("acme", lead_days=-1, promised_days=5)
    with pytest.raises(ValidationFailed):
        receive("acme", lead_days=3, promised_days=5, qty=5, rejected=6)
    with pytest.raises(NotFound):
        receive("ghost", lead_days=3, promised_days=5)
    assert api["buyer"].get("/suppliers/acme/scorecard").body["receipts"] == 0


def test_the_recommended_supplier_follows_price_then_history(api, monkeypatch):
    import functions.forecast_api.handler as fa

    monkeypatch.setattr(fa, "now_ms", lambda: ms("2026-04-01"))
    buyer = api["buyer"]
    buyer.put("/suppliers/acme", {**ACME, "lead_time_spread_days": 0})
    buyer.put("/suppliers/blue", BLUE)
    buyer.put("/suppliers/gone", {**BLUE, "name": "Gone", "active": False})
    buyer.put("/suppliers/acme/quotes/TEE", {"price_breaks": [{"min_qty": 100, "unit_price": 4.0}]})
    buyer.put("/suppliers/blue/quotes/TEE", {"price_breaks": [{"min_qty": 1, "unit_price": 4.2}]})
    buyer.put("/suppliers/gone/quotes/TEE", {"price_breaks": [{"min_qty": 1, "unit_price": 1.0}]})

    # no history: both at the neutral prior, so the cheaper quote wins; the retired one is listed, unscored
    listed = buyer.get("/skus/TEE/suppliers").body
    assert listed["reference_qty"] == 108 and listed["chosen"] == "acme"
    assert [s["supplier_id"] for s in listed["suppliers"]] == ["acme", "blue", "gone"]
    assert listed["recommended"] == "acme"
    assert listed["suppliers"][2]["score"] is None and listed["suppliers"][2]["active"] is False
    assert listed["suppliers"][0]["scorecard"]["blended"]["prior_weight"] == 1.0

    # Acme turns out late and sloppy: Blue, a little dearer, is recommended; the SKU's choice stays a person's
    for n in range(8):
        receive("acme", lead_days=25, promised_days=12, rejected=20, reference=f"A-{n}")
        receive("blue", lead_days=11, promised_days=12, price=4.2, reference=f"B-{n}")
    listed = buyer.get("/skus/TEE/suppliers").body
    assert listed["recommended"] == "blue" and listed["chosen"] == "acme"
    scores = {s["supplier_id"]: s for s in listed["suppliers"]}
    assert scores["blue"]["score"] > scores["acme"]["score"]
    assert scores["acme"]["factors"]["price"] == 1.0 > scores["blue"]["factors"]["price"]
    assert scores["acme"]["factors"]["speed"] < scores["blue"]["factors"]["speed"]
    assert scores["acme"]["factors"]["quality"] < scores["blue"]["factors"]["quality"]

    priced = buyer.get("/skus/TEE/suppliers", query={"qty": "1"}).body
    assert {s["supplier_id"]: s["order_qty"] for s in priced["suppliers"]} == {"acme": 108, "blue": 1, "gone": 1}
    for bad in ("0", "-1", "1.5", "many", "99999999"):
        assert buyer.get("/skus/TEE/suppliers", query={"qty": bad}).status == 400, bad
    assert buyer.get("/skus/NOPE/suppliers").status == 404
    assert buyer.get("/skus/CAP/suppliers").body == {"sku": "CAP", "reference_qty": 1, "weights": listed["weights"],
                                                     "recommended": None, "chosen": None, "suppliers": []}


# --- PUT /skus/{sku}/supplier and the old per-SKU settings ---------------------------------------------------

LEGACY = {"sku": "TEE", "supplier": "Acme Textiles", "lead_time_days": 10.0, "lead_time_std_days": 1.5,
          "review_period_days": 14.0, "moq": 50, "case_pack": 12, "service_level": 0.97,
          "price_breaks": [{"min_qty": 50, "unit_cost": 4.0}, {"min_qty": 600, "unit_cost": 3.0}]}
TERMS = ("supplier", "lead_time_days", "lead_time_std_days", "review_period_days", "moq", "case_pack",
         "price_breaks", "service_level")


def write_legacy(sku: str, data: dict, at_ms: int = 1_700_000_000_000) -> None:
    """Settings as PUT /skus/{sku}/supplier stored them before supplier records existed."""
    from stocklink.store.keys import SUPPLIER_PK
    from stocklink.store.sales_models import ForecastItem
    ForecastItem(SUPPLIER_PK, sku, data={**data, "sku": sku}, updated_at=at_ms).save()


def test_old_settings_read_through_unchanged_then_migrate_without_losing_anything(api):
    from stocklink.logic import forecasting_service as fs
    from stocklink.logic import suppliers

    write_legacy("TEE", LEGACY)
    write_legacy("CAP", {**LEGACY, "supplier": "", "moq": 7})         # terms without a supplier: left as they are
    before = api["viewer"].get("/skus/TEE/supplier").body
    assert {k: before[k] for k in TERMS} == {k: LEGACY[k] for k in TERMS} and before["supplier_id"] is None
    params_before = fs.sku_params("TEE", {}, suppliers.terms_for(["TEE"])["TEE"], 10, 0)

    assert suppliers.migrate_legacy(["TEE", "CAP"], now_ms=1_800_000_000_000) == 1
    assert suppliers.migrate_legacy(["TEE", "CAP"], now_ms=1_800_000_000_001) == 0       # done once
    after = api["viewer"].get("/skus/TEE/supplier").body
    assert {k: after[k] for k in TERMS} == {k: LEGACY[k] for k in TERMS}
    assert after["supplier_id"] == "acme-textiles"
    assert fs.sku_params("TEE", {}, suppliers.terms_for(["TEE"])["TEE"], 10, 0) == params_before

    record = api["viewer"].get("/suppliers/acme-textiles").body
    assert (record["name"], record["currency"], record["source"]) == ("Acme Textiles", None, "sku_settings")
    assert suppliers.store.sku_settings(["TEE"])["TEE"]["data"]["legacy"] == LEGACY       # the old document kept
    assert api["viewer"].get("/skus/CAP/supplier").body["moq"] == 7
    listed = api["viewer"].get("/skus/TEE/suppliers").body
    assert listed["chosen"] == "acme-textiles" and listed["suppliers"][0]["quote"]["terms"]["moq"] == 50


def test_two_skus_naming_one_supplier_share_its_record_and_keep_their_own_terms(api):
    from stocklink.logic import suppliers

    write_legacy("TEE", LEGACY)
    write_legacy("CAP", {**LEGACY, "supplier": "ACME textiles", "moq": 300, "lead_time_days": 20.0})
    assert suppliers.migrate_legacy(["TEE", "CAP"], now_ms=1_800_000_000_000) == 2
    terms = suppliers.terms_for(["TEE", "CAP"])
    assert terms["TEE"]["supplier_id"] == terms["CAP"]["supplier_id"] == "acme-textiles"
    assert (terms["TEE"]["moq"], terms["CAP"]["moq"]) == (50, 300)
    assert (terms["TEE"]["lead_time_days"], terms["CAP"]["lead_time_days"]) == (10.0, 20.0)
    assert [s["supplier_id"] for s in api["viewer"].get("/suppliers").body["suppliers"]] == ["acme-textiles"]


def test_a_migration_never_overwrites_settings_changed_meanwhile(api, monkeypatch):
    from stocklink.logic import suppliers

    write_legacy("TEE", LEGACY)
    read = suppliers.store.sku_settings

    def changed_after_the_read(skus, consistent=False):
        found = read(skus, consistent)
        write_legacy("TEE", {**LEGACY, "moq": 999}, at_ms=1_700_000_000_999)      # a PUT lands in between
        return found
    monkeypatch.setattr(suppliers.store, "sku_settings", changed_after_the_read)
    assert suppliers.migrate_legacy(["TEE"], now_ms=1_800_000_000_000) == 0
    monkeypatch.setattr(suppliers.store, "sku_settings", read)
    assert suppliers.terms_for(["TEE"])["TEE"]["moq"] == 999 and suppliers.store.quotes_for("TEE") == []


def test_the_forecast_run_migrates_the_pages_it_plans(api):
    from stocklink.logic import forecasting_service as fs

    write_legacy("TEE", LEGACY)
    state = fs.run("test-run", ms("2026-03-01"))
    assert state["status"] == "done"
    assert api["viewer"].get("/skus/TEE/supplier").body["supplier_id"] == "acme-textiles"


def test_put_sku_supplier_by_name_by_id_or_neither(api):
    staff, buyer = api["staff"], api["buyer"]
    named = staff.put("/skus/TEE/supplier", {"supplier": "Late & Co", "lead_time_days": 3, "moq": 5,
                                             "price_breaks": [{"min_qty": 1, "unit_cost": 1.5}]})
    assert named.status == 200 and named.body["supplier_id"] == "late-co" and named.body["moq"] == 5
    assert buyer.get("/suppliers/late-co").body["name"] == "Late & Co"

    buyer.put("/suppliers/acme", ACME)
    buyer.put("/suppliers/acme/quotes/TEE", {"price_breaks": [{"min_qty": 100, "unit_price": 4.0}]})
    chosen = buyer.put("/skus/TEE/supplier", {"supplier_id": "acme", "lead_time_days": 9, "review_period_days": 3})
    assert chosen.status == 200
    # only what was sent overrides the quote; the rest is the supplier's, the breaks the quote's
    assert (chosen.body["supplier_id"], chosen.body["lead_time_days"], chosen.body["moq"]) == ("acme", 9, 100)
    assert chosen.body["price_breaks"] == [{"min_qty": 100, "unit_cost": 4.0}]
    assert chosen.body["review_period_days"] == 3

    missing = buyer.put("/skus/TEE/supplier", {"supplier_id": "ghost"})
    assert missing.status == 404 and buyer.get("/skus/TEE/supplier").body["supplier_id"] == "acme"

    own = staff.put("/skus/CAP/supplier", {"lead_time_days": 4})
    assert own.body["supplier_id"] is None and own.body["supplier"] == "" and own.body["lead_time_days"] == 4
    assert api["viewer"].put("/skus/CAP/supplier", {"lead_time_days": 4}).status == 403


def test_the_migrate_command_does_every_sku_at_once(api, capsys):
    import json

    from infra.local import cli

    write_legacy("TEE", LEGACY)
    write_legacy("CAP", {**LEGACY, "supplier": "Blue Mill"})
    assert cli.main(["suppliers", "migrate"]) == 0
    assert json.loads(capsys.readouterr().out) == {"skus_with_settings": 2, "migrated": 2}
    assert cli.main(["suppliers", "migrate"]) == 0
    assert json.loads(capsys.readouterr().out) == {"skus_with_settings": 2, "migrated": 0}
    assert {s["supplier_id"] for s in api["viewer"].get("/suppliers").body["suppliers"]} == {"acme-textiles",
                                                                                             "blue-mill"}
