"""Which reserved units a part cancellation releases (domain/part_release): only the cancelled SKU's units,
presold ones first, each allocation at most what it holds; the excess named, never released twice."""
from __future__ import annotations

from stocklink.domain.part_release import HeldAllocation, plan_part_release, remaining_lines
from stocklink.domain.stock import Line

HELD = [HeldAllocation(0, "TEE", "wh-a", 3), HeldAllocation(1, "TEE", "wh-b", 2),
        HeldAllocation(2, "CAP", "wh-a", 1)]


def taken(plan) -> list[tuple[int, int, int]]:
    return [(r.allocation.index, r.qty, r.presold) for r in plan.releases]


def test_only_the_cancelled_sku_is_released_allocation_by_allocation():
    plan = plan_part_release(HELD, [Line("TEE", 4)])
    assert taken(plan) == [(0, 3, 0), (1, 1, 0)]
    assert plan.not_held == () and not plan.releases_everything(HELD)


def test_units_beyond_what_the_order_holds_are_named_not_released():
    plan = plan_part_release(HELD, [Line("CAP", 3), Line("HAT", 1)])
    assert taken(plan) == [(2, 1, 0)]
    assert plan.not_held == (Line("CAP", 2), Line("HAT", 1))


def test_cancelling_every_unit_is_a_whole_release():
    assert plan_part_release(HELD, [Line("TEE", 5), Line("CAP", 1)]).releases_everything(HELD)
    assert not plan_part_release(HELD, [Line("TEE", 5)]).releases_everything(HELD)


def test_presold_units_go_first_so_the_units_on_the_shelf_stay_for_the_rest():
    held = [HeldAllocation(0, "TEE", "wh-a", 4, presold=2), HeldAllocation(1, "TEE", "wh-b", 3, presold=1)]
    plan = plan_part_release(held, [Line("TEE", 4)])
    # every presold unit (2 + 1) first, then one unit on hand from the first allocation
    assert taken(plan) == [(0, 3, 2), (1, 1, 1)]
    assert [r.on_hand for r in plan.releases] == [1, 0]


def test_the_order_lines_left_after_a_release():
    lines = [Line("TEE", 5), Line("CAP", 1)]
    assert remaining_lines(lines, [Line("TEE", 4)]) == [Line("TEE", 1), Line("CAP", 1)]
    assert remaining_lines(lines, [Line("CAP", 1), Line("TEE", 5)]) == []
