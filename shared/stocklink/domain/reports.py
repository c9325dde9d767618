"""The reports' arithmetic and health bands (pure), over sums read from daily snapshots.

Inputs: one `SkuPeriod` per SKU (the running-sum difference over the period's snapshot days and the last
day's row, see domain.snapshots) and one `DayFigures` per snapshot day in the period. Each report returns
its summary (value, band, thresholds), its columns and every row in the report's own order (problems
first); paging is the caller's.

Health bands. The seed systems name the healthy line; the watch band beside it is StockLink's choice and
is returned with every answer (`thresholds`), so a reader sees where each line is:
  turnover       >= 6 / year healthy, 4-6 watch, < 4 problem (the seed's three bands)
  slow-movers    share of stocked SKUs selling < 5 units per 30 days: < 10 % healthy, 10-20 % watch
  stockouts      stock-out days / SKU-days of active SKUs: < 3 % healthy, 3-5 % watch
  oversell       oversold order lines / order lines: < 1 % healthy, 1-2 % watch
  sync-accuracy  listings found in sync / listings read back: >= 99 % healthy, 97-99 % watch
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

SLOW_UNITS_PER_30_DAYS = 5
FAST_TOP_SHARE = 0.20             # fast-movers' summary: share of units sold by the top 20 % of selling SKUs
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Thresholds:
    healthy: float
    watch: float
    higher_is_better: bool

    def band(self, value: float | None) -> str | None:
        if value is None:
            return None
        if self.higher_is_better:
            return "healthy" if value >= self.healthy else "watch" if value >= self.watch else "problem"
        return "healthy" if value < self.healthy else "watch" if value < self.watch else "problem"

    def as_dict(self) -> dict:
        if self.higher_is_better:
            return {"healthy_at_least": self.healthy, "watch_at_least": self.watch}
        return {"healthy_below": self.healthy, "watch_below": self.watch}


BANDS = {
    "turnover": Thresholds(6, 4, higher_is_better=True),
    "slow-movers": Thresholds(10, 20, higher_is_better=False),
    "stockouts": Thresholds(3, 5, higher_is_better=False),
    "oversell": Thresholds(1, 2, higher_is_better=False),
    "sync-accuracy": Thresholds(99, 97, higher_is_better=True),
}


@dataclass(frozen=True)
class SkuPeriod:
    sku: str
    sums: dict                 # domain.snapshots.SUMS over the period's snapshot days
    end: dict                  # the SKU's row on the period's last snapshot day


@dataclass(frozen=True)
class DayFigures:
    day: str
    order_lines: float = 0
    oversold_lines: float = 0
    listings_checked: float = 0
    listings_in_sync: float = 0
    warehouses: dict = field(default_factory=dict)    # warehouse id -> {"on_hand", "value"}


@dataclass(frozen=True)
class Report:
    value: float | None
    band: str | None
    thresholds: dict
    columns: list[dict]
    rows: list[dict]


def _r(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(x, places)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _pct(num: float, den: float) -> float | None:
    share = _ratio(num, den)
    return None if share is None else 100.0 * share


def _cols(*pairs: tuple[str, str]) -> list[dict]:
    return [{"key": k, "type": t} for k, t in pairs]


def _summary(name: str, value: float | None, columns: list[dict], rows: list[dict]) -> Report:
    t = BANDS.get(name)
    return Report(_r(value), t.band(value) if t else None, t.as_dict() if t else {}, columns, rows)


def _nulls_last(key: Callable[[dict], float | None], descending: bool = False):
    def sort_key(row: dict):
        v = key(row)
        return (v is None, 0 if v is None else (-v if descending else v), row.get("sku") or row.get("date") or "")
    return sort_key


# --- per-SKU reports --------------------------------------------------------------------------------

def turnover(skus: list[SkuPeriod], period_days: int) -> Report:
    """Cost of goods sold / average stock value, annualised (x 365 / days). Rows: slowest turning first."""
    rows, cogs_total, value_total = [], 0.0, 0.0
    for p in skus:
        avg_value = _ratio(p.sums["value"], period_days)
        turns = _ratio(p.sums["cogs"], avg_value or 0)
        annual = None if turns is None else turns * DAYS_PER_YEAR / period_days
        cogs_total += p.sums["cogs"]
        value_total += p.sums["value"]
        rows.append({"sku": p.sku, "units_sold": p.sums["sold"], "cogs": _r(p.sums["cogs"]),
                     "avg_stock_value": _r(avg_value), "turnover": _r(annual),
                     "band": BANDS["turnover"].band(annual)})
    rows.sort(key=_nulls_last(lambda r: r["turnover"]))
    avg_total = _ratio(value_total, period_days)
    value = None if not avg_total else cogs_total / avg_total * DAYS_PER_YEAR / period_days
    return _summary("turnover", value, _cols(("sku", "text"), ("units_sold", "int"), ("cogs", "money"),
                                             ("avg_stock_value", "money"), ("turnover", "number"),
                                             ("band", "text")), rows)


def days_of_supply(skus: list[SkuPeriod], period_days: int) -> Report:
    """Available units at the end / average daily units sold over the period. Rows: shortest supply first
    (no sales: no figure, listed last). Summary: the catalogue's available units / its daily sales."""
    rows, available_total, daily_total = [], 0.0, 0.0
    for p in skus:
        available = float(p.end.get("available") or 0)
        daily = _ratio(p.sums["sold"], period_days) or 0.0
        available_total += max(available, 0)
        daily_total += max(daily, 0)
        supply = available / daily if daily > 0 else None
        rows.append({"sku": p.sku, "available": available, "in_transit": float(p.end.get("in_transit") or 0),
                     "avg_daily_sales": _r(daily, 3), "days_of_supply": _r(supply, 1)})
    rows.sort(key=_nulls_last(lambda r: r["days_of_supply"]))
    value = available_total / daily_total if daily_total > 0 else None
    return _summary("days-of-supply", value, _cols(("sku", "text"), ("available", "int"), ("in_transit", "int"),
                                                   ("avg_daily_sales", "number"), ("days_of_supply", "number")),
                    rows)


