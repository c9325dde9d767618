"""Purchase orders and two warehouses for the replay benchmark (issue 17): a day-by-day model, seeded, no I/O.
Not a benchmark itself: tests/bench/replay_simulation.py runs it for each policy, with and without transfers.

Every SKU is stocked in two warehouses, wh-a and wh-b, that serve their own demand (a region, a shop): the
SKU's daily demand is split between them binomially with wh-a's share drawn per SKU. A warehouse that runs
out loses its own orders (no fulfilment from the other one: that is the job of transfers).

A day, in order:
  1. morning: what is due happens — POs ship (their units go in transit with an ETA), PO receipts are booked
     (domain.purchasing.receipt / after_receipt: accepted units on hand, rejected units never), transfers
     arrive (domain.transfers.arrivals: short units lost with a reason);
  2. each warehouse sells min(on hand, its demand); the rest is lost;
  3. evening, with transfers on: domain.transfers.suggest for each SKU (available = on hand; in transit =
     shipped PO units + inbound transfers; daily demand = units the warehouse fulfilled over the last 28 days,
     today included — as GET /transfers/suggestions counts them; the SKU's lead time; donor keeps 60 days of
     cover), and every suggestion is picked at once (the donor's on hand leaves, the receiver's in transit
     rises) and arrives after the lane's transit days;
  4. each warehouse plans for itself with its own levels (s, S) from its own demand: inventory position =
     on hand + on order + in transit (PO units shipped and transfers on their way), as planning counts it;
     where it is ≤ s a PO for S − position, rounded up by domain.suppliers.round_order (MOQ, case pack), is
     placed: draft → ordered → producing (domain.purchasing.check_transition at each step).
A PO's lead time is production + shipping, drawn per PO: production ~ N(60 % of the SKU's lead time), shipping
~ N(40 %), with spreads that add up to the SKU's (20 % of the lead time), at least 0 and 1 day. The promise is
the quoted lead time; the ETA is known when it ships (domain.purchasing.shipment). At the ETA it is received
in full, or (a `split_share` of POs) in two receipts, the second 1–5 days later; each receipt rejects units
with probability `reject_rate`. One PO per SKU and warehouse (one supplier per SKU): POs placed = PO lines.

Units are counted, never made up: initial + accepted from POs = sold + on hand + transfers still on their
way + lost in transfers, and ordered = accepted + rejected + on order + PO units in transit
(Outcome.unbalanced()).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from stocklink.domain import purchasing, transfers
from stocklink.domain.purchasing import PoLine, PoStatus, ReceiptLine
from stocklink.domain.suppliers import round_order
from stocklink.domain.transfers import Lane, TransferLine, TransferStatus, WarehousePosition
from stocklink.forecasting.policy import order_quantity

WAREHOUSES = ("wh-a", "wh-b")
FULFILMENT_DAYS = 28          # the window GET /transfers/suggestions reads per-warehouse demand from
DAY0 = dt.date(2025, 1, 6)    # a Monday, like row 0 of the demand; dates only label the domain's records
PRODUCTION_SHARE = 0.6        # of the quoted lead time; shipping is the rest

# (s, S) for both warehouses, each (2, n), from the demand of the days before `t`
LevelsFn = Callable[[int], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Catalogue:
    """Per SKU (n,): the supplier's terms and where the demand is."""

    lead_days: np.ndarray        # quoted mean lead time, production + shipping
    lead_spread: np.ndarray      # its standard deviation
    moq: np.ndarray
    case_pack: np.ndarray
    share_a: np.ndarray          # share of the SKU's demand served by wh-a


@dataclass(frozen=True)
class Settings:
    transfers: bool = False
    split_share: float = 0.2             # share of POs received in two parts
    split_gap_days: tuple[int, int] = (1, 5)
    reject_rate: float = 0.01            # per unit received
    donor_days: float = 60.0             # a donor keeps this many days of its own cover
    lane_days: float = 2.0               # wh-a <-> wh-b, both ways
    lane_cost_per_unit: float = 0.5
    transfer_loss_rate: float = 0.005    # per unit moved
    seed: int = 99


