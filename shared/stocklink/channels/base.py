"""The one interface every platform adapter implements.

Platform specifics (headers, signature schemes, payload shapes, status names, batch sizes, rate limits)
live only in the adapter modules; the rest of StockLink sees `OrderEvent`s in and `StockPush`es (absolute
numbers) or, where the platform has a relative mode, `StockAdjust`s (deltas) out. Which platform offers
which, and why StockLink uses it, is in channels/README.md.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping, Protocol

from stocklink.outbound_policy import HostRule


class OrderEventKind(StrEnum):
    CREATED = "created"      # unpaid order: hold stock
    PAID = "paid"            # commit the hold (or hold+commit when created already paid)
    CANCELLED = "cancelled"  # release whatever the order still holds
    SHIPPED = "shipped"      # stock leaves the warehouse
    RETURNED = "returned"    # restocked return: stock back on hand
    # Some lines (or units) of a reserved order cancelled or refunded before shipment: only those units are
    # released, the rest still ships (logic/orders). After shipment it moves nothing: a return restocks.
    PART_CANCELLED = "part_cancelled"


@dataclass(frozen=True)
class OrderLine:
    """One order line as the platform names it; mapping to master SKUs happens outside the adapter."""

    listing_id: str          # the platform's variant / SKU / item id used in listings
    qty: int
    seller_sku: str | None = None  # the seller's own SKU code when the platform carries one


@dataclass(frozen=True)
class OrderEvent:
    platform: str
    shop: str
    order_id: str
    kind: OrderEventKind
    lines: tuple[OrderLine, ...]
    delivery_id: str         # the platform's id for this delivery/notification (dedupe of redeliveries)
    paid: bool = False       # CREATED already paid -> hold and commit at once
    occurred_at: str | None = None

    @property
    def event_key(self) -> str:
        """Identity of the business event: retries of it, whatever their delivery id, have one effect."""
        return f"{self.platform}#{self.shop}#{self.order_id}#{self.kind.value}#{self.delivery_suffix}"

    @property
    def delivery_suffix(self) -> str:
        # A return or a part cancellation can happen several times per order; each refund is its own event
        # (its delivery id names the refund, its line and its status). Other kinds happen once per order,
        # so redeliveries with new delivery ids still collapse onto one key.
        return self.delivery_id if self.kind in (OrderEventKind.RETURNED, OrderEventKind.PART_CANCELLED) else "-"


@dataclass(frozen=True)
class WebhookRequest:
    """The raw HTTP request as received: signatures are checked over `body` bytes, before parsing."""

    headers: Mapping[str, str]   # lower-cased names
    body: bytes
    url: str = ""                # full callback URL as the platform called it (Shopee signs it)
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class StockPush:
    """The quantity one listing should show on its platform."""

    listing_id: str
    quantity: int
    platform_ids: Mapping[str, str] = field(default_factory=dict)  # e.g. product_id, inventory_item_id


@dataclass(frozen=True)
class StockAdjust:
    """A relative change of the quantity one listing shows: the platform adds `delta` to its own count.

    Unlike a `StockPush`, an adjustment keeps whatever the platform's own checkout took off the listing
    while the change was on its way (listing 5, checkout 1 -> 4, adjust -2 -> 2; setting 3 would show 3).
    """

    listing_id: str
    delta: int                                                     # non-zero; negative lowers the count
    platform_ids: Mapping[str, str] = field(default_factory=dict)  # as in StockPush


@dataclass(frozen=True)
class HttpCall:
    """A fully built, signed platform API request; sending it is the caller's job."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    hosts: HostRule | None = None    # where it may be sent (the adapter's api_hosts); None is refused


@dataclass(frozen=True)
class DiscoveredListing:
    """One sellable unit as the platform lists it (a variant / SKU / model / simple product), found by
    discovery: what matching reads (the seller's own SKU code, the barcode, the title) and the platform ids the
    adapter's pushes and read-backs need (the same keys as StockPush.platform_ids)."""

    listing_id: str                                                 # the id order lines and read-backs use
    seller_sku: str = ""
    barcode: str = ""
    title: str = ""
    platform_ids: Mapping[str, str] = field(default_factory=dict)
    quantity: int | None = None      # what the list answer showed (informational; first sync reads back)


@dataclass(frozen=True)
class ListingPage:
    """What one list call found, and where the next call starts (None: the shop's listings are all read).

    `cursor` is the adapter's own (a JSON-able dict): a platform with two levels (Shopee items then models,
    WooCommerce products then variations) walks both through it, one call per step, so a caller only ever
    sends build_list_listings(cursor) until the cursor comes back None. A step may find no listing."""

    listings: tuple[DiscoveredListing, ...]
    cursor: dict | None


@dataclass(frozen=True)
class PollWindow:
    """A span of order update times to ask a polling platform for: [start_s, end_s], epoch seconds. The
    poller (logic/order_poll) cuts windows no longer than the adapter's `max_poll_window_s`."""

    start_s: int
    end_s: int


