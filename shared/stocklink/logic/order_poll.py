"""Pulled order ingestion: every 30 s, each shop of a polling platform (channels/registry.POLLING_PLATFORMS)
is asked for the order changes since its cursor, and each change goes to the same order logic as a webhook.

Per shop, per run:
- The cursor (store/order_poll) is the order update time up to which every change was read; a shop without
  one was just connected and starts 24 h back (BACKFILL_S), so the day's orders are taken in.
- Windows start OVERLAP_S before the cursor (a platform indexes a change a little after its update time: a
  change read late is read again, not lost) and last at most the adapter's `max_poll_window_s`; they end
  `poll_settle_s` before now, as the platform asks. Each window is read whole, page by page in the order the
  adapter owns, before the cursor moves to its end, with a condition that never moves it back.
- A change seen twice (the overlap, a retried window, a second poller run) is one business event: its
  event key is the webhook's (platform, shop, order, kind), so the idempotency marker written with the
  stock change makes the second a duplicate that changes nothing.
- A platform whose changes also wait in a message queue read by HTTP (Taobao TMC: channels/base.
  MessageQueueAdapter) has the queue drained first: each message's order is fetched and applied, and only the
  messages handled are confirmed, so one that failed is handed out again; its windows stay the fallback
  (and the backfill), and the same event keys make a change seen by both apply once.
- A platform whose order search has a tiny call budget (Amazon getOrders) names `min_poll_interval_s`: its
  windows are read only once that much is left to read, and its lag alert waits that much longer. A platform
  with a queue names it too (Taobao: its windows are a safety sweep): its windows are read on the backfill,
  at that interval, and at once in a run whose queue drain failed (the queue cannot be trusted then).
- A change whose order must be fetched for its lines (Amazon getOrders → getOrderItems) is not fetched when
  its idempotency marker says it was applied already.
- Every call takes a slot from the shop's limiter (logic/sync/rate_limit), the one pushes and read-backs use.
- A shop that fails (the platform, its credentials, an order that cannot be applied now) keeps its cursor
  and is read again next run; the others go on. Its lag is a metric per shop, and past LAG_ALERT_S an
  `order_poll.lagging` event raises the alert (cleared by one more once it has caught up).
- A page the adapter marks skippable (channels/base.PollingAdapter.skippable_poll_page: a read that can only
  release stock, e.g. Pinduoduo's after-sales list) that the platform refuses PERMANENTLY (an app without
  that API's permission) does not hold the shop back: the window's orders (applied already) stand, the rest of
  its skippable pages are skipped, and the window completes, so the cursor moves on and later orders keep
  being applied (a refund missed is under-counted stock, never oversold). Each window asks again (a permission
  granted later takes effect at once); refunds of a skipped window are not read later. The shop's report counts
  the windows (`refunds_skipped`); an `order_poll.refunds_unread` event raises the seller's alert when its
  refunds stop being read, and one more clears it once a window's are read again (only on a change: the
  shop's `refunds_unread` flag, store/order_poll). A throttle, a 5xx or a network error fails the window.
- The lag is how late the shop's live orders are: now minus the cursor, but never counting the backfill.
  The poller's first run over a shop records when it took it (`live_from_s`, store/order_poll); what the
  shop was asked to cover since is [live_from_s, now], so while the 24 h backfill is still being read
  (it may take several runs: a platform's small windows, its rate budget, a run's time share) the lag is
  now - live_from_s, small, and grows only if the backfill takes long enough to hold live orders back.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from stocklink import bus, events
from stocklink.channels.base import ORDER_POLL_PERIOD_S, PollWindow
from stocklink.logic import orders
from stocklink.logic.catalog import shop_credentials
from stocklink.logic.sync import rate_limit, seams
from stocklink.observability import logger
from stocklink.store import catalog as catalog_store
from stocklink.store import order_poll as store
from stocklink.store import repository

BACKFILL_S = 24 * 3600      # a newly connected shop's orders are read this far back
OVERLAP_S = 120             # each window re-reads this much before the cursor
LAG_ALERT_S = 300           # a shop's pulled orders later than this raise the alert
POLL_PERIOD_S = ORDER_POLL_PERIOD_S   # the poller's schedule (infra/topology.py; tests check they agree)
MAX_PAGES_PER_WINDOW = 200  # a window with more pages than this is a broken paging loop, not orders
MAX_QUEUE_BATCHES = 20      # a run takes at most this many batches off a shop's message queue


class PollFailed(Exception):
    """The platform refused or failed a poll call: the shop's cursor stays, the next run reads it again."""