def _per_30_days(p: SkuPeriod, period_days: int) -> float:
    return p.sums["sold"] * 30 / period_days


def slow_movers(skus: list[SkuPeriod], period_days: int) -> Report:
    """SKUs with stock at the end that sold fewer than 5 units per 30 days (none at all included).
    Summary: their share of the stocked SKUs (%). Rows: most stock value tied up first."""
    stocked = [p for p in skus if float(p.end.get("on_hand") or 0) > 0]
    rows = []
    for p in stocked:
        rate = _per_30_days(p, period_days)
        if rate < SLOW_UNITS_PER_30_DAYS:
            rows.append({"sku": p.sku, "on_hand": float(p.end.get("on_hand") or 0),
                         "stock_value": p.end.get("value"), "units_sold": p.sums["sold"],
                         "units_per_30_days": _r(rate)})
    rows.sort(key=_nulls_last(lambda r: r["stock_value"], descending=True))
    return _summary("slow-movers", _pct(len(rows), len(stocked)),
                    _cols(("sku", "text"), ("on_hand", "int"), ("stock_value", "money"), ("units_sold", "int"),
                          ("units_per_30_days", "number")), rows)


def fast_movers(skus: list[SkuPeriod], period_days: int) -> Report:
    """Selling SKUs, most units per 30 days first. Summary: the share of units sold by the top 20 % of
    them (%): how concentrated demand is."""
    selling = sorted((p for p in skus if p.sums["sold"] > 0), key=lambda p: (-p.sums["sold"], p.sku))
    rows = []
    for p in selling:
        daily = p.sums["sold"] / period_days
        available = float(p.end.get("available") or 0)
        rows.append({"sku": p.sku, "units_sold": p.sums["sold"], "units_per_30_days": _r(_per_30_days(p, period_days)),
                     "revenue": _r(p.sums["revenue"]), "available": available,
                     "days_of_supply": _r(available / daily, 1)})
    top = selling[:max(1, round(len(selling) * FAST_TOP_SHARE))] if selling else []
    value = _pct(sum(p.sums["sold"] for p in top), sum(p.sums["sold"] for p in selling))
    return _summary("fast-movers", value, _cols(("sku", "text"), ("units_sold", "int"),
                                                ("units_per_30_days", "number"), ("revenue", "money"),
                                                ("available", "int"), ("days_of_supply", "number")), rows)


