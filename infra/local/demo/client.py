"""The demo's test client of the local runtime: a small JSON-over-HTTP helper (urllib), StockLink's API
with the dev token, and the marketplace simulators' control plane (started in this process)."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request

SHOP = "demo"
PLATFORMS = ("shopify", "tiktok", "shopee", "lazada", "woocommerce")


def http(method: str, url: str, doc=None, headers: dict | None = None, timeout: float = 60.0) -> tuple[int, dict]:
    data = json.dumps(doc).encode() if doc is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
            return resp.status, (json.loads(body) if body else {})
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, {"error": body.decode(errors="replace")}


class Api:
    """StockLink's HTTP API with the dev token."""

    def __init__(self, url: str, token: str):
        self.url, self.headers = url.rstrip("/"), {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, doc=None, ok=(200, 201)) -> dict:
        status, body = http(method, self.url + path, doc, self.headers)
        if status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {status} {body}")
        return body

    def every(self, path: str, field: str, **query: str) -> list:
        """Every item of a list endpoint, following its `next` cursor page by page."""
        items: list = []
        cursor = None
        while True:
            args = {**query, "limit": "1000", **({"cursor": cursor} if cursor else {})}
            body = self.call("GET", f"{path}?{urllib.parse.urlencode(args)}")
            items += body[field]
            cursor = body.get("next")
            if not cursor:
                return items


class Sandbox:
    """The simulators' control plane."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def control(self, method: str, name: str, doc=None, query: str = "") -> dict:
        status, body = http(method, f"{self.base}/_sandbox/{name}{query}", doc)
        if status != 200:
            raise RuntimeError(f"sandbox {method} {name}: HTTP {status} {body}")
        return body

    def listings(self, platform: str | None = None) -> dict[tuple[str, str], int]:
        query = f"?shop={SHOP}" + (f"&platform={platform}" if platform else "")
        return {(r["platform"], r["listing_id"]): r["quantity"]
                for r in self.control("GET", "listings", query=query)["listings"]}

    def calls(self, since: float = 0.0) -> list[dict]:
        return self.control("GET", "calls", query=f"?since={since}")["calls"]

    def deliveries(self, since: float = 0.0) -> list[dict]:
        """The simulators' webhook delivery log (every webhook with its delay, attempts and StockLink's answer)."""
        return self.control("GET", "deliveries", query=f"?since={since}")["deliveries"]

    def flush(self, timeout: float = 120.0) -> int:
        """Waits until no webhook is scheduled, in flight or awaiting a retry; returns how many still are."""
        status, body = http("POST", f"{self.base}/_sandbox/flush", {"timeout_s": timeout}, timeout=timeout + 30)
        if status != 200:
            raise RuntimeError(f"sandbox POST flush: HTTP {status} {body}")
        return int(body["pending"])


def start_sandbox(port: int = 0):
    """The simulators in a daemon thread of this process; falls back to a free port if `port` is taken."""
    from http.server import ThreadingHTTPServer

    from infra.sandbox.server import Sandbox as SandboxState, make_handler

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256   # the default backlog of 5 resets connections when many buyers order at once

    handler = make_handler(SandboxState())
    try:
        server = Server(("127.0.0.1", port), handler)
    except OSError:
        server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="stocklink-sandbox", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
