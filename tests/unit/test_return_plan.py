"""domain.returns: a return restocks at most what each allocation shipped and has not had back yet."""
from stocklink.domain.returns import ShippedAllocation, plan_return
from stocklink.domain.stock import Line


def shipped(*rows):
    return [ShippedAllocation(i, sku, wh, qty, returned) for i, (sku, wh, qty, returned) in enumerate(rows)]


def test_a_return_within_what_shipped_goes_back_where_it_shipped_from():
    plan = plan_return(shipped(("TEE", "wh-a", 2, 0), ("MUG", "wh-b", 1, 0)), [Line("TEE", 1)])
    assert [(r.allocation.warehouse_id, r.qty) for r in plan.restock] == [("wh-a", 1)]
    assert plan.not_restocked == ()


def test_a_return_larger_than_shipped_is_capped_and_the_excess_named():
    plan = plan_return(shipped(("TEE", "wh-a", 2, 0)), [Line("TEE", 5)])
    assert [r.qty for r in plan.restock] == [2]
    assert plan.not_restocked == (Line("TEE", 3),)


def test_units_already_back_leave_no_room_for_a_second_announcement():
    plan = plan_return(shipped(("TEE", "wh-a", 1, 1)), [Line("TEE", 1)])
    assert plan.restock == () and plan.not_restocked == (Line("TEE", 1),)


def test_a_split_shipment_is_filled_allocation_by_allocation():
    plan = plan_return(shipped(("TEE", "wh-a", 2, 1), ("TEE", "wh-b", 3, 0)), [Line("TEE", 3)])
    assert [(r.allocation.index, r.allocation.warehouse_id, r.qty) for r in plan.restock] == [(0, "wh-a", 1),
                                                                                            (1, "wh-b", 2)]
    assert plan.not_restocked == ()


def test_nothing_shipped_restocks_nothing():
    plan = plan_return([], [Line("TEE", 2), Line("MUG", 1)])
    assert plan.restock == () and plan.not_restocked == (Line("TEE", 2), Line("MUG", 1))


def test_a_sku_the_order_never_had_restocks_nothing():
    plan = plan_return(shipped(("TEE", "wh-a", 2, 0)), [Line("MUG", 1)])
    assert plan.restock == () and plan.not_restocked == (Line("MUG", 1),)
