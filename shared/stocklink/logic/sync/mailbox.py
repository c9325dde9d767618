"""Merging pushes under a shop's rate limit: when the shop's call window is full, the container waiting for
its earliest slot holds the shop's mailbox; others hand it their SKUs instead of queueing calls of their
own, and after its wait it pushes every handed SKU from stock read then (sync_models.hand_over / collect).
Each step is an optimisation: when it fails, the container pushes its own SKUs."""
from __future__ import annotations

import uuid

from stocklink.logic.sync import seams
from stocklink.observability import logger
from stocklink.store import sync_models


def hand_over(platform: str, shop: str, skus: set[str]) -> bool:
    """Give `skus` to the container waiting for the shop's next call; False when none takes them."""
    try:
        return sync_models.hand_over(platform, shop, sorted(skus), int(seams.wall() * 1000))
    except Exception:  # noqa: BLE001 - an optimisation: push them ourselves
        logger.exception("could not hand SKUs over", extra={"platform": platform, "shop": shop})
        return False


def await_slot(platform: str, shop: str, delay_s: float) -> str | None:
    """Announce the wait so that others can hand their SKUs to this call; the attempt id, or None."""
    owner = uuid.uuid4().hex
    now = seams.wall()
    try:
        ok = sync_models.await_slot(platform, shop, owner, int((now + delay_s) * 1000), int(now * 1000))
        return owner if ok else None
    except Exception:  # noqa: BLE001 - an optimisation: nobody hands over, each pushes its own
        logger.exception("could not announce the wait", extra={"platform": platform, "shop": shop})
        return None


def collect(platform: str, shop: str, owner: str) -> set[str]:
    """The SKUs handed to `owner` while it waited."""
    try:
        return sync_models.collect(platform, shop, owner)
    except Exception:  # noqa: BLE001 - the SKUs stay in the mailbox for the next waiter; dirty for reconcile
        logger.exception("could not collect handed-over SKUs", extra={"platform": platform, "shop": shop})
        return set()