class PollRefused(PollFailed):
    """The platform refused the call for good (classify_response: Outcome.PERMANENT: a permission or parameter
    error), not a throttle, a platform fault or the network: on a skippable page the window goes on without it."""


@dataclass
class ShopPoll:
    platform: str
    shop: str
    calls: int = 0
    windows: int = 0
    messages: int = 0           # queued messages taken (and confirmed once handled)
    changes: int = 0            # order events the answers held
    applied: int = 0            # of them, applied now (the rest were duplicates: seen before)
    cursor_s: int | None = None
    live_from_s: int | None = None  # when the poller first took the shop: orders before are the backfill
    lag_s: int = 0
    error: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    refunds_skipped: int = 0            # windows completed without their skippable pages (refused for good)
    refunds_unread: bool | None = None  # the latest window's skippable pages refused (None: none reached this run)
    refunds_error: str | None = None    # the platform's refusal, as the seller's alert quotes it


def run_poll(now_ms: int, budget_ms: int) -> dict:
    """One run over every polled shop, each given a fair share of what is left of `budget_ms`."""
    from stocklink.channels.registry import POLLING_PLATFORMS

    shops = [(doc["platform"], doc["shop"]) for doc in catalog_store.all_shops()
             if doc.get("platform") in POLLING_PLATFORMS]
    deadline = seams.clock() + budget_ms / 1000
    reports = []
    for index, (platform, shop) in enumerate(shops):
        share = (deadline - seams.clock()) / (len(shops) - index)
        report = ShopPoll(platform, shop)
        try:
            poll_shop(report, now_ms, seams.clock() + max(share, 0.0))
        except Exception as exc:  # noqa: BLE001 - one shop failing must not stop the others
            report.error = _error_text(exc)
            logger.warning("order poll failed", extra={"platform": platform, "shop": shop, "error": report.error})
            try:
                store.record_failure(platform, shop, report.error, now_ms)
            except Exception:  # noqa: BLE001 - the lag alert still says it
                logger.exception("could not record the poll failure", extra={"platform": platform, "shop": shop})
        _watch_lag(report, now_ms)
        _watch_refunds(report)
        reports.append(report)
    return {"shops": [asdict(r) for r in reports], "calls": sum(r.calls for r in reports),
            "applied": sum(r.applied for r in reports), "failed": sum(1 for r in reports if r.error)}


def poll_shop(report: ShopPoll, now_ms: int, deadline: float) -> None:
    """Read the shop's windows from its cursor towards now until caught up or out of time."""
    from stocklink.channels.registry import adapter_for

    platform, shop = report.platform, report.shop
    now_s = now_ms // 1000
    state = store.state(platform, shop)
    cursor, report.live_from_s = state.cursor_s, state.live_from_s
    if cursor is None and report.live_from_s is None:
        # a new shop, first taken now: what it must cover from here on is live, the day before its backfill
        # (a shop polled before live_from_s was recorded keeps its lag since the cursor)
        report.live_from_s = store.mark_live_from(platform, shop, now_s)
    adapter = adapter_for(platform)
    credentials = shop_credentials(platform, shop)
    if credentials is None:
        raise PollFailed("shop is not configured")
    horizon = now_s - adapter.poll_settle_s
    limiter = rate_limit.shop_limiter(platform, shop, adapter)
    queue_failed: Exception | None = None
    if getattr(adapter, "consumes_messages", False):
        try:
            _drain_queue(adapter, credentials, report, limiter, now_ms, deadline)
        except Exception as exc:  # noqa: BLE001 - the queue cannot be trusted this run: the windows read now
            queue_failed = exc
    if cursor is not None and queue_failed is None and horizon - cursor < getattr(adapter, "min_poll_interval_s", 0):
        horizon = cursor           # too soon for this platform's budget (or its sweep): windows next time
    if cursor is None:
        cursor = now_s - BACKFILL_S
    report.cursor_s = cursor
    while cursor < horizon and seams.clock() < deadline:
        start = max(cursor - OVERLAP_S, now_s - BACKFILL_S - OVERLAP_S)
        window = PollWindow(start, min(start + adapter.max_poll_window_s, horizon))
        _read_window(adapter, credentials, report, window, limiter, now_ms)
        report.windows += 1
        if store.advance(platform, shop, window.end_s, now_ms):
            cursor = window.end_s
        else:       # another run moved it further meanwhile: continue from there
            cursor = max(window.end_s, store.state(platform, shop).cursor_s or window.end_s)
        report.cursor_s = cursor
    if queue_failed is not None:
        raise queue_failed         # the shop's error (recorded), after the windows covered for the queue


