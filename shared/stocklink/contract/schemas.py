"""JSON-schema fragments of the API's responses (what the logic layer returns), for the OpenAPI contract.

Request bodies are the pydantic models the handlers validate with (their schemas are generated); responses
are plain dicts built by the logic layer, so their shapes are written here once. Objects are open (extra
properties allowed: a client must ignore fields it does not know); `required` lists what every answer has.
Where an answer's inner shape is large and still moving (reconciliation reports, forecasts, alert facts),
the fragment pins only its outer fields: see LOOSE.
"""
from __future__ import annotations

from typing import Any

from stocklink.domain.stock import ReservationStatus

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
OBJ: Schema = {"type": "object"}
CURSOR: Schema = {"type": ["string", "null"], "description": "opaque cursor of the next page; null on the last"}


def nullable(schema: Schema) -> Schema:
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def page(key: str, item: Schema, **extra: Schema) -> Schema:
    """A list endpoint's answer: {<key>: [item...], next: cursor | null, ...extra}."""
    return obj({key: array(item), **extra, "next": CURSOR})


ERROR = obj({"error": {"type": "string", "description": "machine-readable code, e.g. validation_error"},
             "message": STR})

HEALTH = obj({"status": {"const": "ok"}})
LINE = obj({"sku": STR, "qty": INT})
WAREHOUSE = obj({"warehouse_id": STR, "name": STR, "region": STR, "priority": INT})
SKU = obj({"sku": STR, "name": STR}, {"price": nullable(NUM), "unit_cost": nullable(NUM), "category": nullable(STR),
                                      "barcode": nullable(STR), "supplier": nullable(STR),
                                      "components": array(LINE), "launch_date": nullable(STR)})
_LEVELS = {"on_hand": INT, "reserved": INT, "available": INT, "in_transit": INT}
_PRESOLD = {"presold": {"type": "integer", "description": "units sold against stock in transit (presale), <= in_transit"}}
STOCK_VIEW = obj({"sku": STR, "warehouses": array(obj({"warehouse_id": STR, **_LEVELS}, _PRESOLD)),
                  "totals": obj(_LEVELS, _PRESOLD)})
RECEIPT = obj({"warehouse_id": STR, "reference": STR, "lines": array(LINE), "duplicate": BOOL})
LEDGER_ENTRY = obj({"entry_id": STR, "sku": STR, "warehouse_id": STR, "movement": STR, "qty": INT,
                    "on_hand_delta": INT, "reserved_delta": INT, "available_delta": INT, "in_transit_delta": INT,
                    "actor": nullable(STR), "reason": nullable(STR), "source": nullable(STR), "created_at": INT},
                   {"presold_delta": INT})
LEDGER = obj({"sku": STR, "entries": array(LEDGER_ENTRY), "next": CURSOR})
EVENT = obj({"event_key": STR, "kind": nullable(STR), "status": STR},
            {"received_at": {}, "platform": nullable(STR), "shop": nullable(STR), "order_id": nullable(STR),
             "reservation_id": nullable(STR), "outcome": {}, "detail": {}})
EVENTS = obj({"status": STR, "events": array(EVENT), "next": CURSOR})
SHOP = obj({"platform": STR, "shop": STR, "secret_name": STR, "credential_fields": array(STR)},
           {"api_base_url": nullable(STR), "max_calls_per_second": nullable(NUM)})
LISTING = obj({"platform": STR, "shop": STR, "listing_id": STR,
               "components": array(LINE), "platform_ids": {"type": "object", "additionalProperties": STR}})
ALLOCATION = obj({"platform": STR, "shop": STR, "rule": {"enum": ["shared", "quota", "fixed"]},
                  "buffer": INT, "buffer_mode": {"enum": ["static", "dynamic"]}, "ratio": NUM, "minimum": INT,
                  "fixed": INT, "min_display": INT, "max_display": nullable(INT), "sellout_threshold": INT,
                  "sync": BOOL, "warehouses": nullable(array(STR))},
                 {"presale": obj({"enabled": BOOL, "within_days": INT})})
_STEP = obj({"step": STR, "setting": nullable(STR), "qty": INT})
EXPLAIN = obj({"pool": INT, "reserved": INT, "buffer": INT, "rule": {"enum": ["shared", "quota", "fixed"]},
               "rule_adjustment": INT, "guard": nullable(STR), "shown": nullable(INT)},
              {"sku": STR, "steps": array(_STEP), "sources": {"type": "object", "additionalProperties": STR}})
