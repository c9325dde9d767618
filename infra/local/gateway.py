"""The local API Gateway: HTTP requests -> REST (v1) proxy events -> a worker of the route's function.

Route matching and event building are pure functions (unit-tested in tests/unit/test_local_gateway.py);
`Gateway` is the HTTP server around them.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.local import docs
from infra.local.workers import ACCOUNT_ID, InvocationResult

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
STAGE = "local"
API_ID = "local"

log = logging.getLogger("stocklink.local")
access_log = logging.getLogger("stocklink.access")


class NoRoute(Exception):
    pass


class MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]):
        super().__init__(", ".join(allowed))
        self.allowed = allowed


@dataclass(frozen=True)
class _Compiled:
    route: object
    regex: re.Pattern
    specificity: tuple  # smaller is more specific: literal segments sort before variables


def _compile(template: str) -> tuple[re.Pattern, tuple]:
    parts, rank = [], []
    for segment in template.strip("/").split("/") if template.strip("/") else []:
        m = re.fullmatch(r"\{([A-Za-z0-9_]+)(\+?)\}", segment)
        if m and m.group(2):
            parts.append(f"(?P<{m.group(1)}>.+)")  # greedy {proxy+}
            rank.append(2)
        elif m:
            parts.append(f"(?P<{m.group(1)}>[^/]+)")
            rank.append(1)
        else:
            parts.append(re.escape(segment))
            rank.append(0)
    return re.compile("^/" + "/".join(parts) + "/?$"), tuple(rank)


class RouteTable:
    """Matches (method, path) against topology routes the way API Gateway picks a resource."""

    def __init__(self, routes: Iterable):
        self._compiled = []
        for route in routes:
            regex, rank = _compile(route.path)
            self._compiled.append(_Compiled(route, regex, rank))

    def match(self, method: str, path: str):
        """Returns (route, path_parameters); raises NoRoute or MethodNotAllowed."""
        method = method.upper()
        candidates = []
        for c in self._compiled:
            m = c.regex.match(path)
            if m:
                candidates.append((c.specificity, c, m))
        if not candidates:
            raise NoRoute(path)
        # API Gateway resolves the most specific resource first, then the method on it.
        candidates.sort(key=lambda item: item[0])
        best_rank = candidates[0][0]
        best = [(c, m) for rank, c, m in candidates if rank == best_rank]
        for c, m in best:
            if c.route.method.upper() in (method, "ANY"):
                return c.route, {k: unquote(v) for k, v in m.groupdict().items()}
        raise MethodNotAllowed(sorted({c.route.method.upper() for c, _ in best}))


def build_rest_event(method: str, raw_target: str, headers: list[tuple[str, str]], body: bytes | None,
                     route, path_parameters: dict, source_ip: str = "127.0.0.1",
                     request_id: str | None = None, now: datetime | None = None) -> dict:
    """An API Gateway REST API (payload v1) Lambda proxy event, as API Gateway builds it.

    `path` stays percent-encoded as received; path and query parameter values are decoded; headers keep
    the client's spelling, single-value maps take the last value; empty maps are null.
    """
    request_id = request_id or str(uuid.uuid4())
    now = now or datetime.now(timezone.utc)
    split = urlsplit(raw_target)
    path = split.path or "/"

    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)

    single_qs: dict[str, str] = {}
    multi_qs: dict[str, list[str]] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        single_qs[key] = value
        multi_qs.setdefault(key, []).append(value)

    text_body, is_b64 = None, False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_b64 = base64.b64encode(body).decode("ascii"), True

    user_agent = next((v for k, v in headers if k.lower() == "user-agent"), None)
    host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_qs or None,
        "multiValueQueryStringParameters": multi_qs or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method.upper(),
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None, "caller": None,
                "sourceIp": source_ip, "principalOrgId": None, "accessKey": None,
                "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None, "userArn": None,
                "userAgent": user_agent, "user": None,
            },
            "domainName": host,
            "apiId": API_ID,
        },
        "body": text_body,
        "isBase64Encoded": is_b64,
    }


def error_body(error: str, message: str) -> bytes:
    return json.dumps({"error": error, "message": message}).encode()


def proxy_response(result: InvocationResult) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a proxy integration result; malformed or failed -> 502 as API Gateway."""
    bad = (502, [("Content-Type", "application/json")], error_body("internal_error", "Internal server error"))
    if not result.ok:
        return bad
    payload = result.payload
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return bad
    try:
        status = int(payload["statusCode"])
    except (TypeError, ValueError):
        return bad
    headers: list[tuple[str, str]] = []
    for name, value in (payload.get("headers") or {}).items():
        headers.append((name, str(value)))
    single = {n.lower() for n, _ in headers}
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        if name.lower() in single:
            continue  # API Gateway: a name in both maps is taken from `headers`
        for value in values or []:
            headers.append((name, str(value)))
    body = payload.get("body")
    if body is None:
        raw = b""
    elif payload.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body)
        except (ValueError, TypeError):
            return bad
    else:
        raw = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode()
    if not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return status, headers, raw


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of API Gateway get
    server_version = "StockLinkLocal"
    # Buffered writes: status line, headers and body leave in one send when handle_one_request flushes
    # (unbuffered, each part was its own send); no Nagle delay on what is sent.
    wbufsize = -1
    disable_nagle_algorithm = True
    gateway: "Gateway"

    def log_message(self, fmt, *args):  # the gateway writes its own access line
        pass

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, request_id: str) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> bytes | None:
        """The request body, or None if it is over API Gateway's limit (then the connection is closed)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_PAYLOAD_BYTES:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            self.close_connection = True  # unread body: this connection cannot be reused
            return None
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        gw = self.gateway
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        function_name = "-"
        path = urlsplit(self.path).path
        try:
            body = self._read_body()
            local_page = docs.page(self.command, path)       # /docs: Swagger UI, local runtime only
            if local_page is None and gw.control is not None and body is not None:
                local_page = gw.control.page(self.command, path, dict(self.headers.items()))   # /_local/...
                if local_page is not None:
                    function_name = "local"
            if local_page is None and gw.console is not None:
                local_page = gw.console.page(self.command, path)   # /console/: the web console's files
                if local_page is not None:
                    function_name = "console"
            if local_page is not None:
                status, headers, out = local_page
            elif body is None:
                status, headers, out = 413, [("Content-Type", "application/json")], error_body(
                    "payload_too_large", f"Request body exceeds {MAX_PAYLOAD_BYTES} bytes")
            else:
                try:
                    route, params = gw.routes.match(self.command, path)
                except NoRoute:
                    status, headers, out = 404, [("Content-Type", "application/json")], error_body(
                        "not_found", f"No route for {self.command} {path}")
                except MethodNotAllowed as exc:
                    status = 405
                    headers = [("Content-Type", "application/json"), ("Allow", ", ".join(exc.allowed))]
                    out = error_body("method_not_allowed", f"{self.command} is not allowed on {path}")
                else:
                    function_name = route.function
                    event = build_rest_event(self.command, self.path, list(self.headers.items()), body,
                                             route, params, self.client_address[0], request_id)
                    result = gw.invoke(route.function, event, request_id)
                    if not result.ok:
                        log.error("%s %s -> %s raised %s (request %s):\n%s", self.command, path,
                                  result.worker, result.error, request_id, result.traceback)
                    status, headers, out = proxy_response(result)
                    if result.ok and status == 502:
                        log.error("%s returned a malformed proxy response: %r", function_name,
                                  result.payload)
        except Exception as exc:  # noqa: BLE001 - the gateway itself must keep serving
            log.exception("gateway error on %s %s", self.command, path)
            status, headers, out = 502, [("Content-Type", "application/json")], error_body(
                "internal_error", f"Internal server error ({type(exc).__name__})")
        self._send(status, headers, out, request_id)
        ms = (time.perf_counter() - started) * 1000
        access_log.info("%s %s %d %.1fms %s", self.command, path, status, ms, function_name)
        gw.record(status, ms, function_name)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default of 5 makes bursts of clients wait on SYN retries
    allow_reuse_address = True


class Gateway:
    def __init__(self, routes: Iterable, invoke: Callable[[str, dict, str], InvocationResult],
                 host: str = "127.0.0.1", port: int = 8080, console=None, control=None):
        self.routes = RouteTable(routes)
        self.invoke = invoke
        self.console = console   # infra.local.console_files.ConsoleFiles, or None: no /console/
        self.control = control   # infra.local.control.LocalControl, or None: no /_local/ routes
        handler = type("Handler", (_Handler,), {"gateway": self})
        self.server = _Server((host, port), handler)
        self.host, self.port = self.server.server_address[:2]
        self._thread: threading.Thread | None = None
        self._stats_lock = threading.Lock()
        self.stats: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def record(self, status: int, ms: float, function: str) -> None:
        with self._stats_lock:
            key = f"{status // 100}xx"
            self.stats[key] = self.stats.get(key, 0) + 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                        daemon=True, name="gateway")
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever, so only if it ever ran
            self.server.shutdown()
            self._thread = None
        self.server.server_close()


__all__ = ["RouteTable", "NoRoute", "MethodNotAllowed", "build_rest_event", "proxy_response", "Gateway",
           "MAX_PAYLOAD_BYTES"]
