"""Route x role matrix: every topology route called in-process with each role's token and with none.

ALLOW means the handler let the caller past authentication and authorisation (any status but 401/403: a
400 for the empty body or a 404 for the sample id still shows the door was open). Adding a route: one line
in MATRIX; a topology route missing here fails test_every_topology_route_has_a_row.
"""
from __future__ import annotations

import pytest

from infra.topology import ROUTES
from stocklink.contract import document
from tests.integration.apigw import ApiClient
from tests.integration.conftest import (ADMIN_TOKEN, BUYER_TOKEN, STAFF_TOKEN, STOREFRONT_TOKEN, VIEWER_TOKEN,
                                        moto_env)
from tests.integration.inprocess import handler_for

ALLOW = "allow"
CALLERS = {"admin": ADMIN_TOKEN, "staff": STAFF_TOKEN, "viewer": VIEWER_TOKEN, "buyer": BUYER_TOKEN,
           "storefront": STOREFRONT_TOKEN, "no token": None}
_ = 403
ACCESS = {                                 # row kind -> caller -> expected
    "public":     {"admin": ALLOW, "staff": ALLOW, "viewer": ALLOW, "buyer": ALLOW, "storefront": ALLOW,
                   "no token": ALLOW},
    "admin":      {"admin": ALLOW, "staff": _, "viewer": _, "buyer": _, "storefront": _, "no token": 401},
    "staff":      {"admin": ALLOW, "staff": ALLOW, "viewer": _, "buyer": _, "storefront": _, "no token": 401},
    "read":       {"admin": ALLOW, "staff": ALLOW, "viewer": ALLOW, "buyer": ALLOW, "storefront": _, "no token": 401},
    # suppliers: buyers manage them; staff and viewers read them (the "read" rows)
    "buying":     {"admin": ALLOW, "staff": _, "viewer": _, "buyer": ALLOW, "storefront": _, "no token": 401},
    # a SKU's supplier terms: staff set them before buyers existed, and still may
    "staff or buyer": {"admin": ALLOW, "staff": ALLOW, "viewer": _, "buyer": ALLOW, "storefront": _,
                       "no token": 401},
    "storefront": {"admin": ALLOW, "staff": _, "viewer": _, "buyer": _, "storefront": ALLOW, "no token": 401},
    # a reservation: staff, viewers and storefronts (their own); a buyer has no business with orders
    "any token":  {"admin": ALLOW, "staff": ALLOW, "viewer": ALLOW, "buyer": ALLOW, "storefront": ALLOW,
                   "no token": 401},
    "reservation":  {"admin": ALLOW, "staff": ALLOW, "viewer": ALLOW, "buyer": _, "storefront": ALLOW,
                   "no token": 401},
    # platform webhooks: a Bearer token opens nothing; an unsigned delivery is a 401 whoever sends it
    "signed":     {"admin": 401, "staff": 401, "viewer": 401, "buyer": 401, "storefront": 401, "no token": 401},
}
MATRIX = {
    ("GET", "/health"): "public",
    ("GET", "/openapi.json"): "public",
    ("PUT", "/warehouses/{warehouse_id}"): "staff",
    ("GET", "/warehouses"): "read",
    ("GET", "/warehouses/summary"): "read",
    ("GET", "/skus"): "read",
    ("GET", "/stock/board"): "read",
    ("PUT", "/stock/board/settings"): "staff",
    ("GET", "/shops"): "read",
    ("GET", "/listings"): "read",
    ("PUT", "/skus/{sku}"): "staff",
    ("GET", "/skus/{sku}/stock"): "read",
    ("POST", "/stock/receipts"): "staff",
    ("POST", "/stock/adjustments"): "staff",
    ("GET", "/ledger"): "read",
    ("GET", "/events"): "read",
    ("PUT", "/shops/{platform}/{shop}"): "admin",
    ("PUT", "/listings/{platform}/{shop}/{listing_id}"): "staff",
    ("POST", "/reservations"): "storefront",
    ("GET", "/reservations/{reservation_id}"): "reservation",      # a storefront token sees only its own
    ("POST", "/reservations/{reservation_id}/staff-action"): "staff",
    ("POST", "/reservations/{reservation_id}/commit"): "storefront",
    ("POST", "/reservations/{reservation_id}/release"): "storefront",
    ("POST", "/reservations/{reservation_id}/ship"): "storefront",
    ("POST", "/webhooks/{platform}/{shop}"): "signed",
    ("PUT", "/shops/{platform}/{shop}/allocation"): "staff",
    ("GET", "/shops/{platform}/{shop}/allocation"): "read",
    ("GET", "/skus/{sku}/channels"): "read",
    ("PUT", "/skus/{sku}/sale"): "staff",
    ("DELETE", "/skus/{sku}/sale"): "staff",
    ("GET", "/sync/failures"): "read",
    ("PUT", "/allocation/last-units"): "staff",
    ("GET", "/allocation/last-units"): "read",
    ("GET", "/reconciliation/last"): "read",
    ("GET", "/reconciliation/history"): "read",
    ("GET", "/alerts"): "read",
    ("POST", "/alerts/{alert_id}/ack"): "staff",
    ("GET", "/alert-rules"): "read",
    ("PUT", "/alert-rules/global"): "staff",
    ("PUT", "/alert-rules/abc/{abc_class}"): "staff",
    ("PUT", "/alert-rules/sku/{sku}"): "staff",
    ("GET", "/subscriptions"): "read",
    ("PUT", "/subscriptions/{subscription_id}"): "admin",
    ("DELETE", "/subscriptions/{subscription_id}"): "staff",
    ("PUT", "/suppliers/{supplier_id}"): "buying",
    ("GET", "/suppliers/{supplier_id}"): "read",
    ("GET", "/suppliers"): "read",
    ("PUT", "/suppliers/{supplier_id}/quotes/{sku}"): "buying",
    ("GET", "/suppliers/{supplier_id}/scorecard"): "read",
    ("GET", "/skus/{sku}/suppliers"): "read",
    ("PUT", "/skus/{sku}/supplier"): "staff or buyer",
    ("GET", "/skus/{sku}/supplier"): "read",
    ("POST", "/forecasts/run"): "staff",
    ("GET", "/forecasts/{sku}"): "read",
    ("GET", "/replenishment"): "read",
    ("POST", "/tokens"): "admin",
    ("GET", "/me"): "any token",
    ("GET", "/tokens"): "admin",
    ("DELETE", "/tokens/{name}"): "admin",
    ("GET", "/audit"): "admin",
    ("GET", "/reports"): "read",
    ("GET", "/reports/{name}"): "read",
    ("POST", "/reports/snapshots/run"): "staff",
    ("POST", "/purchase-orders"): "buying",
    ("POST", "/purchase-orders/from-suggestions"): "buying",
    ("GET", "/purchase-orders"): "read",
    ("GET", "/purchase-orders/{po_id}"): "read",
    ("POST", "/purchase-orders/{po_id}/status"): "buying",
    ("POST", "/purchase-orders/{po_id}/ship"): "buying",
    ("POST", "/purchase-orders/{po_id}/receipts"): "staff",      # staff receive goods
    ("PUT", "/transfer-lanes/{from_warehouse}/{to_warehouse}"): "staff",
    ("GET", "/transfer-lanes"): "read",
    ("GET", "/transfers/suggestions"): "read",
    ("POST", "/transfers"): "staff",
    ("GET", "/transfers"): "read",
    ("GET", "/transfers/{transfer_id}"): "read",
    ("POST", "/transfers/{transfer_id}/pick"): "staff",
    ("POST", "/transfers/{transfer_id}/receive"): "staff",
    ("POST", "/transfers/{transfer_id}/cancel"): "staff",
    ("POST", "/imports/catalog"): "staff",
    ("GET", "/imports/template"): "read",
    ("POST", "/imports/sales"): "staff",
    ("GET", "/imports/{import_id}"): "read",
    ("POST", "/imports/{import_id}/apply"): "staff",
    ("GET", "/exports/catalog"): "read",
    ("GET", "/exports/stock"): "read",
    ("POST", "/shops/{platform}/{shop}/listings/discover"): "staff",
    ("GET", "/shops/{platform}/{shop}/listings/discover/{discovery_id}"): "read",
    ("POST", "/shops/{platform}/{shop}/listings/discover/{discovery_id}/apply"): "staff",
    ("POST", "/shops/{platform}/{shop}/listings/discover/{discovery_id}/first-sync"): "staff",
}


