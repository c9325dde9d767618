"""Channel sync state: what each listing last showed, sync failures, shop push-latency samples.

Kept in the catalog table under its own key prefixes (no new table: every function that syncs already
has the catalog), with typed pynamodb models so the sync code never touches DynamoDB directly:
  pk "SYNC#<platform>#<shop>"  sk <listing_id>   ListingSync: computed / pushed quantity and when
  pk "SYNC_FAILURE"            sk <ms>#<platform>#<shop>#<listing_id>   SyncFailure (newest first)
  pk "SYNC_SHOP"               sk <platform>#<shop>   ShopSyncStats: recent push latencies (ms)
  pk "SYNC_VELOCITY"           sk <sku>               SkuVelocity: sales rate per channel (units/s)
  pk "RATE#<platform>#<shop>"  sk <len>ms#<index>     CallWindow: platform calls taken in that time window
                                                      (removed by the table's TTL on `purge_at`)
  pk "SYNC_MAILBOX"            sk <platform>#<shop>   ShopMailbox: a container waiting for the shop's next
                                                      call slot, and SKUs other containers handed to it
  pk "READ#<platform>#<shop>"  sk <listing_id>        ListingReadBack: the quantity reconciliation last read
                                                      from the platform, and when (its own item: written
                                                      25 to a request, never over the push state)
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Mapping

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from stocklink.config import table_name
from stocklink.store import paging
from stocklink.store.keys import (FAILURE_PK, MAILBOX_PK, SHOP_PK, VELOCITY_PK, call_window, channel, failure_sk,
                                  rate_pk, read_back_pk, sync_pk)
from stocklink.store.models import (_Meta, connection_for, is_conditional_failure, update_only, update_returning,
                                    written)

LATENCY_SAMPLES = 100
TRANSACT_MAX_ITEMS = 100      # DynamoDB's limit of actions in one TransactWriteItems
TRANSACT_CONFLICT_RETRIES = 3
CALL_WINDOW_KEEP_S = 120      # call windows are kept this long past their second, then TTL removes them

class ListingSync(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)          # listing_id
    computed_qty = NumberAttribute(null=True)
    computed_at = NumberAttribute(null=True)
    pushed_qty = NumberAttribute(null=True)
    pushed_at = NumberAttribute(null=True)
    claim_at = NumberAttribute(null=True)          # read time of the newest computation that pushes
    inflight_until = NumberAttribute(null=True)    # a claimed push may still be landing until then (ms)
    status = UnicodeAttribute(null=True)           # pushed | unchanged | failed | sync_off
    error = UnicodeAttribute(null=True)
    shown = NumberAttribute(null=True)             # what the platform may still sell (logic/sync/shown.py)
    drain_until = NumberAttribute(null=True)       # set to 0 on a platform that takes only absolute numbers:
                                                   # orders it took before may still be reported until then
    guarded = BooleanAttribute(null=True)          # last set by the last-units guard (its count is exact);
                                                   # a push of the shared sync clears it
    recent_sales = ListAttribute(null=True)        # [[ms, qty], ...] appended by each order the platform
                                                   # reports (atomic: concurrent orders never lose each other)
    updated_at = NumberAttribute(null=True)


class ListingReadBack(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)          # listing_id
    qty = NumberAttribute()
    read_at = NumberAttribute()


class SyncFailure(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(default=dict)
    updated_at = NumberAttribute(null=True)


class ShopSyncStats(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    latencies_ms = ListAttribute(of=NumberAttribute, default=list)
    updated_at = NumberAttribute(null=True)


class SkuVelocity(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(default=dict)   # {"last_total": n, "at": ms, "rates": {channel: units/s}}
    updated_at = NumberAttribute(null=True)


class CallWindow(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)          # "<window length>ms#<epoch ms // length>", zero-padded
    calls = NumberAttribute(null=True)
    purge_at = NumberAttribute(null=True)          # TTL (epoch seconds)


def take_call_slot(platform: str, shop: str, window: str, limit: int, purge_at: int) -> int | None:
    """Count one platform call in the shop's `window` unless `limit` calls are already in it: the window's
    count with this call (so the caller knows when it filled the window), None when it was full. One
    conditional ADD: every container of every function shares the count, nothing is read first."""
    try:
        new = update_returning(CallWindow(rate_pk(platform, shop), window),
                               [CallWindow.calls.add(1), CallWindow.purge_at.set(purge_at)],
                               CallWindow.calls.does_not_exist() | (CallWindow.calls < limit))
    except UpdateError as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return int(new["calls"]["N"])


def call_window_index(window: str) -> int:
    """The index of a call window (keys.call_window) since the epoch."""
    return int(window.rsplit("#", 1)[1])


def release_call_slot(platform: str, shop: str, window: str) -> None:
    """Give back a slot taken in `window` and not used (its SKUs were handed to another call)."""
    update_only(CallWindow(rate_pk(platform, shop), window), [CallWindow.calls.add(-1)], CallWindow.calls > 0)


class ShopMailbox(Model):
    class Meta(_Meta):
        table_name = table_name("catalog")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)          # platform#shop
    due_at = NumberAttribute(null=True)            # ms: when the waiting container's call slot opens
    owner = UnicodeAttribute(null=True)            # that container's attempt id
    skus = UnicodeSetAttribute(null=True)          # handed over by others, pushed in that call


def hand_over(platform: str, shop: str, skus: Iterable[str], now_ms: int) -> bool:
    """Add `skus` to the call a container is waiting to make for this shop, if one is still waiting (its
    slot opens after now). False: nobody is, or it has already collected; the caller pushes itself."""
    names = set(skus)
    if not names:
        return True
    return written(lambda: update_only(ShopMailbox(MAILBOX_PK, channel(platform, shop)),
                                       [ShopMailbox.skus.add(names)], ShopMailbox.due_at > now_ms))


def await_slot(platform: str, shop: str, owner: str, due_ms: int, now_ms: int) -> bool:
    """Announce that `owner` waits for a call slot opening at `due_ms`, unless another container already
    waits for one opening no later (then this one just waits and pushes its own). A waiter for a later slot
    is replaced: what was handed to it goes out in this earlier call, and its own collect finds nothing
    (it pushes just its own SKUs). SKUs left by a waiter that never collected them stay: the new owner
    pushes them too."""
    return written(lambda: update_only(
        ShopMailbox(MAILBOX_PK, channel(platform, shop)),
        [ShopMailbox.due_at.set(due_ms), ShopMailbox.owner.set(owner)],
        ShopMailbox.due_at.does_not_exist() | (ShopMailbox.due_at <= now_ms) | (ShopMailbox.due_at > due_ms)))


def collect(platform: str, shop: str, owner: str) -> set[str]:
    """The waiting `owner` takes what was handed over and closes the mailbox in one conditional write:
    a hand-over either happened before (and is returned here) or fails (and its sender pushes itself)."""
    try:
        old = update_returning(ShopMailbox(MAILBOX_PK, channel(platform, shop)),
                               [ShopMailbox.due_at.set(0), ShopMailbox.skus.remove()], ShopMailbox.owner == owner,
                               "ALL_OLD")
    except UpdateError as exc:
        if is_conditional_failure(exc):
            return set()
        raise
    return set(old.get("skus", {}).get("SS", []))


# --- listing sync state ----------------------------------------------------------------------------------

def listing_states(platform: str, shop: str, listing_ids: Iterable[str]) -> dict[str, ListingSync]:
    keys = [(sync_pk(platform, shop), lid) for lid in dict.fromkeys(listing_ids)]
    return {item.sk: item for item in ListingSync.batch_get(keys)} if keys else {}


def record_read_backs(platform: str, shop: str, quantities: Mapping[str, int], read_at_ms: int) -> None:
    """What a reconciliation pass read from the platform, per listing (BatchWriteItem, 25 a request)."""
    if not quantities:
        return
    with ListingReadBack.batch_write() as batch:
        for listing_id, qty in quantities.items():
            batch.save(ListingReadBack(read_back_pk(platform, shop), str(listing_id), qty=int(qty),
                                       read_at=int(read_at_ms)))


def shops_read_backs(wanted: Mapping[tuple[str, str], Iterable[str]]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """{(platform, shop, listing id): (qty, read_at ms)} of the listings reconciliation has read."""
    keys = list(dict.fromkeys((read_back_pk(platform, shop), lid) for (platform, shop), ids in wanted.items()
                              for lid in ids))
    by_pk = {read_back_pk(platform, shop): (platform, shop) for platform, shop in wanted}
    return {(*by_pk[item.pk], item.sk): (int(item.qty), int(item.read_at))
            for item in (ListingReadBack.batch_get(keys) if keys else ())}


def shops_listing_states(wanted: Mapping[tuple[str, str], Iterable[str]]) -> dict[tuple[str, str], dict[str, ListingSync]]:
    """listing_states of several shops ({(platform, shop): listing ids}) read together."""
    keys = list(dict.fromkeys((sync_pk(platform, shop), lid) for (platform, shop), ids in wanted.items()
                              for lid in ids))
    by_pk = {sync_pk(platform, shop): (platform, shop) for platform, shop in wanted}
    out: dict[tuple[str, str], dict[str, ListingSync]] = {shop: {} for shop in wanted}
    for item in ListingSync.batch_get(keys) if keys else ():
        out[by_pk[item.pk]][item.sk] = item
    return out


INFLIGHT_MS = 15_000   # longest a claimed push is expected to take to land (retries included)


def claim(platform: str, shop: str, listing_id: str, computed_qty: int, read_at_ms: int) -> bool:
    """Take the right to push `computed_qty`: refused when a newer computation already claimed it, so a slow
    worker can never overwrite a fresher value with a stale one, and refused while another push of the
    listing may still be landing, so two pushes of one listing are never in flight at once (they could
    land in either order). blocked() tells the two refusals apart."""
    item = ListingSync(sync_pk(platform, shop), listing_id)
    return written(lambda: update_only(item, _claim_actions(computed_qty, read_at_ms), _claimable(read_at_ms)))


def _claimable(read_at_ms: int):
    return (ListingSync.claim_at.does_not_exist() | (ListingSync.claim_at < read_at_ms)) & \
        (ListingSync.inflight_until.does_not_exist() | (ListingSync.inflight_until < _now_ms()))


def _now_ms() -> int:
    return int(time.time() * 1000)


def blocked(platform: str, shop: str, listing_ids: Iterable[str], read_at_ms: int) -> set[str]:
    """Of listings whose claim was refused, those refused only because another (older) push may still have
    been landing (it may have landed since): the caller pushes them once it has. The others hold a newer
    computation."""
    return {lid for lid, state in listing_states(platform, shop, listing_ids).items()
            if state.claim_at is None or state.claim_at < read_at_ms}


def in_flight(platform: str, shop: str, listing_ids: Iterable[str]) -> set[str]:
    """The listings a claimed push may still be landing on."""
    now = _now_ms()
    return {lid for lid, state in listing_states(platform, shop, listing_ids).items()
            if state.inflight_until is not None and state.inflight_until >= now}


def _claim_actions(computed_qty: int, read_at_ms: int) -> list:
    return [ListingSync.claim_at.set(read_at_ms), ListingSync.computed_qty.set(computed_qty),
            ListingSync.computed_at.set(read_at_ms), ListingSync.updated_at.set(read_at_ms),
            ListingSync.inflight_until.set(_now_ms() + INFLIGHT_MS)]


def claim_many(platform: str, shop: str, claims: list[tuple[str, int]], read_at_ms: int) -> set[str]:
    """claim() for several listings of a shop in one TransactWriteItems per 100: the listing ids won."""
    if len(claims) <= 1:
        return {lid for lid, qty in claims if claim(platform, shop, lid, qty, read_at_ms)}
    return _conditional_many(
        platform, shop, claims, lambda qty: _claim_actions(qty, read_at_ms),
        lambda: _claimable(read_at_ms), lambda lid, qty: claim(platform, shop, lid, qty, read_at_ms))


def _conditional_many(platform: str, shop: str, items: list[tuple[str, int]], actions, condition, one) -> set[str]:
    """The same conditional update of several listings in one TransactWriteItems per 100: the ids written.

    A transaction is all-or-nothing, so when the condition fails for some listings the cancellation reasons
    name them and the rest is written again without them; a conflict with a concurrent write is retried,
    then the listings are written one by one (`one`)."""
    done: set[str] = set()
    for start in range(0, len(items), TRANSACT_MAX_ITEMS):
        pending = items[start:start + TRANSACT_MAX_ITEMS]
        for _ in range(TRANSACT_CONFLICT_RETRIES + len(pending)):
            if len(pending) <= 1:
                break
            try:
                with TransactWrite(connection=connection_for(ListingSync)) as txn:
                    for lid, qty in pending:
                        txn.update(ListingSync(sync_pk(platform, shop), lid), actions=actions(qty),
                                   condition=condition())
                done |= {lid for lid, _ in pending}
                pending = []
                break
            except TransactWriteError as exc:
                codes = [(r.code if r else None) for r in (exc.cancellation_reasons or [])]
                lost = {pending[i][0] for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
                if lost:
                    pending = [(lid, qty) for lid, qty in pending if lid not in lost]
                elif not any(code == "TransactionConflict" for code in codes):
                    raise
        done |= {lid for lid, qty in pending if one(lid, qty)}
    return done


def record_pushed_many(platform: str, shop: str, pushed: list[tuple[str, int]], now_ms: int,
                       claimed_at: int | None = None) -> set[str]:
    """record_pushed() for several listings, in one TransactWriteItems per 100: the ids recorded.

    claimed_at: the read time the push was claimed with. The push is recorded only while that claim is
    still the listing's newest; an id left out lost a race: a newer computation claimed the listing while
    this call was in flight, and the two calls may have landed in either order (the caller pushes again)."""
    if claimed_at is None:
        for lid, qty in pushed:
            record_pushed(platform, shop, lid, qty, now_ms)
        return {lid for lid, _ in pushed}
    if len(pushed) <= 1:
        return {lid for lid, qty in pushed if record_pushed(platform, shop, lid, qty, now_ms, claimed_at)}
    return _conditional_many(
        platform, shop, pushed, lambda qty: _pushed_actions(qty, now_ms),
        lambda: ListingSync.claim_at == claimed_at,
        lambda lid, qty: record_pushed(platform, shop, lid, qty, now_ms, claimed_at))


def record_unchanged(platform: str, shop: str, listing_id: str, computed_qty: int, now_ms: int) -> None:
    update_only(ListingSync(sync_pk(platform, shop), listing_id), [
        ListingSync.computed_qty.set(computed_qty), ListingSync.computed_at.set(now_ms),
        ListingSync.updated_at.set(now_ms)])


def _pushed_actions(qty: int, now_ms: int, set_shown: bool = True) -> list:
    """set_shown: a push of the shared sync (what it shows becomes the count); else one of the guard's."""
    return [ListingSync.pushed_qty.set(qty), ListingSync.pushed_at.set(now_ms), ListingSync.status.set("pushed"),
            ListingSync.error.remove(), ListingSync.updated_at.set(now_ms), ListingSync.inflight_until.remove(),
            *([ListingSync.shown.set(qty), ListingSync.drain_until.remove(), ListingSync.guarded.remove()]
              if set_shown else [ListingSync.guarded.set(True)])]


