"""Alerts API: open alerts, acknowledge, alert rules, subscriptions. Thin: parse, call, map."""
import json
from urllib.parse import unquote

from functions import cold_start_done
from stocklink.errors import ValidationFailed
from stocklink.logic.alerting import rules_api, subscriptions, views
from stocklink.logic.paging import page_request
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, principal, raw_body

app = make_app()


def _body() -> dict:
    try:
        payload = json.loads(raw_body(app) or b"{}")
    except ValueError as exc:
        raise ValidationFailed(f"body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValidationFailed("body must be a JSON object")
    return payload


@app.get("/alerts")
def list_alerts():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, views.list_alerts(query.get("status", "open"), page_request(query)))


@app.post("/alerts/<alert_id>/ack")
def ack(alert_id: str):
    who = principal(app, "staff")
    return json_response(200, views.ack(unquote(alert_id), who.name, now_ms()))


@app.get("/alert-rules")
def list_rules():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, rules_api.list_rules(page_request(query)))


@app.put("/alert-rules/global")
def put_global():
    principal(app, "staff")
    return json_response(200, rules_api.put_rule("global", None, _body(), now_ms()))


@app.put("/alert-rules/abc/<abc_class>")
def put_abc(abc_class: str):
    principal(app, "staff")
    return json_response(200, rules_api.put_rule("abc", unquote(abc_class), _body(), now_ms()))


@app.put("/alert-rules/sku/<sku>")
def put_sku(sku: str):
    principal(app, "staff")
    return json_response(200, rules_api.put_rule("sku", unquote(sku), _body(), now_ms()))


@app.get("/subscriptions")
def list_subscriptions():
    principal(app, "staff_read")
    query = app.current_event.query_string_parameters or {}
    return json_response(200, subscriptions.list_subscriptions(page_request(query)))


@app.put("/subscriptions/<subscription_id>")
def put_subscription(subscription_id: str):
    principal(app, "admin")
    return json_response(200, subscriptions.put_subscription(unquote(subscription_id), _body(), now_ms()))


@app.delete("/subscriptions/<subscription_id>")
def delete_subscription(subscription_id: str):
    principal(app, "staff")
    return json_response(200, subscriptions.delete_subscription(unquote(subscription_id)))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
