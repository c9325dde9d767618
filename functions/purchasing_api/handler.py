"""Purchasing API: purchase orders (buyers), receiving them (staff), transfers between warehouses and their
lanes (staff), transfer suggestions. Thin: parse, call, map."""
import datetime as dt

from aws_lambda_powertools.logging import correlation_paths

from functions import cold_start_done
from stocklink.domain.purchase_requests import (
    LaneIn, PoFromSuggestionsIn, PoReceiptIn, PoShipIn, PoStatusIn, PurchaseOrderIn, TransferActionIn, TransferIn,
    TransferReceiveIn,
)
from stocklink.logic import purchasing, transfers
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, parse_body, principal

app = make_app()


def _query() -> dict:
    return app.current_event.query_string_parameters or {}


@app.post("/purchase-orders")
def post_purchase_order():
    who = principal(app, "buying")
    return json_response(201, purchasing.create(parse_body(app, PurchaseOrderIn), actor=who.name, now_ms=now_ms()))


@app.post("/purchase-orders/from-suggestions")
def post_purchase_orders_from_suggestions():
    who = principal(app, "buying")
    body = parse_body(app, PoFromSuggestionsIn)
    return json_response(201, purchasing.from_suggestions(body, actor=who.name, now_ms=now_ms()))


@app.get("/purchase-orders")
def get_purchase_orders():
    principal(app, "staff_read")
    return json_response(200, purchasing.list_pos(_query()))


@app.get("/purchase-orders/<po_id>")
def get_purchase_order(po_id: str):
    principal(app, "staff_read")
    return json_response(200, purchasing.get(po_id))


@app.post("/purchase-orders/<po_id>/status")
def post_purchase_order_status(po_id: str):
    who = principal(app, "buying")
    body = parse_body(app, PoStatusIn)
    return json_response(200, purchasing.change_status(po_id, body, actor=who.name, now_ms=now_ms()))


@app.post("/purchase-orders/<po_id>/ship")
def post_purchase_order_ship(po_id: str):
    who = principal(app, "buying")
    return json_response(200, purchasing.ship(po_id, parse_body(app, PoShipIn), actor=who.name, now_ms=now_ms()))


@app.post("/purchase-orders/<po_id>/receipts")
def post_purchase_order_receipt(po_id: str):
    who = principal(app, "staff")
    status, answer = purchasing.receive(po_id, parse_body(app, PoReceiptIn), actor=who.name, now_ms=now_ms())
    return json_response(status, answer)


@app.put("/transfer-lanes/<from_warehouse>/<to_warehouse>")
def put_lane(from_warehouse: str, to_warehouse: str):
    principal(app, "staff")
    return json_response(200, transfers.put_lane(from_warehouse, to_warehouse, parse_body(app, LaneIn), now_ms()))


@app.get("/transfer-lanes")
def get_lanes():
    principal(app, "staff_read")
    return json_response(200, transfers.list_lanes())


@app.get("/transfers/suggestions")
def get_transfer_suggestions():
    principal(app, "staff_read")
    today = dt.datetime.fromtimestamp(now_ms() / 1000, dt.UTC).date()
    return json_response(200, transfers.suggestions(_query(), today))


@app.post("/transfers")
def post_transfer():
    who = principal(app, "staff")
    return json_response(201, transfers.create(parse_body(app, TransferIn), actor=who.name, now_ms=now_ms()))


@app.get("/transfers")
def get_transfers():
    principal(app, "staff_read")
    return json_response(200, transfers.list_transfers(_query()))


@app.get("/transfers/<transfer_id>")
def get_transfer(transfer_id: str):
    principal(app, "staff_read")
    return json_response(200, transfers.get(transfer_id))


@app.post("/transfers/<transfer_id>/pick")
def post_transfer_pick(transfer_id: str):
    who = principal(app, "staff")
    return json_response(200, transfers.pick(transfer_id, parse_body(app, TransferActionIn), actor=who.name,
                                             now_ms=now_ms()))


@app.post("/transfers/<transfer_id>/receive")
def post_transfer_receive(transfer_id: str):
    who = principal(app, "staff")
    return json_response(200, transfers.receive(transfer_id, parse_body(app, TransferReceiveIn), actor=who.name,
                                                now_ms=now_ms()))


@app.post("/transfers/<transfer_id>/cancel")
def post_transfer_cancel(transfer_id: str):
    who = principal(app, "staff")
    return json_response(200, transfers.cancel(transfer_id, parse_body(app, TransferActionIn), actor=who.name,
                                               now_ms=now_ms()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