@dataclass(frozen=True)
class OrderPollPage:
    """What one order-poll answer holds, and the adapter's own cursor for the next call of the same window
    (None: the window is read whole). Each OrderEvent's delivery_id names the order, its status and its
    update time, so a change seen again by an overlapping window is the same delivery."""

    events: tuple[OrderEvent, ...]
    next_page: dict | None


@dataclass(frozen=True)
class QueuedMessage:
    """One message a platform's message queue handed out (Taobao TMC): its id for the confirm, the order it
    is about (None: a topic StockLink does not act on, confirmed unread) and whether it is this shop's own
    (a message of another seller in a shared group is left unconfirmed for that seller's poll)."""

    message_id: str
    order_ref: str | None
    ours: bool = True


ORDER_POLL_PERIOD_S = 30   # the order poller runs this often: infra/topology.py's Schedule "order-poll-every-30s"
ORDER_POLL_RUN_S = 25      # and applies what a run read within this long: the order_poll function's timeout
                           # (tests/unit/channels/test_order_report_lag.py checks both against the topology)


def pulled_order_lag_s(settle_s: int, interval_s: int = 0) -> int:
    """The longest an order a pulled platform took stays unknown to StockLink while the poller keeps up: the
    platform lists it `settle_s` after its update (a window ends that long before the run's now), the next
    run reads it (runs every ORDER_POLL_PERIOD_S, or the platform's own `interval_s` if longer) and applies
    it before the run ends (ORDER_POLL_RUN_S). The poller's overlap is not added: it re-reads a change the
    platform listed later than its settle time, which is the platform breaking its own settle (counted when
    a drain ends with units still counted, logic/sync/guard), not the path an order normally takes."""
    return int(settle_s) + max(ORDER_POLL_PERIOD_S, int(interval_s)) + ORDER_POLL_RUN_S


def order_report_lag_s(adapter) -> float:
    """The adapter's `order_report_lag_s`: 0 for a platform that pushes its orders (its webhook delay is
    the last-units policy's drain_s, as measured for webhooks)."""
    return float(getattr(adapter, "order_report_lag_s", 0) or 0)


class WebhookRejected(Exception):
    """Signature missing or wrong, unknown shop, another shop's delivery, or a stale one: answer 401 (the
    same answer for each) and store nothing."""


class PayloadInvalid(Exception):
    """Signature fine but the payload cannot be understood: answer 400 with the reason."""


class ChannelAdapter(Protocol):
    platform: str
    api_hosts: HostRule             # the hosts its API calls may go to (stocklink.outbound_policy)
    batch_size: int                 # listings per stock-update request
    rate_per_second: float          # documented sustained call rate per shop
    burst: int                      # token-bucket capacity
    # Relative mode (see StockAdjust). Adapters without one declare supports_relative = False and raise
    # NotImplementedError from build_stock_adjustments; both flags below are then False too.
    supports_relative: bool         # the platform applies a delta to its own count
    relative_below_zero: bool       # True: a decrease is applied even past 0 (the count goes negative);
                                    # False: the platform refuses a change whose result would be < 0
    relative_idempotent: bool       # True: a resend, or a rebuild with the same key, is applied once;
                                    # False: an adjustment whose outcome is unknown (timeout, 5xx) must
                                    # be read back, not resent (a resent raise could be applied twice)
    # How long after the platform's checkout took units the order may still be on its way to StockLink, at
    # most, while ingestion keeps up: a pulled platform's pulled_order_lag_s (its settle time and poll
    # interval), 0 where the orders are pushed (the webhook delay). The last-units guard keeps a cut
    # listing's units counted to it at least this long (domain/last_units.drain_s). Optional: absent is 0.
    order_report_lag_s: float

    def verify_webhook(self, request: WebhookRequest, credentials: Mapping[str, str]) -> None:
        """Raise WebhookRejected unless the request is signed with the shop's secret."""

    def verify_shop_and_freshness(self, request: WebhookRequest, credentials: Mapping[str, str], shop: str,
                                  now_s: float) -> None:
        """After verify_webhook: raise WebhookRejected unless the delivery names the shop these credentials
        are for (one app secret may sign for many shops) and, where the platform stamps its deliveries, was
        sent within the platform's retry horizon and not from the future. Each adapter's docstring names the
        identity, the timestamp and the horizon it uses."""

    def parse_webhook(self, request: WebhookRequest, shop: str) -> list[OrderEvent]:
        """Normalized order events (possibly none: topics we do not act on). PayloadInvalid if broken."""

    def api_base(self, credentials: Mapping[str, str]) -> str:
        """The URL the shop's API calls start with (its api_base_url, or the platform's default), "" when
        the credentials name none yet: the API checks it against `api_hosts` before storing a shop."""

    def build_stock_updates(self, credentials: Mapping[str, str], pushes: list[StockPush]) -> list[HttpCall]:
        """Signed requests setting each listing's quantity, batched to `batch_size`."""

    def build_stock_adjustments(self, credentials: Mapping[str, str], adjusts: list[StockAdjust],
                                key: str | None = None) -> list[HttpCall]:
        """Signed requests changing each listing's count by its delta, batched to `batch_size`.

        `key` names this change for the platform's idempotency (where it has one): building again with
        the same key and adjustments gives calls the platform applies once, so a retry may rebuild and
        re-sign them; without a key each build is a new change. Each adapter's docstring says which
        platform call this is, whether the count may go below 0 (`relative_below_zero`) and how a retry
        behaves (`relative_idempotent`): the caller's bookkeeping of what a platform may still sell
        depends on both. NotImplementedError where the platform only takes absolute numbers.
        """

    def build_read_back(self, credentials: Mapping[str, str], listing_ids: list[str]) -> list[HttpCall]:
        """Signed requests reading the quantities the platform currently shows."""

    def parse_read_back(self, status: int, body: bytes) -> dict[str, int]:
        """listing_id -> quantity shown, from one read-back response."""

    def build_list_listings(self, credentials: Mapping[str, str], cursor: dict | None) -> HttpCall:
        """Signed request for the next page of the shop's listings (cursor None: the first page), by the
        platform's own product-list API and pagination (each adapter's docstring names them)."""

    def parse_list_listings(self, cursor: dict | None, status: int, body: bytes,
                            headers: Mapping[str, str] | None = None) -> ListingPage:
        """The listings one list answer holds and the cursor of the next call (PayloadInvalid if broken)."""

    def classify_response(self, status: int, body: bytes, headers: Mapping[str, str] | None = None):
        """CallResult (stocklink.channels._common): ok, retryable (429/5xx/throttle codes) or permanent."""

    def needs_order_detail(self, event: OrderEvent) -> bool:
        """True when the webhook carried no lines and the order must be fetched before applying it."""

    def build_order_detail(self, credentials: Mapping[str, str], event: OrderEvent) -> HttpCall:
        """Signed request for the order (or return) detail; only where needs_order_detail can be True."""

    def parse_order_detail(self, event: OrderEvent, status: int, body: bytes) -> OrderEvent:
        """The event completed with its lines from the detail response. PayloadInvalid if unusable."""


