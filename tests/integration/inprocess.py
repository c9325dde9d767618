"""The API in-process: each topology route's function handler, and a WSGI app that plays API Gateway in front
of them (the local runtime's own route matching and event building), for clients that speak HTTP (the
schemathesis fuzz test)."""
from __future__ import annotations

import importlib
import json
from functools import cache

from infra.local.gateway import MethodNotAllowed, NoRoute, RouteTable, build_rest_event, proxy_response
from infra.local.workers import InvocationResult
from infra.topology import ROUTES, function
from tests.integration.apigw import LambdaContext


@cache
def handler_for(function_name: str):
    module, attribute = function(function_name).handler.rsplit(".", 1)
    return getattr(importlib.import_module(module), attribute)


class GatewayApp:
    """WSGI: request -> route (404/405 as API Gateway) -> REST proxy event -> the function's handler -> answer.
    A handler that raises is a 502, as API Gateway answers for a crashed Lambda."""

    def __init__(self, routes=ROUTES):
        self.routes = RouteTable(routes)

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or path
        query = environ.get("QUERY_STRING")
        target = raw_path if "?" in raw_path or not query else f"{raw_path}?{query}"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = [(key[5:].replace("_", "-").title(), value) for key, value in environ.items()
                   if key.startswith("HTTP_")]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        try:
            route, params = self.routes.match(method, target.split("?", 1)[0])
        except (NoRoute, MethodNotAllowed) as exc:
            status = 404 if isinstance(exc, NoRoute) else 405
            start_response(f"{status} X", [("Content-Type", "application/json")])
            return [json.dumps({"error": "no_route", "message": str(exc)}).encode()]
        event = build_rest_event(method, target, headers, body, route, params)
        try:
            result = InvocationResult(True, handler_for(route.function)(event, LambdaContext()))
        except Exception as exc:  # noqa: BLE001 - a crashed handler is what the fuzz test looks for
            result = InvocationResult(False, error=type(exc).__name__)
        status, out_headers, out = proxy_response(result)
        start_response(f"{status} X", out_headers)
        return [out]
