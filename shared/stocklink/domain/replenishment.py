"""What a purchase suggestion costs and whom it goes to. Pure: no I/O, no clock.

A suggestion is stored by the forecast run; the supplier terms and the SKU's cost are read when the list is
shown, so a supplier named (or a cost set) after the run still shows. The unit cost of the suggested quantity:
  1. the run's price-break price for that quantity (what the engine weighed when it rounded the order);
  2. else the supplier's current price breaks at that quantity (breaks set after the run);
  3. else the SKU's own unit cost (PUT /skus/{sku} unit_cost);
  4. else none: the order's cost is unknown (null), never 0.
"""
from __future__ import annotations

from typing import Any, Mapping

from stocklink.forecasting.price_breaks import price_at

TERMS = ("lead_time_days", "lead_time_std_days", "review_period_days", "moq", "case_pack", "price_breaks")


def unit_cost(qty: int, run_price: float | None, supplier: Mapping[str, Any] | None,
              sku: Mapping[str, Any] | None) -> tuple[float | None, str | None]:
    """(unit cost, where it came from: "price_break" | "sku" | None) for an order of `qty`."""
    if run_price is not None:
        return float(run_price), "price_break"
    breaks = [(int(b["min_qty"]), float(b["unit_cost"])) for b in (supplier or {}).get("price_breaks") or []]
    if breaks:
        return price_at(qty, breaks), "price_break"
    cost = (sku or {}).get("unit_cost")
    if cost is not None:
        return float(cost), "sku"
    return None, None


def with_supplier(suggestion: Mapping[str, Any], supplier: Mapping[str, Any] | None,
                  sku: Mapping[str, Any] | None) -> dict:
    """The suggestion with `supplier` (name or None), `supplier_terms` (None without settings), `unit_cost`,
    `unit_cost_source` and `order_cost` = suggested quantity × unit cost (None without a cost)."""
    qty = int(suggestion.get("suggested_order_qty") or 0)
    cost, source = unit_cost(qty, suggestion.get("order_unit_cost"), supplier, sku)
    return {
        **suggestion,
        "supplier": (supplier or {}).get("supplier") or None,
        "supplier_terms": None if supplier is None else {k: supplier[k] for k in TERMS if k in supplier},
        "unit_cost": cost,
        "unit_cost_source": source,
        "order_cost": None if cost is None else round(qty * cost, 2),
    }