class PollingAdapter(Protocol):
    """What a platform whose orders are pulled (no webhook fits Lambda) adds to ChannelAdapter. The poller
    (logic/order_poll) asks for the order changes of one window, page by page, each call a slot of the shop's
    rate limiter; the adapter owns the platform's window limit and its paging order."""

    polls_orders: bool              # True: the poller reads this platform's orders
    max_poll_window_s: int          # the longest window one poll may ask for
    poll_settle_s: int              # a window ends at least this long before now (the platform's index lags)
    # optional: windows are read at most this often (a platform whose order search has a tiny call budget);
    # absent or 0: every poller run
    min_poll_interval_s: int

    def build_order_poll(self, credentials: Mapping[str, str], window: PollWindow,
                         page: dict | None) -> HttpCall:
        """Signed request for one page of the orders updated within `window` (page None: the first call)."""

    def parse_order_poll(self, shop: str, window: PollWindow, page: dict | None, status: int,
                         body: bytes) -> OrderPollPage:
        """The order events one answer holds and the next page (PayloadInvalid if broken; what
        classify_response's verdict means for the window is the caller's)."""

    def skippable_poll_page(self, page: dict | None) -> bool:
        """Optional (absent: no page is). True for a page the window may go without when the platform refuses
        it permanently (classify_response: Outcome.PERMANENT, e.g. the app lacks that API's permission): a read
        that can only release stock (refunds, after-sales), so losing it under-counts what the channels may
        sell, never over-counts it. Such pages come last in a window (after its orders): the poller then skips
        the rest of them, keeps the orders it applied and moves the cursor on, and tries them again in the
        next window. A throttle, a 5xx or a network error still fails the window (it is read again)."""


class MessageQueueAdapter(Protocol):
    """What a platform whose order changes wait in a message queue read by plain HTTP calls adds to
    PollingAdapter (Taobao TMC: consume, then confirm what was handled; what is not confirmed is handed out
    again). The poller drains the queue before it reads its windows: each message's order is fetched and
    applied, and only then confirmed, so a change that could not be applied is delivered again. A queue has
    no time window: the cursor and its windows stay the fallback poll's."""

    consumes_messages: bool

    def build_message_consume(self, credentials: Mapping[str, str]) -> HttpCall:
        """Signed request for the next batch of the shop's queued messages."""

    def parse_message_consume(self, credentials: Mapping[str, str], status: int,
                              body: bytes) -> tuple[QueuedMessage, ...]:
        """The messages one answer holds (empty: the queue is drained). PayloadInvalid if broken."""

    def build_message_order(self, credentials: Mapping[str, str], order_ref: str) -> HttpCall:
        """Signed request for the order a message is about, with its lines and current status."""

    def parse_message_order(self, shop: str, status: int, body: bytes) -> list[OrderEvent]:
        """The order's events as the fallback poll would give them (same delivery ids, same mapping)."""

    def build_message_confirm(self, credentials: Mapping[str, str], message_ids: list[str]) -> HttpCall:
        """Signed request confirming the handled messages (the platform stops handing them out)."""


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Signature comparison that does not leak how many leading characters matched."""
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)
