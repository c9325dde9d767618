"""What every platform simulator shares: the request and reply shapes the server hands them, the base
class, signing and freshness primitives, and access to the shop's listings and orders in the state.

The platform-independent machinery around the simulators (control plane, checkout with enforce_listed,
fault injection, call log) is the server's (infra/sandbox/server.py, state.py); webhook delivery (delays,
reordering, retries, the delivery log) is infra/sandbox/delivery.py's.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field

from infra.sandbox.state import Listing, Order, Shop, State

KINDS = ("created", "paid", "cancelled", "shipped", "returned")


@dataclass
class Req:
    method: str
    path: str                 # after /<platform>/<shop>
    query: dict[str, str]
    headers: dict[str, str]   # lower-cased
    body: bytes
    full_url: str             # as the client addressed it, without the query


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)   # listing -> quantity now shown
    kind: str = "other"                                     # stock_update / read_back / order_detail


def j(status: int, obj, **headers) -> Reply:
    return Reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **headers})


def hexmac(key: str, msg: bytes) -> str:
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()


def b64mac(key: str, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), msg, hashlib.sha256).digest()).decode()


def fresh(ts: str, window: float, scale: float = 1.0) -> bool:
    try:
        return abs(time.time() - float(ts) / scale) <= window
    except (TypeError, ValueError):
        return False


def utc_iso(seconds: float, millis: bool = False) -> str:
    """A UTC time as platforms print it: 2026-03-02T10:15:30Z (or .000Z with milliseconds)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{int(seconds * 1000) % 1000:03d}Z" if millis else f"{stamp}Z"


def parse_json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def request_id() -> str:
    return uuid.uuid4().hex


def is_qty(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def units(order: Order):
    for line in order.lines:
        for _ in range(int(line["qty"])):
            yield line


def set_quantities(listings: dict[str, Listing], plan: dict[str, int]) -> None:
    """Shows the planned quantities (listing id -> quantity) on the shop's listings; the caller holds the lock."""
    for listing_id, qty in plan.items():
        listings[listing_id].quantity = qty


def grouped(listings: dict[str, Listing], key: str) -> dict[str, list[tuple[str, Listing]]]:
    """The shop's listings by a platform id (product / item / parent), groups and members in id order: what a
    product-list API pages through."""
    out: dict[str, list[tuple[str, Listing]]] = {}
    for listing_id in sorted(listings, key=lambda i: (len(i), i)):
        listing = listings[listing_id]
        out.setdefault(listing.platform_ids.get(key) or listing_id, []).append((listing_id, listing))
    return dict(sorted(out.items(), key=lambda kv: (len(kv[0]), kv[0])))


class Simulator:
    platform = ""
    native: dict[str, str] = {}

    def handle(self, state: State, shop: Shop, req: Req) -> Reply:
        raise NotImplementedError

    def fault(self, status: int) -> Reply:
        raise NotImplementedError

    def api_name(self, req: Req) -> str | None:
        """The API a request calls, where one route serves many (Pinduoduo's `type`): what a fault's `api` and
        a shop's `refused_apis` name. None: the platform's APIs are not told apart."""
        return None

    def webhooks(self, state: State, shop: Shop, order: Order, kind: str) -> list[tuple[dict, bytes]]:
        raise NotImplementedError

    def notify(self, shop: Shop, order: Order, kind: str) -> list[dict]:
        """Notifications a platform sends elsewhere than the shop's webhook URL (Amazon: a message on the
        seller's SQS queue), after `webhooks`, outside the state's lock: one record per message sent."""
        return []

    def listings(self, state: State, shop: Shop) -> dict[str, Listing]:
        """The shop's listings on this platform (listing id -> Listing)."""
        return state.shop_listings(self.platform, shop.shop)

    def orders(self, state: State, shop: Shop) -> dict[str, Order]:
        """The shop's orders on this platform (order id -> Order)."""
        return state.shop_orders(self.platform, shop.shop)
