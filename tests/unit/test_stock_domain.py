"""Pure stock rules: warehouse split, movements, reservation state machine, fingerprints, validation."""
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from stocklink.domain.requests import AdjustmentIn, ReceiptIn, ReservationIn
from stocklink.domain.stock import (
    Allocation, Line, Movement, ReservationAction as A, ReservationStatus as S, WarehouseStock,
    effective_status, is_same_transition_done, merge_lines, movement_deltas, next_status, plan_allocations,
    request_fingerprint, shortfalls,
)
from stocklink.errors import InsufficientStock, InvalidTransition, TooLargeForOneTransaction


def test_split_takes_priority_warehouse_first_then_next():
    stock = {"S": [WarehouseStock("b", 3, priority=2), WarehouseStock("a", 3, priority=1)]}
    assert plan_allocations([Line("S", 5)], stock) == [Allocation("S", "a", 3), Allocation("S", "b", 2)]


def test_split_ties_break_on_warehouse_id_and_skips_empty():
    stock = {"S": [WarehouseStock("z", 4), WarehouseStock("m", 0), WarehouseStock("c", 1)]}
    assert plan_allocations([Line("S", 2)], stock) == [Allocation("S", "c", 1), Allocation("S", "z", 1)]


def test_insufficient_names_the_sku_and_what_is_there():
    stock = {"S": [WarehouseStock("a", 2)], "T": [WarehouseStock("a", 1), WarehouseStock("b", 1)]}
    with pytest.raises(InsufficientStock) as err:
        plan_allocations([Line("S", 1), Line("T", 3)], stock)
    assert (err.value.sku, err.value.requested, err.value.available) == ("T", 3, 2)


def test_duplicate_lines_are_merged_before_planning():
    assert merge_lines([Line("S", 1), Line("T", 2), Line("S", 4)]) == [Line("S", 5), Line("T", 2)]
    with pytest.raises(InsufficientStock):
        plan_allocations([Line("S", 2), Line("S", 2)], {"S": [WarehouseStock("a", 3)]})


def test_shortfalls_report_only_missing_lines():
    stock = {"S": [WarehouseStock("a", 2)], "T": [WarehouseStock("a", 9)]}
    assert shortfalls([Line("S", 5), Line("T", 1)], stock) == [
        {"sku": "S", "requested": 5, "available": 2, "shortfall": 3}]


@given(st.lists(st.integers(min_value=-3, max_value=20), min_size=1, max_size=6), st.integers(1, 60))
def test_plan_never_takes_more_than_a_warehouse_has(availabilities, qty):
    stock = {"S": [WarehouseStock(f"w{i}", a, priority=i) for i, a in enumerate(availabilities)]}
    pool = sum(max(a, 0) for a in availabilities)
    if qty > pool:
        with pytest.raises(InsufficientStock):
            plan_allocations([Line("S", qty)], stock)
        return
    plan = plan_allocations([Line("S", qty)], stock)
    assert sum(a.qty for a in plan) == qty
    by_wh = {w.warehouse_id: w.available for w in stock["S"]}
    assert all(0 < a.qty <= by_wh[a.warehouse_id] for a in plan)


@pytest.mark.parametrize("movement, qty, expected", [
    (Movement.RECEIVE, 5, (5, 0, 5)), (Movement.RESERVE, 2, (0, 2, -2)), (Movement.RELEASE, 2, (0, -2, 2)),
    (Movement.SHIP, 3, (-3, -3, 0)), (Movement.RETURN, 1, (1, 0, 1)), (Movement.ADJUST, -4, (-4, 0, -4)),
    (Movement.COMMIT, 3, (0, 0, 0)), (Movement.TRANSIT_ARRIVE, 4, (4, 0, 4)), (Movement.TRANSFER_OUT, 2, (-2, 0, -2)),
    (Movement.TRANSFER_BACK, 2, (2, 0, 2)), (Movement.TRANSIT_IN, 6, (0, 0, 0)), (Movement.TRANSIT_DROP, 1, (0, 0, 0)),
])
def test_movements_keep_available_equal_on_hand_minus_reserved(movement, qty, expected):
    d = movement_deltas(movement, qty)
    assert (d.on_hand, d.reserved, d.available) == expected
    assert d.available == d.on_hand - d.reserved


@pytest.mark.parametrize("movement, in_transit", [
    (Movement.TRANSIT_IN, 6), (Movement.TRANSIT_ARRIVE, -6), (Movement.TRANSIT_DROP, -6), (Movement.RECEIVE, 0),
    (Movement.TRANSFER_OUT, 0), (Movement.RESERVE, 0),
])
def test_only_transit_movements_move_in_transit(movement, in_transit):
    assert movement_deltas(movement, 6).in_transit == in_transit


def test_state_machine_allowed_transitions():
    assert next_status(S.HELD, A.COMMIT, expired=False) is S.COMMITTED
    assert next_status(S.HELD, A.RELEASE, expired=False) is S.RELEASED
    assert next_status(S.HELD, A.SHIP, expired=False) is S.SHIPPED
    assert next_status(S.COMMITTED, A.SHIP, expired=False) is S.SHIPPED
    assert next_status(S.COMMITTED, A.RELEASE, expired=False) is S.RELEASED
    assert next_status(S.HELD, A.RELEASE, expired=True) is S.RELEASED