LISTING_STATE = obj({"platform": STR, "shop": STR, "listing_id": STR, "components": array(LINE), "rule": STR,
                     "sync": BOOL, "computed_qty": nullable(INT), "pushed_qty": nullable(INT),
                     "pushed_at": nullable(INT), "shown": nullable(INT), "in_sync": BOOL, "status": nullable(STR),
                     "error": nullable(STR)},
                    {"read_back_qty": nullable(INT), "read_back_at": nullable(INT), "explain": EXPLAIN})
SKU_CHANNELS = obj({"sku": STR, "listings": array(LISTING_STATE), "allocation": OBJ})
LISTINGS = obj({"listings": array(LISTING_STATE), "next": CURSOR})
_BOARD_STATUS = {"enum": ["normal", "low", "zero", "over"]}
BOARD_SETTINGS = obj({"low_floor": INT, "over_days": INT})
BOARD_ROW = obj({"sku": STR, "name": STR, "on_hand": INT, "reserved": INT, "available": INT, "in_transit": INT,
                 **_PRESOLD, "days_of_cover": nullable(NUM), "status": _BOARD_STATUS,
                 "abc": {"enum": ["A", "B", "C", None]}, "safety_stock": nullable(INT)})
BOARD = obj({"rows": array(BOARD_ROW), "counts": obj({k: INT for k in ("normal", "low", "zero", "over")}),
             "total": INT, "next": CURSOR, "settings": BOARD_SETTINGS})
WAREHOUSE_SUMMARY = obj({"warehouses": array(obj({
    "warehouse_id": STR, "name": STR, "skus": INT, "on_hand": INT, "reserved": INT, "available": INT,
    "in_transit": INT, **_PRESOLD, "stock_value": NUM, "in_transit_value": NUM,
    "missing_cost": {"type": "integer", "description": "SKUs holding units here without a unit cost"}}))})
SHOP_HEALTH = obj({"last_push_at": nullable(INT), "failures": INT, "listings": INT, "in_sync": INT,
                   "rate_limit_use": nullable(NUM), "reconciliation_accuracy": nullable(NUM), "needs_person": INT})
SHOP_VIEW = obj({"platform": STR, "shop": STR, "sync": BOOL, "rule": STR, "allocation": OBJ, "health": SHOP_HEALTH},
                {"api_base_url": nullable(STR), "max_calls_per_second": nullable(NUM)})
SALE = obj({"sku": STR, "guarded_until": nullable(STR)})
LAST_UNITS = obj({"enabled": BOOL, "k": NUM, "min_units_per_channel": INT, "exit_factor": NUM,
                  "default_push_latency_s": NUM, "default_webhook_delay_s": NUM, "absolute_refill_s": NUM,
                  "drain_s": NUM})
RECONCILIATION_REPORT: Schema = {"type": "object", "description": "The last pass: counts, drift fixed, anomalies"}
RESERVATION = obj({"reservation_id": STR, "channel": STR,
                   "status": {"enum": [s.value for s in ReservationStatus]},
                   "lines": array(LINE),
                   "allocations": array(obj({"sku": STR, "warehouse_id": STR, "qty": INT}, {"presold": INT})),
                   "created_at": INT},
                  {"expires_at": INT, "status_reason": STR})
ALERT = obj({"id": STR, "kind": STR, "level": STR, "status": {"enum": ["open", "acked", "closed"]}},
            {"sku": nullable(STR), "scope": nullable(STR), "version": INT, "facts": OBJ,
             "title": {"type": ["string", "null"], "description": "English; a client words it from kind, sku, scope"},
             "action": {"type": ["string", "null"], "description": "English; a client words it from kind and facts"},
             "suggested_transfer": {**nullable(obj({"from_warehouse": STR, "qty": INT})),
                                    "description": "low stock in a warehouse: the transfer the action suggests"}})
ALERT_RULES = obj({"global": OBJ, "abc": OBJ, "sku": OBJ, "defaults": OBJ, "next": CURSOR})
ALERT_RULE = obj({"scope": {"enum": ["global", "abc", "sku"]}, "name": nullable(STR), "rules": OBJ})
SUBSCRIPTION = obj({"id": STR, "protocol": STR, "name": STR}, {"filter": OBJ, "filter_policy": STR})
DELETED = obj({"deleted": STR})
SUPPLIER = obj({"sku": STR, "supplier": STR, "lead_time_days": NUM, "lead_time_std_days": NUM,
                "review_period_days": NUM, "moq": INT, "case_pack": INT,
                "price_breaks": array(obj({"min_qty": INT, "unit_cost": NUM})), "service_level": nullable(NUM),
                "supplier_id": {"type": ["string", "null"], "description": "the chosen supplier; null: the SKU's "
                                "own terms, or settings named before supplier records (migrated by the forecast run)"},
                "currency": nullable(STR)}, {"supplier_active": BOOL})