def stockouts(skus: list[SkuPeriod], period_days: int) -> Report:
    """Stock-out days per SKU and the sales they probably cost: stock-out days x the average daily sales on
    the SKU's in-stock days. Only active SKUs count (stocked on some snapshot day, or sold something):
    a SKU never stocked is not out of stock, it is not carried. Summary: stock-out days / SKU-days (%)."""
    rows, out_days, sku_days = [], 0.0, 0.0
    for p in skus:
        s = p.sums
        if s["stocked_days"] <= 0 and s["sold"] <= 0:
            continue
        out_days += s["stockout_days"]
        sku_days += s["days"]
        if s["stockout_days"] <= 0:
            continue
        in_stock_daily = _ratio(s["instock_sold"], s["instock_days"])
        lost = None if in_stock_daily is None else s["stockout_days"] * in_stock_daily
        price = p.end.get("price")
        rows.append({"sku": p.sku, "stockout_days": s["stockout_days"], "days": s["days"],
                     "stockout_rate": _r(_pct(s["stockout_days"], s["days"])),
                     "avg_daily_sales_in_stock": _r(in_stock_daily, 3), "lost_sales_units": _r(lost),
                     "lost_sales_value": _r(None if lost is None or price is None else lost * price)})
    rows.sort(key=_nulls_last(lambda r: r["lost_sales_units"], descending=True))
    return _summary("stockouts", _pct(out_days, sku_days),
                    _cols(("sku", "text"), ("stockout_days", "int"), ("days", "int"), ("stockout_rate", "percent"),
                          ("avg_daily_sales_in_stock", "number"), ("lost_sales_units", "number"),
                          ("lost_sales_value", "money")), rows)


def abc(skus: list[SkuPeriod], period_days: int) -> Report:
    """A/B/C by cumulative revenue over the period (A up to 80 %, B up to 95 %, no revenue: C; the
    forecasting's rule, forecasting.abc). Rows: one per class. Summary: the share of stock value held in
    C SKUs (%), what the distribution is usually read for."""
    from stocklink.forecasting.abc import abc_classes   # numpy: only this report needs it

    ordered = sorted(skus, key=lambda p: p.sku)
    classes = list(abc_classes([p.sums["revenue"] for p in ordered])) if ordered else []
    totals = {c: {"skus": 0, "revenue": 0.0, "value": 0.0} for c in "ABC"}
    for p, c in zip(ordered, classes):
        totals[c]["skus"] += 1
        totals[c]["revenue"] += p.sums["revenue"]
        totals[c]["value"] += float(p.end.get("value") or 0)
    n = len(ordered)
    revenue = sum(t["revenue"] for t in totals.values())
    value = sum(t["value"] for t in totals.values())
    rows = [{"class": c, "skus": t["skus"], "sku_share": _r(_pct(t["skus"], n)), "revenue": _r(t["revenue"]),
             "revenue_share": _r(_pct(t["revenue"], revenue)), "stock_value": _r(t["value"]),
             "value_share": _r(_pct(t["value"], value))} for c, t in totals.items()]
    return _summary("abc", _pct(totals["C"]["value"], value) if n else None,
                    _cols(("class", "text"), ("skus", "int"), ("sku_share", "percent"), ("revenue", "money"),
                          ("revenue_share", "percent"), ("stock_value", "money"), ("value_share", "percent")), rows)


