"""The audit trail: every staff and admin write (any API function) is appended with who, route, target,
before/after, when and the status; secrets never enter it; GET /audit lists it newest first, by actor."""
from __future__ import annotations

import json

import boto3
import pytest

from tests.integration.apigw import ApiClient
from tests.integration.conftest import ADMIN_TOKEN, STAFF_TOKEN, STOREFRONT_TOKEN

DAY_MS = 86_400_000


@pytest.fixture
def admin(aws) -> ApiClient:
    from functions.staff_api.handler import handler
    return ApiClient(handler, ADMIN_TOKEN)


def trail(admin: ApiClient, **query) -> list[dict]:
    answer = admin.get("/audit", query={k: str(v) for k, v in query.items()} or None)
    assert answer.status == 200, answer.body
    return answer.body["entries"]


def scan_audit() -> list[dict]:
    from stocklink.config import table_name
    return boto3.client("dynamodb").scan(TableName=table_name("audit"))["Items"]


def test_a_staff_write_is_recorded_with_before_and_after(admin):
    staff = ApiClient(admin.handler, STAFF_TOKEN)
    assert staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 1}).status == 200
    assert staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 2}).status == 200
    newest, oldest = trail(admin)
    assert newest["actor"] == "alice" and newest["method"] == "PUT"
    assert newest["route"] == "/warehouses/{warehouse_id}" and newest["target"] == {"warehouse_id": "wh-a"}
    assert newest["status"] == 200 and newest["at"] >= oldest["at"]
    assert newest["before"]["priority"] == 1 and newest["after"]["priority"] == 2
    assert newest["request_fields"] == ["name", "priority"]
    assert oldest["before"] is None and oldest["after"]["priority"] == 1


def test_reads_storefront_moves_and_viewers_are_not_recorded(admin, stocked):
    storefront = ApiClient(__import__("functions.storefront_api.handler", fromlist=["handler"]).handler,
                           STOREFRONT_TOKEN)
    before = len(trail(admin))
    stocked.get("/warehouses")
    stocked.get("/skus/TEE-RED-M/stock")
    assert storefront.post("/reservations", {"reservation_id": "web-1", "channel": "web",
                                             "lines": [{"sku": "TEE-RED-M", "qty": 1}]}).status == 201
    viewer_token = admin.post("/tokens", {"name": "reader", "roles": ["viewer"]}).body["token"]
    assert ApiClient(admin.handler, viewer_token).put("/warehouses/wh-z", {"name": "Z"}).status == 403
    routes = [(e["method"], e["route"]) for e in trail(admin)]
    assert len(routes) == before + 1 and routes[0] == ("POST", "/tokens")   # the admin's token creation only


def test_refused_writes_are_recorded_with_their_status(admin):
    staff = ApiClient(admin.handler, STAFF_TOKEN)
    assert staff.put("/shops/shopify/s1", {"webhook_secret": "whsec-SECRET-1"}).status == 403
    assert staff.post("/stock/adjustments", {"warehouse_id": "nowhere"}).status == 400
    (bad, refused) = trail(admin)
    assert (refused["route"], refused["status"], refused["actor"]) == ("/shops/{platform}/{shop}", 403, "alice")
    assert refused["after"] == {"error": "forbidden"} and refused["request_fields"] == ["webhook_secret"]
    assert bad["status"] == 400 and bad["after"] == {"error": "validation_error"}


def test_credentials_and_tokens_never_enter_the_trail(admin):
    secret = "shpss_TOPSECRET_0123456789"
    for value in (secret, secret + "2"):
        assert admin.put("/shops/shopify/s1", {"webhook_secret": value, "shop_domain": "s1.myshopify.com"}).status == 200
    token = admin.post("/tokens", {"name": "pos", "roles": ["storefront"]}).body["token"]
    assert admin.delete("/tokens/pos").status == 200
    dumped = json.dumps(scan_audit())
    assert secret not in dumped and token not in dumped and "TOPSECRET" not in dumped
    revoke, create, shop2, shop1 = trail(admin)
    assert shop2["request_fields"] == ["shop_domain", "webhook_secret"]
    assert set(shop2["after"]["fields"]) >= {"credential_fields", "platform", "shop"}
    assert "fields" in shop2["before"]
    assert create["after"] == {"fields": sorted(create["after"]["fields"])} and "token" in create["after"]["fields"]
    assert revoke["target"] == {"name": "pos"} and revoke["before"]["roles"] == ["storefront"]
    assert "token_hash" not in json.dumps(revoke)


