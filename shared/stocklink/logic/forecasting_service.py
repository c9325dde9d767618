"""Forecast runs: daily sales counters + stock + each SKU's supplier terms → forecasting engine → stored results,
replenishment suggestions sorted by urgency, and forecast.* events for the alerts function.

A run pages over the catalog's SKUs (`page_size` per engine call); its cursor is stored after every page,
so a run cut short (Lambda time limit) continues where it stopped when invoked again with its run id.
It has three phases. "abc", the first pass, reads every SKU's history as the forecast will (its counters,
stock facts, history start) and keeps, per page, its revenue over the last `abc_days` (ABC#<run>) and the
page's group statistics (engine.group_stats: season sums per category and demand band, 28-day levels,
yearly reference sums, and its SKUs that choose with their group; GROUPS#<run>); at its end they become
catalogue-wide ABC cut points, the catalogue's group statistics and a plan of pages holding each choice
group whole. "forecast" then runs the engine page by page over the catalogue, less the planned SKUs, and
"grouped" over the plan's pages, all with those classes and statistics: neither a SKU's class (and its
service level) nor the week, level and year a new SKU borrows from its category, nor the peers it chooses
its method with, depend on which 200 SKUs it happened to share a page with.

Why a first pass of sums, and pages by group only for the SKUs that choose together: a category can hold
thousands of SKUs, so pages formed by category would outgrow a Lambda invocation (200 SKUs a page keep each
page's reads and fit within seconds and make the run resumable); the pass costs reads the run did anyway for
ABC (the 730-day history instead of 365 days, plus the stock facts and listings: the same reads as a
forecast page) and ~26 ms CPU a page (tests/bench/forecast_speed.py), and sums of pages add up exactly.
Choices cannot be summed ahead (they need fitted errors, which need the catalogue's profiles first), but the
SKUs making them are few (history < 56 days, slow movers < 112) and their pages cheap (short histories);
a choice group larger than a page chooses within pages of 200 of its SKUs.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from typing import TYPE_CHECKING, Callable

from stocklink import bus, events
from stocklink.domain import replenishment
from stocklink.domain.board import PlanFacts
from stocklink.errors import NotFound, ValidationFailed
from stocklink.logic import purchasing, sales_history, suppliers
from stocklink.logic.paging import PageRequest
from stocklink.store import catalog as catalog_store
from stocklink.store import sales_models as store
from stocklink.store.paging import BadCursor

if TYPE_CHECKING:
    from stocklink.forecasting import engine

# The numpy engine is imported by the functions that run it (the forecast function loads it at cold start):
# forecast_api's views and replenishment list never need numpy (tests/bench/cold_import.py).

FORECAST_REQUESTED = events.FORECAST_REQUESTED
STOCKOUT_RISK, BURST, SLOW_MOVER = events.FORECAST_SIGNALS
HISTORY_DAYS = 730
PAGE_SIZE = 200
VIEW_HISTORY_DAYS = 90        # GET /forecasts/{sku}: days of sales history before the forecast, by default
MAX_VIEW_HISTORY_DAYS = 400


# --- planning parameters (a SKU's buying terms: stocklink.logic.suppliers.terms_for) ----------------------

def sku_params(sku: str, catalog: dict, supplier: dict | None, available: float, in_transit: float,
               abc_class: str | None = None, incoming: list | None = None,
               as_of: dt.date | None = None, presold: float = 0.0) -> engine.SkuParams:
    from stocklink.forecasting import engine

    s = supplier or {}
    lead = float(s.get("lead_time_days", 7.0))
    arrivals = _arrivals(incoming or [], in_transit, lead, as_of, presold)
    return engine.SkuParams(
        sku, available=max(available, 0.0), in_transit=arrivals, lead_time_days=lead,
        lead_time_std_days=float(s.get("lead_time_std_days", 0.0)),
        review_period_days=float(s.get("review_period_days", 7.0)), moq=int(s.get("moq", 1)),
        case_pack=int(s.get("case_pack", 1)),
        price_breaks=tuple((int(b["min_qty"]), float(b["unit_cost"])) for b in s.get("price_breaks", [])),
        unit_price=float(catalog.get("price") or 0.0), service_level=s.get("service_level"),
        abc_class=abc_class)


def _arrivals(incoming: list, in_transit: float, lead: float, as_of: dt.date | None,
              presold: float = 0.0) -> tuple:
    """(day offset from as_of, qty) of what will arrive: shipped units on their ETA, units on order on their
    promised date (both count in the inventory position, so nothing already ordered is suggested again).
    In-transit units no shipment accounts for, and an arrival without a date (or one already due), are
    assumed one lead time away: conservative, they never hide a stock-out that happens before that.
    `presold` units in transit are sold already (presale): they leave the earliest shipped arrivals."""
    lead_days = math.ceil(lead)
    arrivals, shipped = [], 0.0
    for arriving in incoming:
        if arriving.shipped:
            shipped += arriving.qty
        day = (arriving.eta - as_of).days if arriving.eta and as_of else None
        arrivals.append([day if day is not None and day > 0 else lead_days, float(arriving.qty), arriving.shipped])
    unexplained = in_transit - shipped
    if unexplained > 0:
        arrivals.append([lead_days, unexplained, True])
    left = max(0.0, presold)
    for entry in sorted((a for a in arrivals if a[2]), key=lambda a: a[0]):
        taken = min(left, entry[1])
        entry[1] -= taken
        left -= taken
    return tuple((day, qty) for day, qty, _ in arrivals if qty > 0)


# --- runs ----------------------------------------------------------------------------------------

def as_of_for(now_ms: int) -> dt.date:
    """The last complete UTC day."""
    return dt.date.fromisoformat(sales_history.day_of(now_ms)) - dt.timedelta(days=1)


def request_run(now_ms: int, requested_by: str) -> dict:
    """On demand: record the run and ask the forecast function for it on the bus."""
    run_id = f"manual-{now_ms}-{uuid.uuid4().hex[:6]}"
    run = _new_run(run_id, now_ms, requested_by)
    store.put_run(run_id, run, now_ms)
    if bus.publish(FORECAST_REQUESTED, [{"run_id": run_id}]):
        raise ValidationFailed("could not queue the forecast run; try again")
    return run


def daily_run_id(now_ms: int) -> str:
    return f"daily-{as_of_for(now_ms).isoformat()}"


def run(run_id: str, now_ms: int, *, page_size: int = PAGE_SIZE,
        has_time: Callable[[], bool] = lambda: True, config: engine.EngineConfig | None = None) -> dict:
    """Run (or continue) `run_id` page by page while `has_time()`; returns the run state."""
    from stocklink.forecasting import engine, pooled

    state = store.get_run(run_id) or _new_run(run_id, now_ms, "schedule")
    if state["status"] == "done":
        return state
    state["status"] = "running"
    as_of = dt.date.fromisoformat(state["as_of"])
    abc_days = (config or engine.EngineConfig()).abc_days
    while state.get("phase") == "abc":
        page, next_cursor = store.catalog_sku_page(state["cursor"], page_size)
        revenue, groups = first_pass_page(page, as_of, abc_days, config)
        store.put_abc_page(run_id, state["abc_pages"], revenue, now_ms)
        if groups is not None:
            store.put_group_stats(run_id, f"page-{state['abc_pages']:06d}", groups, now_ms)
        state["abc_pages"] += 1
        state["cursor"] = next_cursor
        if next_cursor is None:
            _end_first_pass(run_id, state, page_size, now_ms)
        store.put_run(run_id, state, now_ms)
        if state["phase"] == "abc" and not has_time():
            return state
    # once per invocation: the catalogue's group statistics (none for a run started before they existed) and
    # the SKUs the plan forecasts in its own pages, by group
    blob = store.group_stats(run_id, "all#").get("all")
    group_stats = pooled.GroupStats.from_bytes(blob) if blob else None
    plan = store.plan_pages(run_id)
    planned = {sku for skus in plan for sku in skus}
    while state["phase"] == "forecast":
        page, next_cursor = store.catalog_sku_page(state["cursor"], page_size)
        page = {sku: item for sku, item in page.items() if sku not in planned}
        if page:
            _add_counts(state, forecast_page(run_id, page, as_of, now_ms, config, state.get("abc_cuts"),
                                             group_stats=group_stats))
        state["pages"] += 1
        state["cursor"] = next_cursor
        if next_cursor is None:
            state["phase"] = "grouped"
        store.put_run(run_id, state, now_ms)
        if state["phase"] == "forecast" and not has_time():
            return state
    while state.get("grouped_page", 0) < len(plan):
        page = catalog_store.skus_now(plan[state.get("grouped_page", 0)])   # a SKU deleted since: gone
        if page:
            _add_counts(state, forecast_page(run_id, page, as_of, now_ms, config, state.get("abc_cuts"),
                                             group_stats=group_stats))
        state["grouped_page"] = state.get("grouped_page", 0) + 1
        state["pages"] += 1
        store.put_run(run_id, state, now_ms)
        if state["grouped_page"] < len(plan) and not has_time():
            return state
    state["status"] = "done"
    state["finished_at"] = now_ms
    store.put_run(run_id, state, now_ms)
    store.set_latest_run(run_id, now_ms)
    # the daily run also says which purchase orders are late (alerts clear when it stops saying so)
    purchasing.publish_late(as_of + dt.timedelta(days=1))
    return state


def _end_first_pass(run_id: str, state: dict, page_size: int, now_ms: int) -> None:
    """After the first pass's last page: the catalogue-wide ABC cut points, the catalogue's group statistics
    (every page's merged) and the plan of pages for the SKUs that choose with their group."""
    from stocklink.forecasting import abc as abc_mod
    from stocklink.forecasting import pooled

    revenue = {}
    for part in store.abc_pages(run_id):
        revenue.update(part)
    state["abc_cuts"] = abc_mod.cut_points(revenue)
    merged = pooled.GroupStats.merge_all(pooled.GroupStats.from_bytes(b)
                                         for b in store.group_stats(run_id, "page-").values())
    store.put_plan_pages(run_id, pooled.group_pages(merged.choosers, page_size), now_ms)
    store.put_group_stats(run_id, "all", merged.finalised().to_bytes(), now_ms)
    state["phase"] = "forecast"
    state["cursor"] = None


def _add_counts(state: dict, counts: dict) -> None:
    from stocklink.forecasting import engine

    state["bias_by_class"] = engine.merge_bias(state.get("bias_by_class") or {}, counts.pop("bias_by_class"))
    for k, v in counts.items():
        state[k] = state.get(k, 0) + v


def _new_run(run_id: str, now_ms: int, requested_by: str) -> dict:
    return {"run_id": run_id, "status": "queued", "as_of": as_of_for(now_ms).isoformat(), "cursor": None,
            "phase": "abc", "abc_pages": 0, "abc_cuts": None, "pages": 0, "skus": 0, "suggestions": 0, "events": 0, "requested_by": requested_by,
            "started_at": now_ms}


def _price(item: dict) -> float:
    return float((item or {}).get("price") or 0.0)


def window_revenue(rows, price: float, as_of: dt.date, days: int) -> float:
    """Net units sold over the `days` days ending on as_of, times price. math.fsum: the same value
    bit for bit whichever pass (revenue page or forecast page) computes it."""
    first = as_of - dt.timedelta(days=days - 1)
    return math.fsum(qty for _, day, qty in rows if first <= day <= as_of) * price


def first_pass_page(catalog: dict[str, dict], as_of: dt.date, abc_days: int,
                    config: engine.EngineConfig | None = None) -> tuple[dict[str, float], bytes | None]:
    """One page of a run's first pass: each SKU's revenue over `abc_days` and the page's group statistics
    (engine.group_stats of the history the forecast page will read; None for an empty page)."""
    from stocklink.forecasting import engine

    if not catalog:
        return {}, None
    hist, revenue, _ = page_history(catalog, as_of, abc_days)
    return revenue, engine.group_stats(hist, config).to_bytes()


def page_history(catalog: dict[str, dict], as_of: dt.date, abc_days: int):
    """(engine.History, revenue over abc_days by SKU, stock facts by SKU) of a page of SKUs: their daily
    counters over HISTORY_DAYS, days out of stock, history starts (history_start) and categories."""
    from stocklink.forecasting import engine

    skus = sorted(catalog)
    first = as_of - dt.timedelta(days=HISTORY_DAYS - 1)
    rows, revenue, stockouts, first_seen = [], {}, [], {}
    stock = {sku: store.stock_facts(sku) for sku in skus}
    listed = catalog_store.first_listed(skus)
    for sku in skus:
        counters = sales_history.history_counters(sku, first, as_of)
        history = [(sku, day, qty) for day, qty, _ in counters]
        stockouts.extend((sku, day) for day, _, out in counters if out)
        revenue[sku] = window_revenue(history, _price(catalog[sku]), as_of, abc_days)
        rows.extend(history or [(sku, as_of, 0.0)])  # no sales yet: one zero day so it is still planned
        start = history_start(catalog[sku], stock[sku][3], counters, listed.get(sku))
        if start is not None:
            first_seen[sku] = min(start, as_of)
    groups = {"category": {sku: (catalog[sku] or {}).get("category") or "" for sku in skus}}
    hist = engine.History.from_rows(rows, as_of=as_of, max_days=HISTORY_DAYS, first_seen=first_seen,
                                    stockouts=stockouts, groups=groups)
    return hist, revenue, stock


def forecast_page(run_id: str, catalog: dict[str, dict], as_of: dt.date, now_ms: int,
                  config: engine.EngineConfig | None = None, abc_cuts: dict | None = None,
                  group_stats=None) -> dict:
    """Forecast one page. abc_cuts (from the run's revenue pass): catalogue-wide ABC classes; without
    them the classes are ranked within the page. group_stats (pooled.GroupStats, the first pass's): the
    catalogue's groups; without them a SKU borrows from its page's."""
    from stocklink.forecasting import abc as abc_mod
    from stocklink.forecasting import engine

    skus = sorted(catalog)
    abc_days = (config or engine.EngineConfig()).abc_days
    hist, revenue, stock = page_history(catalog, as_of, abc_days)
    classes = abc_mod.classes_from_cuts(revenue, abc_cuts) if abc_cuts else {}
    suppliers.migrate_legacy(skus, now_ms)      # old named settings become supplier records as the run passes
    terms = suppliers.terms_for(skus)
    arriving = purchasing.incoming()
    params = {}
    for sku in skus:
        available, in_transit, presold, _ = stock[sku]
        params[sku] = sku_params(sku, catalog[sku], terms.get(sku), available, in_transit,
                                 abc_class=classes.get(sku), incoming=arriving.get(sku), as_of=as_of,
                                 presold=presold)
    results = [r.to_dict() for r in engine.run(hist, params, config, group_stats=group_stats)]
    suggestions, signals = [], {STOCKOUT_RISK: [], BURST: [], SLOW_MOVER: []}
    for r in results:
        p = params[r["sku"]]
        r["run_id"] = run_id
        r["lead_time_days"] = p.lead_time_days
        r["stockout_within_lead_time"] = _within_lead_time(r, as_of, p.lead_time_days)
        base = {"sku": r["sku"], "run_id": run_id, "as_of": r["as_of"], "abc_class": r["abc_class"]}
        if r["stockout_within_lead_time"] or r["suggested_order_qty"] > 0:
            key = store.suggestion_sk(r["stockout_within_lead_time"], r["stockout_date"], r["sku"])
            suggestions.append((run_id, key, _suggestion(r)))
        if r["stockout_within_lead_time"]:
            signals[STOCKOUT_RISK].append({**base, "stockout_date": r["stockout_date"],
                                          "lead_time_days": p.lead_time_days,
                                          "available": p.available, "suggested_order_qty": r["suggested_order_qty"]})
        if r["burst"]:
            signals[BURST].append({**base, "burst_tail_prob": r["burst_tail_prob"]})
        if r["slow_mover"]:
            signals[SLOW_MOVER].append({**base, "demand_probability": r["demand_probability"],
                                       "days_since_last_sale": r["days_since_last_sale"],
                                       "inventory_position": r["inventory_position"]})
    store.put_results(results, suggestions, now_ms, plans={r["sku"]: plan_facts(r) for r in results})
    failed = sum(bus.publish(kind, details) for kind, details in signals.items() if details)
    return {"skus": len(results), "suggestions": len(suggestions),
            "events": sum(len(d) for d in signals.values()) - failed, "bias_by_class": engine.bias_by_class(results)}


def history_start(item: dict | None, first_stocked_ms: int | None, counters: list,
                  first_listed_ms: int | None = None) -> dt.date | None:
    """When a SKU's demand history starts: from then on a day without sales is a day of zero demand.

    A SKU can be bought once it is both stocked and listed, so its start is the later of the day it was
    first stocked (its oldest ledger entry: a receipt, an import or an adjustment) and the day it was
    first listed (the earliest listed_at of its listings), of those known; an explicit `launch_date` in its
    catalogue record (the import's) replaces both. But never after its first counter (a sale, or a day
    marked out of stock): a SKU that sold was available, whatever the records say (sales imported from
    before StockLink stocked it, a listing written before listed_at existed). Not its first sale: a SKU on
    the shelf for two weeks before it first sold has a demand of 2 in 21 days, not 2 in 7; nor its first
    receipt when it was listed later: zeros while nobody could buy it are not demand.
    None: nothing known (the engine starts it at its first row)."""
    launch = (item or {}).get("launch_date")
    available = None
    if isinstance(launch, str):
        try:
            available = dt.date.fromisoformat(launch)
        except ValueError:
            available = None
    if available is None:
        known = [dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).date()
                 for ms in (first_stocked_ms, first_listed_ms) if ms is not None]
        available = max(known) if known else None
    days = [day for day, _, _ in counters[:1]] + ([available] if available else [])
    return min(days) if days else None


