"""HTTP edge shared by the API functions: one resolver setup, JSON errors, body validation, and the audit
trail of staff and admin writes (one middleware for every API function: it knows the principal that
`principal()` authenticated and the matched route, so no handler has to remember it)."""
from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types

from stocklink import time_budget
from stocklink.auth import Principal, authorize, identify
from stocklink.domain.audit import is_audited
from stocklink.errors import PayloadTooLarge, StockLinkError, ValidationFailed
from stocklink.logic import audit
from stocklink.observability import logger
from stocklink.time import now_ms

MAX_BODY_BYTES = 1024 * 1024
M = TypeVar("M", bound="BaseModel")

if TYPE_CHECKING:
    from pydantic import BaseModel

# pydantic (and the request models) are imported when a route first validates something, not at cold start:
# webhook_ingest never does (~100 ms of its import, tests/bench/cold_import.py).


def json_response(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, default=str), headers=headers)


# A path parameter becomes part of a DynamoDB key: a sort key holds at most 1,024 bytes and the longest
# composes three parameters (platform#shop#listing), so each is 1-300 bytes as the handler receives it
# (percent-encoded, as API Gateway's path). Longer ones were a 500 from DynamoDB's ValidationException.
MAX_PATH_PARAM_BYTES = 300


# SKUs, warehouses and suppliers are named by Identifiers wherever a body names them (receipts, holds, listings), so a
# path may not name one otherwise: PUT /skus/{sku} made SKUs that no receipt or hold could ever name.
IDENTIFIER_PARAMS = ("sku", "warehouse_id", "supplier_id")


@lru_cache(maxsize=1)
def _identifier():
    from pydantic import TypeAdapter

    from stocklink.domain.requests import Identifier

    return TypeAdapter(Identifier)


def _path_parameters_fit(app: APIGatewayRestResolver, next_middleware):
    for name, value in (app.context.get("_route_args") or {}).items():
        size = len(str(value).encode("utf-8", "surrogatepass"))
        if not 0 < size <= MAX_PATH_PARAM_BYTES:
            raise ValidationFailed(f"{name}: 1-{MAX_PATH_PARAM_BYTES} bytes", field=name)
        if name in IDENTIFIER_PARAMS and not _is_identifier(unquote(str(value))):
            raise ValidationFailed(f"{name}: 1-128 of A-Z a-z 0-9 . _ : @ / + -", field=name)
    return next_middleware(app)


def _is_identifier(value: str) -> bool:
    from pydantic import ValidationError

    try:
        return _identifier().validate_python(value) == value      # unchanged: no whitespace was stripped
    except ValidationError:
        return False


def console_cors() -> CORSConfig | None:
    """CORS for the console site's one origin (CONSOLE_ORIGIN, set by the stack), else none: the local
    runtime serves the console from the API's own origin. API Gateway answers the preflight (OPTIONS);
    the function adds the headers to the actual answers, errors included."""
    from stocklink.config import settings

    origin = settings().console_origin
    if not origin:
        return None
    return CORSConfig(allow_origin=origin, allow_headers=["Authorization", "Content-Type"],
                      expose_headers=["Retry-After"], max_age=600)


def make_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(cors=console_cors())
    app.use(middlewares=[_path_parameters_fit])

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
    """The body's bytes as the client sent them. A non-UTF-8 body arrives base64-encoded; it is decoded here
    to bytes, not to text (powertools' `decoded_body` decodes to str and raised on such bodies: a 500)."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed("body is not valid base64") from exc
    else:
        data = body.encode() if isinstance(body, str) else body
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body of {len(data)} bytes exceeds {MAX_BODY_BYTES}")
    return data


def parse_body(app: APIGatewayRestResolver, model: type[M]) -> M:
    """The request body as `model`, or a 400 naming the first problem. Nothing is written before this."""
    from pydantic import ValidationError

    data = raw_body(app)
    try:
        payload = json.loads(data or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValidationFailed("body must be a JSON object")
    try:
        # strict JSON validation: a body means what the contract (the model's JSON schema) says; lax mode
        # took false for 0, 0.0 for false and "1.5" for a number
        return model.model_validate_json(data, strict=True)
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
