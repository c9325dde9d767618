"""Forecast API: suppliers (records, quotes, scorecards, the recommended supplier per SKU), each SKU's
supplier terms, forecasts, replenishment, run on demand. Thin: parse, call, map."""
import re

from aws_lambda_powertools.logging import correlation_paths

from functions import cold_start_done
from stocklink.errors import ValidationFailed
from stocklink.logic import forecasting_service as fs
from stocklink.logic import suppliers
from stocklink.logic.paging import page_request
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, parse_body, principal

app = make_app()
MAX_QTY = 10_000_000


def _query() -> dict:
    return app.current_event.query_string_parameters or {}


@app.put("/suppliers/<supplier_id>")
def put_supplier(supplier_id: str):
    principal(app, "buying")
    return json_response(200, suppliers.put_supplier(supplier_id, parse_body(app, suppliers.SupplierRecordIn),
                                                     now_ms()))


@app.get("/suppliers/<supplier_id>")
def get_supplier(supplier_id: str):
    principal(app, "staff_read")
    return json_response(200, suppliers.get_supplier(supplier_id))


@app.get("/suppliers")
def list_suppliers():
    principal(app, "staff_read")
    return json_response(200, suppliers.list_suppliers(page_request(_query()), _query().get("active")))


@app.put("/suppliers/<supplier_id>/quotes/<sku>")
def put_quote(supplier_id: str, sku: str):
    principal(app, "buying")
    return json_response(200, suppliers.put_quote(supplier_id, sku, parse_body(app, suppliers.QuoteIn), now_ms()))


@app.get("/suppliers/<supplier_id>/scorecard")
def get_scorecard(supplier_id: str):
    principal(app, "staff_read")
    return json_response(200, suppliers.scorecard(supplier_id, now_ms()))


@app.get("/skus/<sku>/suppliers")
def get_sku_suppliers(sku: str):
    principal(app, "staff_read")
    return json_response(200, suppliers.sku_suppliers(sku, _qty(_query().get("qty")), now_ms()))


def _qty(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[0-9]{1,8}", raw) or not 1 <= int(raw) <= MAX_QTY:
        raise ValidationFailed(f"qty must be a whole number from 1 to {MAX_QTY}", field="qty")
    return int(raw)


@app.put("/skus/<sku>/supplier")
def put_sku_supplier(sku: str):
    principal(app, "supplier_terms")
    return json_response(200, suppliers.put_sku_terms(sku, parse_body(app, suppliers.SupplierIn), now_ms()))


@app.get("/skus/<sku>/supplier")
def get_sku_supplier(sku: str):
    principal(app, "staff_read")
    return json_response(200, suppliers.sku_terms(sku))


@app.post("/forecasts/run")
def post_run():
    who = principal(app, "staff")
    return json_response(202, fs.request_run(now_ms(), who.name))


@app.get("/forecasts/<sku>")
def get_forecast(sku: str):
    principal(app, "staff_read")
    return json_response(200, fs.forecast_view(sku, fs.history_days_of(_query())))


@app.get("/replenishment")
def get_replenishment():
    principal(app, "staff_read")
    return json_response(200, fs.replenishment_view(page_request(_query())))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