def record_guarded_push(platform: str, shop: str, listing_id: str, qty: int, now_ms: int,
                        drain_until: int | None = None) -> None:
    """A push of the last-units guard landed: what the listing showed is recorded, `shown` is left to the
    guard's own bookkeeping (counted before a raise was sent); a set to 0 starts the listing's drain."""
    actions = _pushed_actions(qty, now_ms, set_shown=False)
    actions.append(ListingSync.shown.set(ListingSync.shown | qty))     # a count starts with the guard's first push
    if drain_until is not None:
        actions.append(ListingSync.drain_until.set(drain_until))
    ListingSync(sync_pk(platform, shop), listing_id).update(actions=actions)


def record_guarded_adjust(platform: str, shop: str, listing_id: str, count: int, now_ms: int) -> None:
    """A relative change of the guard landed: `count` is added to `shown` (a decrease, counted once confirmed;
    0 for a raise, counted before it was sent), and the last absolute number pushed is forgotten — the
    platform's number is no longer known, so the shared sync pushes it again once the SKU is safe."""
    actions = [ListingSync.pushed_qty.remove(), ListingSync.pushed_at.set(now_ms), ListingSync.status.set("pushed"),
               ListingSync.error.remove(), ListingSync.updated_at.set(now_ms), ListingSync.guarded.set(True)]
    if count:
        actions.append(ListingSync.shown.add(count))
    ListingSync(sync_pk(platform, shop), listing_id).update(actions=actions)