@pytest.mark.parametrize("status, action", [
    (S.SHIPPED, A.RELEASE), (S.SHIPPED, A.COMMIT), (S.RELEASED, A.COMMIT), (S.RELEASED, A.SHIP),
    (S.OVERSOLD, A.COMMIT), (S.COMMITTED, A.COMMIT),
])
def test_state_machine_refuses(status, action):
    with pytest.raises(InvalidTransition):
        next_status(status, action, expired=False)


def test_expired_hold_cannot_be_committed_and_reads_released():
    with pytest.raises(InvalidTransition) as err:
        next_status(S.HELD, A.COMMIT, expired=True)
    assert err.value.details["status"] == "expired"
    assert effective_status(S.HELD, expires_at=100, now=100) is S.RELEASED
    assert effective_status(S.HELD, expires_at=101, now=100) is S.HELD
    assert effective_status(S.COMMITTED, expires_at=1, now=100) is S.COMMITTED


def test_repeated_action_is_recognised_as_done():
    assert is_same_transition_done(S.COMMITTED, A.COMMIT)
    assert is_same_transition_done(S.RELEASED, A.RELEASE)
    assert not is_same_transition_done(S.RELEASED, A.COMMIT)


def test_fingerprint_ignores_key_order_but_not_values():
    a = {"reservation_id": "r", "lines": [{"sku": "S", "qty": 1}], "channel": "web"}
    b = {"channel": "web", "lines": [{"qty": 1, "sku": "S"}], "reservation_id": "r"}
    assert request_fingerprint(a) == request_fingerprint(b)
    assert request_fingerprint(a) != request_fingerprint({**a, "lines": [{"sku": "S", "qty": 2}]})


@pytest.mark.parametrize("body", [
    {"reservation_id": "r", "channel": "web", "lines": []},
    {"reservation_id": "r", "channel": "web", "lines": [{"sku": "S", "qty": 0}]},
    {"reservation_id": "r", "channel": "web", "lines": [{"sku": "S", "qty": 1.5}]},
    {"reservation_id": "r", "channel": "web", "lines": [{"sku": "S", "qty": True}]},
    {"reservation_id": "", "channel": "web", "lines": [{"sku": "S", "qty": 1}]},
    {"reservation_id": "has space", "channel": "web", "lines": [{"sku": "S", "qty": 1}]},
    {"reservation_id": "r", "channel": "web", "lines": [{"sku": "S", "qty": 1}], "extra": 1},
    {"reservation_id": "r", "channel": "web", "lines": [{"sku": "S", "qty": 1}], "hold_seconds": 0},
])
def test_reservation_request_validation(body):
    with pytest.raises(ValidationError):
        ReservationIn.model_validate(body)


def test_adjustment_and_receipt_validation():
    with pytest.raises(ValidationError):
        AdjustmentIn.model_validate({"warehouse_id": "a", "sku": "S", "delta": 0, "reason": "x"})
    with pytest.raises(ValidationError):
        AdjustmentIn.model_validate({"warehouse_id": "a", "sku": "S", "delta": -1, "reason": ""})
    with pytest.raises(ValidationError):
        ReceiptIn.model_validate({"warehouse_id": "a", "lines": [{"sku": "S", "qty": 1}], "reference": ""})
    assert AdjustmentIn.model_validate({"warehouse_id": "a", "sku": "S", "delta": -1, "reason": "x"}).delta == -1


def test_a_plan_past_the_allocation_limit_takes_the_fewest_splits():
    stock = {sku: [WarehouseStock("a", 1, priority=1), WarehouseStock("b", 1, priority=2),
                   WarehouseStock("c", 5, priority=3)] for sku in ("S", "T")}
    lines = [Line("S", 3), Line("T", 2)]
    assert len(plan_allocations(lines, stock)) == 5                      # 1+1+1 and 1+1, priority order
    assert plan_allocations(lines, stock, max_allocations=5) == plan_allocations(lines, stock)
    assert plan_allocations(lines, stock, max_allocations=2) == [Allocation("S", "c", 3), Allocation("T", "c", 2)]


def test_a_plan_that_cannot_fit_names_what_it_needs_and_a_short_pool_is_still_insufficient():
    stock = {"S": [WarehouseStock("a", 1), WarehouseStock("b", 1), WarehouseStock("c", 1)]}
    with pytest.raises(TooLargeForOneTransaction) as err:
        plan_allocations([Line("S", 3)], stock, max_allocations=2)
    assert (err.value.status, err.value.details) == (400, {"needed": 3, "limit": 2})
    with pytest.raises(InsufficientStock):
        plan_allocations([Line("S", 4)], stock, max_allocations=2)


def test_the_hold_line_limit_always_fits_one_transaction_split_over_two_warehouses():
    from stocklink.domain.requests import MAX_HOLD_LINES
    from stocklink.domain.stock import ReservationStatus
    from stocklink.logic.reservations import max_allocations
    from stocklink.store.transactions import MAX_TRANSACTION_ITEMS

    assert MAX_HOLD_LINES * 2 <= max_allocations(ReservationStatus.HELD) == 49
    assert 2 + MAX_HOLD_LINES * 2 * 2 <= MAX_TRANSACTION_ITEMS
    assert max_allocations(ReservationStatus.COMMITTED) == 32
    body = {"reservation_id": "r", "channel": "web", "lines": [{"sku": f"S{n}", "qty": 1} for n in range(25)]}
    with pytest.raises(ValidationError):
        ReservationIn.model_validate(body)
    ReservationIn.model_validate({**body, "lines": body["lines"][:24]})