_CONTACT = obj({"name": STR, "email": STR, "phone": STR})
SUPPLIER_RECORD = obj({"supplier_id": STR, "name": STR,
                       "currency": {"type": ["string", "null"],
                                    "description": "ISO 4217; null only for a supplier made from old per-SKU "
                                                   "settings, until someone sets it"},
                       "contact": _CONTACT, "lead_time_days": NUM, "lead_time_spread_days": NUM, "moq": INT,
                       "case_pack": INT, "payment_terms": STR, "active": BOOL},
                      {"updated_at": INT, "source": STR})
_TERMS = obj({"lead_time_days": NUM, "lead_time_spread_days": NUM, "moq": INT, "case_pack": INT})
QUOTE = obj({"sku": STR, "supplier_id": STR, "price_breaks": array(obj({"min_qty": INT, "unit_price": NUM})),
             "currency": nullable(STR),
             "terms": {**_TERMS, "description": "the quote's own terms where it sets them, else the supplier's"}},
            {"moq": nullable(INT), "case_pack": nullable(INT), "lead_time_days": nullable(NUM),
             "lead_time_spread_days": nullable(NUM), "updated_at": INT})
_LEAD = obj({"mean": NUM, "spread": NUM})
SCORECARD_FIGURES = {
    "window": obj({"from_month": STR, "to_month": STR}), "receipts": INT,
    "on_time_rate": {"type": ["number", "null"], "description": "received on or before the promised day / receipts"},
    "late_receipts": INT, "mean_days_late": nullable(NUM),
    "lead_time_days": {**nullable(_LEAD), "description": "order to receipt, from the history (null: none)"},
    "quoted_lead_time_days": _LEAD, "received_units": INT, "rejected_units": INT, "reject_rate": nullable(NUM),
    "price_index": {"type": ["number", "null"],
                    "description": "paid / the lowest quote of the SKU in the same currency (1.0: the best)"},
    "priced_receipts": INT,
    "blended": {**obj({"on_time_rate": NUM, "lead_time_days": NUM, "lead_time_spread_days": NUM,
                       "reject_rate": NUM, "prior_weight": NUM}),
                "description": "the figures with the neutral prior mixed in (what the score uses)"}}
SCORECARD = obj({"supplier_id": STR, "name": STR, "currency": nullable(STR), **SCORECARD_FIGURES})
SKU_SUPPLIERS = obj({"sku": STR, "reference_qty": INT, "weights": obj({"price": NUM, "speed": NUM, "quality": NUM}),
                     "recommended": nullable(STR), "chosen": nullable(STR),
                     "suppliers": array(obj({
                         "supplier_id": STR, "name": STR, "active": BOOL, "currency": nullable(STR), "quote": QUOTE,
                         "order_qty": INT, "unit_price": nullable(NUM), "scorecard": obj(SCORECARD_FIGURES),
                         "score": {"type": ["number", "null"], "description": "null: a retired supplier"},
                         "factors": nullable(obj({"price": NUM, "speed": NUM, "quality": NUM}))}))})
FORECAST_RUN = obj({"run_id": STR, "status": STR})
_DAY = {"type": "string", "format": "date"}
FORECAST = obj({"sku": STR, "as_of": _DAY, "forecast_start": _DAY, "forecast": array(nullable(NUM)),
                "history_start": {"type": ["string", "null"], "format": "date",
                                  "description": "first day of `history`; null when history_days=0"},
                "history": {**array(NUM), "description": "net units sold per day (returns subtract), from "
                            "history_start to as_of, 0 on a day without sales: the series the forecast used"}},
               {"stockout_date": nullable(STR), "safety_stock": NUM, "reorder_point": NUM,
                "inventory_position": NUM, "suggested_order_qty": INT, "method": STR})
_SUPPLIER_TERMS = obj({}, {"lead_time_days": NUM, "lead_time_std_days": NUM, "review_period_days": NUM,
                         "moq": INT, "case_pack": INT,
                         "price_breaks": array(obj({"min_qty": INT, "unit_cost": NUM}))})