@dataclass
class Outcome:
    demand: int = 0
    sold: int = 0
    stockout_days: int = 0               # warehouse-SKU-days with lost demand
    days: int = 0
    on_hand_sum: int = 0                 # end of day, summed over days
    in_transit_sum: int = 0              # PO units shipped + transfers on their way, end of day
    pos_placed: int = 0
    units_ordered: int = 0
    receipts: int = 0
    pos_received: int = 0                # POs whose every unit was received or rejected
    accepted: int = 0
    rejected: int = 0
    transfers: int = 0
    units_moved: int = 0
    transfer_lost: int = 0
    transfer_cost: float = 0.0
    donors_emptied: int = 0              # transfers that left their donor with nothing (no sales lately)
    initial: int = 0
    end_on_hand: int = 0
    end_on_order: int = 0
    end_po_in_transit: int = 0
    end_transfer_in_transit: int = 0
    lowest_on_hand: int = 0
    most_moved_beyond_available: int = -1  # max over transfers of (qty − donor's on hand); < 0 when none

    @property
    def fill(self) -> float:
        return self.sold / self.demand if self.demand else 1.0

    @property
    def avg_on_hand(self) -> float:
        return self.on_hand_sum / self.days

    @property
    def avg_in_transit(self) -> float:
        return self.in_transit_sum / self.days

    def unbalanced(self) -> dict[str, int]:
        """Each count that does not add up (empty: every unit is accounted for)."""
        stock = (self.initial + self.accepted) - (self.sold + self.end_on_hand + self.end_transfer_in_transit
                                                  + self.transfer_lost)
        orders = self.units_ordered - (self.accepted + self.rejected + self.end_on_order
                                       + self.end_po_in_transit)
        return {k: v for k, v in (("stock", stock), ("orders", orders)) if v}


def split_demand(Y: np.ndarray, share_a: np.ndarray, seed: int) -> np.ndarray:
    """(T, 2, n) integer demand per warehouse: each day's units go to wh-a with probability share_a."""
    Y = np.asarray(Y).astype(np.int64)
    a = np.random.default_rng(seed).binomial(Y, np.broadcast_to(share_a, Y.shape))
    return np.stack([a, Y - a], axis=1)


@dataclass
class _Po:
    warehouse: int
    sku: int
    lines: list[PoLine]
    status: PoStatus