def end_drain(platform: str, shop: str, listing_id: str, drain_until: int, shown_now: int) -> bool:
    """The drain is over: the orders the platform took before its 0 landed have been reported, so what
    is still counted was cut off, not sold (at most 0 stays counted). Only if the drain is still this one."""
    item = ListingSync(sync_pk(platform, shop), listing_id)
    return written(lambda: item.update(
        actions=[ListingSync.shown.set(min(0, shown_now)), ListingSync.drain_until.remove()],
        condition=(ListingSync.drain_until == drain_until) & (ListingSync.shown == shown_now)))


@dataclass
class ShownNote:
    """An order's change of what its listings may still sell (listing id -> units, logic/sync/shown.py),
    written with the order's own transaction where it has room (StockTransaction.note_shown sets `written`
    once that transaction committed), else apart by add_shown."""
    platform: str
    shop: str
    changes: Mapping[str, int]
    now_ms: int
    sold: bool = True
    written: bool = False

    def updates(self) -> list[tuple[ListingSync, list]]:
        """(item, update actions) per listing changed: the same writes add_shown makes one by one."""
        return [(ListingSync(sync_pk(self.platform, self.shop), listing_id),
                 _shown_actions(delta, self.now_ms, self.sold))
                for listing_id, delta in self.changes.items() if delta]