SUGGESTION = obj({"sku": STR, "as_of": STR, "stockout_date": nullable(STR), "stockout_within_lead_time": BOOL,
                  "lead_time_days": NUM, "suggested_order_qty": INT, "order_unit_cost": nullable(NUM),
                  "supplier": {"type": ["string", "null"], "description": "the supplier's name (PUT /skus/{sku}/supplier)"},
                  "supplier_terms": {**nullable(_SUPPLIER_TERMS), "description": "null: no supplier settings"},
                  "unit_cost": nullable(NUM),
                  "unit_cost_source": {"enum": ["price_break", "sku", None],
                                       "description": "the supplier's price break for this quantity, else the "
                                                      "SKU's unit_cost; null: no cost known"},
                  "order_cost": {"type": ["number", "null"],
                                 "description": "suggested_order_qty x unit_cost; null without a unit cost"}},
                 {"order_reason": STR, "reorder_point": NUM, "order_up_to": NUM, "safety_stock": NUM,
                  "inventory_position": NUM, "abc_class": nullable(STR), "demand_class": STR, "method": STR})
REPLENISHMENT = obj({"run_id": nullable(STR), "suggestions": array(SUGGESTION), "next": CURSOR},
                    {"as_of": nullable(STR)})
_TOKEN_FIELDS = {"source": STR, "roles": array(STR), "max_open_holds": nullable(INT),
                 "max_hold_seconds": nullable(INT), "created_at": nullable(INT), "created_by": nullable(STR),
                 "last_used_at": nullable(INT), "retired_at": nullable(INT), "retired_by": nullable(STR)}
TOKEN = obj({"name": STR}, _TOKEN_FIELDS)                          # never the token or its hash
NEW_TOKEN = obj({"name": STR, "token": {"type": "string", "description": "shown once, in this answer only"}},
                _TOKEN_FIELDS)
REVOKED = obj({"name": STR, "revoked": BOOL}, {"revoked_at": INT, "retired_at": INT, "source": STR})
AUDIT_ENTRY = obj({"id": STR, "at": INT, "actor": STR, "method": STR, "route": STR, "status": nullable(INT),
                   "target": OBJ, "request_fields": array(STR)},
                  {"before": {"description": "summary of what was replaced, or null"},
                   "after": {"description": "summary of the answer, or {error} for a refusal"},
                   "request_id": nullable(STR)})
WEBHOOK_RESULT = obj({"received": INT, "outcomes": array({})})

# Request bodies that the functions validate by hand (no pydantic model yet): their documented shape.
ALERT_RULE_IN: Schema = {
    "type": "object", "description": "Sparse threshold overrides (yellow_pct, orange_pct, red_pct, floor_units, "
    "max_units, max_pct, default_safety_stock, band_pct, band_units); per SKU also abc_class and safety_stock."}
SUBSCRIPTION_IN = obj({"protocol": {"enum": ["dingtalk", "email", "feishu", "lark", "slack", "sms", "wecom"]},
                       "endpoint": {"type": "string", "minLength": 1}},
                      {"name": STR, "secret": STR, "filter": OBJ})
WEBHOOK_IN: Schema = {"description": "The platform's own payload, verified byte for byte against its HMAC "
                                     "signature header (X-Shopify-Hmac-Sha256, Authorization, ...)."}

# Answers whose inner shape the contract does not pin (honest list; see the module docstring).
LOOSE = ("RECONCILIATION_REPORT", "SKU_CHANNELS.allocation", "ALERT.facts", "ALERT_RULES", "FORECAST",
         "EVENT.detail", "WEBHOOK_RESULT.outcomes", "ALERT_RULE_IN")

# --- reports (logic/reports.py, domain/reports.py) -------------------------------------------------------
REPORT_NAMES = ["turnover", "days-of-supply", "slow-movers", "fast-movers", "stockouts", "oversell",
                "sync-accuracy", "stock-value", "abc"]
REPORT_LIST = obj({"reports": array(obj({"name": {"enum": REPORT_NAMES}, "title": obj({"en": STR, "zh": STR}),
                                         "rows_per": {"enum": ["sku", "day", "warehouse", "class"]},
                                         "filters": array(STR), "thresholds": OBJ}))})
