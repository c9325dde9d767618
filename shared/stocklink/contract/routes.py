"""The contract's table: one line per API route — its auth group, body, query, answers.

Adding a route: declare it in infra/topology.py ROUTES, add its line here and its line in the route x role
matrix (tests/integration/test_route_role_matrix.py); tests fail until all three agree. `group` is the
route group the handler passes to `principal()` (stocklink.auth.ROUTE_ROLES), None for a public route.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from stocklink.channels.registry import PLATFORMS
from stocklink.contract import schemas as s
from stocklink.domain import requests as rq


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    required: bool = False
    description: str = ""
    empty_is_absent: bool = False     # `?name=` reads as if the parameter were not given (allowEmptyValue)


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    group: str | None                              # None: no Bearer token (public, or signed by a platform)
    summary: str
    ok: dict[int, dict[str, Any]]                  # success status -> response schema
    body: type[BaseModel] | dict[str, Any] | None = None
    query: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()                   # statuses beyond those every route of its kind gets
    params: dict[str, dict[str, Any]] = field(default_factory=dict)   # path parameter schema overrides
    example: dict[str, Any] | None = None          # a request body that works on the README's walkthrough data
    body_type: str = "application/json"             # the request body's media type (CSV uploads: text/csv)
    produces: str = "application/json"              # the success answer's media type (CSV exports: text/csv)


def _lazy(module: str, name: str):
    """Models that live next to their logic (imported when the document is built, not at cold start)."""
    from importlib import import_module
    return getattr(import_module(module), name)


PAGED = (Param("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, empty_is_absent=True),
         Param("cursor", {"type": "string", "maxLength": 4096, "pattern": "^[A-Za-z0-9_-]+$"},
               description="`next` of the previous page, unchanged (opaque)", empty_is_absent=True))
STATUS = {"type": "string"}
TEXT = {"type": "string", "maxLength": 200}
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
PLATFORM = {"type": "string", "enum": list(PLATFORMS)}


def operations() -> tuple[Op, ...]:
    settings, sup = "stocklink.logic.sync.settings", "stocklink.logic.suppliers"
    return (
        Op("GET", "/health", None, "Liveness", {200: s.HEALTH}),
        Op("GET", "/openapi.json", None, "This OpenAPI document", {200: s.OBJ}),
        Op("PUT", "/warehouses/{warehouse_id}", "staff", "Create or replace a warehouse", {200: s.WAREHOUSE},
           rq.WarehouseIn, example={"name": "Shenzhen A", "region": "cn-south", "priority": 1}),
        Op("GET", "/warehouses", "staff_read", "List warehouses", {200: s.page("warehouses", s.WAREHOUSE)},
           query=PAGED),
        Op("GET", "/warehouses/summary", "staff_read", "Stock, in transit and their value per warehouse",
           {200: s.WAREHOUSE_SUMMARY}),
        Op("PUT", "/skus/{sku}", "staff", "Create or replace a SKU", {200: s.SKU}, rq.SkuIn,
           example={"name": "Red tee M", "price": 19.9, "unit_cost": 6.5, "category": "tees"}),
        Op("GET", "/skus", "staff_read", "Catalogue SKUs (filter by text or category)", {200: s.page("skus", s.SKU)},
           query=(Param("q", TEXT, description="case-insensitive part of the SKU or its name", empty_is_absent=True),
                  Param("category", {"type": "string", "maxLength": 100}, description="exactly this category",
                        empty_is_absent=True), *PAGED)),
        Op("GET", "/stock/board", "staff_read", "The stock board: every SKU's stock, cover and status",
           {200: s.BOARD},
           query=(Param("warehouse_id", {"type": "string", "minLength": 1, "maxLength": 128,
                                         "pattern": "^[A-Za-z0-9._:@/+-]+$"},
                        description="that warehouse's counters only (default: every warehouse summed)",
                        empty_is_absent=True),
                  Param("status", {"enum": ["normal", "low", "zero", "over"]}, empty_is_absent=True),
                  Param("abc", {"enum": ["A", "B", "C"]}, empty_is_absent=True),
                  Param("q", TEXT, description="case-insensitive part of the SKU or its name", empty_is_absent=True),
                  Param("sort", {"enum": ["sku", "name", "available", "on_hand", "reserved", "in_transit",
                                          "presold", "days_of_cover", "status"], "default": "sku"}, empty_is_absent=True),
                  Param("order", {"enum": ["asc", "desc"], "default": "asc"}, empty_is_absent=True), *PAGED)),
        Op("PUT", "/stock/board/settings", "staff", "Set the stock board's thresholds", {200: s.BOARD_SETTINGS},
           _lazy("stocklink.logic.board", "BoardSettingsIn"), example={"low_floor": 15, "over_days": 90}),
        Op("GET", "/skus/{sku}/stock", "staff_read", "A SKU's stock per warehouse", {200: s.STOCK_VIEW}),
        Op("POST", "/stock/receipts", "staff", "Goods in (idempotent per reference)",
           {201: s.RECEIPT, 200: s.RECEIPT}, rq.ReceiptIn, errors=(404, 409),
           example={"warehouse_id": "wh-a", "reference": "PO-2", "lines": [{"sku": "TEE-RED-M", "qty": 12}]}),
        Op("POST", "/stock/adjustments", "staff", "Adjust on-hand stock", {201: s.STOCK_VIEW}, rq.AdjustmentIn,
           errors=(404, 409), example={"warehouse_id": "wh-a", "sku": "TEE-RED-M", "delta": -1, "reason": "damaged"}),
        Op("GET", "/ledger", "staff_read", "A SKU's stock movements", {200: s.LEDGER},
           query=(Param("sku", {"type": "string", "minLength": 1}, True),
                  Param("warehouse_id", s.STR, empty_is_absent=True), *PAGED),
           errors=(404,)),
        Op("GET", "/events", "staff_read", "Inbound events that need a person", {200: s.EVENTS},
           query=(Param("status", {"enum": ["unmapped", "oversold", "skipped", "preempted"],
                                   "default": "unmapped"}), *PAGED)),
        Op("PUT", "/shops/{platform}/{shop}", "admin", "Set a shop's credentials and API URL", {200: s.SHOP},
           rq.ShopIn, params={"platform": PLATFORM}, example={"webhook_secret": "from-the-app-settings"}),
        Op("GET", "/shops", "staff_read", "Shops: allocation settings and sync health (never credentials)",
           {200: s.page("shops", s.SHOP_VIEW)}, query=PAGED),
        Op("GET", "/listings", "staff_read", "Listings with what they should show and what they last showed",
           {200: s.LISTINGS},
           query=(Param("platform", TEXT, empty_is_absent=True),
                  Param("shop", TEXT, description="needs platform", empty_is_absent=True),
                  Param("sku", {"type": "string", "minLength": 1, "maxLength": 128,
                                "pattern": "^[A-Za-z0-9._:@/+-]+$"}, empty_is_absent=True), *PAGED),
           errors=(400,)),
        Op("PUT", "/listings/{platform}/{shop}/{listing_id}", "staff", "Map a listing to SKUs", {200: s.LISTING},
           rq.ListingIn, params={"platform": PLATFORM},
           example={"components": [{"sku": "TEE-RED-M", "qty": 1}], "platform_ids": {"inventory_item_id": "1"}}),
        Op("POST", "/reservations", "storefront", "Hold stock", {201: s.RESERVATION, 200: s.RESERVATION},
           rq.ReservationIn, errors=(404, 409),
           example={"reservation_id": "web-2", "channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": 2}]}),
        Op("GET", "/reservations/{reservation_id}", "reservation_read",
           "A reservation (a storefront token sees only its own)", {200: s.RESERVATION}),
        Op("POST", "/reservations/{reservation_id}/staff-action", "staff",
           "Move any reservation (a platform order's too), with a reason", {200: s.RESERVATION}, rq.StaffActionIn,
           errors=(409,), example={"action": "release", "reason": "customer cancelled by phone"}),
        Op("POST", "/reservations/{reservation_id}/commit", "storefront", "Commit (paid)", {200: s.RESERVATION},
           errors=(409,)),
        Op("POST", "/reservations/{reservation_id}/release", "storefront", "Release the hold",
           {200: s.RESERVATION}, errors=(409,)),
        Op("POST", "/reservations/{reservation_id}/ship", "storefront", "Ship", {200: s.RESERVATION},
           errors=(409,)),
        Op("POST", "/webhooks/{platform}/{shop}", None, "A platform's order webhook (HMAC-signed)",
           {200: s.WEBHOOK_RESULT}, s.WEBHOOK_IN, errors=(401, 500), params={"platform": PLATFORM}),
        Op("PUT", "/shops/{platform}/{shop}/allocation", "staff", "Set a shop's allocation", {200: s.ALLOCATION},
           _lazy(settings, "AllocationIn"), params={"platform": PLATFORM}, example={"rule": "shared", "buffer": 2}),
        Op("GET", "/shops/{platform}/{shop}/allocation", "staff_read", "A shop's allocation",
           {200: s.ALLOCATION}, params={"platform": PLATFORM}),
        Op("GET", "/skus/{sku}/channels", "staff_read", "A SKU's listings and what they show",
           {200: s.SKU_CHANNELS}),
        Op("PUT", "/skus/{sku}/sale", "staff", "Declare a sale (guard the SKU)", {200: s.SALE},
           _lazy(settings, "DeclaredSaleIn")),
        Op("DELETE", "/skus/{sku}/sale", "staff", "End a declared sale", {200: s.SALE}),
        Op("GET", "/sync/failures", "staff_read", "Push failures", {200: s.page("failures", s.OBJ)}, query=PAGED),
        Op("PUT", "/allocation/last-units", "staff", "Set the last-units policy", {200: s.LAST_UNITS},
           _lazy(settings, "LastUnitsIn"), example={"enabled": True, "k": 2.0}),
        Op("GET", "/allocation/last-units", "staff_read", "The last-units policy", {200: s.LAST_UNITS}),
        Op("GET", "/reconciliation/last", "staff_read", "The last reconciliation pass",
           {200: s.RECONCILIATION_REPORT}, errors=(404,)),
        Op("GET", "/reconciliation/history", "staff_read", "Reconciliation passes",
           {200: s.page("passes", s.OBJ)}, query=PAGED),
        Op("GET", "/alerts", "staff_read", "Alerts", {200: s.page("alerts", s.ALERT, count=s.INT)},
           query=(Param("status", {"enum": ["open", "acked", "unacked", "all"], "default": "open"}), *PAGED)),
        Op("POST", "/alerts/{alert_id}/ack", "staff", "Acknowledge an alert", {200: s.ALERT}, errors=(409,)),
        Op("GET", "/alert-rules", "staff_read", "Alert thresholds", {200: s.ALERT_RULES}, query=PAGED),
        Op("PUT", "/alert-rules/global", "staff", "Set global thresholds", {200: s.ALERT_RULE}, s.ALERT_RULE_IN,
           example={"yellow_pct": 40, "red_pct": 10}),
        Op("PUT", "/alert-rules/abc/{abc_class}", "staff", "Set an ABC class's thresholds", {200: s.ALERT_RULE},
           s.ALERT_RULE_IN),
        Op("PUT", "/alert-rules/sku/{sku}", "staff", "Set a SKU's thresholds", {200: s.ALERT_RULE},
           s.ALERT_RULE_IN),
        Op("GET", "/subscriptions", "staff_read", "Alert subscriptions",
           {200: s.page("subscriptions", s.SUBSCRIPTION)}, query=PAGED),
        Op("PUT", "/subscriptions/{subscription_id}", "admin", "Subscribe to alerts", {200: s.SUBSCRIPTION},
           s.SUBSCRIPTION_IN, example={"protocol": "email", "endpoint": "ops@example.com"}),
        Op("DELETE", "/subscriptions/{subscription_id}", "staff", "Unsubscribe", {200: s.DELETED}),
        Op("PUT", "/suppliers/{supplier_id}", "buying", "Create or replace a supplier (retire: active false)",
           {200: s.SUPPLIER_RECORD}, _lazy(sup, "SupplierRecordIn"),
           example={"name": "Acme Textiles", "currency": "CNY", "lead_time_days": 12, "lead_time_spread_days": 3,
                    "moq": 100, "case_pack": 12, "payment_terms": "30% deposit, 70% before shipping",
                    "contact": {"name": "Li Wei", "email": "sales@acme.example", "phone": "+86 755 1234 5678"}}),
        Op("GET", "/suppliers/{supplier_id}", "staff_read", "A supplier", {200: s.SUPPLIER_RECORD}),
        Op("GET", "/suppliers", "staff_read", "Suppliers, by id", {200: s.page("suppliers", s.SUPPLIER_RECORD)},
           query=(Param("active", {"enum": ["true", "false"]}, description="only active (true) or retired (false)",
                        empty_is_absent=True), *PAGED)),
        Op("PUT", "/suppliers/{supplier_id}/quotes/{sku}", "buying", "Set a supplier's quote for a SKU",
           {200: s.QUOTE}, _lazy(sup, "QuoteIn"),
           example={"price_breaks": [{"min_qty": 100, "unit_price": 4.2}, {"min_qty": 600, "unit_price": 3.6}]}),
        Op("GET", "/suppliers/{supplier_id}/scorecard", "staff_read",
           "A supplier's record over the last 12 months: on time, lead time, rejects, price", {200: s.SCORECARD}),
        Op("GET", "/skus/{sku}/suppliers", "staff_read", "The suppliers quoting a SKU, scored, best first",
           {200: s.SKU_SUPPLIERS},
           query=(Param("qty", {"type": "integer", "minimum": 1, "maximum": 10_000_000},
                        description="the quantity to price (default: the largest of the suppliers' minimum orders)",
                        empty_is_absent=True),)),
        Op("PUT", "/skus/{sku}/supplier", "supplier_terms", "Set a SKU's supplier and its terms", {200: s.SUPPLIER},
           _lazy(sup, "SupplierIn"), example={"supplier": "Acme", "lead_time_days": 10, "moq": 50}),
        Op("GET", "/skus/{sku}/supplier", "staff_read", "A SKU's supplier terms", {200: s.SUPPLIER}),
        Op("POST", "/forecasts/run", "staff", "Run the forecast now", {202: s.FORECAST_RUN}),
        Op("GET", "/forecasts/{sku}", "staff_read", "A SKU's forecast and its recent daily sales", {200: s.FORECAST},
           query=(Param("history_days", {"type": "integer", "minimum": 0, "maximum": 400, "default": 90},
                        description="days of sales history up to the forecast's as_of (0: none)",
                        empty_is_absent=True),)),
        Op("GET", "/replenishment", "staff_read", "Replenishment suggestions", {200: s.REPLENISHMENT},
           query=PAGED),
        Op("POST", "/tokens", "admin", "Create an API token (its value is in this answer only)",
           {201: s.NEW_TOKEN}, rq.TokenIn, errors=(409,), example={"name": "shop-web", "roles": ["storefront"]}),
        Op("GET", "/me", "self", "Who the caller is: the token's (or signed-in person's) name and roles",
           {200: s.obj({"name": s.STR, "roles": s.array(s.STR)})}),
        Op("GET", "/tokens", "admin", "API tokens (names, roles, use; never the token)",
           {200: s.page("tokens", s.TOKEN)}, query=PAGED),
        Op("DELETE", "/tokens/{name}", "admin", "Revoke a token, or retire the bootstrap one", {200: s.REVOKED},
           errors=(404, 409)),
        Op("GET", "/audit", "admin", "The audit trail of staff and admin writes, newest first",
           {200: s.page("entries", s.AUDIT_ENTRY)},
           query=(Param("actor", s.STR, description="only this token name's writes", empty_is_absent=True),
                  *PAGED)),
        Op("GET", "/reports", "staff_read", "The reports: names, titles (en, zh), health thresholds",
           {200: s.REPORT_LIST}),
        Op("GET", "/reports/{name}", "staff_read", "One report over a period, from the daily snapshots",
           {200: s.REPORT}, params={"name": {"type": "string", "enum": s.REPORT_NAMES}},
           query=(Param("from", DATE, description="first day (UTC), default 29 days before `to`", empty_is_absent=True),
                  Param("to", DATE, description="last day (UTC), default today; at most 400 days in all",
                        empty_is_absent=True),
                  Param("warehouse_id", s.STR, description="one warehouse (not for oversell, sync-accuracy)",
                        empty_is_absent=True), *PAGED)),
        Op("POST", "/reports/snapshots/run", "staff", "Take today's snapshot now", {202: s.SNAPSHOT_RUN}),
        *_purchasing_operations(),
        *_import_operations(),
    )


def _import_operations() -> tuple[Op, ...]:
    csv_body = {"type": "string", "description": "CSV text (UTF-8 or GB18030), header row first; at most 1 MiB"}
    csv_text = {"type": "string", "description": "CSV text (UTF-8 with BOM)"}
    lang = Param("lang", {"enum": ["en", "zh"], "default": "en"}, description="header language",
                 empty_is_absent=True)
    part = {"type": "integer", "minimum": 1, "maximum": 200}
    return (
        Op("POST", "/imports/catalog", "staff",
           "Upload a catalogue sheet (or one part of it): a dry run of what it would create and change, nothing "
           "written", {201: s.IMPORT_JOB, 202: s.IMPORT_JOB}, csv_body, body_type="text/csv", errors=(404, 409),
           query=(Param("parts", part, description="how many parts the file is sent in (default 1)",
                        empty_is_absent=True),
                  Param("part", part, description="which part this is (default 1)", empty_is_absent=True),
                  Param("import_id", {"type": "string", "maxLength": 64}, description="parts after the first: "
                        "the import_id the first part answered", empty_is_absent=True),
                  Param("first_line", {"type": "integer", "minimum": 2, "maximum": 100_000_000},
                        description="the file's line number of this part's first data row (default 2)",
                        empty_is_absent=True))),
        Op("GET", "/imports/template", "staff_read", "A catalogue sheet to fill in (CSV)", {200: csv_text},
           query=(lang,), produces="text/csv"),
        Op("POST", "/imports/sales", "staff", "Upload daily sales history (CSV: sku, date, qty[, channel, "
           "warehouse]); all rows or none", {200: s.SALES_IMPORT}, csv_body, body_type="text/csv"),
        Op("GET", "/imports/{import_id}", "staff_read", "An import: its dry run, errors and apply progress",
           {200: s.IMPORT_JOB}),
        Op("POST", "/imports/{import_id}/apply", "staff",
           "Apply a dry run (continues in the background; progress at GET /imports/{import_id})",
           {202: s.IMPORT_JOB, 200: s.IMPORT_JOB}, _lazy("stocklink.logic.imports", "ApplyIn"), errors=(409,),
           example={"accept_adjustments": "all"}),
        Op("GET", "/exports/catalog", "staff_read", "The catalogue in the import's columns (CSV, a page of SKUs; "
           "X-Next-Cursor names the next)", {200: csv_text}, query=(lang, *PAGED), produces="text/csv"),
        Op("GET", "/exports/stock", "staff_read", "Every stock item (CSV: sku, warehouse, qty, reserved, "
           "available, in_transit)", {200: csv_text}, produces="text/csv"),
        *_discovery_operations(),
    )


def _discovery_operations() -> tuple[Op, ...]:
    base = "/shops/{platform}/{shop}/listings/discover"
    model = lambda name: _lazy("stocklink.logic.discovery", name)   # noqa: E731
    return (
        Op("POST", base, "staff", "Discover the shop's listings through its platform's API and match them to "
           "master SKUs (a job: progress and report at GET .../discover/{discovery_id})", {202: s.DISCOVERY_JOB},
           model("DiscoverIn"), errors=(404,), params={"platform": PLATFORM},
           example={"mapping": {"GIFT-BOX": [{"sku": "TEE-RED-M", "qty": 2}]}}),
        Op("GET", base + "/{discovery_id}", "staff_read", "A discovery: progress, mapped, unmapped (with "
           "suggestions), conflicts, and the first-sync differences", {200: s.DISCOVERY_JOB}, errors=(404,),
           params={"platform": PLATFORM}),
        Op("POST", base + "/{discovery_id}/apply", "staff", "Write the mapped listings (pending their first sync: "
           "nothing is pushed yet) and read the platform's quantities", {202: s.DISCOVERY_JOB, 200: s.DISCOVERY_JOB},
           errors=(404, 409), params={"platform": PLATFORM}),
        Op("POST", base + "/{discovery_id}/first-sync", "staff", "Choose the first sync of the pending listings: "
           "push StockLink's numbers, or take the platform's as a warehouse's opening count", {202: s.DISCOVERY_JOB},
           model("FirstSyncIn"), errors=(404, 409), params={"platform": PLATFORM},
           example={"choice": "opening", "warehouse_id": "WH-1"}),
    )


def _purchasing_operations() -> tuple[Op, ...]:
    from stocklink.domain import purchase_requests as pr
    status = Param("status", s.STR, description="only this status", empty_is_absent=True)
    po_line = {"sku": "TEE-RED-M", "qty": 120, "unit_price": 6.5, "promised_date": "2026-12-20"}
    return (
        Op("POST", "/purchase-orders", "buying", "Create a draft purchase order", {201: s.PURCHASE_ORDER},
           pr.PurchaseOrderIn, errors=(404, 409),
           example={"supplier_id": "acme", "warehouse_id": "wh-a", "lines": [po_line]}),
        Op("POST", "/purchase-orders/from-suggestions", "buying",
           "Draft purchase orders (one per supplier) from the latest replenishment suggestions",
           {201: s.PURCHASE_ORDERS_MADE}, pr.PoFromSuggestionsIn, errors=(404, 409),
           example={"warehouse_id": "wh-a", "skus": ["TEE-RED-M"]}),
        Op("GET", "/purchase-orders", "staff_read", "Purchase orders, newest first",
           {200: s.page("purchase_orders", s.PURCHASE_ORDER)}, query=(status, *PAGED)),
        Op("GET", "/purchase-orders/{po_id}", "staff_read", "One purchase order", {200: s.PURCHASE_ORDER}),
        Op("POST", "/purchase-orders/{po_id}/status", "buying",
           "Move a purchase order: ordered, paid, producing, cancelled, or closed (drops what did not arrive)",
           {200: s.PURCHASE_ORDER}, pr.PoStatusIn, errors=(409, 503), example={"status": "ordered"}),
        Op("POST", "/purchase-orders/{po_id}/ship", "buying",
           "Shipped: its lines (or the quantities given) in transit to its warehouse with an ETA",
           {200: s.PURCHASE_ORDER}, pr.PoShipIn, errors=(409, 503), example={"eta": "2026-12-18"}),
        Op("POST", "/purchase-orders/{po_id}/receipts", "staff",
           "Receive goods of a shipped PO (partial, rejects with a reason; idempotent by reference)",
           {201: s.PURCHASE_ORDER, 200: s.PURCHASE_ORDER}, pr.PoReceiptIn, errors=(409, 503),
           example={"reference": "GRN-1", "lines": [{"line": 1, "received": 100}]}),
        Op("PUT", "/transfer-lanes/{from_warehouse}/{to_warehouse}", "staff",
           "A lane between two warehouses: transit days and cost per unit", {200: s.LANE}, pr.LaneIn,
           example={"transit_days": 2, "cost_per_unit": 0.4}),
        Op("GET", "/transfer-lanes", "staff_read", "The lanes between warehouses", {200: s.LANES}),
        Op("GET", "/transfers/suggestions", "staff_read",
           "Transfers that prevent a projected stock-out (from where orders were fulfilled)",
           {200: s.TRANSFER_SUGGESTIONS},
           query=(Param("donor_days", {"type": "string", "maxLength": 10},
                        description="days of cover a donor keeps (default 60)", empty_is_absent=True),
                  Param("sku", s.STR, description="one SKU", empty_is_absent=True))),
        Op("POST", "/transfers", "staff", "Create a draft transfer between warehouses", {201: s.TRANSFER},
           pr.TransferIn, errors=(404, 409),
           example={"from_warehouse": "wh-b", "to_warehouse": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": 2}]}),
        Op("GET", "/transfers", "staff_read", "Transfers, newest first", {200: s.page("transfers", s.TRANSFER)},
           query=(status, *PAGED)),
        Op("GET", "/transfers/{transfer_id}", "staff_read", "One transfer", {200: s.TRANSFER}),
        Op("POST", "/transfers/{transfer_id}/pick", "staff",
           "Picked: unreserved units leave the source, in transit to the destination", {200: s.TRANSFER},
           pr.TransferActionIn, errors=(409, 503), example={}),
        Op("POST", "/transfers/{transfer_id}/receive", "staff",
           "Received at the destination (short lines lost with a reason)", {200: s.TRANSFER},
           pr.TransferReceiveIn, errors=(409, 503), example={}),
        Op("POST", "/transfers/{transfer_id}/cancel", "staff", "Cancel (a picked transfer's units go back)",
           {200: s.TRANSFER}, pr.TransferActionIn, errors=(409, 503), example={}),
    )
