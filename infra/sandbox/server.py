"""Marketplace simulator: one loopback ThreadingHTTPServer hosting all five platforms.

Layout (path-prefixed, one port):
  /<platform>/<shop>/...   the platform's API, as the adapter calls it when the shop's credentials say
                           api_base_url = http://127.0.0.1:<port>/<platform>/<shop>
                           (Lazada: .../lazada/<shop>/rest, like the real regional gateway)
  POST /_sandbox/shops     {platform, shop, credentials: {...}, webhook_url, delivery?: {...}, enforce_listed?,
                            notification_queue?: {url, region}}
                           register / replace a shop; `delivery` as PUT /_sandbox/delivery takes it (default:
                           no delay, in order); enforce_listed: the shop's checkout refuses what its listing
                           no longer shows (default false; an order's own enforce_listed wins);
                           notification_queue (Amazon): the SQS queue its ORDER_CHANGE subscription delivers
                           to, as the seller's destination would be (the local runtime's is at GET
                           /_local/platform-queues): each order change is sent there with SendMessage;
                           refused_apis: [api, ...] the shop's app holds no permission for: each call is
                           refused as the platform refuses it (Pinduoduo: e.g. pdd.refund.list.increment.get
                           for an app without the after-sales permission); register again to grant them
  PUT  /_sandbox/delivery  {platform, shop, webhook_delay_s?: s | [min, max] | "min-max", reorder?, seed?,
                            max_attempts?, retry_backoff_s?, timeout_s?}   change a shop's webhook delivery
  GET  /_sandbox/delivery  ?platform=&shop=        the shops' delivery settings
  GET  /_sandbox/listings  ?platform=&shop=        listed quantities
  PUT  /_sandbox/listings  {platform, shop, listings: [{listing_id, quantity, platform_ids?, seller_sku?, title?,
                            barcode?}]}   (the product-list APIs discovery calls list them, grouped by the
                            platform ids: Shopee item_id, TikTok product_id, Lazada item_id, WooCommerce parent_id)
  POST /_sandbox/faults    {status: 429|500|503, count: N, platform?, shop?, api?}   next N API calls fail (of
                           `api` only, where the simulator tells its APIs apart: Pinduoduo's `type`)
  GET  /_sandbox/calls     ?platform=&shop=&since=  API calls with timestamps and the quantities they set
  POST /_sandbox/orders    {platform, shop, lines: [{listing_id, qty, sku?}], kind | status, order_id?,
                            enforce_listed?, changed_ago_s?}
                           -> the shop's webhook_url gets correctly signed webhook(s) in the platform's
                              format; answers {order_id, status, deliveries: [{status, body, delivery_id}],
                              scheduled: [], notifications: []} when the shop's delivery is inline (no delay,
                              in order), else at once {order_id, status, deliveries: [], scheduled:
                              [{delivery_id, due_in_s}], notifications: []}; `notifications`: the messages
                              sent to the shop's notification_queue (Amazon). Pulled platforms (Taobao, JD,
                              Pinduoduo; Amazon's fallback) send nothing: their order APIs show the change.
                              changed_ago_s: the change is stamped that many seconds back (what incremental
                              order APIs filter on): tests that do not wait out a platform's settle time.
                              `lines` on an existing order name the lines (units) a change covers: a
                              refund of part of the order (kind cancelled / returned; Pinduoduo's
                              after-sales list shows it), the order's own lines staying as placed
  GET  /_sandbox/deliveries ?platform=&shop=&order_id=&since=&pending=1   the delivery log: one record per
                           webhook {delivery_id, platform, shop, order_id, kind, created, delay_s, due, state
                           (scheduled|delivering|retrying|delivered|failed), status, body, attempts: [{ts,
                           status, elapsed_ms}], done_at}
  POST /_sandbox/flush     {timeout_s?: 60, platform?, shop?}   waits until no webhook is scheduled, in flight
                           or awaiting a retry -> {pending, flushed}
  POST /_sandbox/reset     shops, listings, orders, faults, calls and deliveries (scheduled ones dropped)
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from infra.sandbox.delivery import Deliverer, DeliverySettings
from infra.sandbox.platforms._common import KINDS, Reply, Req, j
from infra.sandbox.platforms.registry import SIMULATORS
from infra.sandbox.state import Fault, Listing, Order, Shop, State


class SandboxError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Sandbox:
    def __init__(self, deliverer: Deliverer | None = None):
        self.state = State()
        self.deliverer = deliverer or Deliverer()

    # -- control plane ----------------------------------------------------------------------------------
    def control(self, method: str, name: str, query: dict, doc) -> Reply:
        st = self.state
        if (method, name) == ("POST", "reset"):
            st.reset()
            self.deliverer.reset()
            return j(200, {"ok": True})
        if (method, name) == ("POST", "shops"):
            platform, shop = self._target(doc)
            creds = doc.get("credentials")
            if not isinstance(creds, dict):
                raise SandboxError(400, "credentials object required")
            delivery = self._settings(lambda: DeliverySettings.from_doc(doc.get("delivery")))
            enforce = doc.get("enforce_listed", False)
            if not isinstance(enforce, bool):
                raise SandboxError(400, "enforce_listed must be true or false")
            queue = doc.get("notification_queue") or {}
            if not isinstance(queue, dict) or (queue and not (isinstance(queue.get("url"), str)
                                                              and isinstance(queue.get("region"), str))):
                raise SandboxError(400, "notification_queue must be {url, region}")
            refused = doc.get("refused_apis") or []
            if not isinstance(refused, list) or not all(isinstance(api, str) for api in refused):
                raise SandboxError(400, "refused_apis must be a list of API names")
            with st.lock:
                st.shops[(platform, shop)] = Shop(platform, shop, {k: str(v) for k, v in creds.items()},
                                                  str(doc.get("webhook_url") or ""), delivery, enforce,
                                                  {"url": queue["url"], "region": queue["region"]} if queue else {},
                                                  frozenset(refused))
            return j(200, {"platform": platform, "shop": shop, "delivery": delivery.describe(),
                           "enforce_listed": enforce, "notification_queue": queue or None,
                           "refused_apis": sorted(refused)})
        if (method, name) == ("PUT", "delivery"):
            platform, shop_name = self._target(doc)
            changes = {k: v for k, v in doc.items() if k not in ("platform", "shop")}
            with st.lock:
                shop = st.shops.get((platform, shop_name))
                if shop is None:
                    raise SandboxError(404, f"unknown {platform} shop {shop_name!r}: register it first")
                self._settings(lambda: shop.delivery.update(changes))
                return j(200, {"platform": platform, "shop": shop_name, "delivery": shop.delivery.describe()})
        if (method, name) == ("GET", "delivery"):
            with st.lock:
                out = [{"platform": p, "shop": s, "delivery": shop.delivery.describe(),
                        "enforce_listed": shop.enforce_listed}
                       for (p, s), shop in st.shops.items()
                       if query.get("platform") in (None, p) and query.get("shop") in (None, s)]
            return j(200, {"shops": out})
        if (method, name) == ("GET", "deliveries"):
            return j(200, {"deliveries": self.deliverer.records(
                query.get("platform"), query.get("shop"), query.get("order_id"),
                float(query.get("since", 0) or 0), query.get("pending") not in (None, "", "0", "false"))})
        if (method, name) == ("POST", "flush"):
            timeout = float(doc.get("timeout_s", 60))
            if not 0 <= timeout <= 3600:
                raise SandboxError(400, "timeout_s must be 0..3600")
            left = self.deliverer.wait(timeout, doc.get("platform"), doc.get("shop"))
            return j(200, {"pending": left, "flushed": left == 0})
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
                        str(entry.get("seller_sku") or (old.seller_sku if old else "")),
                        str(entry.get("title") or (old.title if old else "")),
                        str(entry.get("barcode") or (old.barcode if old else "")))
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
                st.faults.append(Fault(status, int(doc.get("count", 1)), doc.get("platform"), doc.get("shop"),
                                       doc.get("api")))
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

    @staticmethod
    def _settings(change):
        try:
            return change()
        except (ValueError, TypeError) as exc:
            raise SandboxError(400, f"delivery: {exc}") from exc

    def _target(self, doc) -> tuple[str, str]:
        if not isinstance(doc, dict) or doc.get("platform") not in SIMULATORS or not doc.get("shop"):
            raise SandboxError(400, f"platform (one of {sorted(SIMULATORS)}) and shop are required")
        return doc["platform"], str(doc["shop"])

    def place_order(self, doc) -> Reply:
        platform, shop_name = self._target(doc)
        sim = SIMULATORS[platform]
        st = self.state
        shop = st.shops.get((platform, shop_name))
        if shop is None or not (shop.webhook_url or shop.notification_queue):
            raise SandboxError(400, "register the shop with a webhook_url first (POST /_sandbox/shops)")
        kind = doc.get("kind")
        if kind is not None and kind not in KINDS:
            raise SandboxError(400, f"kind must be one of {KINDS}")
        ago = doc.get("changed_ago_s", 0)
        if isinstance(ago, bool) or not isinstance(ago, (int, float)) or not 0 <= ago <= 86400:
            raise SandboxError(400, "changed_ago_s must be 0..86400 seconds")
        status = doc.get("status") or sim.native[kind or "created"]
        with st.lock:
            orders = st.shop_orders(platform, shop_name)
            order_id = str(doc.get("order_id") or st.next_id())
            order = orders.get(order_id)
            placed = order is None
            if placed:
                lines = [{"listing_id": str(l["listing_id"]), "qty": int(l.get("qty", 1)), "sku": l.get("sku", "")}
                         for l in doc.get("lines") or []]
                if not lines:
                    raise SandboxError(400, "a new order needs lines")
                listings = st.shop_listings(platform, shop_name)
                # enforce_listed: checkout refuses what the listing no longer shows, as a marketplace's does,
                # decided under the lock the stock pushes take (a buyer's earlier look may be stale by then).
                # Opt-in, per shop or per order: tests also place orders on listings StockLink has not pushed yet.
                enforce = doc.get("enforce_listed")
                enforce = shop.enforce_listed if enforce is None else bool(enforce)
                short = [l["listing_id"] for l in lines if l["listing_id"] in listings
                         and listings[l["listing_id"]].quantity < l["qty"]] if enforce else []
                if short:
                    raise SandboxError(409, f"sold out: listing(s) {', '.join(short)} show fewer units than ordered")
                order = orders[order_id] = Order(order_id, lines, status)
                # The platform itself takes the sold units off its listing, as real marketplaces do.
                for line in lines:
                    if line["listing_id"] in listings:
                        listing = listings[line["listing_id"]]
                        listing.quantity = max(0, listing.quantity - line["qty"])
            # a change of an existing order naming lines covers only those (a part refund); else the whole order
            order.change_lines = None if placed else [
                {"listing_id": str(l["listing_id"]), "qty": int(l.get("qty", 1))} for l in doc.get("lines") or []] or None
            order.changed_ago_s = ago       # a simulator stamping more than the order (an after-sale) uses it
            order.status = status
            event = kind or _kind_of(sim, status)
            messages = sim.webhooks(st, shop, order, event)
            order.updated_at -= ago
            settings = shop.delivery
            scheduled = []
            if messages and not settings.inline:
                # The order exists and its listing is already down; the webhooks follow when they are due.
                scheduled = self.deliverer.schedule(platform, shop_name, order_id, event, shop.webhook_url,
                                                    messages, settings)
                messages = []
        deliveries = [self.deliverer.deliver_now(platform, shop_name, order_id, event, shop.webhook_url, headers,
                                                 body, settings) for headers, body in messages]
        return j(200, {"order_id": order_id, "status": status, "deliveries": deliveries, "scheduled": scheduled,
                       "notifications": sim.notify(shop, order, event)})

    # -- platform APIs ----------------------------------------------------------------------------------
    def api(self, platform: str, shop_name: str, req: Req) -> Reply:
        sim = SIMULATORS[platform]
        shop = self.state.shops.get((platform, shop_name))
        injected = None
        if shop is None:
            reply = j(404, {"error": f"sandbox: unknown {platform} shop {shop_name!r}"})
        else:
            injected = self.state.take_fault(platform, shop_name, sim.api_name(req))
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
        # Headers and body go out in two writes: on a kept connection Nagle's algorithm would hold the body
        # until the client's delayed ACK of the headers (~40 ms a call); a real API server sends at once.
        disable_nagle_algorithm = True

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

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve   # PATCH: Amazon Listings Items

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a flash sale's burst of checkouts: the default backlog of 5 drops SYNs


def serve(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, Sandbox]:
    """Start in a daemon thread (tests); returns the server (server_address has the port) and its state."""
    sandbox = Sandbox()
    server = _Server((host, port), make_handler(sandbox))
    threading.Thread(target=server.serve_forever, name="stocklink-sandbox", daemon=True).start()
    return server, sandbox
