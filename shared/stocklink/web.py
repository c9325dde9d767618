"""HTTP edge shared by the API functions: one resolver setup, JSON errors, body validation."""
from __future__ import annotations

import json
from typing import TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from pydantic import BaseModel, ValidationError

from stocklink import time_budget
from stocklink.auth import Principal, authenticate
from stocklink.errors import PayloadTooLarge, StockLinkError, ValidationFailed
from stocklink.observability import logger

MAX_BODY_BYTES = 1024 * 1024
M = TypeVar("M", bound=BaseModel)


def json_response(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, default=str), headers=headers)


def make_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    def _retry_within_the_invocation(app: APIGatewayRestResolver, next_middleware) -> Response:
        time_budget.start(app.lambda_context)
        return next_middleware(app)

    app.use([_retry_within_the_invocation])

    @app.exception_handler(StockLinkError)
    def _domain_error(exc: StockLinkError) -> Response:
        return json_response(exc.status, exc.body(), exc.headers() or None)

    @app.not_found
    def _not_found(_exc) -> Response:
        return json_response(404, {"error": "not_found", "message": "no such route"})

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return json_response(500, {"error": "internal_error", "message": "unexpected error; it was logged"})

    return app


def raw_body(app: APIGatewayRestResolver) -> bytes:
    event = app.current_event
    body = event.decoded_body if event.is_base64_encoded else event.body
    data = body.encode() if isinstance(body, str) else (body or b"")
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body of {len(data)} bytes exceeds {MAX_BODY_BYTES}")
    return data


def parse_body(app: APIGatewayRestResolver, model: type[M]) -> M:
    """The request body as `model`, or a 400 naming the first problem. Nothing is written before this."""
    data = raw_body(app)
    try:
        payload = json.loads(data or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValidationFailed("body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationFailed(f"{where}: {first['msg']}", field=where,
                               problems=[{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                         for e in exc.errors()[:10]]) from exc


def principal(app: APIGatewayRestResolver, route_group: str) -> Principal:
    return authenticate(app.current_event.headers.get("Authorization")
                        or app.current_event.headers.get("authorization"), route_group)
