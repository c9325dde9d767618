"""The reports' arithmetic and bands on hand-worked figures (domain.snapshots, domain.reports)."""
from __future__ import annotations

import pytest

from stocklink.domain import reports as rd
from stocklink.domain.snapshots import DayFacts, day_row, range_sums, sums_through


def chain(days: list[DayFacts]) -> list[dict]:
    """Rows of consecutive days, each carrying the previous one's running sums."""
    rows, prior = [], None
    for facts in days:
        row = day_row(facts, prior)
        rows.append(row)
        prior = sums_through(row)
    return rows


# --- snapshot rows --------------------------------------------------------------------------------

def test_a_row_values_stock_at_unit_cost_and_knows_no_value_without_a_cost():
    row = day_row(DayFacts(on_hand=12, reserved=2, available=10, unit_cost=6.5, price=19.9, sold=3), None)
    assert row["value"] == 78                    # 12 x 6.5
    assert row["stockout"] is False
    assert day_row(DayFacts(on_hand=12, available=12), None)["value"] is None


@pytest.mark.parametrize("facts", [
    DayFacts(on_hand=5, available=0),                      # all of it reserved at the end of the day
    DayFacts(on_hand=5, available=5, marked_out=True),     # out during the day, restocked before its end
    DayFacts(on_hand=5, available=5, started_out=True),    # began the day out of stock
])
def test_a_day_is_a_stockout_day_if_nothing_was_available_at_its_end_start_or_in_between(facts):
    assert day_row(facts, None)["stockout"] is True


def test_range_sums_subtract_two_rows_whatever_the_length():
    # 4 days, unit cost 2, price 5: sold 1, 0, 3, 2; on hand 10, 10, 0 (out), 8
    rows = chain([DayFacts(on_hand=10, available=10, unit_cost=2, price=5, sold=1),
                  DayFacts(on_hand=10, available=10, unit_cost=2, price=5, sold=0),
                  DayFacts(on_hand=0, available=0, unit_cost=2, price=5, sold=3),
                  DayFacts(on_hand=8, available=8, unit_cost=2, price=5, sold=2, started_out=True)])
    whole = range_sums(rows[0], rows[3])
    assert whole["days"] == 4 and whole["sold"] == 6 and whole["cogs"] == 12 and whole["revenue"] == 30
    assert whole["value"] == 20 + 20 + 0 + 16
    assert whole["stockout_days"] == 2 and whole["instock_days"] == 2 and whole["instock_sold"] == 1
    assert whole["stocked_days"] == 3
    middle = range_sums(rows[1], rows[2])         # days 2-3 only
    assert middle["sold"] == 3 and middle["days"] == 2 and middle["stockout_days"] == 1
    assert range_sums(None, rows[1])["sold"] == 1  # a SKU that appeared after the range began: all it has


def test_the_same_facts_give_the_same_row():
    facts = DayFacts(on_hand=3, available=1, unit_cost=0.1, price=0.3, sold=7)
    prior = {"days": 2, "sold": 0.1 + 0.2, "cogs": 1, "revenue": 2, "value": 3, "lines": 1, "stockout_days": 0,
             "instock_days": 2, "instock_sold": 0.3, "stocked_days": 2}
    assert day_row(facts, prior) == day_row(facts, dict(prior))
    assert day_row(facts, prior)["prior"]["sold"] == 0.3     # 0.30000000000000004 stored as 0.3


# --- per-SKU reports ------------------------------------------------------------------------------

def period(sku: str, end: dict | None = None, **sums) -> rd.SkuPeriod:
    base = {"days": 30, "sold": 0, "cogs": 0, "revenue": 0, "value": 0, "lines": 0, "stockout_days": 0,
            "instock_days": 30, "instock_sold": 0, "stocked_days": 30}
    return rd.SkuPeriod(sku, {**base, **sums}, end or {"on_hand": 10, "available": 10, "value": 100, "price": 10})


