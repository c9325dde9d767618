"""Forecast API: supplier settings, forecasts, replenishment, run on demand. Thin: parse, call, map."""
from aws_lambda_powertools.logging import correlation_paths

from stocklink.logic import forecasting_service as fs
from stocklink.logic.paging import page_request
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, parse_body, principal

app = make_app()


@app.put("/skus/<sku>/supplier")
def put_supplier(sku: str):
    principal(app, "staff")
    return json_response(200, fs.put_supplier(sku, parse_body(app, fs.SupplierIn), now_ms()))


@app.get("/skus/<sku>/supplier")
def get_supplier(sku: str):
    principal(app, "staff_read")
    return json_response(200, fs.get_supplier(sku))


@app.post("/forecasts/run")
def post_run():
    who = principal(app, "staff")
    return json_response(202, fs.request_run(now_ms(), who.name))


@app.get("/forecasts/<sku>")
def get_forecast(sku: str):
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, fs.forecast_view(sku, fs.history_days_of(query)))


@app.get("/replenishment")
def get_replenishment():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, fs.replenishment_view(page_request(query)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)
