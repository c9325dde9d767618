"""The simulator's memory: shops (with their webhook delivery settings), listed quantities, orders, injected
faults and the call log (the delivery log is the Deliverer's, infra/sandbox/delivery.py)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from infra.sandbox.delivery import DeliverySettings


@dataclass
class Listing:
    quantity: int
    platform_ids: dict[str, str] = field(default_factory=dict)
    seller_sku: str = ""
    title: str = ""                  # what the product list shows (discovery reads it)
    barcode: str = ""


@dataclass
class Shop:
    platform: str
    shop: str
    credentials: dict[str, str]
    webhook_url: str = ""
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    enforce_listed: bool = False     # the checkout refuses what the listing no longer shows (orders may override)
    notification_queue: dict[str, str] = field(default_factory=dict)   # Amazon: {url, region} of the SQS queue
                                     # its ORDER_CHANGE subscription delivers to (the seller's destination)
    refused_apis: frozenset[str] = frozenset()   # APIs the shop's app holds no permission for (Pinduoduo: refused)


@dataclass
class Order:
    order_id: str
    lines: list[dict]            # [{listing_id, qty}]
    status: str                  # platform-native status
    item_ids: list[str] = field(default_factory=list)   # Lazada order items (one per unit)
    returns: dict[str, list[dict]] = field(default_factory=dict)  # return id -> returned lines
    updated_at: float = 0.0      # when the platform last changed it (what an incremental order API filters on)
    change_lines: list[dict] | None = None   # the lines (units) its latest change covers (a part refund); None: all
    changed_ago_s: float = 0.0   # how far back its latest change is stamped (POST /_sandbox/orders changed_ago_s)


@dataclass
class Fault:
    status: int
    remaining: int
    platform: str | None = None
    shop: str | None = None
    api: str | None = None           # only calls of this API (the simulator names it: Simulator.api_name)


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.shops: dict[tuple[str, str], Shop] = {}
            self.listings: dict[tuple[str, str], dict[str, Listing]] = {}
            self.orders: dict[tuple[str, str], dict[str, Order]] = {}
            self.faults: list[Fault] = []
            self.calls: list[dict] = []
            self.idempotency: dict[tuple[str, str, str], tuple[int, bytes]] = {}
            self.nonces: set[str] = set()
            self.counter = 1000

    def next_id(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def shop_listings(self, platform: str, shop: str) -> dict[str, Listing]:
        return self.listings.setdefault((platform, shop), {})

    def shop_orders(self, platform: str, shop: str) -> dict[str, Order]:
        return self.orders.setdefault((platform, shop), {})

    def take_fault(self, platform: str, shop: str, api: str | None = None) -> int | None:
        with self.lock:
            for fault in self.faults:
                if (fault.remaining > 0 and fault.platform in (None, platform) and fault.shop in (None, shop)
                        and fault.api in (None, api)):
                    fault.remaining -= 1
                    return fault.status
            return None

    def log_call(self, **entry) -> None:
        with self.lock:
            self.calls.append({"ts": time.time(), **entry})
