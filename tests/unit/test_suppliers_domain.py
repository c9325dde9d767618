"""Supplier rules without I/O: price breaks, rounding to MOQ and case pack, the scorecard and the score."""
from __future__ import annotations

import datetime as dt

import pytest

from stocklink.domain import suppliers as s

BREAKS = s.as_breaks([{"min_qty": 100, "unit_price": 4.0}, {"min_qty": 600, "unit_price": 3.5},
                      {"min_qty": 1200, "unit_price": 3.0}])
DAY = s.DAY_MS


def ms(day: str, hour: int = 12) -> int:
    return int(dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp() * 1000)


# --- price breaks and rounding ------------------------------------------------------------------------------

@pytest.mark.parametrize("qty, price", [(99, None), (100, 4.0), (599, 4.0), (600, 3.5), (1199, 3.5),
                                        (1200, 3.0), (50_000, 3.0)])
def test_the_price_of_a_quantity_is_its_largest_break_and_nothing_below_the_first(qty, price):
    assert s.price_for(qty, BREAKS) == price


def test_no_breaks_no_price():
    assert s.price_for(10, ()) is None


def test_legacy_breaks_in_unit_cost_read_the_same_and_sort():
    assert s.as_breaks([{"min_qty": 600, "unit_cost": 3.5}, {"min_qty": 100, "unit_cost": 4.0}]) == BREAKS[:2]


@pytest.mark.parametrize("breaks, problem", [
    ([{"min_qty": 10, "unit_price": 2.0}, {"min_qty": 10, "unit_price": 1.0}], "strictly ascending"),
    ([{"min_qty": 10, "unit_price": 2.0}, {"min_qty": 5, "unit_price": 1.0}], "strictly ascending"),
    ([{"min_qty": 10, "unit_price": 2.0}, {"min_qty": 20, "unit_price": 2.5}], "must not rise"),
])
def test_breaks_must_ascend_and_never_cost_more_per_unit(breaks, problem):
    assert problem in s.break_problems(breaks)


def test_good_breaks_pass():
    assert s.break_problems([{"min_qty": 1, "unit_price": 2.0}, {"min_qty": 20, "unit_price": 2.0},
                             {"min_qty": 50, "unit_price": 1.5}]) is None


@pytest.mark.parametrize("qty, moq, pack, breaks, expected", [
    (0, 50, 12, (), 0),               # nothing needed, nothing ordered
    (1, 1, 1, (), 1),
    (7, 1, 6, (), 12),                # whole case packs
    (10, 50, 1, (), 50),              # the MOQ
    (10, 50, 12, (), 60),             # the MOQ, then case packs
    (130, 50, 12, (), 132),
    (10, 1, 1, BREAKS, 100),          # nothing is quoted below the first break
    (10, 1, 24, BREAKS, 120),
    (120, 1, 24, BREAKS, 120),
])
def test_an_order_is_rounded_up_to_moq_first_break_and_case_pack(qty, moq, pack, breaks, expected):
    assert s.round_order(qty, moq, pack, breaks) == expected
    assert expected == 0 or (expected % pack == 0 and expected >= max(moq, qty))


def test_minimum_order_is_one_unit_rounded():
    assert s.minimum_order(50, 12, ()) == 60
    assert s.minimum_order(1, 1, BREAKS) == 100


# --- receipts and the scorecard ------------------------------------------------------------------------------

def test_receipt_problems_name_the_field():
    good = (ms("2026-03-01"), "2026-03-10", ms("2026-03-09"), 100, 2, 4.0)
    assert s.receipt_problems(*good) is None
    assert "promised_date" in s.receipt_problems(good[0], "10/03/2026", *good[2:])
    assert "before ordered_at" in s.receipt_problems(good[0], good[1], good[0] - 1, 100, 0, 4.0)
    assert "rejected_qty" in s.receipt_problems(*good[:3], 5, 6, 4.0)
    assert "received_qty" in s.receipt_problems(*good[:3], 0, 0, 4.0)
    assert "unit_price" in s.receipt_problems(*good[:5], float("nan"))
    assert "unit_price" in s.receipt_problems(*good[:5], -1.0)


