"""Staff API: catalog, stock views, goods in, adjustments, ledger, events. Thin: parse, call, map."""
from urllib.parse import unquote

from aws_lambda_powertools.logging import correlation_paths

from functions import cold_start_done
from stocklink.domain.requests import AdjustmentIn, ListingIn, ReceiptIn, ShopIn, SkuIn, TokenIn, WarehouseIn
from stocklink.logic import audit, catalog, inventory, events_view, ledger_view, tokens
from stocklink.logic.paging import page_request
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, parse_body, principal

app = make_app()


@app.get("/health")
def health():
    return json_response(200, {"status": "ok"})


@app.get("/openapi.json")
def openapi_document():
    from stocklink.contract import document   # built on first request only: no cold-start cost elsewhere
    return json_response(200, document())


@app.put("/warehouses/<warehouse_id>")
def put_warehouse(warehouse_id: str):
    principal(app, "staff")
    return json_response(200, catalog.put_warehouse(warehouse_id, parse_body(app, WarehouseIn), now_ms()))


@app.get("/warehouses")
def list_warehouses():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, catalog.list_warehouses(page_request(query)))


@app.get("/warehouses/summary")
def get_warehouses_summary():
    from stocklink.logic import board
    principal(app, "staff_read")
    return json_response(200, board.warehouses_summary())


@app.get("/skus")
def list_skus():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, catalog.list_skus(page_request(query), query.get("q") or None,
                                                query.get("category") or None))


@app.get("/stock/board")
def get_stock_board():
    from stocklink.logic import board
    principal(app, "staff_read")
    return json_response(200, board.stock_board(app.current_event.query_string_parameters or {}))


@app.put("/stock/board/settings")
def put_stock_board_settings():
    from stocklink.logic import board
    principal(app, "staff")
    return json_response(200, board.put_settings(parse_body(app, board.BoardSettingsIn), now_ms()))


@app.get("/shops")
def list_shops():
    from stocklink.logic.sync import shops_view
    principal(app, "staff_read")
    return json_response(200, shops_view.list_shops(page_request(app.current_event.query_string_parameters or {})))


@app.get("/listings")
def list_listings():
    from stocklink.logic.sync import listings_view
    principal(app, "staff_read")
    return json_response(200, listings_view.list_listings(app.current_event.query_string_parameters or {}, now_ms()))


@app.put("/skus/<sku>")
def put_sku(sku: str):
    principal(app, "staff")
    return json_response(200, catalog.put_sku(sku, parse_body(app, SkuIn), now_ms()))


@app.get("/skus/<sku>/stock")
def get_stock(sku: str):
    principal(app, "staff_read")
    return json_response(200, inventory.stock_view(sku))


@app.post("/stock/receipts")
def post_receipt():
    who = principal(app, "staff")
    result = inventory.receive(parse_body(app, ReceiptIn), actor=who.name, now_ms=now_ms())
    return json_response(200 if result["duplicate"] else 201, result)


@app.post("/stock/adjustments")
def post_adjustment():
    who = principal(app, "staff")
    return json_response(201, inventory.adjust(parse_body(app, AdjustmentIn), actor=who.name, now_ms=now_ms()))


@app.get("/ledger")
def get_ledger():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, ledger_view.ledger(query.get("sku", ""), query.get("warehouse_id"),
                                                 page_request(query)))


@app.get("/events")
def get_events():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, events_view.events(query.get("status", "unmapped"), page_request(query)))


@app.put("/shops/<platform>/<shop>")
def put_shop(platform: str, shop: str):
    principal(app, "admin")
    return json_response(200, catalog.put_shop(platform, shop, parse_body(app, ShopIn), now_ms()))


@app.put("/listings/<platform>/<shop>/<listing_id>")
def put_listing(platform: str, shop: str, listing_id: str):
    principal(app, "staff")
    return json_response(200, catalog.put_listing(platform, shop, listing_id, parse_body(app, ListingIn),
                                                  now_ms()))


@app.put("/shops/<platform>/<shop>/allocation")
def put_allocation(platform: str, shop: str):
    from stocklink.logic.sync import settings
    principal(app, "staff")
    body = parse_body(app, settings.AllocationIn)
    return json_response(200, settings.put_allocation(platform, shop, body, now_ms()))


@app.get("/shops/<platform>/<shop>/allocation")
def get_allocation(platform: str, shop: str):
    from stocklink.logic.sync import settings
    principal(app, "staff_read")
    return json_response(200, settings.get_allocation(platform, shop))


@app.get("/skus/<sku>/channels")
def get_sku_channels(sku: str):
    from stocklink.logic.sync import views
    principal(app, "staff_read")
    return json_response(200, views.sku_channels(sku, now_ms()))


@app.put("/skus/<sku>/sale")
def put_declared_sale(sku: str):
    from stocklink.logic.sync import settings
    who = principal(app, "staff")
    return json_response(200, settings.declare_sale(sku, parse_body(app, settings.DeclaredSaleIn), now_ms(), who.name))


@app.delete("/skus/<sku>/sale")
def delete_declared_sale(sku: str):
    from stocklink.logic.sync import settings
    who = principal(app, "staff")
    return json_response(200, settings.end_sale(sku, now_ms(), who.name))


@app.put("/allocation/last-units")
def put_last_units():
    from stocklink.logic.sync import settings
    principal(app, "staff")
    return json_response(200, settings.put_last_units(parse_body(app, settings.LastUnitsIn), now_ms()))


@app.get("/allocation/last-units")
def get_last_units():
    from stocklink.logic.sync import settings
    principal(app, "staff_read")
    return json_response(200, settings.get_last_units())


@app.get("/sync/failures")
def get_sync_failures():
    from stocklink.logic.sync import views
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, views.sync_failures(page_request(query)))


@app.get("/reconciliation/last")
def get_reconciliation_last():
    from stocklink.errors import NotFound
    from stocklink.logic.sync import sweep
    principal(app, "staff_read")
    report = sweep.last_report()
    if report is None:
        raise NotFound("no reconciliation pass has run yet")
    return json_response(200, report)


@app.get("/reconciliation/history")
def get_reconciliation_history():
    from stocklink.logic.sync import sweep
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, sweep.history(page_request(query)))


@app.get("/me")
def get_me():
    who = principal(app, "self")
    return json_response(200, {"name": who.name, "roles": sorted(who.roles)})


@app.post("/tokens")
def post_token():
    who = principal(app, "admin")
    return json_response(201, tokens.create_token(parse_body(app, TokenIn), who.name, now_ms()))


@app.get("/tokens")
def list_tokens():
    principal(app, "admin")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, tokens.list_tokens(page_request(query)))


@app.delete("/tokens/<name>")
def delete_token(name: str):
    who = principal(app, "admin")
    return json_response(200, tokens.revoke(unquote(name), who.name, now_ms()))


@app.get("/audit")
def get_audit():
    principal(app, "admin")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, audit.trail(page_request(query), query.get("actor")))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
