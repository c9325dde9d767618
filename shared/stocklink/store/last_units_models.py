"""The last-units guard's state: per SKU whether it is at risk (with hysteresis, so it is remembered), and
the lock its moves run under, so that the units of one SKU are moved by one container at a time (a raise
is decided from what every channel shows; two containers deciding at once could both spend the headroom),
and a sale the seller declared ahead (guarded until then whatever its demand: a burst that outruns the
platforms' webhooks cannot be detected in time). Kept in the catalog table, pk "LAST_UNITS", sk <sku>."""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from stocklink.config import table_name
from stocklink.store.keys import LAST_UNITS_PK
from stocklink.store.models import _Meta, written


class SkuGuard(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)          # sku
    at_risk = BooleanAttribute(null=True)
    owner = UnicodeAttribute(null=True)            # the container moving the SKU's units now
    locked_until = NumberAttribute(null=True)      # ms; a crashed owner blocks at most until then
    again = BooleanAttribute(null=True)            # another change came while locked: the owner runs again
    updated_at = NumberAttribute(null=True)
    guarded_until = NumberAttribute(null=True)     # ms; a declared sale: guarded until then


@dataclass(frozen=True)
class GuardState:
    at_risk: bool = False
    guarded_until: int | None = None

    def declared(self, now_ms: int) -> bool:
        return self.guarded_until is not None and self.guarded_until > now_ms


def at_risk(sku: str) -> bool:
    try:
        return bool(SkuGuard.get(LAST_UNITS_PK, sku).at_risk)
    except DoesNotExist:
        return False


def skus_at_risk(skus) -> set[str]:
    keys = [(LAST_UNITS_PK, s) for s in dict.fromkeys(skus)]
    return {item.sk for item in SkuGuard.batch_get(keys) if item.at_risk} if keys else set()


def guard_states(skus) -> dict[str, GuardState]:
    """Per SKU of `skus` that has any: whether it is flagged at risk and until when a declared sale runs."""
    keys = [(LAST_UNITS_PK, s) for s in dict.fromkeys(skus)]
    if not keys:
        return {}
    return {item.sk: GuardState(bool(item.at_risk), None if item.guarded_until is None else int(item.guarded_until))
            for item in SkuGuard.batch_get(keys)}


def guard_states_version_and_marks(skus) -> tuple[dict[str, GuardState], int, dict]:
    """guard_states(skus), the catalog's listings version (store.catalog.listings_version_key) and the SKUs'
    reconciliation dirty markers (reconcile_models.DirtyMark by SKU), read in one strongly consistent
    BatchGetItem: a push learns for free whether its cached listings are current and which markers it need not
    write again."""
    from stocklink.store import catalog, reconcile_models
    from stocklink.store.models import CatalogVersion, batch_get_models

    guards, versions, marks = batch_get_models([
        (SkuGuard, [(LAST_UNITS_PK, s) for s in dict.fromkeys(skus)]),
        (CatalogVersion, [catalog.listings_version_key()]),
        (reconcile_models.ReconItem, reconcile_models.dirty_mark_keys(skus))], consistent_read=True)
    return ({item.sk: GuardState(bool(item.at_risk), None if item.guarded_until is None else int(item.guarded_until))
             for item in guards}, catalog.listings_version_of(versions), reconcile_models.dirty_marks_of(marks))


def declare_sale(sku: str, until_ms: int | None, now_ms: int) -> None:
    """Guard the SKU until `until_ms` (flagged at risk at once, so that pushing leaves it to the guard);
    None ends a declared sale (the guard's risk rule decides again)."""
    item = SkuGuard(LAST_UNITS_PK, sku)
    if until_ms is None:
        item.update(actions=[SkuGuard.guarded_until.remove(), SkuGuard.updated_at.set(now_ms)])
    else:
        item.update(actions=[SkuGuard.guarded_until.set(until_ms), SkuGuard.at_risk.set(True),
                             SkuGuard.updated_at.set(now_ms)])


def all_at_risk(limit: int = 1000) -> list[str]:
    """The SKUs flagged at risk now (the sweep moves their units again as drains end)."""
    return [item.sk for item in SkuGuard.query(LAST_UNITS_PK, filter_condition=SkuGuard.at_risk == True,  # noqa: E712
                                                limit=limit)]


def set_at_risk(sku: str, value: bool, now_ms: int) -> None:
    SkuGuard(LAST_UNITS_PK, sku).update(actions=[SkuGuard.at_risk.set(value), SkuGuard.updated_at.set(now_ms)])


def lock(sku: str, owner: str, now_ms: int, ttl_ms: int) -> bool:
    """Take the SKU's lock; when another container holds it, ask it to run again and return False."""
    item = SkuGuard(LAST_UNITS_PK, sku)
    if written(lambda: item.update(
            actions=[SkuGuard.owner.set(owner), SkuGuard.locked_until.set(now_ms + ttl_ms), SkuGuard.again.set(False)],
            condition=SkuGuard.owner.does_not_exist() | (SkuGuard.locked_until < now_ms))):
        return True
    written(lambda: item.update(actions=[SkuGuard.again.set(True)], condition=SkuGuard.owner.exists()))
    return False


def unlock(sku: str, owner: str) -> bool:
    """Release the lock unless another change asked for a run meanwhile: False then (the owner runs again,
    still holding it)."""
    item = SkuGuard(LAST_UNITS_PK, sku)
    if written(lambda: item.update(actions=[SkuGuard.owner.remove(), SkuGuard.locked_until.remove()],
                                   condition=(SkuGuard.owner == owner) & (SkuGuard.again == False))):  # noqa: E712
        return True
    return not written(lambda: item.update(actions=[SkuGuard.again.set(False)], condition=SkuGuard.owner == owner))


def release(sku: str, owner: str) -> None:
    """Give the lock up whatever was asked meanwhile (after a failure: the next change runs the SKU again)."""
    written(lambda: SkuGuard(LAST_UNITS_PK, sku).update(
        actions=[SkuGuard.owner.remove(), SkuGuard.locked_until.remove()], condition=SkuGuard.owner == owner))
