"""Shared by every test that drives the marketplace simulators: start one, and call its control API."""
from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.sandbox.server import serve


def control(base: str, method: str, name: str, doc=None, query: str = "", timeout: float = 30) -> dict:
    """Call the simulator's /_sandbox/<name> control endpoint (shops, listings, faults, calls, orders)."""
    data = json.dumps(doc).encode() if doc is not None else None
    request = urllib.request.Request(f"{base}/_sandbox/{name}{query}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture
def loopback_simulators(monkeypatch):
    """This process plays the local runtime: outbound calls may reach simulators and chat stand-ins on
    127.0.0.1 over http, as infra/local/workers.py lets its workers (STOCKLINK_ALLOW_LOOPBACK_HTTP). A
    deployed function never has the flag; tests of the outbound policy itself run without it."""
    from stocklink.config import LOOPBACK_FLAG, settings

    monkeypatch.setenv(LOOPBACK_FLAG, "1")
    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(scope="module")
def sandbox_base():
    """An in-process simulator on a free loopback port for the test module."""
    server, _ = serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Receiver:
    """Records webhook deliveries (raw bytes + headers) and answers 200 with an empty body."""

    def __init__(self):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()
