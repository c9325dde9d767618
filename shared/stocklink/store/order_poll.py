"""Pulled order ingestion's state: one item per polled shop in the catalog table (every function that
applies orders reads it; the poller writes it):
  pk "ORDER_POLL"  sk <platform>#<shop>   cursor_s: the order update time every change up to which was
                                          read (epoch s); live_from_s: when the poller first took the
                                          shop (its connection: what came before is the backfill); the last
                                          success, the last failure, whether the shop's lag alert is raised and
                                          whether its refunds are unread (refused: the seller's alert raised)

The cursor only moves forward: its write is conditioned on the stored cursor being older, so two poller
runs that overlap (a slow one and the next tick) never move it back, and a run that read an older window
cannot undo what a newer one recorded.
"""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from stocklink.config import table_name
from stocklink.store.keys import ORDER_POLL_PK, channel
from stocklink.store.models import _Meta, update_only, written


class PollCursor(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    cursor_s = NumberAttribute(null=True)
    live_from_s = NumberAttribute(null=True)       # the shop's first poll: orders updated before are the backfill's
    last_ok_at = NumberAttribute(null=True)        # ms
    last_error = UnicodeAttribute(null=True)
    last_failed_at = NumberAttribute(null=True)    # ms
    lagging = BooleanAttribute(null=True)          # the shop's lag alert is raised
    refunds_unread = BooleanAttribute(null=True)   # its refunds pages are refused: the unread-refunds alert is raised
    updated_at = NumberAttribute(null=True)


MODELS = (PollCursor,)


@dataclass(frozen=True)
class PollState:
    cursor_s: int | None
    last_ok_at: int | None
    last_error: str | None
    lagging: bool
    live_from_s: int | None = None
    refunds_unread: bool = False


def _item(platform: str, shop: str) -> PollCursor:
    return PollCursor(ORDER_POLL_PK, channel(platform, shop))


def state(platform: str, shop: str) -> PollState:
    """The shop's poll state (a shop never polled has no cursor)."""
    try:
        item = PollCursor.get(ORDER_POLL_PK, channel(platform, shop), consistent_read=True)
    except DoesNotExist:
        return PollState(None, None, None, False)
    return PollState(None if item.cursor_s is None else int(item.cursor_s),
                     None if item.last_ok_at is None else int(item.last_ok_at), item.last_error,
                     bool(item.lagging), None if item.live_from_s is None else int(item.live_from_s),
                     bool(item.refunds_unread))


def mark_live_from(platform: str, shop: str, now_s: int) -> int:
    """The time the poller first took the shop (set once: a later call, or a second run racing the first,
    keeps the first), returned as stored."""
    item = _item(platform, shop)
    item.update(actions=[PollCursor.live_from_s.set(PollCursor.live_from_s | now_s)])
    return int(item.live_from_s)


def advance(platform: str, shop: str, to_s: int, now_ms: int) -> bool:
    """Move the cursor to `to_s` unless it already stands there or later (False then: nothing written)."""
    actions = [PollCursor.cursor_s.set(to_s), PollCursor.last_ok_at.set(now_ms), PollCursor.updated_at.set(now_ms),
               PollCursor.last_error.remove()]
    return written(lambda: update_only(_item(platform, shop), actions,
                                       PollCursor.cursor_s.does_not_exist() | (PollCursor.cursor_s < to_s)))


def record_failure(platform: str, shop: str, error: str, now_ms: int) -> None:
    """A poll of the shop failed: the cursor stays where it was (the next run reads the window again)."""
    update_only(_item(platform, shop), [PollCursor.last_error.set(error[:500]), PollCursor.last_failed_at.set(now_ms),
                                        PollCursor.updated_at.set(now_ms)])


def set_lagging(platform: str, shop: str, lagging: bool) -> None:
    update_only(_item(platform, shop), [PollCursor.lagging.set(lagging)])


def set_refunds_unread(platform: str, shop: str, unread: bool) -> None:
    update_only(_item(platform, shop), [PollCursor.refunds_unread.set(unread)])
