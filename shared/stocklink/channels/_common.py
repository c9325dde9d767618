"""Small helpers the platform adapters share: response classification, JSON and id handling.

Kept free of HTTP client imports: adapters only build `HttpCall`s (Lambda cold start matters).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from stocklink.channels.base import PayloadInvalid, WebhookRejected, constant_time_equal

T = TypeVar("T")


class Outcome(StrEnum):
    OK = "ok"                # accepted (possibly with some listings in `failed_listings`)
    RETRYABLE = "retryable"  # throttled or platform-side fault: retry the same call later, with backoff
    PERMANENT = "permanent"  # the call itself is wrong (auth, shape, unknown listing): retrying won't help


@dataclass(frozen=True)
class CallResult:
    """What one platform response means for the caller (channel push / reconcile)."""

    outcome: Outcome
    code: str = ""                          # the platform's own error code, verbatim
    message: str = ""
    retry_after: float | None = None        # seconds, when the platform said so
    failed_listings: tuple[str, ...] = ()   # listings the platform refused inside an accepted batch

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


def by_status(status: int, headers: Mapping[str, str] | None, code: str, message: str) -> CallResult | None:
    """The HTTP-level verdict every platform shares: 429 and 5xx are worth retrying."""
    if status == 429:
        return CallResult(Outcome.RETRYABLE, code or "429", message or "rate limited", retry_after_seconds(headers))
    if status >= 500:
        return CallResult(Outcome.RETRYABLE, code or str(status), message or "platform error",
                          retry_after_seconds(headers))
    return None


def load_json(body: bytes, what: str = "body") -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadInvalid(f"{what} is not JSON: {exc}") from exc


def load_object(body: bytes, what: str = "body") -> dict:
    payload = load_json(body, what)
    if not isinstance(payload, dict):
        raise PayloadInvalid(f"{what} must be a JSON object")
    return payload


def try_json(body: bytes) -> Any:
    """Lenient parse for responses (error pages are often HTML)."""
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None


def compact_json(value: Any) -> bytes:
    # One canonical serialisation: the bytes we sign are exactly the bytes we send.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def hmac_sha256_hex(key: str, message: str | bytes) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()


def require(credentials: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not credentials.get(n)]
    if missing:
        raise ValueError(f"missing credentials: {', '.join(missing)}")
    return [credentials[n] for n in names]


def require_id(ids: Mapping[str, str], key: str, listing_id: str) -> str:
    value = ids.get(key)
    if value in (None, ""):
        raise ValueError(f"listing {listing_id!r} lacks platform_ids[{key!r}]")
    return str(value)


def as_int(value: Any, what: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be an integer id, got {value!r}") from exc


def check_quantity(quantity: int, listing_id: str) -> int:
    # Every platform rejects negative stock; a display rule bug must not reach them.
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise ValueError(f"listing {listing_id!r}: quantity must be a non-negative int, got {quantity!r}")
    return quantity


def check_delta(delta: int, listing_id: str) -> int:
    # A zero delta asks for a call that changes nothing; a bool or float is a caller bug.
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise ValueError(f"listing {listing_id!r}: delta must be a non-zero int, got {delta!r}")
    return delta


def absolute_only(platform: str):
    """What build_stock_adjustments raises on a platform that only takes absolute quantities."""
    raise NotImplementedError(f"{platform} takes absolute stock quantities only: use build_stock_updates "
                              "(see the adapter's docstring and channels/README.md)")


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def group_by(items: Iterable[T], key) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


# Far above any marketplace order line, far below what would overflow a counter: a larger number is a
# broken or forged payload, not an order.
MAX_LINE_QTY = 100_000


def positive_qty(value: Any, where: str) -> int:
    """An order or return line's quantity: a whole number from 1 to MAX_LINE_QTY, else PayloadInvalid (the
    webhook is refused with a 400 and nothing is applied)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_LINE_QTY:
        raise PayloadInvalid(f"{where}: invalid quantity {value!r}")
    return value


def text(value: Any) -> str:
    return "" if value is None else str(value)


# --- whose delivery is it, and how old (verify_shop_and_freshness) --------------------------------------
# Clocks differ a little between a platform's servers and ours: a delivery stamped up to this far in the
# future, or this much past the platform's retry horizon, is still taken as sent now.
CLOCK_SKEW_S = 300


