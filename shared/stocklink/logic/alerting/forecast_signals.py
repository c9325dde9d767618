"""Forecast events -> observations, and the latest forecast's demand figures that enrich a low-stock
message. Published by stocklink.logic.forecasting_service after each daily (or on-demand) run; it
publishes only positives (at risk, slow), so those alerts clear on the tick (grading.POLICY_OVERRIDES).
Reading the forecast is enrichment only: when it fails, the alert goes out without the demand figures."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Mapping

from stocklink.alerts import rules
from stocklink.alerts.levels import Level
from stocklink.alerts.state import Observation
from stocklink.observability import logger


def _forecast_result(sku: str) -> dict | None:
    from stocklink.store import sales_models
    try:
        return sales_models.get_result(sku)
    except Exception:  # noqa: BLE001 - enrichment only: the alert goes out without the demand figures
        logger.exception("alerts: could not read the forecast of %s", sku)
        return None


def _daily_demand(result: Mapping[str, Any] | None, days: float = 7) -> float | None:
    forecast = [float(x) for x in (result or {}).get("forecast") or []]
    n = max(1, min(len(forecast), int(round(days))))
    return sum(forecast[:n]) / n if forecast else None


def forecast_plan(sku: str) -> dict[str, Any]:
    """{daily_sales, suggested_order_qty} from the SKU's latest forecast, or {} before the first run."""
    result = _forecast_result(sku)
    out: dict[str, Any] = {}
    daily = _daily_demand(result)
    if daily:
        out["daily_sales"] = round(daily, 2)
    if result and int(result.get("suggested_order_qty") or 0) > 0:
        out["suggested_order_qty"] = int(result["suggested_order_qty"])
    return out


def stockout_observations(detail: Mapping[str, Any], at: int) -> list[Observation]:
    """FORECAST_STOCKOUT_RISK {sku, run_id, as_of, abc_class, stockout_date, lead_time_days, available,
    suggested_order_qty}: days of cover = stockout date - as_of; orange within the lead time (the
    forecaster's own flag, inclusive), red within half of it."""
    if not detail.get("stockout_date"):
        return []
    as_of = dt.date.fromisoformat(str(detail["as_of"])[:10])
    days = max(0, (dt.date.fromisoformat(str(detail["stockout_date"])[:10]) - as_of).days)
    obs = rules.from_stockout_forecast({**detail, "days_to_stockout": days}, at)
    level = max(obs.level, Level.ORANGE)   # the event says: within the lead time
    facts = {**obs.facts, "days_of_cover": days, "stockout_date": detail["stockout_date"], "as_of": str(as_of)}
    for name in ("available", "run_id"):
        if detail.get(name) is not None:
            facts[name] = detail[name]
    daily = _daily_demand(_forecast_result(detail["sku"]), float(detail.get("lead_time_days") or 7))
    if daily:
        facts["daily_sales"] = round(daily, 2)
    return [replace(obs, level=level, clear_level=max(obs.clear_level or level, level), facts=facts)]


def burst_observation(detail: Mapping[str, Any], at: int) -> Observation:
    """FORECAST_BURST {sku, run_id, as_of, abc_class, burst_tail_prob}: observed = that day's sales
    counter, expected = the forecast's next-day level."""
    from stocklink.store import sales_models
    sku, day = detail["sku"], str(detail.get("as_of") or "")[:10]
    data: dict[str, Any] = {"sku": sku, "abc_class": detail.get("abc_class"),
                            "tail_probability": detail.get("burst_tail_prob")}
    try:
        sold = sales_models.daily_sales(sku, day, day) if day else []
        if sold:
            data["observed"] = int(round(sum(q for _, q in sold)))
    except Exception:  # noqa: BLE001 - enrichment only
        logger.exception("alerts: could not read the sales of %s", sku)
    expected = _daily_demand(_forecast_result(sku), 1)
    if expected is not None:
        data["expected"] = round(expected, 1)
    return rules.from_demand_burst(data, at)


def slow_mover_observation(detail: Mapping[str, Any], at: int) -> Observation:
    """FORECAST_SLOW_MOVER {sku, run_id, as_of, abc_class, demand_probability, days_since_last_sale,
    inventory_position}."""
    obs = rules.from_slow_mover({"sku": detail["sku"], "slow": True, "abc_class": detail.get("abc_class"),
                                 "days_since_last_sale": detail.get("days_since_last_sale"),
                                 "on_hand": detail.get("inventory_position")}, at)
    if detail.get("demand_probability") is not None:
        obs = replace(obs, facts={**obs.facts, "demand_probability": detail["demand_probability"]})
    return obs
