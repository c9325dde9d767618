"""Stock level grading against safety stock, with thresholds resolved global -> ABC class -> SKU.

Lines (defaults from the alerts issue), each "strictly below" so that exactly 50 % is still fine:
  yellow  stock <  50 % of safety stock
  orange  stock <  30 %
  red     stock <  10 %, or stock < floor_units (default 15, TikTok Shop's low-stock line), or stock <= 0
  overstock  stock > max_units, or stock > max_pct % of safety stock (both off by default)

Unknown safety stock (None or <= 0, e.g. before forecasting has run): the percentage lines cannot be
drawn, so grading falls back to `default_safety_stock` when the thresholds set one, and otherwise only
the absolute lines apply: zero and the floor give red, anything else grades NONE (never yellow/orange
by guesswork), and overstock only by `max_units`. `Grade.basis` says which case applied.

Hysteresis: `grade(..., banded=True)` grades against lines raised by the band (percentage lines by
`band_pct` points of safety stock, at least `band_units`; floor and zero by `band_units`; the overstock
line lowered by `band_units`). The state machine only lets a held level fall to the banded grade, so a
stock oscillating by a unit or two around a line does not flap.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import IntEnum
from fractions import Fraction
from typing import Any, Mapping


class Level(IntEnum):
    """Ordered so that `max()` and `>` mean 'worse'."""

    NONE = 0
    YELLOW = 1
    ORANGE = 2
    RED = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @staticmethod
    def parse(value: "str | int | Level") -> "Level":
        if isinstance(value, Level):
            return value
        if isinstance(value, int):
            return Level(value)
        return Level[value.upper()]


@dataclass(frozen=True)
class Thresholds:
    yellow_pct: float = 50
    orange_pct: float = 30
    red_pct: float = 10
    floor_units: int = 15            # 0 disables the floor
    max_units: int | None = None     # overstock above this many units
    max_pct: float | None = None     # overstock above this % of safety stock
    default_safety_stock: int | None = None  # used when the SKU has none yet
    band_pct: float = 5              # hysteresis, percentage points of safety stock
    band_units: int = 2              # hysteresis, units (minimum for percentage lines too)

    def __post_init__(self):
        if not (self.yellow_pct >= self.orange_pct >= self.red_pct >= 0):
            raise ValueError("thresholds must satisfy yellow_pct >= orange_pct >= red_pct >= 0")
        if self.floor_units < 0 or self.band_units < 0 or self.band_pct < 0:
            raise ValueError("floor and hysteresis band must be >= 0")

    def merged(self, override: Mapping[str, Any] | None) -> "Thresholds":
        """These thresholds with the keys present in `override` replaced (None values are skipped,
        so a sparse per-SKU record only changes what it names)."""
        if not override:
            return self
        known = {f.name for f in fields(self)}
        unknown = set(override) - known
        if unknown:
            raise ValueError(f"unknown threshold keys: {sorted(unknown)}")
        return replace(self, **{k: v for k, v in override.items() if v is not None})


@dataclass(frozen=True)
class ThresholdConfig:
    """Global defaults, then per-ABC-class overrides, then per-SKU overrides (most specific wins,
    key by key). Overrides are sparse dicts of `Thresholds` field names."""

    global_: Thresholds = Thresholds()
    by_abc: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    by_sku: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def resolve(self, sku: str, abc_class: str | None = None) -> Thresholds:
        t = self.global_
        if abc_class:
            t = t.merged(self.by_abc.get(abc_class.upper()) or self.by_abc.get(abc_class))
        t = t.merged(self.by_sku.get(sku))
        return t

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "ThresholdConfig":
        """From stored config: {"global": {...}, "abc": {"A": {...}}, "sku": {"SKU-1": {...}}}."""
        return ThresholdConfig(
            global_=Thresholds().merged(data.get("global")),
            by_abc=dict(data.get("abc") or {}),
            by_sku=dict(data.get("sku") or {}),
        )


@dataclass(frozen=True)
class Grade:
    level: Level
    overstock: bool
    reason: str              # zero | below_floor | below_red_pct | below_orange_pct | below_yellow_pct | ok
    basis: str               # safety_stock | default_safety_stock | absolute_only
    safety_stock: int | None  # the safety stock actually used (None when absolute_only)
    pct_of_safety: float | None  # stock as % of that safety stock, for messages


def _frac(x: float | int) -> Fraction:
    # via str so that 12.5 or 0.3 compare exactly as written in config
    return Fraction(str(x))


def grade(stock: int, safety_stock: int | None, thresholds: Thresholds = Thresholds(), *,
          banded: bool = False) -> Grade:
    t = thresholds
    units_band = t.band_units if banded else 0
    ss: int | None
    if safety_stock is not None and safety_stock > 0:
        ss, basis = safety_stock, "safety_stock"
    elif t.default_safety_stock:
        ss, basis = t.default_safety_stock, "default_safety_stock"
    else:
        ss, basis = None, "absolute_only"

    s = Fraction(stock)

    def below_pct(pct: float) -> bool:
        line = _frac(pct) * ss / 100
        if banded:
            line += max(_frac(t.band_pct) * ss / 100, Fraction(t.band_units))
        return s < line

    # zero is "at or below 0", i.e. below 1 for integer stock
    if s < 1 + units_band:
        level, reason = Level.RED, "zero"
    elif t.floor_units and s < t.floor_units + units_band:
        level, reason = Level.RED, "below_floor"
    elif ss is not None and below_pct(t.red_pct):
        level, reason = Level.RED, "below_red_pct"
    elif ss is not None and below_pct(t.orange_pct):
        level, reason = Level.ORANGE, "below_orange_pct"
    elif ss is not None and below_pct(t.yellow_pct):
        level, reason = Level.YELLOW, "below_yellow_pct"
    else:
        level, reason = Level.NONE, "ok"

    over = False
    if t.max_units is not None and s > t.max_units - units_band:
        over = True
    if ss is not None and t.max_pct is not None and s > _frac(t.max_pct) * ss / 100 - units_band:
        over = True

    pct = float(s * 100 / ss) if ss else None
    return Grade(level, over, reason, basis, ss, pct)