# --- per-day and per-warehouse reports ------------------------------------------------------------

def oversell(days: list[DayFigures]) -> Report:
    """Oversold order lines / order lines (paid lines + oversold ones), per day; summary over the period."""
    rows = []
    for d in days:
        orders = d.order_lines + d.oversold_lines
        rows.append({"date": d.day, "order_lines": d.order_lines, "oversold_lines": d.oversold_lines,
                     "oversell_rate": _r(_pct(d.oversold_lines, orders), 3)})
    oversold = sum(d.oversold_lines for d in days)
    return _summary("oversell", _pct(oversold, sum(d.order_lines for d in days) + oversold),
                    _cols(("date", "date"), ("order_lines", "int"), ("oversold_lines", "int"),
                          ("oversell_rate", "percent")), rows)


def sync_accuracy(days: list[DayFigures]) -> Report:
    """Listings reconciliation found in sync / listings it read back, per day; summary over the period."""
    rows = [{"date": d.day, "listings_checked": d.listings_checked, "in_sync": d.listings_in_sync,
             "accuracy": _r(_pct(d.listings_in_sync, d.listings_checked), 3)} for d in days]
    value = _pct(sum(d.listings_in_sync for d in days), sum(d.listings_checked for d in days))
    return _summary("sync-accuracy", value, _cols(("date", "date"), ("listings_checked", "int"), ("in_sync", "int"),
                                                  ("accuracy", "percent")), rows)


def stock_value(days: list[DayFigures]) -> Report:
    """Stock value per warehouse: at the period's last snapshot and averaged over its snapshot days, and the
    warehouse's share of the end value. Summary: the end value over every warehouse."""
    end = days[-1].warehouses if days else {}
    sums: dict[str, float] = {}
    for d in days:
        for wh, figures in d.warehouses.items():
            sums[wh] = sums.get(wh, 0.0) + float(figures.get("value") or 0)
    total = sum(float(f.get("value") or 0) for f in end.values())
    rows = []
    for wh in sorted(set(end) | set(sums)):
        value = float(end.get(wh, {}).get("value") or 0)
        rows.append({"warehouse_id": wh, "on_hand": float(end.get(wh, {}).get("on_hand") or 0),
                     "stock_value": _r(value), "avg_stock_value": _r(sums.get(wh, 0.0) / len(days)),
                     "share": _r(_pct(value, total))})
    rows.sort(key=lambda r: (-r["stock_value"], r["warehouse_id"]))
    return _summary("stock-value", total if days else None,
                    _cols(("warehouse_id", "text"), ("on_hand", "int"), ("stock_value", "money"),
                          ("avg_stock_value", "money"), ("share", "percent")), rows)


SKU_REPORTS: dict[str, Callable[[list[SkuPeriod], int], Report]] = {
    "turnover": turnover, "days-of-supply": days_of_supply, "slow-movers": slow_movers,
    "fast-movers": fast_movers, "stockouts": stockouts, "abc": abc,
}
DAY_REPORTS: dict[str, Callable[[list[DayFigures]], Report]] = {
    "oversell": oversell, "sync-accuracy": sync_accuracy, "stock-value": stock_value,
}
TITLES = {
    "turnover": ("Inventory turnover", "库存周转率"),
    "days-of-supply": ("Days of supply", "库存可售天数"),
    "slow-movers": ("Slow movers", "滞销品"),
    "fast-movers": ("Fast movers", "畅销品"),
    "stockouts": ("Stock-outs and lost sales", "缺货率与缺货损失"),
    "oversell": ("Oversell rate", "超卖率"),
    "sync-accuracy": ("Sync accuracy", "库存同步准确率"),
    "stock-value": ("Stock value per warehouse", "各仓库存金额"),
    "abc": ("ABC distribution", "ABC 分类分布"),
}
