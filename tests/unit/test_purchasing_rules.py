"""Purchase-order rules: the state machine, shipments and receipt planning (pure)."""
import datetime as dt

import pytest

from stocklink.domain.purchasing import (
    LineReceipt, LineShipment, PoLine, PoStatus as S, ReceiptLine, after_receipt, check_transition, is_late,
    receipt, shipment,
)
from stocklink.errors import InvalidTransition, ValidationFailed


@pytest.mark.parametrize("current, target", [
    (S.DRAFT, S.ORDERED), (S.ORDERED, S.PAID), (S.PAID, S.PRODUCING), (S.PRODUCING, S.SHIPPED),
    (S.ORDERED, S.SHIPPED), (S.DRAFT, S.CANCELLED), (S.PRODUCING, S.CANCELLED), (S.SHIPPED, S.CLOSED),
])
def test_allowed_transitions(current, target):
    check_transition(current, target)


@pytest.mark.parametrize("current, target", [
    (S.DRAFT, S.SHIPPED), (S.SHIPPED, S.CANCELLED), (S.RECEIVED, S.CLOSED), (S.CANCELLED, S.ORDERED),
    (S.PAID, S.ORDERED), (S.CLOSED, S.SHIPPED), (S.SHIPPED, S.RECEIVED),
])
def test_refused_transitions_name_what_is_allowed(current, target):
    with pytest.raises(InvalidTransition) as refused:
        check_transition(current, target)
    assert refused.value.details["status"] == current.value


LINES = [PoLine(1, "A", 10), PoLine(2, "B", 5)]


def test_a_shipment_ships_every_line_unless_quantities_are_given():
    assert shipment(LINES, None) == [LineShipment(1, "A", 10), LineShipment(2, "B", 5)]
    assert shipment(LINES, {1: 4, 2: 0}) == [LineShipment(1, "A", 4)]


@pytest.mark.parametrize("given", [{1: 11}, {3: 1}, {1: 0, 2: 0}])
def test_a_shipment_beyond_the_order_unknown_lines_or_nothing_is_refused(given):
    with pytest.raises(ValidationFailed):
        shipment(LINES, given)


SHIPPED = [PoLine(1, "A", 10, shipped=10), PoLine(2, "B", 5, shipped=5, received=3)]


def test_a_partial_receipt_moves_what_arrived_and_keeps_the_po_open():
    plan = receipt(SHIPPED, [ReceiptLine(1, received=6, rejected=1, reject_reason="crushed")],
                   accept_over_receipt=False)
    assert plan == [LineReceipt(1, "A", arrived=6, extra=0, rejected=1, reject_reason="crushed")]
    lines, status = after_receipt(SHIPPED, plan)
    assert (lines[0].received, lines[0].rejected, lines[0].on_the_way, status) == (6, 1, 3, S.SHIPPED)


def test_the_last_units_received_complete_the_po():
    plan = receipt(SHIPPED, [ReceiptLine(1, received=10), ReceiptLine(2, received=2)], accept_over_receipt=False)
    assert after_receipt(SHIPPED, plan)[1] is S.RECEIVED


def test_a_short_shipped_line_keeps_the_po_open_after_everything_shipped_arrived():
    short = [PoLine(1, "A", 10, shipped=4)]
    plan = receipt(short, [ReceiptLine(1, received=4)], accept_over_receipt=False)
    assert after_receipt(short, plan)[1] is S.SHIPPED


def test_an_over_receipt_is_refused_unless_accepted_and_then_the_extra_goes_on_hand():
    with pytest.raises(ValidationFailed) as refused:
        receipt(SHIPPED, [ReceiptLine(2, received=3)], accept_over_receipt=False)
    assert refused.value.details["over"] == 1
    assert receipt(SHIPPED, [ReceiptLine(2, received=3)], accept_over_receipt=True) == [
        LineReceipt(2, "B", arrived=2, extra=1, rejected=0, reject_reason=None)]


@pytest.mark.parametrize("counted", [
    [ReceiptLine(9, received=1)],                                   # no such line
    [ReceiptLine(1, received=1), ReceiptLine(1, received=1)],       # counted twice
    [ReceiptLine(1)],                                               # nothing counted
    [ReceiptLine(1, rejected=1)],                                   # rejected without a reason
    [ReceiptLine(2, rejected=3, reject_reason="wet")],              # rejecting more than on the way
])
def test_bad_receipts_are_refused(counted):
    with pytest.raises(ValidationFailed):
        receipt(SHIPPED, counted, accept_over_receipt=True)


def test_late_lines_are_past_their_promise_and_not_fully_received():
    lines = [PoLine(1, "A", 10, promised_date="2026-12-01", shipped=10, received=10),
             PoLine(2, "B", 5, promised_date="2026-12-01"), PoLine(3, "C", 5, promised_date="2026-12-09")]
    assert is_late(S.SHIPPED, lines, dt.date(2026, 12, 7)) == [2]
    assert is_late(S.CLOSED, lines, dt.date(2026, 12, 7)) == []
    assert is_late(S.DRAFT, lines, dt.date(2026, 12, 7)) == []