def _call(adapter, call, report: ShopPoll, limiter) -> tuple[int, bytes]:
    """One platform call under the shop's limiter; PollFailed unless the platform answered OK."""
    from stocklink.channels._common import Outcome
    from stocklink.outbound_policy import error_text

    limiter.acquire()
    report.calls += 1
    status, headers, body = seams.send(call)
    if status == 0:
        raise PollFailed(error_text(f"network error: {body.decode(errors='replace')}"))
    verdict = adapter.classify_response(status, body, headers)
    if verdict.outcome is not Outcome.OK:
        failure = PollRefused if verdict.outcome is Outcome.PERMANENT else PollFailed
        raise failure(error_text(f"HTTP {status} {verdict.code} {verdict.message}"))
    return status, body


def _drain_queue(adapter, credentials, report: ShopPoll, limiter, now_ms: int, deadline: float) -> None:
    """Take the shop's queued messages batch by batch: apply each message's order, then confirm what was
    handled (also when a later message of the batch failed: the failed one and the rest are handed out
    again). A message of another shop is left unconfirmed for that shop's poll."""
    for _ in range(MAX_QUEUE_BATCHES):
        if seams.clock() >= deadline:
            return
        status, body = _call(adapter, adapter.build_message_consume(credentials), report, limiter)
        messages = adapter.parse_message_consume(credentials, status, body)
        if not messages:
            return
        handled: list[str] = []
        try:
            for message in messages:
                if not message.ours:
                    continue
                report.messages += 1
                if message.order_ref is not None:
                    status, body = _call(adapter, adapter.build_message_order(credentials, message.order_ref),
                                         report, limiter)
                    for event in adapter.parse_message_order(report.shop, status, body):
                        _apply(_with_lines(adapter, credentials, event, report, limiter), report, now_ms)
                handled.append(message.message_id)
        finally:
            if handled:
                _call(adapter, adapter.build_message_confirm(credentials, handled), report, limiter)
        if len(handled) < len(messages):    # what is left belongs to others or failed: next run
            return


def _apply(event, report: ShopPoll, now_ms: int) -> None:
    outcome = orders.apply_order_event(event, now_ms)
    report.changes += 1
    if not outcome.get("duplicate"):
        report.applied += 1
        report.outcomes[outcome.get("status", "?")] = report.outcomes.get(outcome.get("status", "?"), 0) + 1


def _read_window(adapter, credentials, report: ShopPoll, window: PollWindow, limiter, now_ms: int) -> None:
    """Every page of the window in the adapter's order; a skippable page refused for good ends it early (the
    module docstring), any other failure fails it."""
    skippable = getattr(adapter, "skippable_poll_page", None)
    skippable_read = False
    page = None
    for _ in range(MAX_PAGES_PER_WINDOW):
        try:
            status, body = _call(adapter, adapter.build_order_poll(credentials, window, page), report, limiter)
        except PollRefused as refused:
            if skippable is None or not skippable(page):
                raise
            report.refunds_skipped += 1
            report.refunds_unread, report.refunds_error = True, str(refused)
            return
        answer = adapter.parse_order_poll(report.shop, window, page, status, body)
        for event in answer.events:
            _apply(_with_lines(adapter, credentials, event, report, limiter), report, now_ms)
        skippable_read = skippable_read or (skippable is not None and skippable(page))
        page = answer.next_page
        if page is None:
            if skippable_read:
                report.refunds_unread, report.refunds_error = False, None
            return
    raise PollFailed(f"more than {MAX_PAGES_PER_WINDOW} pages in one window")


