"""Imports and exports API: catalogue sheets (dry run, apply, progress), sales history, the template, and the
catalogue / stock as CSV. Thin: parse, call, map. Bodies are CSV (at most 1 MiB: web.MAX_BODY_BYTES; XLSX is
read by the CLI, openpyxl is not in the Lambda layer)."""
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths

from functions import cold_start_done
from stocklink.errors import ValidationFailed
from stocklink.logic import discovery, exports, imports
from stocklink.logic.paging import page_request
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, parse_body, principal, raw_body

app = make_app()


def _query() -> dict:
    return app.current_event.query_string_parameters or {}


def _csv(body: str, filename: str, headers: dict | None = None) -> Response:
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=body,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})})


def _lang() -> str:
    lang = _query().get("lang") or "en"
    if lang not in ("en", "zh"):
        raise ValidationFailed("lang: en or zh", field="lang")
    return lang


@app.post("/imports/catalog")
def post_catalog_import():
    who = principal(app, "staff")
    status, answer = imports.upload_catalog(raw_body(app), _query(), actor=who.name, now_ms=now_ms())
    return json_response(status, answer)


@app.get("/imports/template")
def get_template():
    principal(app, "staff_read")
    lang = _lang()
    return _csv(exports.template_csv(lang), f"stocklink-catalog-template-{lang}.csv")


@app.post("/imports/sales")
def post_sales_import():
    principal(app, "staff")
    return json_response(200, imports.upload_sales(raw_body(app), now_ms()))


@app.get("/imports/<import_id>")
def get_import(import_id: str):
    principal(app, "staff_read")
    return json_response(200, imports.get(import_id))


@app.post("/imports/<import_id>/apply")
def post_apply(import_id: str):
    who = principal(app, "staff")
    status, answer = imports.request_apply(import_id, parse_body(app, imports.ApplyIn), actor=who.name,
                                           now_ms=now_ms())
    return json_response(status, answer)


@app.get("/exports/catalog")
def get_catalog_export():
    principal(app, "staff_read")
    page = page_request(_query())
    body, cursor = exports.catalog_csv(page.limit, page.cursor, _lang())
    return _csv(body, "stocklink-catalog.csv", {"X-Next-Cursor": cursor} if cursor else None)


@app.get("/exports/stock")
def get_stock_export():
    principal(app, "staff_read")
    return _csv(exports.stock_csv(), "stocklink-stock.csv")


@app.post("/shops/<platform>/<shop>/listings/discover")
def post_discover(platform: str, shop: str):
    who = principal(app, "staff")
    status, answer = discovery.start(platform, shop, parse_body(app, discovery.DiscoverIn), actor=who.name,
                                     now_ms=now_ms())
    return json_response(status, answer)


@app.get("/shops/<platform>/<shop>/listings/discover/<discovery_id>")
def get_discovery(platform: str, shop: str, discovery_id: str):
    principal(app, "staff_read")
    return json_response(200, discovery.get(platform, shop, discovery_id))


@app.post("/shops/<platform>/<shop>/listings/discover/<discovery_id>/apply")
def post_discovery_apply(platform: str, shop: str, discovery_id: str):
    who = principal(app, "staff")
    status, answer = discovery.request_apply(platform, shop, discovery_id, actor=who.name, now_ms=now_ms())
    return json_response(status, answer)


@app.post("/shops/<platform>/<shop>/listings/discover/<discovery_id>/first-sync")
def post_first_sync(platform: str, shop: str, discovery_id: str):
    who = principal(app, "staff")
    status, answer = discovery.choose(platform, shop, discovery_id, parse_body(app, discovery.FirstSyncIn),
                                      actor=who.name, now_ms=now_ms())
    return json_response(status, answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
