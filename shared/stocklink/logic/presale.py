"""Presale (预售) reads: what each stock item has on its way (in_transit, presold and the inbound lines with
their ETA) and how a channel's order may presell. The rules are domain/presale.py; the guarded writes are
store.transactions (PRESELL, PRESALE_RELEASE, PRESALE_FILL)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping

from stocklink.domain.allocation import AllocationSettings
from stocklink.domain.presale import IncomingStock, PresaleOrder, fill_on_arrival, shortfall_after_drop
from stocklink.domain.stock import Movement
from stocklink.errors import PresoldInTransit
from stocklink.store import purchasing as inbound_store
from stocklink.store import repository
from stocklink.store.transactions import StockOp, StockTransaction


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def today(now_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()


def incoming(skus: Iterable[str], items: Mapping[str, list] | None = None) -> dict[str, dict[str, IncomingStock]]:
    """SKU -> warehouse -> IncomingStock, from the stock items (read now unless given) and, for a SKU with
    units on their way, its inbound lines (one Query). Read after the items: a presell's guard pins what left
    in_transit since the items were read (store.transactions), so the lines can only be newer, never older."""
    out: dict[str, dict[str, IncomingStock]] = {}
    for sku in dict.fromkeys(skus):
        sku_items = items.get(sku) if items is not None and sku in items else repository.stock_items(sku)
        moving = [i for i in sku_items if int(i.in_transit or 0) > 0 or int(i.presold or 0) > 0]
        if not moving:
            continue
        arrivals: dict[str, list[tuple[dt.date | None, int]]] = {}
        for line in inbound_store.inbound_for(sku):
            arrivals.setdefault(line["warehouse_id"], []).append((_date(line.get("eta")), int(line["qty"])))
        out[sku] = {i.warehouse_id: IncomingStock(int(i.in_transit or 0), int(i.presold or 0),
                                                  tuple(sorted(arrivals.get(i.warehouse_id, []),
                                                               key=lambda a: (a[0] is None, a[0] or dt.date.max))))
                    for i in moving}
    return out


def order_presale(settings: AllocationSettings, skus: Iterable[str], now_ms: int) -> PresaleOrder | None:
    """How an order of a channel with these settings may presell (None: presale off). While one of its SKUs
    is at risk the room goes first (domain/presale.py)."""
    if not settings.presale.enabled:
        return None
    from stocklink.store import last_units_models

    states = last_units_models.guard_states(list(skus))
    at_risk = any(state.at_risk or state.declared(now_ms) for state in states.values())
    return PresaleOrder(settings.presale.horizon(today(now_ms)), room_first=at_risk)


@dataclass(frozen=True)
class TransitMove:
    """Units of one SKU leaving in_transit at a warehouse in one change: `arriving` of them onto its shelves."""
    sku: str
    arriving: int
    leaving: int
    source: str


def settle_transit(txn: StockTransaction, warehouse_id: str, moves: Iterable[TransitMove]) -> None:
    """Before a change's own TRANSIT_ARRIVE / TRANSIT_DROP movements (add them after this): each stock item as
    read now for the presale guard, and presold units filled by the arriving ones (PRESALE_FILL: they become
    reserved on hand, for the presale orders, never available). PresoldInTransit (nothing written) when units
    leaving without arriving would leave presold units with nothing on its way behind them."""
    for move in moves:
        item = next((i for i in repository.stock_items(move.sku) if i.warehouse_id == warehouse_id), None)
        if item is None:
            continue                                 # nothing on its way either: the movement's own guard refuses
        presold, in_transit = int(item.presold or 0), int(item.in_transit or 0)
        if move.leaving > in_transit:
            # the caller's document was read before another change took these units out of transit (two
            # receipts of one PO at once): the movement's own guard (in_transit >= q) and the document's version
            # condition cancel this transaction, and the caller reads again; no guess from a stale read here
            continue
        filled = fill_on_arrival(presold, move.arriving)
        short = shortfall_after_drop(in_transit, presold, move.leaving, filled)
        if short:
            raise PresoldInTransit(
                f"{move.sku} at {warehouse_id}: {presold} units are presold against the {in_transit} on their way; "
                f"this change would leave {short} of them without a unit coming: release (cancel) those presale "
                f"orders first, or receive the units", sku=move.sku, warehouse_id=warehouse_id, presold=presold,
                in_transit=in_transit, unbacked=short)
        txn.read_transit(item)
        if filled:
            txn.stock(StockOp(move.sku, warehouse_id, Movement.PRESALE_FILL, filled), source=move.source,
                      reason="presold units arrived: reserved for their presale orders")


def channel_settings(platform: str, shop: str) -> AllocationSettings:
    """A shop's allocation settings, read at most once per config period per container (logic/sync/config):
    an order of a shop that just turned presale on may miss it for that long, never sell more than it may."""
    from stocklink.logic.sync import config
    from stocklink.store import catalog

    return config.cached(f"allocation#{platform}#{shop}",
                         lambda: AllocationSettings.from_dict(catalog.allocation(platform, shop)))
