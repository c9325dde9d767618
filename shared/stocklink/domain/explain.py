"""Why a listing shows the number it shows, for one of its SKUs: the terms of
    pool − reserved − buffer + rule_adjustment = computed
each named with the setting it comes from, and the steps the rule adjustment is made of (quota, fixed,
bundle sets, min/max display, sell-out protection). Pure: no I/O, no clock.

`computed` is stocklink.domain.allocation.display_quantity's own answer (tests hold the steps to it):
  pool      units on hand of the SKU in the shop's warehouses (all of them unless the shop names some)
  reserved  units of those held or committed and not yet shipped (pool − reserved = available, never < 0)
  buffer    the shop's static buffer plus its dynamic one (shared rule only: quota and fixed ignore buffers)
"""
from __future__ import annotations

from typing import Mapping

from stocklink.domain.allocation import (AllocationSettings, ListingRef, allocated_units, bundle_units,
                                         display_quantity, pool)


def explain_listing(listing: ListingRef, sku: str, settings: AllocationSettings,
                    available: Mapping[str, Mapping[str, int]], on_hand: Mapping[str, Mapping[str, int]],
                    quotas: Mapping[str, Mapping[str, int]] | None = None,
                    extra_buffer: Mapping[tuple[str, str], int] | None = None) -> dict:
    """`available` / `on_hand`: SKU -> warehouse -> units; `quotas`: allocation.quotas_by_sku over every
    listing of the SKUs; `extra_buffer`: (channel, sku) -> the dynamic buffer."""
    quotas, extra_buffer = quotas or {}, extra_buffer or {}
    platform, shop = listing.channel.split("#", 1)
    where = f"{platform}/{shop}"
    setting = f"PUT /shops/{where}/allocation"
    warehouses = settings.warehouses
    pools = {c.sku: pool(available.get(c.sku, {}), warehouses) for c in listing.components}
    held = pools.get(sku, 0)
    on_shelf = sum(max(0, int(v)) for w, v in on_hand.get(sku, {}).items()
                   if warehouses is None or w in warehouses)
    on_shelf = max(on_shelf, held)
    dynamic = {c.sku: max(0, extra_buffer.get((listing.channel, c.sku), 0)) if settings.buffer_mode == "dynamic"
               else 0 for c in listing.components}
    quota = {c.sku: quotas[c.sku][listing.channel] for c in listing.components
             if listing.channel in quotas.get(c.sku, {})}
    buffer = settings.buffer + dynamic.get(sku, 0) if settings.rule == "shared" else 0
    computed = display_quantity(settings, listing.components, pools, quota_by_sku=quota,
                                extra_buffer_by_sku=dynamic if settings.buffer_mode == "dynamic" else None)
    steps = _steps(listing, sku, settings, pools, quota, dynamic, setting)
    base = on_shelf - (on_shelf - held) - buffer
    guard = None if settings.sync else f"sync_off: the shop's sync is off ({setting}): nothing is pushed"
    which = "every warehouse" if warehouses is None else "warehouses " + ", ".join(warehouses)
    return {
        "sku": sku, "pool": on_shelf, "reserved": on_shelf - held, "buffer": buffer, "rule": settings.rule,
        "rule_adjustment": (computed if computed is not None else steps[-1]["qty"]) - base,
        "guard": guard, "shown": computed, "steps": steps,
        "sources": {
            "pool": f"on hand of {sku} in {which} (GET /skus/{sku}/stock; allocation.warehouses: {setting})",
            "reserved": f"held or committed, not yet shipped (GET /ledger?sku={sku})",
            "buffer": (f"allocation.buffer {settings.buffer}" + (f" + dynamic {dynamic.get(sku, 0)} (other "
                       "channels' sales during this shop's push latency)" if settings.buffer_mode == "dynamic"
                       else "") + f" ({setting})") if settings.rule == "shared"
            else f"not applied: allocation.rule {settings.rule} ({setting})",
            "rule": f"allocation.rule of {where} ({setting})",
            "rule_adjustment": "; ".join(s["step"] for s in steps[1:]) or "none",
        },
    }


def _steps(listing: ListingRef, sku: str, s: AllocationSettings, pools: Mapping[str, int],
           quota: Mapping[str, int], dynamic: Mapping[str, int], setting: str) -> list[dict]:
    """display_quantity, step by step, each with the quantity after it (the last one is the answer)."""
    allocated = {c.sku: allocated_units(s, pools.get(c.sku, 0), quota=quota.get(c.sku),
                                        extra_buffer=dynamic.get(c.sku, 0)) for c in listing.components}
    mine = allocated.get(sku, 0)
    if s.rule == "fixed":
        first = f"fixed: allocation.fixed {s.fixed}, at most the pool"
    elif s.rule == "quota":
        first = (f"quota: allocation.ratio {s.ratio} of the pool, allocation.minimum {s.minimum}, split with the "
                 "other quota shops listing it" if sku in quota else
                 f"quota: allocation.ratio {s.ratio} of the pool, allocation.minimum {s.minimum}")
    else:
        first = "shared: pool − reserved − buffer, not below 0"
    steps = [{"step": first, "setting": setting, "qty": mine}]
    really = bundle_units(pools, listing.components)
    qty = bundle_units(allocated, listing.components)
    if len(listing.components) > 1 or any(c.qty != 1 for c in listing.components):
        parts = ", ".join(f"{c.sku} {allocated.get(c.sku, 0)}/{c.qty}" for c in listing.components)
        steps.append({"step": f"bundle: complete sets, the least of {parts}", "setting":
                      "PUT /listings/{platform}/{shop}/{listing_id} components", "qty": qty})
    if s.min_display and max(qty, min(s.min_display, really)) != qty:
        qty = max(qty, min(s.min_display, really))
        steps.append({"step": f"raised to allocation.min_display {s.min_display} (never above the stock)",
                      "setting": setting, "qty": qty})
    if s.max_display is not None and qty > s.max_display:
        qty = s.max_display
        steps.append({"step": f"capped at allocation.max_display {s.max_display}", "setting": setting, "qty": qty})
    if really <= s.sellout_threshold and qty != 0:
        qty = 0
        steps.append({"step": f"sell-out protection: {really} left, at or below allocation.sellout_threshold "
                      f"{s.sellout_threshold}", "setting": setting, "qty": qty})
    final = max(0, min(qty, really))
    if final != qty:
        steps.append({"step": f"never above what the stock allows ({really})", "setting": None, "qty": final})
    return steps