def test_writes_of_the_other_api_functions_are_recorded(admin):
    from functions.alerts_api.handler import handler as alerts_handler
    from functions.forecast_api.handler import handler as forecast_handler

    admin.put("/skus/TEE", {"name": "Tee"})
    assert ApiClient(alerts_handler, STAFF_TOKEN).put("/alert-rules/global", {"floor_units": 5}).status == 200
    assert ApiClient(forecast_handler, STAFF_TOKEN).put("/skus/TEE/supplier", {"lead_time_days": 7}).status == 200
    entries = trail(admin)
    assert [(e["route"], e["actor"], e["status"]) for e in entries[:2]] == [
        ("/skus/{sku}/supplier", "alice", 200), ("/alert-rules/global", "alice", 200)]
    assert entries[1]["after"]["rules"]["floor_units"] == 5 and entries[1]["before"] is None
    assert entries[0]["after"]["lead_time_days"] == 7 and entries[0]["before"] is None
    ApiClient(alerts_handler, STAFF_TOKEN).put("/alert-rules/global", {"floor_units": 7})
    assert trail(admin)[0]["before"]["floor_units"] == 5


def test_the_trail_pages_newest_first_across_days_and_filters_by_actor(admin, monkeypatch):
    from stocklink import web

    staff = ApiClient(admin.handler, STAFF_TOKEN)
    base = 1_765_000_000_000
    at = {"ms": base}
    monkeypatch.setattr(web, "now_ms", lambda: at["ms"])
    for day in range(3):                     # three days, two writes each (one by each actor)
        at["ms"] = base + day * DAY_MS
        staff.put(f"/warehouses/wh-{day}", {"name": f"day {day}"})
        at["ms"] += 1000
        admin.put(f"/skus/SKU-{day}", {"name": f"day {day}"})
    everything = trail(admin, limit=100)
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    assert len(everything) == 6
    seen, cursor = [], None
    while True:
        page = admin.get("/audit", query={"limit": "4", **({"cursor": cursor} if cursor else {})})
        assert page.status == 200
        seen += page.body["entries"]
        cursor = page.body["next"]
        if not cursor:
            break
    assert [e["id"] for e in seen] == [e["id"] for e in everything]
    alice = trail(admin, actor="alice", limit=2)
    assert [e["target"] for e in alice] == [{"warehouse_id": "wh-2"}, {"warehouse_id": "wh-1"}]
    assert all(e["actor"] == "alice" for e in trail(admin, actor="alice"))
    assert trail(admin, actor="nobody") == []
    days = {item["pk"]["S"] for item in scan_audit()}
    assert len([d for d in days if d.startswith("AUDIT#")]) == 3     # one partition per day


def test_bad_cursor_and_limit_are_400(admin):
    assert admin.get("/audit", query={"cursor": "nope!"}).status == 400
    assert admin.get("/audit", query={"limit": "1001"}).status == 400
    from stocklink.store import paging
    foreign = paging.encode({"pk": {"S": "TOKEN"}, "sk": {"S": "root"}})
    assert admin.get("/audit", query={"cursor": foreign}).status == 400


def test_an_audit_write_failure_keeps_the_committed_answer(admin, monkeypatch):
    from stocklink.logic import audit
    from stocklink.store import audit as audit_store

    counted = []

    def broken(entry, at_ms):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit_store, "append", broken)
    monkeypatch.setattr(audit.metrics, "add_metric", lambda **kw: counted.append(kw))
    staff = ApiClient(admin.handler, STAFF_TOKEN)
    answer = staff.put("/warehouses/wh-a", {"name": "A"})
    assert answer.status == 200 and answer.body["name"] == "A"           # the change stands and says so
    assert staff.get("/warehouses").body["warehouses"][0]["warehouse_id"] == "wh-a"
    assert counted == [{"name": "AuditWriteFailed", "unit": audit.MetricUnit.Count, "value": 1}]
