"""Level grading: exact boundaries, floor, zero, overstock, unknown safety stock, bands, overrides."""
import pytest

from stocklink.alerts.levels import Level, ThresholdConfig, Thresholds, grade

T = Thresholds()  # 50 / 30 / 10 %, floor 15


@pytest.mark.parametrize("stock, level", [
    (500, Level.NONE),     # exactly 50 % is not below 50 %
    (499, Level.YELLOW),
    (300, Level.YELLOW),   # exactly 30 %
    (299, Level.ORANGE),
    (100, Level.ORANGE),   # exactly 10 %
    (99, Level.RED),
    (1000, Level.NONE),
])
def test_percentage_lines_are_strictly_below(stock, level):
    g = grade(stock, 1000, T)
    assert g.level is level
    assert g.basis == "safety_stock"


def test_red_reason_at_ten_percent_line():
    assert grade(99, 1000, T).reason == "below_red_pct"


@pytest.mark.parametrize("stock, level, reason", [
    (15, Level.NONE, "ok"),           # 75 % of 20 and exactly on the floor
    (14, Level.RED, "below_floor"),   # 70 % of 20 but under the 15-unit floor
    (0, Level.RED, "zero"),
    (-3, Level.RED, "zero"),          # oversold / backorder
])
def test_floor_and_zero_are_red_whatever_the_percentage(stock, level, reason):
    g = grade(stock, 20, T)
    assert (g.level, g.reason) == (level, reason)


def test_floor_disabled_leaves_zero_line():
    t = Thresholds(floor_units=0)
    assert grade(1, None, t).level is Level.NONE
    assert grade(0, None, t).level is Level.RED


@pytest.mark.parametrize("safety", [None, 0, -5])
def test_unknown_safety_stock_uses_absolute_lines_only(safety):
    assert grade(14, safety, T).level is Level.RED
    g = grade(16, safety, T)
    assert (g.level, g.basis, g.pct_of_safety) == (Level.NONE, "absolute_only", None)


def test_unknown_safety_stock_falls_back_to_configured_default():
    g = grade(40, None, Thresholds(default_safety_stock=100))
    assert (g.level, g.basis, g.safety_stock, g.pct_of_safety) == (Level.YELLOW, "default_safety_stock", 100, 40.0)


def test_overstock_above_max_units_and_max_pct():
    t = Thresholds(max_units=500)
    assert grade(500, 100, t).overstock is False
    assert grade(501, 100, t).overstock is True
    t = Thresholds(max_pct=300)
    assert grade(300, 100, t).overstock is False
    assert grade(301, 100, t).overstock is True
    assert grade(10_000, None, t).overstock is False   # no safety stock: % maximum cannot apply
    assert grade(10_000, 100, Thresholds()).overstock is False


def test_banded_grade_raises_lines_by_band():
    # yellow line 50 of 100; band 5 points -> 55
    assert grade(54, 100, T, banded=True).level is Level.YELLOW
    assert grade(55, 100, T, banded=True).level is Level.NONE
    # floor 15 + 2 units
    assert grade(16, None, T, banded=True).level is Level.RED
    assert grade(17, None, T, banded=True).level is Level.NONE
    # overstock line 500 lowered by 2 units to clear
    t = Thresholds(max_units=500)
    assert grade(499, 100, t, banded=True).overstock is True
    assert grade(498, 100, t, banded=True).overstock is False


def test_band_units_is_the_minimum_band_for_small_safety_stock():
    # 5 % of 20 is 1 unit, but band_units = 2 -> yellow line 10 clears at 12
    t = Thresholds(floor_units=0)
    assert grade(11, 20, t).level is Level.NONE
    assert grade(11, 20, t, banded=True).level is Level.YELLOW
    assert grade(12, 20, t, banded=True).level is Level.NONE


def test_fractional_percentages_compare_exactly():
    t = Thresholds(yellow_pct=50, orange_pct=30, red_pct=12.5, floor_units=0)
    assert grade(1, 8, t).level is Level.ORANGE   # exactly 12.5 %
    assert grade(49, 400, t).level is Level.RED   # 12.25 %


def test_override_precedence_global_then_abc_then_sku():
    cfg = ThresholdConfig(
        global_=Thresholds(),
        by_abc={"A": {"yellow_pct": 60, "floor_units": 20}},
        by_sku={"X": {"floor_units": 5, "max_units": None}},
    )
    x_a = cfg.resolve("X", "A")
    assert (x_a.yellow_pct, x_a.floor_units) == (60, 5)      # SKU beats class, class beats global
    y_a = cfg.resolve("Y", "a")                                # class names are case-insensitive
    assert (y_a.yellow_pct, y_a.floor_units) == (60, 20)
    assert (cfg.resolve("X", "B").yellow_pct, cfg.resolve("X", "B").floor_units) == (50, 5)
    assert cfg.resolve("Z").floor_units == 15
    # the resolved thresholds grade accordingly: 55 of 100 is yellow for class A only
    assert grade(55, 100, y_a).level is Level.YELLOW
    assert grade(55, 100, cfg.resolve("Z")).level is Level.NONE


def test_config_from_dict_and_validation():
    cfg = ThresholdConfig.from_dict({"global": {"floor_units": 10}, "abc": {"C": {"yellow_pct": 40}},
                                     "sku": {"S": {"red_pct": 5}}})
    t = cfg.resolve("S", "C")
    assert (t.floor_units, t.yellow_pct, t.red_pct) == (10, 40, 5)
    with pytest.raises(ValueError):
        Thresholds().merged({"yelow_pct": 40})
    with pytest.raises(ValueError):
        Thresholds(yellow_pct=20, orange_pct=30)


def test_level_parse_and_order():
    assert Level.parse("Red") is Level.RED
    assert Level.parse(2) is Level.ORANGE
    assert Level.NONE < Level.YELLOW < Level.ORANGE < Level.RED
    assert Level.ORANGE.label == "orange"
