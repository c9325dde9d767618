"""Marketplace simulator: one loopback ThreadingHTTPServer hosting all five platforms.

Layout (path-prefixed, one port):
  /<platform>/<shop>/...   the platform's API, as the adapter calls it when the shop's credentials say
                           api_base_url = http://127.0.0.1:<port>/<platform>/<shop>
                           (Lazada: .../lazada/<shop>/rest, like the real regional gateway)
  POST /_sandbox/shops     {platform, shop, credentials: {...}, webhook_url}   register / replace a shop
  GET  /_sandbox/listings  ?platform=&shop=        listed quantities
  PUT  /_sandbox/listings  {platform, shop, listings: [{listing_id, quantity, platform_ids?, seller_sku?}]}
  POST /_sandbox/faults    {status: 429|500|503, count: N, platform?, shop?}   next N API calls fail
  GET  /_sandbox/calls     ?platform=&shop=&since=  API calls with timestamps and the quantities they set
  POST /_sandbox/orders    {platform, shop, lines: [{listing_id, qty, sku?}], kind | status, order_id?}
                           -> sends the shop's webhook_url correctly signed webhook(s) in the platform's
                              format; answers {order_id, status, deliveries: [{status, body}]}
  POST /_sandbox/reset
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from infra.sandbox.platforms._common import KINDS, Reply, Req, j
from infra.sandbox.platforms.registry import SIMULATORS
from infra.sandbox.state import Fault, Listing, Order, Shop, State


class SandboxError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Sandbox:
    def __init__(self):
        self.state = State()

    # -- control plane ----------------------------------------------------------------------------------
    def control(self, method: str, name: str, query: dict, doc) -> Reply:
        st = self.state
        if (method, name) == ("POST", "reset"):
            st.reset()
            return j(200, {"ok": True})
        if (method, name) == ("POST", "shops"):
            platform, shop = self._target(doc)
            creds = doc.get("credentials")
            if not isinstance(creds, dict):
                raise SandboxError(400, "credentials object required")
            with st.lock:
                st.shops[(platform, shop)] = Shop(platform, shop, {k: str(v) for k, v in creds.items()},
                                                  str(doc.get("webhook_url") or ""))
            return j(200, {"platform": platform, "shop": shop})
        if name == "listings" and method == "PUT":
            platform, shop = self._target(doc)
            with st.lock:
                listings = st.shop_listings(platform, shop)
                for entry in doc.get("listings") or []:
                    listing_id = str(entry["listing_id"])
                    old = listings.get(listing_id)
                    listings[listing_id] = Listing(
                        int(entry.get("quantity", old.quantity if old else 0)),
                        {k: str(v) for k, v in (entry.get("platform_ids") or (old.platform_ids if old else {})).items()},
                        str(entry.get("seller_sku") or (old.seller_sku if old else "")))
            return j(200, {"ok": True})
        if name == "listings" and method == "GET":
            with st.lock:
                out = [{"platform": p, "shop": s, "listing_id": lid, "quantity": l.quantity,
                        "platform_ids": l.platform_ids, "seller_sku": l.seller_sku}
                       for (p, s), ls in st.listings.items() for lid, l in ls.items()
                       if query.get("platform") in (None, p) and query.get("shop") in (None, s)]
            return j(200, {"listings": out})
        if (method, name) == ("POST", "faults"):
            status = int(doc.get("status", 500))
            if status not in (429, 500, 502, 503):
                raise SandboxError(400, "status must be 429, 500, 502 or 503")
            with st.lock:
                st.faults.append(Fault(status, int(doc.get("count", 1)), doc.get("platform"), doc.get("shop")))
            return j(200, {"ok": True})
        if (method, name) == ("GET", "calls"):
            since = float(query.get("since", 0) or 0)
            with st.lock:
                out = [c for c in st.calls if c["ts"] >= since
                       and query.get("platform") in (None, c["platform"]) and query.get("shop") in (None, c["shop"])]
            return j(200, {"calls": out})
        if (method, name) == ("POST", "orders"):
            return self.place_order(doc)
        raise SandboxError(404, f"no sandbox route {method} /_sandbox/{name}")

    def _target(self, doc) -> tuple[str, str]:
        if not isinstance(doc, dict) or doc.get("platform") not in SIMULATORS or not doc.get("shop"):
            raise SandboxError(400, f"platform (one of {sorted(SIMULATORS)}) and shop are required")
        return doc["platform"], str(doc["shop"])

    def place_order(self, doc) -> Reply:
        platform, shop_name = self._target(doc)
        sim = SIMULATORS[platform]
        st = self.state
        shop = st.shops.get((platform, shop_name))
        if shop is None or not shop.webhook_url:
            raise SandboxError(400, "register the shop with a webhook_url first (POST /_sandbox/shops)")
        kind = doc.get("kind")
        if kind is not None and kind not in KINDS:
            raise SandboxError(400, f"kind must be one of {KINDS}")
        status = doc.get("status") or sim.native[kind or "created"]
        with st.lock:
            orders = st.shop_orders(platform, shop_name)
            order_id = str(doc.get("order_id") or st.next_id())
            order = orders.get(order_id)
            if order is None:
                lines = [{"listing_id": str(l["listing_id"]), "qty": int(l.get("qty", 1)), "sku": l.get("sku", "")}
                         for l in doc.get("lines") or []]
                if not lines:
                    raise SandboxError(400, "a new order needs lines")
                listings = st.shop_listings(platform, shop_name)
                # enforce_listed: checkout refuses what the listing no longer shows, as a marketplace's does,
                # decided under the lock the stock pushes take (a buyer's earlier look may be stale by then).
                # Opt-in: tests also place orders on listings StockLink has not pushed yet.
                short = [l["listing_id"] for l in lines if l["listing_id"] in listings
                         and listings[l["listing_id"]].quantity < l["qty"]] if doc.get("enforce_listed") else []
                if short:
                    raise SandboxError(409, f"sold out: listing(s) {', '.join(short)} show fewer units than ordered")
                order = orders[order_id] = Order(order_id, lines, status)
                # The platform itself takes the sold units off its listing, as real marketplaces do.
                for line in lines:
                    if line["listing_id"] in listings:
                        listing = listings[line["listing_id"]]
                        listing.quantity = max(0, listing.quantity - line["qty"])
            order.status = status
            messages = sim.webhooks(st, shop, order, kind or _kind_of(sim, status))
        deliveries = [self._deliver(shop.webhook_url, headers, body) for headers, body in messages]
        return j(200, {"order_id": order_id, "status": status, "deliveries": deliveries})

    @staticmethod
    def _deliver(url: str, headers: dict, body: bytes) -> dict:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return {"status": response.status, "body": response.read().decode(errors="replace")}
        except urllib.error.HTTPError as exc:
            return {"status": exc.code, "body": exc.read().decode(errors="replace")}
        except OSError as exc:
            return {"status": 0, "body": f"delivery failed: {exc}"}

    # -- platform APIs ----------------------------------------------------------------------------------
    def api(self, platform: str, shop_name: str, req: Req) -> Reply:
        sim = SIMULATORS[platform]
        shop = self.state.shops.get((platform, shop_name))
        injected = None
        if shop is None:
            reply = j(404, {"error": f"sandbox: unknown {platform} shop {shop_name!r}"})
        else:
            injected = self.state.take_fault(platform, shop_name)
            reply = sim.fault(injected) if injected else sim.handle(self.state, shop, req)
        self.state.log_call(platform=platform, shop=shop_name, method=req.method, path=req.path, status=reply.status,
                            kind=reply.kind, fault=bool(injected), listings=reply.changes)
        return reply


def _kind_of(sim, status: str) -> str:
    for kind, native in sim.native.items():
        if native == status:
            return kind
    return "paid"


def make_handler(sandbox: Sandbox):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the call log is the record
            pass

        def _serve(self):
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = url.path.split("/", 3)  # ['', first, second, rest]
            try:
                if len(parts) >= 3 and parts[1] == "_sandbox":
                    doc = json.loads(body) if body else {}
                    reply = sandbox.control(self.command, parts[2], query, doc)
                elif len(parts) >= 3 and parts[1] in SIMULATORS:
                    rest = "/" + (parts[3] if len(parts) > 3 else "")
                    host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
                    req = Req(self.command, rest, query, {k.lower(): v for k, v in self.headers.items()}, body,
                              f"http://{host}{url.path}")
                    reply = sandbox.api(parts[1], parts[2], req)
                else:
                    reply = j(404, {"error": "not found"})
            except SandboxError as exc:
                reply = j(exc.status, {"error": str(exc)})
            except (ValueError, KeyError, TypeError) as exc:
                reply = j(400, {"error": f"bad request: {exc}"})
            self.send_response(reply.status)
            for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


def serve(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, Sandbox]:
    """Start in a daemon thread (tests); returns the server (server_address has the port) and its state."""
    sandbox = Sandbox()
    server = ThreadingHTTPServer((host, port), make_handler(sandbox))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="stocklink-sandbox", daemon=True).start()
    return server, sandbox