def require_same_shop(named: str | None, expected: str | None, credential: str) -> None:
    """The delivery must name the shop these credentials are for. A shop configured without the identity
    is refused too: one app secret often serves many shops, so an unbound shop would take any of them."""
    if not expected:
        raise WebhookRejected(f"shop credentials lack {credential}: cannot tell whose delivery this is")
    if not named or not constant_time_equal(named, expected):
        raise WebhookRejected(f"delivery names another shop than the credentials' {credential}")


def require_fresh(sent_at_s: float | None, now_s: float, max_age_s: float) -> None:
    """Sent within the platform's retry horizon (a later one is a replay) and not from the future."""
    if sent_at_s is None:
        raise WebhookRejected("delivery carries no usable timestamp")
    age = now_s - sent_at_s
    if age > max_age_s + CLOCK_SKEW_S:
        raise WebhookRejected(f"delivery sent {age:.0f} s ago, past the {max_age_s:.0f} s retry horizon")
    if age < -CLOCK_SKEW_S:
        raise WebhookRejected(f"delivery stamped {-age:.0f} s in the future")


def epoch_seconds(value: Any) -> float | None:
    """A Unix timestamp in seconds or milliseconds (Lazada sends both), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        return None
    number = int(value)
    return number / 1000 if number > 10**11 else float(number)


def iso_seconds(value: str | None) -> float | None:
    """An ISO 8601 time (naive means UTC) as Unix seconds, else None."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


class PulledOrdersOnly:
    """For a platform whose orders StockLink only pulls (logic/order_poll), and whose polled orders carry
    their lines: every webhook is refused, no order detail is ever fetched. `pulled_by` names how."""

    platform: str
    pulled_by = "logic/order_poll"

    def _no_webhook(self) -> str:
        return f"{self.platform} orders are pulled ({self.pulled_by}): no webhook is accepted"

    def verify_webhook(self, request, credentials) -> None:
        from stocklink.channels.base import WebhookRejected
        raise WebhookRejected(self._no_webhook())

    def verify_shop_and_freshness(self, request, credentials, shop: str, now_s: float) -> None:
        from stocklink.channels.base import WebhookRejected
        raise WebhookRejected(self._no_webhook())

    def parse_webhook(self, request, shop: str) -> list:
        from stocklink.channels.base import PayloadInvalid
        raise PayloadInvalid(f"{self.platform} sends no webhook to StockLink")

    def needs_order_detail(self, event) -> bool:
        return False

    def build_order_detail(self, credentials, event):
        raise NotImplementedError(f"{self.platform}'s polled orders carry their lines")

    def parse_order_detail(self, event, status: int, body: bytes):
        raise NotImplementedError(f"{self.platform}'s polled orders carry their lines")


def sorted_pairs(params: Mapping[str, str]) -> str:
    """k1v1k2v2... over every parameter but `sign`, keys in ASCII order: the string TOP-style platforms
    (Taobao, JD, Pinduoduo) sign."""
    return "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")


def md5_secret_sandwich(secret: str, params: Mapping[str, str]) -> str:
    """UPPER(MD5(secret + k1v1k2v2... + secret)): Taobao's md5, JD's and Pinduoduo's request sign."""
    import hashlib

    return hashlib.md5(f"{secret}{sorted_pairs(params)}{secret}".encode()).hexdigest().upper()


def error_envelope(body: bytes) -> tuple[dict, dict | None]:
    """A TOP-style answer (Taobao, JD, Pinduoduo: errors as HTTP 200 {"error_response": {...}}): the payload
    (an empty dict when unreadable) and its error_response object, if it has one."""
    payload = try_json(body)
    payload = payload if isinstance(payload, dict) else {}
    error = payload.get("error_response")
    return payload, error if isinstance(error, dict) else None


def envelope_answer(platform: str, status: int, body: bytes, key: str, describe: Callable[[dict], str]) -> dict:
    """The object under `key` of a TOP-style answer; PayloadInvalid for an HTTP error, an error_response (its
    platform's fields, `describe(error)`) or an answer without that object."""
    payload = try_json(body)
    if status != 200 or not isinstance(payload, dict):
        raise PayloadInvalid(f"{platform} answered HTTP {status}")
    error = payload.get("error_response")
    if isinstance(error, dict):
        raise PayloadInvalid(f"{platform} error {describe(error)}")
    answer = payload.get(key)
    if not isinstance(answer, dict):
        raise PayloadInvalid(f"{platform} answer without {key}")
    return answer
