"""Demand and latency as channel sync measures them: units sold per channel (from stock.changed), and how
long a push takes to land (samples per shop). The dynamic buffer of a channel is what the other channels
may sell while a push to it is on its way."""
from __future__ import annotations

import threading
from typing import Mapping

from stocklink.domain.allocation import AllocationSettings, ListingRef, dynamic_buffer
from stocklink.logic.sync import seams
from stocklink.observability import logger
from stocklink.store import sync_models

VELOCITY_WINDOW_MS = 300_000  # sales counted over the last 5 minutes
LATENCY_FLUSH_S = 10.0        # a container writes a shop's push-latency samples at most this often


def p99(samples: list[int]) -> float:
    """The 99th percentile of millisecond samples, in seconds (0 with no samples)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] / 1000.0


def sales_rates(data: dict, now_ms: int, window_ms: int = VELOCITY_WINDOW_MS) -> dict[str, float]:
    """Units/s sold per channel over the window, from the stored sales log."""
    out: dict[str, float] = {}
    for channel, sales in (data.get("sales") or {}).items():
        units = sum(u for at, u in sales if now_ms - at <= window_ms)
        out[channel] = units / (window_ms / 1000.0)
    return out


BURST_WINDOW_MS = 20_000      # a flash sale's pace shows within seconds; a 5-minute average hides it


BURST_MIN_SPAN_MS = 5_000     # a burst's rate is measured over at least this long (one sale is no burst)


def burst_rates(data: dict, now_ms: int) -> dict[str, float]:
    """Units/s per channel over the last 20 s, or since the first sale in them when that is later: a sale
    that began 4 s ago at 6 units/s reads as 6/s, not as 24 units spread over 20 s."""
    out: dict[str, float] = {}
    for channel, sales in (data.get("sales") or {}).items():
        recent = [(at, u) for at, u in sales if now_ms - at <= BURST_WINDOW_MS]
        if recent:
            span = max(BURST_MIN_SPAN_MS, now_ms - min(at for at, _ in recent))
            out[channel] = sum(u for _, u in recent) / (span / 1000.0)
    return out


def demand_rates(data: dict, now_ms: int) -> dict[str, float]:
    """Units/s per channel as the last units see it: the burst rate while the channel has sold in the last
    20 s (a burst that moved elsewhere stops counting within 20 s), else its rate over the last 5 minutes."""
    recent, steady = burst_rates(data, now_ms), sales_rates(data, now_ms)
    return {ch: recent[ch] if ch in recent else steady.get(ch, 0.0) for ch in {*recent, *steady}}


def note_sales(sku: str, details: list[Mapping], now_ms: int, stored: dict | None = None) -> None:
    """Learn sales velocity per channel from a SKU's stock.changed details, oldest first: a drop in total
    available caused by a channel's order (source "platform:shop") counts as that channel's sale. One read
    and one write per SKU, however many changes a batch holds; `stored`: the SKU's log read already (a batch
    reads its SKUs' logs together, note_sales_many)."""
    details = [d for d in details if d.get("total_available") is not None]
    if not details:
        return
    data = sync_models.velocity(sku) if stored is None else stored
    for detail in details:
        total = int(detail["total_available"])
        last = data.get("last_total")
        source = str(detail.get("source") or "")
        data["last_total"] = total
        if last is not None and total < int(last) and ":" in source and detail.get("cause") == "reserve":
            channel = source.replace(":", "#", 1)
            sales = [s for s in (data.get("sales") or {}).get(channel, []) if now_ms - s[0] <= VELOCITY_WINDOW_MS]
            sales.append([now_ms, int(last) - total])
            data.setdefault("sales", {})[channel] = sales[-200:]
    sync_models.save_velocity(sku, data, now_ms)


def note_sales_many(changed: Mapping[str, list[Mapping]], now_ms: int) -> None:
    """note_sales for every SKU of a batch: their logs read in one BatchGetItem instead of a GetItem each."""
    changed = {sku: details for sku, details in changed.items()
               if any(d.get("total_available") is not None for d in details)}
    if not changed:
        return
    stored = sync_models.velocities(changed) if len(changed) > 1 else {}
    for sku, details in changed.items():
        try:
            note_sales(sku, details, now_ms, stored.get(sku, {}) if len(changed) > 1 else None)
        except Exception:  # noqa: BLE001 - velocity is an estimate; never fail the push over it
            logger.exception("could not update sales velocity")


def dynamic_buffers(listings: list[ListingRef], settings: Mapping[str, AllocationSettings],
                    now_ms: int) -> dict[tuple[str, str], int]:
    """(channel, sku) → units held back on channels whose buffer is dynamic: the other channels' velocity
    over this channel's push-latency p99."""
    dynamic = {ch for ch, s in settings.items() if s.buffer_mode == "dynamic"}
    if not dynamic:
        return {}
    skus = {c.sku for l in listings if l.channel in dynamic for c in l.components}
    rates = {sku: sales_rates(data, now_ms) for sku, data in sync_models.velocities(skus).items()}
    out = {}
    for channel in dynamic:
        platform, shop = channel.split("#", 1)
        latency_p99 = p99(sync_models.latency_samples(platform, shop))
        for sku in skus:
            others = sum(r for ch, r in rates.get(sku, {}).items() if ch != channel)
            out[(channel, sku)] = dynamic_buffer(others, latency_p99)
    return out


_latency_pending: dict[str, tuple[float, list[int]]] = {}   # shop -> (last written, samples not written yet)
_latency_lock = threading.Lock()


def forget_pending_latencies() -> None:
    with _latency_lock:
        _latency_pending.clear()


def note_latencies(platform: str, shop: str, latencies: list[int], at_ms: int) -> None:
    """Push-latency samples (for the dynamic buffer's p99), written at most every LATENCY_FLUSH_S per shop
    and container: during a sale that is one read and one write per shop every 10 s instead of per push."""
    key, now = f"{platform}#{shop}", seams.clock()
    with _latency_lock:
        written, pending = _latency_pending.get(key, (None, []))
        pending = pending + list(latencies)
        due = written is None or now - written >= LATENCY_FLUSH_S
        _latency_pending[key] = (now if due else written, [] if due else pending)
    if due:
        try:
            sync_models.add_latency_samples(platform, shop, pending, at_ms)
        except Exception:  # noqa: BLE001 - a statistic; never fail a push over it
            logger.exception("could not store push latency")