def _shown_actions(delta: int, now_ms: int, sold: bool) -> list:
    """One atomic ADD (concurrent orders and pushes never lose each other's change); a sale is also appended
    to the listing's recent sales (the last units' demand per channel)."""
    actions = [ListingSync.shown.add(delta), ListingSync.updated_at.set(now_ms)]
    if sold and delta < 0:
        actions.append(ListingSync.recent_sales.set((ListingSync.recent_sales | []).append([[now_ms, -delta]])))
    return actions


def add_shown(platform: str, shop: str, changes: Mapping[str, int], now_ms: int, sold: bool = False) -> None:
    """Change what listings may still sell by the given amounts, one UpdateItem each (_shown_actions).
    `sold`: the decreases are the platform's sales."""
    for item, actions in ShownNote(platform, shop, changes, now_ms, sold).updates():
        # ReturnValues NONE: Model.update asks for ALL_NEW, the whole item with its list of recent sales,
        # which a webhook would parse for nothing (most of the order webhook's CPU, tests/bench/handler_profile)
        ListingSync._get_connection().update_item(item.pk, range_key=item.sk, actions=actions,
                                                  return_values="NONE")


def trim_recent_sales(platform: str, shop: str, listing_id: str, count: int) -> None:
    """Drop the listing's `count` oldest recent sales (new ones are appended at the end meanwhile)."""
    if count > 0:
        ListingSync(sync_pk(platform, shop), listing_id).update(
            actions=[ListingSync.recent_sales[i].remove() for i in range(count)])