def plan_facts(result: dict) -> dict:
    """What the stock board keeps of a result: daily demand, safety stock, ABC class (short keys: 10,000
    SKUs are read in one Query)."""
    facts = PlanFacts.from_result(result)
    return {"d": None if facts.daily_demand is None else round(facts.daily_demand, 4),
            "ss": None if facts.safety_stock is None else round(facts.safety_stock, 3), "abc": facts.abc}


def _within_lead_time(r: dict, as_of: dt.date, lead_time_days: float) -> bool:
    if not r["stockout_date"]:
        return False
    return dt.date.fromisoformat(r["stockout_date"]) <= as_of + dt.timedelta(days=math.ceil(lead_time_days))


def _suggestion(r: dict) -> dict:
    keys = ("sku", "as_of", "stockout_date", "stockout_within_lead_time", "lead_time_days", "suggested_order_qty",
            "order_unit_cost", "order_reason", "reorder_point", "order_up_to", "safety_stock",
            "inventory_position", "abc_class", "demand_class", "method")
    return {k: r[k] for k in keys}


# --- views ---------------------------------------------------------------------------------------

def history_days_of(query: dict | None) -> int:
    """`?history_days=` (0..MAX_VIEW_HISTORY_DAYS, default VIEW_HISTORY_DAYS); anything else is a 400."""
    raw = (query or {}).get("history_days")
    if raw is None or raw == "":
        return VIEW_HISTORY_DAYS
    if not re.fullmatch(r"[0-9]{1,4}", raw) or int(raw) > MAX_VIEW_HISTORY_DAYS:
        raise ValidationFailed(f"history_days must be a whole number from 0 to {MAX_VIEW_HISTORY_DAYS}",
                               field="history_days")
    return int(raw)


