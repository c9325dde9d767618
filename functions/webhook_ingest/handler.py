"""Platform order webhooks. Thin: raw request in, ingest, JSON out (fast 2xx; duplicates harmless)."""
from aws_lambda_powertools.logging import correlation_paths

from functions import cold_start_done
from stocklink.channels.base import WebhookRequest
from stocklink.logic.ingest import ingest_webhook
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, raw_body

app = make_app()


@app.post("/webhooks/<platform>/<shop>")
def receive_webhook(platform: str, shop: str):
    event = app.current_event
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    request = WebhookRequest(
        headers=headers,
        body=raw_body(app),
        url=f"https://{headers.get('host', '')}{event.path}",
        query=dict(event.query_string_parameters or {}),
    )
    return json_response(200, ingest_webhook(platform, shop, request, now_ms()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
