"""The storefront's view of reservations: request models in, response bodies out."""
from __future__ import annotations

from stocklink.config import settings
from stocklink.domain.requests import ReservationIn
from stocklink.domain.stock import Line, ReservationAction, request_fingerprint
from stocklink.errors import NotFound, ValidationFailed
from stocklink.logic import reservations
from stocklink.logic.catalog import require_skus
from stocklink.store import repository


def hold(body: ReservationIn, *, actor: str, now_ms: int) -> tuple[int, dict]:
    """201 with the new hold; 200 with the same answer when the identical request is replayed."""
    require_skus(line.sku for line in body.lines)
    request = reservations.ReservationRequest(
        reservation_id=body.reservation_id,
        channel=body.channel,
        lines=tuple(Line(line.sku, line.qty) for line in body.lines),
        fingerprint=request_fingerprint(body.model_dump()),
        source="storefront",
        hold_seconds=body.hold_seconds or settings().default_hold_seconds,
    )
    result = reservations.reserve(request, actor=actor, now_ms=now_ms)
    return (200 if result.replayed else 201), reservations.view(result.reservation, now_ms)


def get(reservation_id: str, now_ms: int) -> dict:
    reservation = repository.get_reservation(reservation_id)
    if reservation is None:
        raise NotFound(f"reservation {reservation_id} not found")
    return reservations.view(reservation, now_ms)


def move(reservation_id: str, action: ReservationAction, *, actor: str, now_ms: int) -> dict:
    reservation = reservations.transition(reservation_id, action, actor=actor, now_ms=now_ms,
                                          reason=f"storefront {action.value}")
    return reservations.view(reservation, now_ms)


def parse_action(action: str) -> ReservationAction:
    try:
        return ReservationAction(action)
    except ValueError:
        raise ValidationFailed(f"unknown action {action}; use commit, release or ship") from None