def test_turnover_is_cogs_over_average_stock_value_annualised_with_the_seed_bands():
    # A: cogs 600 over 30 days, stock value 1,000 every day -> 0.6 turns in 30 days -> 0.6 x 365 / 30 = 7.3
    # B: cogs 100, value 5,000 summed over 30 days (average 166.67) -> 0.6 x 365/30 = 7.3 as well
    # C: cogs 60, average value 1,000 -> 0.06 x 365/30 = 0.73 -> problem
    # D: cogs 400, average value 1,000 -> 0.4 x 365/30 = 4.867 -> watch
    report = rd.turnover([period("A", cogs=600, sold=60, value=30_000), period("B", cogs=100, sold=20, value=5_000),
                          period("C", cogs=60, sold=6, value=30_000), period("D", cogs=400, sold=40, value=30_000),
                          period("E", cogs=0, value=0)], 30)
    by_sku = {r["sku"]: r for r in report.rows}
    assert by_sku["A"]["turnover"] == 7.3 and by_sku["A"]["band"] == "healthy"
    assert by_sku["B"]["avg_stock_value"] == 166.67 and by_sku["B"]["turnover"] == 7.3
    assert by_sku["C"]["turnover"] == 0.73 and by_sku["C"]["band"] == "problem"
    assert by_sku["D"]["turnover"] == 4.87 and by_sku["D"]["band"] == "watch"
    assert by_sku["E"]["turnover"] is None and by_sku["E"]["band"] is None   # no stock held: no figure
    assert [r["sku"] for r in report.rows] == ["C", "D", "A", "B", "E"]       # slowest first, none last
    # catalogue: cogs 1,160 / average value (95,000 / 30 = 3,166.67) x 365/30 = 4.457 -> watch
    assert report.value == 4.46 and report.band == "watch"
    assert report.thresholds == {"healthy_at_least": 6, "watch_at_least": 4}


@pytest.mark.parametrize("value,band", [(6, "healthy"), (5.99, "watch"), (4, "watch"), (3.99, "problem")])
def test_turnover_band_edges(value, band):
    assert rd.BANDS["turnover"].band(value) == band


@pytest.mark.parametrize("name,value,band", [
    ("slow-movers", 9.99, "healthy"), ("slow-movers", 10, "watch"), ("slow-movers", 20, "problem"),
    ("stockouts", 2.99, "healthy"), ("stockouts", 3, "watch"), ("stockouts", 5, "problem"),
    ("oversell", 0.99, "healthy"), ("oversell", 1, "watch"), ("oversell", 2, "problem"),
    ("sync-accuracy", 99, "healthy"), ("sync-accuracy", 98.9, "watch"), ("sync-accuracy", 96.9, "problem"),
])
def test_the_seed_lines_and_the_watch_bands_beside_them(name, value, band):
    assert rd.BANDS[name].band(value) == band


def test_days_of_supply_divides_available_by_average_daily_sales():
    # A: 100 available, 60 sold in 30 days (2/day) -> 50 days; B: 50 available, 20 sold (0.667/day) -> 75;
    # C: no sales -> no figure, listed last. Catalogue: 160 / 2.667 = 60 days
    report = rd.days_of_supply([period("C", end={"available": 10}),
                                period("B", sold=20, end={"available": 50}),
                                period("A", sold=60, end={"available": 100})], 30)
    assert [(r["sku"], r["days_of_supply"]) for r in report.rows] == [("A", 50.0), ("B", 75.0), ("C", None)]
    assert report.value == 60.0 and report.band is None


def test_slow_movers_are_stocked_skus_selling_under_5_a_month_and_their_share_is_banded():
    # over 60 days: 9 units = 4.5 per 30 days -> slow; 10 units = 5 -> not slow; none -> slow;
    # out of stock at the end -> not counted at all. 2 slow of 3 stocked = 66.67 % -> problem
    report = rd.slow_movers([period("S1", sold=9, end={"on_hand": 4, "value": 40}),
                             period("S2", sold=10, end={"on_hand": 4, "value": 40}),
                             period("S3", end={"on_hand": 7, "value": 70}),
                             period("S4", end={"on_hand": 0, "value": 0})], 60)
    assert [(r["sku"], r["units_per_30_days"]) for r in report.rows] == [("S3", 0.0), ("S1", 4.5)]
    assert report.value == 66.67 and report.band == "problem"


