"""The demo's report: the lines it prints after the sale and the `DEMO RESULT {json}` line scripts parse."""
from __future__ import annotations

import json

from infra.local.demo.client import PLATFORMS


def result_line(summary: dict) -> str:
    """`DEMO RESULT ` + the summary as JSON: the one line tests and scripts read the demo's figures from."""
    return "DEMO RESULT " + json.dumps(summary, default=str)


def report_lines(s: dict) -> list[str]:
    lines = ["", "=== flash sale ==="]
    for p, row in sorted(s["by_platform"].items()):
        lines.append(f"  {p:8} tried {row['tried']:4}  sold {row['applied']:4}  oversold {row['oversold']:3}  "
                     f"refused (platform showed 0) {row['refused']:4}  errors {row['error']}")
    lines.append(f"  units: {s['flash_units']} in the pool, {s['placed']} orders accepted by platforms, "
                 f"{s['applied']} reserved by StockLink")
    if s.get("units_sold") is not None:
        left = s["flash_units"] - s["units_sold"]
        offered = ", ".join(f"{p} {q}" for p, q in s.get("offered_at_end", {}).items() if q)
        lines.append(f"  sold {s['units_sold']} of {s['flash_units']} units ({s['sell_through_pct']} %) by the end of "
                     f"the sale; {left} left" + (f", offered at the end on {offered}" if offered else "")
                     + (f"; the sale lasted {s['sale_s']:g} s" if s.get("sale_s") else ""))
    lines.append(f"  oversold: {s['oversold_beyond_in_flight']} beyond in-flight; "
                 f"{s['oversold_in_flight']} order(s) ({s['oversold_units']} unit(s)) in flight = accepted by a "
                 f"platform before StockLink's 0 had landed there (recorded as oversold reservations)")
    lines.append("  final quantities (shown by the platform / computed by StockLink), pool available "
                 f"{s['pool_after']}:")
    lines.append("    " + "  ".join(f"{p} {s['shown_after'][p]}/{s['computed_after'][p]}" for p in PLATFORMS))
    lines.append(f"  every listing of every SKU in sync afterwards: {s['all_listings_in_sync']}")
    lines.append(f"  pushes: {s['stock_calls']} platform calls setting {s['listing_updates']} listing quantities; "
                 f"one push per listing per order would be {s['naive_listing_updates']} -> {s['coalesced']} coalesced; "
                 f"{s['calls_per_order']} calls per order; "
                 + (f"raises {s['stale_pushes']} (the guard's refills)" if s.get("allocation") == "guarded"
                    else f"stale pushes {s['stale_pushes']} (a raise during the sale: a late value landing)"))
    lines.append(f"  sync latency (webhook answered -> every other platform shows it): p50 {s['latency_p50_ms']} ms, "
                 f"p99 {s['latency_p99_ms']} ms, max {s['latency_max_ms']} ms over {s['latency_samples']} orders"
                 + (f", {s['latency_not_reflected']} never reflected" if s["latency_not_reflected"] else "")
                 + (" (a retried webhook counts from the answer the platform finally got; StockLink may have "
                    "applied an earlier attempt that timed out)" if s.get("delivery_retries") else ""))
    delay = s.get("webhook_delay_s", 0)
    delay_text = f"{delay[0]:g}-{delay[1]:g} s" if isinstance(delay, list) else f"{delay:g} s"
    lines.append(f"  webhooks: delay set {delay_text}, {'out of order allowed' if s.get('reorder') else 'in order'}; "
                 f"checkout -> webhook sent p50 {s['delivery_delay_p50_ms']} ms, p99 {s['delivery_delay_p99_ms']} ms, "
                 f"max {s['delivery_delay_max_ms']} ms; StockLink answered in p50 {s['webhook_answer_p50_ms']} ms, "
                 f"p99 {s['webhook_answer_p99_ms']} ms; {s['deliveries']} webhooks, {s['delivery_retries']} "
                 f"retries, {s['delivery_failures']} failed, {s['deliveries_out_of_order']} out of order")
    lines.append(f"  checkout refuses what a listing no longer shows: {'yes' if s.get('enforce_listed', True) else 'no'}; "
                 f"allocation: {s.get('allocation', 'shared')}")
    lines.append(f"  sale took {s['elapsed_s']} s, platforms settled {s['settle_s']} s later"
                 + (f" (late webhooks all delivered {s['flush_s']} s after the last order)" if s.get("flush_s", 0) >= 0.05
                    else ""))
    lines.append(f"  ledger replay: {'exact for every SKU and warehouse' if not s['ledger_problems'] else s['ledger_problems']}")
    if s["alerts"]:
        lines.append("  alerts (GET /alerts): " + ", ".join(f"{k} {v}" for k, v in sorted(s["alerts"].items())))
    else:
        lines.append("  alerts (GET /alerts): none")
    if s["errors"]:
        lines.append(f"  order errors: {s['errors']} e.g. {s['error_samples']}")
    return lines