def test_on_time_is_on_or_before_the_promised_utc_day():
    on_day = s.receipt_increments(ms("2026-03-01"), "2026-03-10", ms("2026-03-10", 23), 10, 0, 1.0, None)
    day_after = s.receipt_increments(ms("2026-03-01"), "2026-03-10", ms("2026-03-11", 0), 10, 0, 1.0, None)
    assert on_day["on_time"] == 1 and on_day["late_days_sum"] == 0
    assert day_after["on_time"] == 0 and day_after["late_days_sum"] == 1


def test_scorecard_figures_from_receipts():
    ordered = ms("2026-03-01")
    receipts = [  # lead times 8, 10, 12 days; one late; 5 of 300 rejected; paid 4.4 where the best quote was 4.0
        s.receipt_increments(ordered, "2026-03-11", ordered + 8 * DAY, 100, 0, 4.4, 4.0),
        s.receipt_increments(ordered, "2026-03-11", ordered + 10 * DAY, 100, 5, 4.4, 4.0),
        s.receipt_increments(ordered, "2026-03-11", ordered + 12 * DAY, 100, 0, 4.4, None),   # unpriced
    ]
    card = s.scorecard(s.sum_months(receipts), quoted_lead_days=10.0, quoted_spread_days=1.0)
    assert card["receipts"] == 3 and card["late_receipts"] == 1 and card["mean_days_late"] == 2
    assert card["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert card["lead_time_days"]["mean"] == pytest.approx(10.0)
    assert card["lead_time_days"]["spread"] == pytest.approx((8 / 3) ** 0.5, abs=1e-4)
    assert card["reject_rate"] == pytest.approx(5 / 300, abs=1e-4)
    assert card["price_index"] == pytest.approx(1.1) and card["priced_receipts"] == 2
    # blended with the prior (5 receipts' worth): between what was seen and the prior
    blended = card["blended"]
    assert blended["on_time_rate"] == pytest.approx((3 * (2 / 3) + 5 * s.PRIOR_ON_TIME) / 8, abs=1e-4)
    assert blended["prior_weight"] == pytest.approx(5 / 8)


def test_no_history_is_the_neutral_prior_not_zero_or_one():
    card = s.scorecard(s.sum_months([]), quoted_lead_days=12.0, quoted_spread_days=2.0)
    assert card["receipts"] == 0 and card["on_time_rate"] is None and card["reject_rate"] is None
    assert card["lead_time_days"] is None and card["price_index"] is None
    assert card["blended"] == {"on_time_rate": s.PRIOR_ON_TIME, "lead_time_days": 12.0,
                               "lead_time_spread_days": 2.0, "reject_rate": s.PRIOR_REJECT_RATE,
                               "prior_weight": 1.0}
    assert 0 < s.PRIOR_ON_TIME < 1 and 0 < s.PRIOR_REJECT_RATE < 1


def test_history_outweighs_the_prior_as_it_grows():
    ordered = ms("2026-03-01")
    late = s.receipt_increments(ordered, "2026-03-05", ordered + 20 * DAY, 10, 0, 1.0, None)
    few = s.scorecard(s.sum_months([late] * 2), 10.0, 0.0)["blended"]
    many = s.scorecard(s.sum_months([late] * 50), 10.0, 0.0)["blended"]
    assert s.PRIOR_ON_TIME > few["on_time_rate"] > many["on_time_rate"] > 0
    assert 10.0 < few["lead_time_days"] < many["lead_time_days"] < 20.0


def test_the_window_is_the_last_twelve_calendar_months():
    assert s.scorecard_months(ms("2026-03-15")) == ("2025-04", "2026-03")
    assert s.scorecard_months(ms("2026-12-31", 23)) == ("2026-01", "2026-12")
    assert s.month_of(ms("2026-01-31", 23)) == "2026-01"


# --- the score ---------------------------------------------------------------------------------------------

def cand(sid, price, lead=10.0, spread=0.0, on_time=s.PRIOR_ON_TIME, reject=s.PRIOR_REJECT_RATE, currency="CNY"):
    return s.Candidate(sid, currency, price, lead, spread, on_time, reject)


def test_equal_suppliers_are_ranked_by_price():
    ranked = s.rank([cand("dear", 5.0), cand("cheap", 4.0)])
    assert [r["supplier_id"] for r in ranked] == ["cheap", "dear"]
    assert ranked[0]["factors"]["price"] == 1.0 and ranked[1]["factors"]["price"] == pytest.approx(0.8)


def test_the_score_is_the_weighted_geometric_mean_of_the_factors():
    ranked = {r["supplier_id"]: r for r in s.rank([cand("a", 4.0, lead=10), cand("b", 5.0, lead=5, reject=0.1)])}
    b = ranked["b"]["factors"]
    assert b == {"price": pytest.approx(0.8), "speed": pytest.approx(s.PRIOR_ON_TIME),
                 "quality": pytest.approx(1 - s.QUALITY_PENALTY * 0.1)}
    expected = 0.8 ** s.WEIGHTS["price"] * b["speed"] ** s.WEIGHTS["speed"] * b["quality"] ** s.WEIGHTS["quality"]
    assert ranked["b"]["score"] == pytest.approx(expected, abs=1e-4)
    assert sum(s.WEIGHTS.values()) == pytest.approx(1.0)


def test_a_fast_reliable_supplier_beats_a_slightly_cheaper_slow_late_one():
    ranked = s.rank([cand("slow", 4.0, lead=30, spread=10, on_time=0.5), cand("fast", 4.2, lead=7, on_time=0.95)])
    assert ranked[0]["supplier_id"] == "fast"


def test_a_supplier_that_rejects_a_lot_loses_to_an_equal_one_that_does_not():
    ranked = s.rank([cand("sloppy", 4.0, reject=0.15), cand("careful", 4.0, reject=0.01)])
    assert [r["supplier_id"] for r in ranked] == ["careful", "sloppy"]
    assert ranked[1]["factors"]["quality"] >= s.MIN_FACTOR


def test_prices_compare_within_a_currency_only():
    ranked = {r["supplier_id"]: r["factors"]["price"]
              for r in s.rank([cand("cny-a", 30.0), cand("cny-b", 24.0), cand("usd", 4.0, currency="USD")])}
    assert ranked == {"cny-a": pytest.approx(0.8), "cny-b": 1.0, "usd": s.NEUTRAL_FACTOR}


def test_an_unpriced_quote_gets_the_neutral_price_factor_and_a_lone_supplier_scores_on_its_own():
    ranked = {r["supplier_id"]: r for r in s.rank([cand("priced", 4.0), cand("unpriced", None)])}
    assert ranked["unpriced"]["factors"]["price"] == s.NEUTRAL_FACTOR
    alone = s.rank([cand("only", 4.0)])[0]
    assert alone["factors"]["price"] == 1.0 and 0 < alone["score"] < 1


def test_ties_go_to_the_lower_price_then_the_id():
    assert [r["supplier_id"] for r in s.rank([cand("b", 4.0), cand("a", 4.0)])] == ["a", "b"]


@pytest.mark.parametrize("name, expected", [("Acme Textiles", "acme-textiles"), ("ACME  textiles ", "acme-textiles"),
                                            ("Late & Co", "late-co"), ("a.b@c", "a.b@c"), ("&&", "supplier")])
def test_a_named_supplier_gets_its_slug_as_id(name, expected):
    assert s.supplier_id_for(name) == expected


def test_names_an_id_cannot_spell_stay_apart():
    shenzhen, dongguan = s.supplier_id_for("深圳工厂"), s.supplier_id_for("东莞工厂")
    assert shenzhen != dongguan and shenzhen.startswith("supplier-")
    assert s.supplier_id_for(" 深圳工厂 ") == shenzhen
    assert s.supplier_id_for("Acme 深圳").startswith("acme-")
