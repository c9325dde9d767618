"""The reservations API: request models in, response bodies out.

A storefront token sees and moves only its own reservations; any other answers 404, exactly as a missing
one does. Ids in a platform's namespace (`<platform>:…`) are the platforms' own: a storefront may not
create them, and their reservations change only through the platform's webhooks or a staff action with a
reason (recorded on the reservation). Each token's open holds and hold times are limited (HoldLimits; a
token's own limits in the API tokens secret override the defaults)."""
from __future__ import annotations

from dataclasses import dataclass

from stocklink.config import settings
from stocklink.domain.requests import ReservationIn, StaffActionIn
from stocklink.domain.stock import Line, ReservationAction, request_fingerprint
from stocklink.errors import NotFound, ValidationFailed
from stocklink.logic import reservations
from stocklink.logic.catalog import KNOWN_PLATFORMS, require_skus
from stocklink.logic.reservations import STOREFRONT
from stocklink.store import repository
from stocklink.store.models import Reservation

DEFAULT_MAX_OPEN_HOLDS = 1000     # open holds (held, not yet committed, shipped, released) per token
DEFAULT_MAX_HOLD_SECONDS = 3600   # the longest hold_seconds a token may ask for


@dataclass(frozen=True)
class HoldLimits:
    max_open_holds: int = DEFAULT_MAX_OPEN_HOLDS
    max_hold_seconds: int = DEFAULT_MAX_HOLD_SECONDS


def limits_of(principal) -> HoldLimits:
    """The token's own limits (auth.Principal), the defaults where it has none."""
    return HoldLimits(principal.max_open_holds or DEFAULT_MAX_OPEN_HOLDS,
                      principal.max_hold_seconds or DEFAULT_MAX_HOLD_SECONDS)


def hold(body: ReservationIn, *, actor: str, now_ms: int, limits: HoldLimits = HoldLimits()) -> tuple[int, dict]:
    """201 with the new hold; 200 with the same answer when the same token replays the identical request."""
    if in_platform_namespace(body.reservation_id):
        raise ValidationFailed(f"reservation ids starting with a platform name and ':' are that platform's "
                               f"orders; use another id than {body.reservation_id}", field="reservation_id")
    hold_seconds = _hold_seconds(body.hold_seconds, limits)
    require_skus(line.sku for line in body.lines)
    request = reservations.ReservationRequest(
        reservation_id=body.reservation_id,
        channel=body.channel,
        lines=tuple(Line(line.sku, line.qty) for line in body.lines),
        fingerprint=request_fingerprint(body.model_dump()),
        source=STOREFRONT,
        hold_seconds=hold_seconds,
        owner=actor,
    )
    result = reservations.reserve(request, actor=actor, now_ms=now_ms, open_holds_limit=limits.max_open_holds)
    return (200 if result.replayed else 201), reservations.view(result.reservation, now_ms)


def get(reservation_id: str, now_ms: int, *, owner: str | None) -> dict:
    """The reservation as `owner` (a storefront token's principal) may see it; owner None is a staff
    reader, who sees every reservation, whose it is and what staff did to it."""
    if owner is not None:
        return reservations.view(_owned(reservation_id, owner), now_ms)
    reservation = repository.get_reservation(reservation_id)
    if reservation is None:
        raise _not_found(reservation_id)
    return reservations.staff_view(reservation, now_ms)


def move(reservation_id: str, action: ReservationAction, *, actor: str, now_ms: int) -> dict:
    """A storefront token moves its own reservation."""
    reservation = reservations.transition(reservation_id, action, actor=actor, now_ms=now_ms,
                                          reason=f"storefront {action.value}", source=STOREFRONT,
                                          current=_owned(reservation_id, actor))
    return reservations.view(reservation, now_ms)


def staff_action(reservation_id: str, body: StaffActionIn, *, actor: str, now_ms: int) -> dict:
    """A staff member moves any reservation, a platform order's included, giving a reason: who, what, why
    and when are recorded on the reservation, the ledger entries carry the reason."""
    action = ReservationAction(body.action)
    reservation = reservations.transition(
        reservation_id, action, actor=actor, now_ms=now_ms, reason=f"staff {action.value}: {body.reason}",
        staff_action={"by": actor, "action": action.value, "reason": body.reason, "at": now_ms})
    return reservations.staff_view(reservation, now_ms)


def parse_action(action: str) -> ReservationAction:
    try:
        return ReservationAction(action)
    except ValueError:
        raise ValidationFailed(f"unknown action {action}; use commit, release or ship") from None


def in_platform_namespace(reservation_id: str) -> bool:
    prefix, colon, _ = reservation_id.partition(":")
    return bool(colon) and prefix.lower() in KNOWN_PLATFORMS


def _owned(reservation_id: str, owner: str) -> Reservation:
    """The storefront reservation `owner` made; NotFound for anything else, as for a missing one."""
    reservation = repository.get_reservation(reservation_id)
    if (reservation is None or reservation.source != STOREFRONT or in_platform_namespace(reservation_id)
            or reservations.owner_of(reservation) != owner):
        raise _not_found(reservation_id)
    return reservation


def _not_found(reservation_id: str) -> NotFound:
    return NotFound(f"reservation {reservation_id} not found")


def _hold_seconds(requested: int | None, limits: HoldLimits) -> int:
    if requested is None:
        return min(settings().default_hold_seconds, limits.max_hold_seconds)
    if requested > limits.max_hold_seconds:
        raise ValidationFailed(f"hold_seconds {requested} is above this token's limit of "
                               f"{limits.max_hold_seconds}", field="hold_seconds", limit=limits.max_hold_seconds)
    return requested
