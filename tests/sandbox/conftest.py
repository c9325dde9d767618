"""Sandbox simulators in-process on an ephemeral loopback port, plus a tiny webhook receiver."""
from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stocklink.channels.base import HttpCall
from tests.sandbox_support import control, sandbox_base  # noqa: F401 (fixture)


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


def send(call: HttpCall) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(call.url, data=call.body or None, headers=dict(call.headers), method=call.method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(autouse=True)
def _clean(sandbox_base, receiver):
    control(sandbox_base, "POST", "reset", {})
    receiver.requests.clear()
