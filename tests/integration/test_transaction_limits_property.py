"""Property, on moto: whatever the line count and warehouse split within the API's limits, receipts,
storefront holds and platform orders never answer 5xx, and stock stays exact (every stock item equals the
units received minus what the answers say was reserved, and its ledger replays to it)."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from stocklink.channels.base import OrderEvent, OrderEventKind, OrderLine
from stocklink.errors import StockLinkError
from stocklink.logic import inventory, orders
from stocklink.store import repository
from stocklink.time import now_ms
from tests.integration.conftest import as_admin

WAREHOUSES = ("wh-a", "wh-b", "wh-c")
SKUS = [f"P-{n:02d}" for n in range(40)]
MAX_HOLD_LINES = 24

line = st.tuples(st.sampled_from(SKUS), st.integers(1, 6))
receipt = st.tuples(st.just("receipt"), st.sampled_from(WAREHOUSES),
                    st.lists(line, min_size=1, max_size=90))
hold = st.tuples(st.just("hold"), st.booleans(), st.lists(line, min_size=1, max_size=MAX_HOLD_LINES))
order = st.tuples(st.just("order"), st.booleans(), st.lists(line, min_size=1, max_size=40))


class Model:
    """What the answers say the stock must be."""

    def __init__(self):
        self.received: Counter[tuple[str, str]] = Counter()
        self.reserved: Counter[tuple[str, str]] = Counter()
        self.holds: dict[str, list[dict]] = {}   # storefront hold id -> its allocations
        self.count = 0
        self.touched: set[str] = set()

    def next_id(self, kind: str) -> str:
        self.count += 1
        return f"{kind}-{self.count}"

    def reserve(self, allocations, sign: int = 1) -> None:
        for a in allocations:
            self.reserved[(a["sku"], a["warehouse_id"])] += sign * a["qty"]


def _check_stock(model: Model) -> None:
    for sku in model.touched:
        for item in repository.stock_items(sku):
            key = (sku, item.warehouse_id)
            assert (int(item.on_hand), int(item.reserved)) == (model.received[key], model.reserved[key]), key
            assert int(item.available) == int(item.on_hand) - int(item.reserved) >= 0
            assert inventory.replay_ledger(sku, item.warehouse_id) == {
                "on_hand": item.on_hand, "reserved": item.reserved, "available": item.available, "in_transit": item.in_transit, "presold": item.presold}


def _requested(lines) -> Counter[str]:
    wanted: Counter[str] = Counter()
    for sku, qty in lines:
        wanted[sku] += qty
    return wanted


def _run(step, model: Model, staff, storefront) -> None:
    kind = step[0]
    if kind == "receipt":
        _, warehouse, lines = step
        answer = staff.post("/stock/receipts", {"warehouse_id": warehouse, "reference": model.next_id("PO"),
                                                "lines": [{"sku": s, "qty": q} for s, q in lines]})
        assert answer.status == 201, answer.body
        for sku, qty in _requested(lines).items():
            model.received[(sku, warehouse)] += qty
            model.touched.add(sku)
    elif kind == "hold":
        _, _, lines = step
        rid = model.next_id("web")
        answer = storefront.post("/reservations", {"reservation_id": rid, "channel": "web",
                                                   "lines": [{"sku": s, "qty": q} for s, q in lines]})
        assert answer.status in (201, 400, 409), answer.body
        if answer.status == 400:
            assert answer.body["error"] == "too_large", answer.body   # a third warehouse past 49 pairs
        if answer.status == 201:
            model.reserve(answer.body["allocations"])
            model.holds[rid] = answer.body["allocations"]
            got: Counter[str] = Counter()
            for a in answer.body["allocations"]:
                got[a["sku"]] += a["qty"]
            assert got == _requested(lines)
    else:
        _, paid, lines = step
        event = OrderEvent("shopify", "prop", model.next_id("order"), OrderEventKind.CREATED,
                           tuple(OrderLine(f"l-{n}", q, seller_sku=s) for n, (s, q) in enumerate(lines)),
                           delivery_id="d", paid=paid)
        try:
            outcome = orders.apply_order_event(event, now_ms())
        except StockLinkError as exc:
            raise AssertionError(f"a platform order answered {exc.status}: {exc.body()}") from exc
        assert outcome["status"] in ("applied", "oversold", "needs_attention"), outcome
        if outcome["status"] == "applied":
            model.reserve(outcome["allocations"])
            for taken in outcome.get("preempted", []):   # first paid wins: storefront holds released
                model.reserve(model.holds.pop(taken), sign=-1)


@pytest.fixture
def world(staff) -> Model:
    """Three warehouses, 40 SKUs and a Shopify shop, once for all examples; the model persists with them."""
    for priority, warehouse in enumerate(WAREHOUSES, start=1):
        staff.put(f"/warehouses/{warehouse}", {"name": warehouse, "priority": priority})
    for sku in SKUS:
        staff.put(f"/skus/{sku}", {"name": sku})
    assert as_admin(staff).put("/shops/shopify/prop", {"webhook_secret": "s"}).status == 200
    return Model()


# The store and the model persist from one example to the next (one moto per test), so a failing example
# depends on those before it and cannot be shrunk on its own: no shrink phase.
@settings(max_examples=40, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.one_of(receipt, receipt, hold, hold, order), min_size=1, max_size=4))
def test_any_size_within_the_limits_never_5xx_and_stock_stays_exact(world, staff, storefront, steps):
    for step in steps:
        _run(step, world, staff, storefront)
    _check_stock(world)