REPORT = obj({
    "name": {"enum": REPORT_NAMES}, "from": STR, "to": STR, "warehouse_id": nullable(STR),
    "snapshot_days": INT, "first_snapshot": nullable(STR), "last_snapshot": nullable(STR), "total_rows": INT,
    "summary": obj({"value": nullable(NUM), "band": {"enum": ["healthy", "watch", "problem", None]},
                    "thresholds": OBJ}),
    "columns": array(obj({"key": STR, "type": {"enum": ["text", "int", "number", "percent", "money", "date"]}})),
    "rows": array(OBJ), "next": CURSOR})
SNAPSHOT_RUN = obj({"run_id": STR, "day": STR, "status": STR})

# --- purchasing: purchase orders, transfers, lanes ------------------------------------------------------
_HISTORY = array(obj({"status": STR, "at": INT}, {"by": nullable(STR), "note": nullable(STR), "eta": nullable(STR)}))
PO_LINE = obj({"line": INT, "sku": STR, "qty": INT, "unit_price": nullable(NUM), "promised_date": nullable(STR),
               "shipped": INT, "received": INT, "rejected": INT, "on_the_way": INT})
PURCHASE_ORDER = obj({"po_id": STR, "supplier_id": STR, "warehouse_id": STR, "currency": nullable(STR),
                      "status": {"enum": ["draft", "ordered", "paid", "producing", "shipped", "received",
                                          "cancelled", "closed"]},
                      "eta": nullable(STR), "created_at": INT, "created_by": STR, "lines": array(PO_LINE),
                      "history": _HISTORY, "total": NUM},
                     {"note": nullable(STR), "receipts": array(OBJ),
                      "receipt": obj({"reference": STR, "duplicate": BOOL})})
PURCHASE_ORDERS_MADE = obj({"purchase_orders": array(PURCHASE_ORDER)})
TRANSFER_LINE = obj({"line": INT, "sku": STR, "qty": INT, "received": INT, "lost": INT},
                    {"loss_reason": nullable(STR)})
TRANSFER = obj({"transfer_id": STR, "from_warehouse": STR, "to_warehouse": STR,
                "status": {"enum": ["draft", "picked", "received", "cancelled"]}, "transit_days": NUM,
                "cost_per_unit": nullable(NUM), "eta": nullable(STR), "created_at": INT, "created_by": STR,
                "lines": array(TRANSFER_LINE), "history": _HISTORY}, {"note": nullable(STR)})
LANE = obj({"from_warehouse": STR, "to_warehouse": STR, "transit_days": NUM, "cost_per_unit": nullable(NUM)})
LANES = obj({"lanes": array(LANE)})
TRANSFER_SUGGESTION = obj({"sku": STR, "from_warehouse": STR, "to_warehouse": STR, "qty": INT, "transit_days": NUM,
                           "cost_per_unit": nullable(NUM), "total_cost": nullable(NUM),
                           "prevents_stockout_on": STR, "days_of_cover_before": NUM, "days_of_cover_after": NUM,
                           "donor_days_of_cover_after": nullable(NUM), "lane_configured": BOOL})
TRANSFER_SUGGESTIONS = obj({"as_of": STR, "donor_days": NUM, "demand_days": INT,
                            "suggestions": array(TRANSFER_SUGGESTION)})

_IMPORT_ERROR = obj({"line": INT, "message": STR})
IMPORT_JOB = obj({"import_id": STR, "status": {"enum": ["receiving", "invalid", "ready", "applying", "applied"]},
                  "parts": INT, "parts_received": INT,
                  "progress": obj({"chunks": INT, "chunks_done": INT, "percent": NUM}), "refused": array(OBJ)},
                 {"rows": INT, "summary": OBJ, "preview": OBJ, "error_count": INT, "errors": array(_IMPORT_ERROR),
                  "accept_adjustments": {}, "created_by": STR, "created_at": INT})
SALES_IMPORT = obj({"rows": INT, "skus": INT, "counters": INT})
DISCOVERY_JOB = obj({"discovery_id": STR, "platform": STR, "shop": STR,
                     "status": {"enum": ["discovering", "ready", "applying", "choosing", "settling", "done", "failed"]},
                     "progress": obj({"pages": INT, "calls": INT, "listings_found": INT, "applied": INT})},
                    {"summary": OBJ, "mapped": array(OBJ), "unmapped": array(OBJ), "conflicts": array(OBJ),
                     "already_mapped": array(STR), "first_sync": array(OBJ), "choices": array(OBJ), "error": STR,
                     "created_by": STR, "created_at": INT})
