"""The Chinese-marketplace demo's measuring (infra/local/demo/cn.py): when an order counts as reflected on the
other platforms, read from a simulator call log, and the buyers' mix of orders."""
from __future__ import annotations

import pytest

from infra.local.demo.cn import CN_PLATFORMS, LAST_UNITS_SKU, CnOrder, reflected_lags, story_orders
from infra.local.demo.seed import Catalog

SKU = "CN-001"
CATALOG = Catalog({SKU: 1}, {SKU: {"wh-shanghai": 10}},
                  {(p, SKU): f"{p}-listing" for p in CN_PLATFORMS})


def push(platform: str, ts: float, qty: int) -> dict:
    return {"platform": platform, "ts": ts, "kind": "stock_update", "status": 200,
            "listings": {f"{platform}-listing": qty}}


def applied(platform: str, t_sent: float, applied_at: float, qty: int = 1) -> CnOrder:
    return CnOrder(platform, SKU, qty, "applied", "1", t_sent, applied_at + 0.1, applied_at)


def test_reflected_when_the_slowest_other_platform_shows_a_quantity_that_includes_it():
    order = applied("pinduoduo", t_sent=100.0, applied_at=280.0)
    calls = [push("taobao", 250.0, 9),            # before StockLink applied it: another change, not this one
             push("taobao", 281.0, 9), push("jd", 282.0, 9), push("douyin", 290.0, 9)]
    assert reflected_lags([order], calls, CATALOG, {SKU: 10}) == {id(order): 190.0}


def test_a_push_that_does_not_include_every_unit_applied_so_far_does_not_count():
    first = applied("taobao", t_sent=10.0, applied_at=11.0)
    second = applied("jd", t_sent=12.0, applied_at=13.0, qty=2)
    # douyin gets 9 after the second order was applied (only the first's unit): the second is not in it
    calls = [push("jd", 11.5, 9), push("douyin", 11.6, 9), push("pinduoduo", 11.7, 9),
             push("taobao", 14.0, 7), push("douyin", 13.5, 9), push("pinduoduo", 14.5, 7)]
    lags = reflected_lags([first, second], calls, CATALOG, {SKU: 10})
    assert lags[id(first)] == pytest.approx(1.7)
    assert lags[id(second)] is None               # douyin was never set to 7 or less


def test_every_platform_sells_everyday_skus_and_the_last_units_sku_in_turn():
    orders = story_orders(n_skus=8, per_platform=6, last_units_orders=3)
    for platform in CN_PLATFORMS:
        mine = [o for o in orders if o.platform == platform]
        assert sum(1 for o in mine if o.sku == LAST_UNITS_SKU) == 3 and len(mine) == 9
    assert {o.sku for o in orders} - {LAST_UNITS_SKU} == {f"CN-{n:03d}" for n in range(1, 9)}