def concrete(path: str) -> str:
    return path.replace("{platform}", "shopify").replace("{", "m-").replace("}", "")


def test_every_topology_route_has_a_row_and_no_row_is_stale():
    topology = {(r.method, r.path) for r in ROUTES}
    assert sorted(topology - set(MATRIX)) == [], "topology routes missing from MATRIX"
    assert sorted(set(MATRIX) - topology) == [], "MATRIX rows for routes the topology does not declare"
    assert set(MATRIX.values()) <= set(ACCESS)


def test_the_contract_states_the_roles_the_matrix_expects():
    paths = document()["paths"]
    for (method, path), kind in MATRIX.items():
        allowed = sorted(c for c, want in ACCESS[kind].items() if want == ALLOW and c != "no token")
        declared = paths[path][method.lower()]["x-stocklink-roles"]
        assert declared == (allowed if kind not in ("public", "signed") else []), f"{method} {path}"


@pytest.fixture(scope="module")
def aws_module():
    with moto_env() as bus:
        yield bus


def test_every_route_admits_exactly_the_roles_in_its_row(aws_module):
    wrong = []
    for route in ROUTES:
        row = ACCESS[MATRIX[(route.method, route.path)]]
        for caller, token in CALLERS.items():
            body = {} if route.method in ("POST", "PUT") else None
            got = ApiClient(handler_for(route.function), token).call(route.method, concrete(route.path), body)
            outcome = got.status if got.status in (401, 403) else ALLOW
            assert got.status < 500, f"{route.method} {route.path} as {caller}: {got.status} {got.body}"
            if outcome != row[caller]:
                wrong.append(f"{route.method} {route.path} as {caller}: expected {row[caller]}, got {got.status}")
    assert wrong == [], "\n".join(wrong)