def forecast_view(sku: str, history_days: int = VIEW_HISTORY_DAYS) -> dict:
    """The SKU's last forecast result and the `history_days` days of net sales up to its as_of (the daily
    series the engine was given, zeros included), so a chart draws history then forecast on one axis."""
    result = store.get_result(sku)
    if result is None:
        raise NotFound(f"no forecast for {sku} yet", sku=sku)
    as_of = dt.date.fromisoformat(result["as_of"])
    first = as_of - dt.timedelta(days=history_days - 1)
    history = sales_history.daily_series(sku, first, as_of) if history_days else []
    return {**result, "history_start": first.isoformat() if history_days else None, "history": history}


def replenishment_view(page: PageRequest) -> dict:
    """The latest run's suggestions, each with its supplier and what the order costs (domain.replenishment);
    `next` continues the list (a cursor from an older run is a 400)."""
    run_id = store.latest_run_id()
    if run_id is None:
        if page.cursor:      # no run yet, so no page of it: a cursor is forged or from another list
            raise BadCursor("a cursor of another list")
        return {"run_id": None, "suggestions": [], "next": None}
    found = store.suggestions_page(run_id, page.limit, page.cursor)
    skus = [item["sku"] for item in found.items]
    # the page's supplier terms and SKU costs in one batch read each (never one request per suggestion)
    terms, catalog = suppliers.terms_for(skus), catalog_store.skus_now(skus)
    items = [replenishment.with_supplier(item, terms.get(item["sku"]), catalog.get(item["sku"]))
             for item in found.items]
    return {"run_id": run_id, "as_of": items[0]["as_of"] if items else None, "suggestions": items,
            "next": found.next}