def record_pushed(platform: str, shop: str, listing_id: str, qty: int, now_ms: int,
                  claimed_at: int | None = None) -> bool:
    """Record a push; with claimed_at only while that claim is still the listing's newest (see
    record_pushed_many). False when a newer claim exists."""
    item = ListingSync(sync_pk(platform, shop), listing_id)
    if claimed_at is None:
        update_only(item, _pushed_actions(qty, now_ms))
        return True
    return written(lambda: update_only(item, _pushed_actions(qty, now_ms), ListingSync.claim_at == claimed_at))


def record_listing_failed(platform: str, shop: str, listing_id: str, error: str, now_ms: int) -> None:
    # claim_at is dropped so the next event (or a Lambda retry) may push again.
    update_only(ListingSync(sync_pk(platform, shop), listing_id), [
        ListingSync.status.set("failed"), ListingSync.error.set(error[:500]), ListingSync.claim_at.remove(),
        ListingSync.inflight_until.remove(), ListingSync.updated_at.set(now_ms)])


def record_sync_off(platform: str, shop: str, listing_id: str, now_ms: int) -> None:
    update_only(ListingSync(sync_pk(platform, shop), listing_id), [
        ListingSync.status.set("sync_off"), ListingSync.updated_at.set(now_ms)])


# --- failures --------------------------------------------------------------------------------------------