def _with_lines(adapter, credentials, event, report: ShopPoll, limiter):
    """A platform whose order list carries no lines (Amazon getOrders): fetch the order's items first, under
    the same limiter; a failure is the shop's (PollFailed: the window is read again next run). Not for a
    change already applied (its idempotency marker is there: the queue or an earlier window took it): the
    event is a duplicate whatever its lines, and the detail call would only spend the shop's budget (Amazon's
    getOrderItems: 0.5 req/s)."""
    needs = getattr(adapter, "needs_order_detail", None)
    if needs is None or not needs(event):
        return event
    if repository.get_event(event.event_key) is not None:
        return event
    status, body = _call(adapter, adapter.build_order_detail(credentials, event), report, limiter)
    return adapter.parse_order_detail(event, status, body)


def lag_threshold_s(platform: str) -> int:
    """LAG_ALERT_S, or for a platform polled less often than every run, what its normal lag can reach (its
    settle time and interval plus two poller periods) so a healthy shop never alerts."""
    from stocklink.channels.registry import adapter_for

    adapter = adapter_for(platform)
    interval = getattr(adapter, "min_poll_interval_s", 0)
    if not interval:
        return LAG_ALERT_S
    return max(LAG_ALERT_S, adapter.poll_settle_s + interval + 2 * POLL_PERIOD_S)


def lag_s(now_s: int, cursor_s: int | None, live_from_s: int | None) -> int:
    """How late the shop's pulled orders are: since the cursor, or while the backfill is still being read
    (the cursor before the shop's first poll) since that first poll, the oldest live order not read yet.
    A shop with neither (never taken: a run that failed before it could record it) is a backfill behind."""
    if live_from_s is not None:
        return max(0, now_s - max(live_from_s, cursor_s if cursor_s is not None else live_from_s))
    return max(0, now_s - cursor_s) if cursor_s is not None else BACKFILL_S


def _watch_lag(report: ShopPoll, now_ms: int) -> None:
    """The shop's lag as a metric; the alert event while it is past LAG_ALERT_S, and once when it is back."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    if report.cursor_s is None:                 # the run failed before it read the shop's state
        state = store.state(report.platform, report.shop)
        report.cursor_s, report.live_from_s = state.cursor_s, report.live_from_s or state.live_from_s
    report.lag_s = lag_s(now_ms // 1000, report.cursor_s, report.live_from_s)
    try:
        with single_metric(name="OrderPollLag", unit=MetricUnit.Seconds, value=report.lag_s,
                           namespace="StockLink") as metric:
            metric.add_dimension(name="shop", value=f"{report.platform}:{report.shop}")
        threshold = lag_threshold_s(report.platform)
        lagging = report.lag_s >= threshold
        was_lagging = store.state(report.platform, report.shop).lagging
        if lagging or was_lagging:
            detail: events.OrderPollLag = {"platform": report.platform, "shop": report.shop,
                                           "lag_s": report.lag_s, "threshold_s": threshold}
            if report.error:
                detail["error"] = report.error
            bus.publish(events.ORDER_POLL_LAGGING, [dict(detail)])
        if lagging != was_lagging:
            store.set_lagging(report.platform, report.shop, lagging)
    except Exception:  # noqa: BLE001 - the next run says it again
        logger.exception("could not report the poll lag", extra={"platform": report.platform, "shop": report.shop})


def _watch_refunds(report: ShopPoll) -> None:
    """The seller's alert when the shop's refunds stop being read, and its clearing once a window's are read
    again: published only when that changes (the flag in store/order_poll), then kept by the alert's state."""
    if report.refunds_unread is None:           # no window reached its refunds this run: nothing learnt
        return
    try:
        if store.state(report.platform, report.shop).refunds_unread == report.refunds_unread:
            return
        detail: events.PulledRefundsUnread = {"platform": report.platform, "shop": report.shop,
                                              "unread": report.refunds_unread}
        if report.refunds_error:
            detail["error"] = report.refunds_error
        bus.publish(events.ORDER_POLL_REFUNDS_UNREAD, [dict(detail)])
        store.set_refunds_unread(report.platform, report.shop, report.refunds_unread)
    except Exception:  # noqa: BLE001 - the flag is unchanged: the next run says it again
        logger.exception("could not report unread refunds", extra={"platform": report.platform,
                                                                   "shop": report.shop})


def _error_text(exc: Exception) -> str:
    from stocklink.outbound_policy import error_text

    return error_text(str(exc) or type(exc).__name__)
