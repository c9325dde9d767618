"""HTTP edge shared by the API functions: one resolver setup, JSON errors, body validation, and the audit
trail of staff and admin writes (one middleware for every API function: it knows the principal that
`principal()` authenticated and the matched route, so no handler has to remember it)."""
from __future__ import annotations

import json
from typing import TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from pydantic import BaseModel, ValidationError

from stocklink.auth import Principal, authorize, identify
from stocklink.domain.audit import is_audited
from stocklink.errors import PayloadTooLarge, StockLinkError, ValidationFailed
from stocklink.logic import audit
from stocklink.observability import logger
from stocklink.time import now_ms

MAX_BODY_BYTES = 1024 * 1024
M = TypeVar("M", bound=BaseModel)


def json_response(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, default=str))


def make_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.exception_handler(StockLinkError)
    def _domain_error(exc: StockLinkError) -> Response:
        return json_response(exc.status, exc.body())

    @app.not_found
    def _not_found(_exc) -> Response:
        return json_response(404, {"error": "not_found", "message": "no such route"})

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return json_response(500, {"error": "internal_error", "message": "unexpected error; it was logged"})

    app.use(middlewares=[_audit_writes])
    return app


def _audit_writes(app: APIGatewayRestResolver, next_middleware) -> Response:
    """Run the route; if it was a staff or admin write (stocklink.domain.audit.is_audited), append its
    audit entry whatever the outcome, refused ones included. Writing the entry never changes the answer."""
    audit.begin()
    status, answer = 500, None
    try:
        response = next_middleware(app)
        status, answer = response.status_code, response.body
        return response
    except StockLinkError as exc:
        status, answer = exc.status, exc.body()
        raise
    finally:
        who, group = app.context.get("principal"), app.context.get("route_group")
        event = app.current_event
        if who is not None and is_audited(event.http_method, group, who.roles):
            audit.record(actor=who.name, method=event.http_method, route=event.resource or event.path,
                         target=event.path_parameters or {}, status=status, request_body=_json_or_none(app),
                         answer=_decoded(answer), request_id=event.request_context.request_id, now_ms=now_ms())


def _decoded(answer):
    if isinstance(answer, (str, bytes)):
        try:
            return json.loads(answer)
        except ValueError:
            return None
    return answer


def _json_or_none(app: APIGatewayRestResolver):
    try:
        return json.loads(raw_body(app) or b"null")
    except (ValueError, UnicodeDecodeError, StockLinkError):
        return None


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
    """The request's principal, if its token may use `route_group` routes (401 / 403 otherwise). Kept in
    the request's context for the audit trail, refused attempts included."""
    headers = app.current_event.headers or {}
    who = identify(headers.get("Authorization") or headers.get("authorization"))
    app.append_context(principal=who, route_group=route_group)
    authorize(who, route_group)
    return who