def record_failure(platform: str, shop: str, listing_id: str, data: dict, now_ms: int) -> None:
    SyncFailure(FAILURE_PK, failure_sk(now_ms, platform, shop, listing_id),
                data={"platform": platform, "shop": shop, "listing_id": listing_id, "at_ms": now_ms, **data},
                updated_at=now_ms).save()


def recent_failures(limit: int = 100) -> list[dict]:
    return [f.data for f in SyncFailure.query(FAILURE_PK, scan_index_forward=False, limit=limit)]


def failures_page(limit: int, cursor: str | None) -> paging.Page:
    """Push failures, newest first, `limit` at a time."""
    page = paging.query_page(SyncFailure, FAILURE_PK, limit=limit, cursor=cursor, scan_index_forward=False)
    return paging.Page([f.data for f in page.items], page.next)


# --- shop latency samples --------------------------------------------------------------------------------

def latency_samples(platform: str, shop: str) -> list[int]:
    try:
        return [int(v) for v in ShopSyncStats.get(SHOP_PK, channel(platform, shop)).latencies_ms]
    except DoesNotExist:
        return []


def add_latency_samples(platform: str, shop: str, samples_ms: list[int], now_ms: int) -> None:
    """Append samples, keep the newest LATENCY_SAMPLES (a lost race loses a sample, never correctness)."""
    kept = (latency_samples(platform, shop) + [int(s) for s in samples_ms])[-LATENCY_SAMPLES:]
    ShopSyncStats(SHOP_PK, channel(platform, shop), latencies_ms=kept, updated_at=now_ms).save()


# --- sales velocity --------------------------------------------------------------------------------------

def velocity(sku: str) -> dict:
    try:
        return SkuVelocity.get(VELOCITY_PK, sku).data or {}
    except DoesNotExist:
        return {}


def velocities(skus: Iterable[str]) -> dict[str, dict]:
    keys = [(VELOCITY_PK, s) for s in dict.fromkeys(skus)]
    return {item.sk: item.data or {} for item in SkuVelocity.batch_get(keys)} if keys else {}


def save_velocity(sku: str, data: dict, now_ms: int) -> None:
    SkuVelocity(VELOCITY_PK, sku, data=data, updated_at=now_ms).save()
