"""One platform call, sent until it succeeds: retries on 429/5xx/network errors with full-jitter backoff
(never sooner than the platform's Retry-After), each attempt rebuilt and re-signed, each retry taking a
slot from the shop's limiter."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from stocklink.channels.base import HttpCall, StockPush
from stocklink.logic.sync import seams
from stocklink.logic.sync.rate_limit import ShopRateLimit, TokenBucket
from stocklink.outbound_policy import OutboundRefused, error_text

MAX_ATTEMPTS = 4              # first call + 3 retries
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 5.0


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Full jitter: uniform(0, min(cap, base × 2^attempt)), never less than the platform's Retry-After."""
    delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** attempt)))
    return max(delay, min(retry_after or 0.0, BACKOFF_CAP_S))


@dataclass
class CallOutcome:
    ok: bool
    attempts: int
    error: str = ""
    failed_listings: tuple[str, ...] = ()
    refused: bool = False       # the platform answered with a permanent refusal: nothing was applied


def push_with_retry(adapter, build: Callable[[], HttpCall],
                    limiter: ShopRateLimit | TokenBucket | None = None, attempts: int = MAX_ATTEMPTS) -> CallOutcome:
    """Send a freshly built (re-signed) call until OK, a permanent error, or `attempts`."""
    from stocklink.channels._common import Outcome

    error = ""
    for attempt in range(attempts):
        if attempt and limiter is not None:
            limiter.acquire()
        try:
            status, headers, body = seams.send(build())
        except OutboundRefused as exc:      # never sent (or a redirect, not followed): nothing was applied
            return CallOutcome(False, attempt + 1, error_text(f"refused by the outbound policy: {exc}"),
                               refused=True)
        if status == 0:
            result, error = None, error_text(f"network error: {body.decode(errors='replace')}")
        else:
            result = adapter.classify_response(status, body, headers)
            if result.outcome is Outcome.OK:
                return CallOutcome(True, attempt + 1, failed_listings=tuple(result.failed_listings))
            error = error_text(f"HTTP {status} {result.code} {result.message}")
            if result.outcome is Outcome.PERMANENT:
                return CallOutcome(False, attempt + 1, error, refused=True)
        if attempt + 1 < attempts:
            seams.sleep(backoff_delay(attempt, result.retry_after if result else None))
    return CallOutcome(False, attempts, error)


def call_group(adapter, credentials, push: StockPush) -> tuple[str, str]:
    """Which request a listing's update lands in (per product for TikTok/Shopee, one endpoint for others)."""
    calls = adapter.build_stock_updates(credentials, [push])
    return (calls[0].method, urlsplit(calls[0].url).path) if calls else ("", "")