class _Run:
    def __init__(self, demand: np.ndarray, cat: Catalogue, settings: Settings, start: int):
        T, _, n = demand.shape
        self.demand, self.cat, self.cfg, self.start, self.T = demand, cat, settings, start, T
        # one stream per warehouse × SKU for its POs' draws, one for transfer losses: a policy or the
        # transfers changing what one SKU does leave every other SKU's lead times and receipts as they were
        self.po_rng = [[np.random.default_rng([settings.seed, w, i]) for i in range(n)] for w in (0, 1)]
        self.loss_rng = np.random.default_rng([settings.seed, 2])
        self.on_hand = np.zeros((2, n), np.int64)
        self.on_order = np.zeros((2, n), np.int64)       # ordered, not shipped
        self.po_transit = np.zeros((2, n), np.int64)     # shipped, not received or rejected
        self.tr_transit = np.zeros((2, n), np.int64)     # transfers inbound
        self.fulfilled = np.zeros((FULFILMENT_DAYS, 2, n), np.int64)   # ring: row d % 28 = day d's sales
        for d in range(max(0, start - FULFILMENT_DAYS), start):           # history counts as fulfilled
            self.fulfilled[d % FULFILMENT_DAYS] = demand[d]
        self.due: dict[int, list] = defaultdict(list)
        self.out = Outcome()
        a, b = WAREHOUSES
        self.lanes = {(a, b): Lane(a, b, settings.lane_days, settings.lane_cost_per_unit),
                      (b, a): Lane(b, a, settings.lane_days, settings.lane_cost_per_unit)}
        # production and shipping spreads that add up (in variance) to the SKU's lead-time spread
        self.spread_factor = cat.lead_spread / np.maximum(
            cat.lead_days * math.sqrt(PRODUCTION_SHARE ** 2 + (1 - PRODUCTION_SHARE) ** 2), 1e-9)

    @staticmethod
    def date(d: int) -> dt.date:
        return DAY0 + dt.timedelta(days=d)

    # --- purchase orders --------------------------------------------------------------------------------

    def place(self, d: int, w: int, i: int, qty: int) -> None:
        lead = float(self.cat.lead_days[i])
        promised = (self.date(d) + dt.timedelta(days=round(lead))).isoformat()
        po = _Po(w, i, [PoLine(1, f"sku-{i}", qty, promised_date=promised)], PoStatus.DRAFT)
        for step in (PoStatus.ORDERED, PoStatus.PRODUCING):
            purchasing.check_transition(po.status, step)
            po.status = step
        self.on_order[w, i] += qty
        self.out.pos_placed += 1
        self.out.units_ordered += qty
        k, rng = self.spread_factor[i], self.po_rng[w][i]
        production = max(0, round(rng.normal(PRODUCTION_SHARE * lead, k * PRODUCTION_SHARE * lead)))
        shipping = max(1, round(rng.normal((1 - PRODUCTION_SHARE) * lead, k * (1 - PRODUCTION_SHARE) * lead)))
        if production == 0:
            self.ship(d, po, shipping)
        else:
            self.due[d + production].append((self.ship, po, shipping))

    def ship(self, d: int, po: _Po, shipping_days: int) -> None:
        shipped = purchasing.shipment(po.lines, None)
        purchasing.check_transition(po.status, PoStatus.SHIPPED)
        po.status = PoStatus.SHIPPED
        qty = {s.line: s.qty for s in shipped}
        po.lines = [dataclasses.replace(line, shipped=line.shipped + qty.get(line.line, 0))
                    for line in po.lines]
        units = sum(qty.values())
        self.on_order[po.warehouse, po.sku] -= units
        self.po_transit[po.warehouse, po.sku] += units
        eta, rng = d + shipping_days, self.po_rng[po.warehouse][po.sku]
        if units >= 2 and rng.random() < self.cfg.split_share:
            first = min(units - 1, max(1, round(units * rng.uniform(0.3, 0.7))))
            gap = int(rng.integers(self.cfg.split_gap_days[0], self.cfg.split_gap_days[1] + 1))
            self.due[eta].append((self.receive, po, first))
            self.due[eta + gap].append((self.receive, po, units - first))
        else:
            self.due[eta].append((self.receive, po, units))

    def receive(self, d: int, po: _Po, units: int) -> None:
        rejected = int(self.po_rng[po.warehouse][po.sku].binomial(units, self.cfg.reject_rate))
        counted = ReceiptLine(1, received=units - rejected, rejected=rejected,
                              reject_reason="damaged on arrival" if rejected else None)
        plan = purchasing.receipt(po.lines, [counted], accept_over_receipt=False)
        po.lines, po.status = purchasing.after_receipt(po.lines, plan)
        self.out.pos_received += po.status is PoStatus.RECEIVED
        for p in plan:
            self.on_hand[po.warehouse, po.sku] += p.arrived + p.extra
            self.po_transit[po.warehouse, po.sku] -= p.from_transit
            self.out.accepted += p.arrived + p.extra
            self.out.rejected += p.rejected
        self.out.receipts += 1

    # --- transfers ----------------------------------------------------------------------------------------

    def transfer_pass(self, d: int) -> None:
        rate = self.fulfilled.sum(0) / FULFILMENT_DAYS
        transit = self.po_transit + self.tr_transit
        with np.errstate(divide="ignore", invalid="ignore"):
            cover = np.where(rate > 0, (self.on_hand + transit) / rate, np.inf)
        # only SKUs that can get a suggestion (a warehouse short within the lead time, the other a donor):
        # suggest() itself decides; this keeps the replay quick
        short = (rate > 0) & (cover < self.cat.lead_days)
        donor = (cover > self.cfg.donor_days) & (self.on_hand > 0)
        for i in np.flatnonzero((short[0] & donor[1]) | (short[1] & donor[0])):
            positions = [WarehousePosition(WAREHOUSES[w], int(self.on_hand[w, i]), int(transit[w, i]),
                                           float(rate[w, i])) for w in (0, 1)]
            found = transfers.suggest(f"sku-{i}", positions, self.lanes,
                                      lead_time_days=float(self.cat.lead_days[i]),
                                      donor_min_days=self.cfg.donor_days, today=self.date(d))
            for s in found:
                self.pick(d, i, WAREHOUSES.index(s.from_warehouse), WAREHOUSES.index(s.to_warehouse), s.qty,
                          s.transit_days, s.cost_per_unit or 0.0)

    def pick(self, d: int, i: int, src: int, dst: int, qty: int, transit_days: float, cost: float) -> None:
        transfers.check_transition(TransferStatus.DRAFT, TransferStatus.PICKED)
        out = self.out
        beyond = qty - int(self.on_hand[src, i])
        out.most_moved_beyond_available = max(out.most_moved_beyond_available, beyond)
        self.on_hand[src, i] -= qty
        out.donors_emptied += int(self.on_hand[src, i] == 0)
        self.tr_transit[dst, i] += qty
        out.transfers += 1
        out.units_moved += qty
        out.transfer_cost += qty * cost
        lines = [TransferLine(1, f"sku-{i}", qty)]
        self.due[d + max(1, math.ceil(transit_days))].append((self.arrive, (dst, i), lines))

    def arrive(self, d: int, where: tuple[int, int], lines: list[TransferLine]) -> None:
        dst, i = where
        transfers.check_transition(TransferStatus.PICKED, TransferStatus.RECEIVED)
        counted = {}   # lines not counted arrived in full
        for line in lines:
            lost = int(self.loss_rng.binomial(line.qty, self.cfg.transfer_loss_rate))
            if lost:
                counted[line.line] = (line.qty - lost, "damaged in transit")
        for p in transfers.arrivals(lines, counted):
            self.on_hand[dst, i] += p.received
            self.tr_transit[dst, i] -= p.received + p.lost
            self.out.transfer_lost += p.lost

    # --- the days -----------------------------------------------------------------------------------------

    def run(self, levels_fn: LevelsFn, refit_every: int) -> Outcome:
        out, cat = self.out, self.cat
        s, S = levels_fn(self.start)
        self.on_hand[:] = np.ceil(np.maximum(S, 0) - 1e-9).astype(np.int64)   # each policy starts at its S
        out.initial = int(self.on_hand.sum())
        out.lowest_on_hand = int(self.on_hand.min())
        for d in range(self.start, self.T):
            for action, *args in self.due.pop(d, ()):
                action(d, *args)
            D = self.demand[d]
            sold = np.minimum(self.on_hand, D)
            self.on_hand -= sold
            self.fulfilled[d % FULFILMENT_DAYS] = sold
            out.demand += int(D.sum())
            out.sold += int(sold.sum())
            out.stockout_days += int((D > sold).sum())
            if self.cfg.transfers:
                self.transfer_pass(d)
            out.days += 1
            out.on_hand_sum += int(self.on_hand.sum())
            out.in_transit_sum += int((self.po_transit + self.tr_transit).sum())
            out.lowest_on_hand = min(out.lowest_on_hand, int(self.on_hand.min()))
            if (d - self.start) % refit_every == 0 and d > self.start:
                s, S = levels_fn(d + 1)
            position = self.on_hand + self.on_order + self.po_transit + self.tr_transit
            need = order_quantity(position, s, S)
            for w, i in zip(*np.nonzero(need > 0)):
                qty = round_order(math.ceil(need[w, i] - 1e-9), int(cat.moq[i]), int(cat.case_pack[i]))
                if qty > 0:   # a need within float noise of 0 orders nothing
                    self.place(d, int(w), int(i), qty)
        out.end_on_hand = int(self.on_hand.sum())
        out.end_on_order = int(self.on_order.sum())
        out.end_po_in_transit = int(self.po_transit.sum())
        out.end_transfer_in_transit = int(self.tr_transit.sum())
        return out


def simulate(demand: np.ndarray, catalogue: Catalogue, levels_fn: LevelsFn, refit_every: int,
             settings: Settings, start: int) -> Outcome:
    """Replay days start..T-1 of `demand` (T, 2, n) for one policy; levels_fn(t) gives its (s, S) per
    warehouse from the days before t, re-read every `refit_every` days."""
    return _Run(demand, catalogue, settings, start).run(levels_fn, refit_every)