def test_fast_movers_rank_by_units_and_measure_how_concentrated_demand_is():
    # 10 selling SKUs: the top 20 % (2 SKUs) sold 50 + 30 of 100 units -> 80 %
    skus = [period("F0", sold=50), period("F1", sold=30)] + [period(f"F{i}", sold=2.5) for i in range(2, 10)]
    report = rd.fast_movers(skus + [period("none")], 30)
    assert [r["sku"] for r in report.rows][:2] == ["F0", "F1"] and len(report.rows) == 10
    assert report.value == 80.0


def test_stockouts_estimate_lost_sales_from_in_stock_days_and_skip_skus_never_carried():
    # B: 11 stock-out days of 30; 19 units on its 19 in-stock days (1/day) -> 11 units lost, x price 8 = 88
    # A: never out over 30 days; N: never stocked, never sold -> not in the rate
    # rate: 11 / (30 + 30) = 18.33 % -> problem
    report = rd.stockouts([period("A", sold=60, instock_sold=60),
                           period("B", stockout_days=11, instock_days=19, sold=20, instock_sold=19,
                                  stocked_days=20, end={"on_hand": 50, "available": 50, "value": 250, "price": 8}),
                           period("N", stocked_days=0, instock_days=0, stockout_days=30)], 30)
    assert report.rows == [{"sku": "B", "stockout_days": 11, "days": 30, "stockout_rate": 36.67,
                            "avg_daily_sales_in_stock": 1.0, "lost_sales_units": 11.0, "lost_sales_value": 88.0}]
    assert report.value == 18.33 and report.band == "problem"


def test_abc_classes_by_cumulative_revenue_and_the_value_held_in_c():
    # revenue 50 / 30 / 15 / 5 -> A, A, B, C (forecasting.abc's rule); stock value 10 / 20 / 30 / 40
    skus = [period(s, revenue=r, end={"value": v}) for s, r, v in
            (("W", 50, 10), ("X", 30, 20), ("Y", 15, 30), ("Z", 5, 40))]
    report = rd.abc(skus, 30)
    rows = {r["class"]: r for r in report.rows}
    assert rows["A"]["skus"] == 2 and rows["A"]["revenue_share"] == 80.0 and rows["A"]["value_share"] == 30.0
    assert rows["B"]["skus"] == 1 and rows["C"]["skus"] == 1 and rows["C"]["stock_value"] == 40
    assert report.value == 40.0                   # 40 of 100 in C


# --- per-day and per-warehouse reports ------------------------------------------------------------

def test_oversell_rate_is_oversold_lines_over_all_order_lines():
    # day 1: 99 paid lines + 1 oversold -> 1 %; day 2: 200 + 0; period: 1 / 300 = 0.333 % -> healthy
    report = rd.oversell([rd.DayFigures("2026-01-01", order_lines=99, oversold_lines=1),
                          rd.DayFigures("2026-01-02", order_lines=200)])
    assert [r["oversell_rate"] for r in report.rows] == [1.0, 0.0]
    assert report.value == 0.33 and report.band == "healthy"


def test_sync_accuracy_weights_days_by_listings_read_back():
    # 990 of 1,000 (99 %) and 90 of 100 (90 %): 1,080 / 1,100 = 98.18 % -> watch; a day with no checks: no figure
    report = rd.sync_accuracy([rd.DayFigures("d1", listings_checked=1000, listings_in_sync=990),
                               rd.DayFigures("d2", listings_checked=100, listings_in_sync=90),
                               rd.DayFigures("d3")])
    assert [r["accuracy"] for r in report.rows] == [99.0, 90.0, None]
    assert report.value == 98.18 and report.band == "watch"


def test_stock_value_per_warehouse_at_the_end_and_on_average():
    days = [rd.DayFigures("d1", warehouses={"wh-a": {"on_hand": 10, "value": 100}}),
            rd.DayFigures("d2", warehouses={"wh-a": {"on_hand": 20, "value": 300},
                                            "wh-b": {"on_hand": 5, "value": 100}})]
    report = rd.stock_value(days)
    assert report.rows == [
        {"warehouse_id": "wh-a", "on_hand": 20, "stock_value": 300, "avg_stock_value": 200, "share": 75.0},
        {"warehouse_id": "wh-b", "on_hand": 5, "stock_value": 100, "avg_stock_value": 50, "share": 25.0}]
    assert report.value == 400


def test_no_snapshots_no_figures():
    assert rd.turnover([], 1).value is None and rd.oversell([]).value is None and rd.stock_value([]).value is None
