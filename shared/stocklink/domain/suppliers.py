"""Suppliers: price breaks, order rounding, the scorecard and the recommended-supplier score. Pure: no I/O,
no clock (callers pass times in).

Price breaks ([{min_qty, unit_price}], min_qty strictly ascending, unit_price never rising with quantity):
the price of an order of q units is the break with the largest min_qty <= q; below the first break the
supplier quotes nothing (None). An order is rounded up to the largest of the MOQ and the first break's
min_qty, then up to whole case packs.

Scorecard (from the supplier's receipts, summed per month; see `receipt_increments`):
  on_time_rate   receipts received on or before their promised day / receipts
  lead_time      days from order to receipt: mean and spread (standard deviation)
  reject_rate    rejected units / received units
  price_index    what was paid / the lowest quote of the same SKU in the same currency at that quantity,
                 summed over priced receipts (1.0: always paid the best quote; 1.1: 10 % above it)
Each figure is blended with a neutral prior worth PRIOR_RECEIPTS receipts, weighted n / (n + k): a supplier
without history scores as "a typical supplier that delivers as it quotes" (on time PRIOR_ON_TIME, rejects
PRIOR_REJECT_RATE, lead time and spread as quoted), never 0 or 1; its own record takes over as receipts add up.

Recommended supplier per SKU (`rank`): among the active suppliers quoting the SKU, each gets three factors
in (0, 1] relative to the best candidate, and a weighted geometric mean of them:
  price   = lowest unit price among candidates quoting the same currency / this unit price, each priced at
            the reference quantity rounded to its own terms (no comparable price: NEUTRAL_FACTOR)
  speed   = shortest expected lead time / this expected lead time x on-time rate,
            expected lead time = blended mean + blended spread (a late-prone supplier pays for its spread)
  quality = 1 - QUALITY_PENALTY x reject rate, at least MIN_FACTOR (a rejected unit costs more than its price:
            re-ordering, a stock-out meanwhile)
  score   = price ** 0.5 x speed ** 0.3 x quality ** 0.2        (WEIGHTS; 1.0 = best at everything)
Ties go to the lower price, then the supplier id.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

PRIOR_RECEIPTS = 5.0          # the prior weighs as much as this many receipts
PRIOR_ON_TIME = 0.85
PRIOR_REJECT_RATE = 0.02
NEUTRAL_FACTOR = 0.75         # a factor that cannot be compared (no price, or nobody else in the currency)
QUALITY_PENALTY = 4.0
MIN_FACTOR = 0.05
MIN_LEAD_DAYS = 0.5           # a same-day receipt still took some time: no division by zero
WEIGHTS = {"price": 0.5, "speed": 0.3, "quality": 0.2}
SCORECARD_MONTHS = 12         # the scorecard reads the last 12 calendar months (this one included)
DAY_MS = 86_400_000

MAX_BREAKS = 20


@dataclass(frozen=True)
class PriceBreak:
    min_qty: int
    unit_price: float


def break_problems(breaks: Sequence[Mapping]) -> str | None:
    """Why a list of price breaks is refused (None if it is fine): min_qty strictly ascending, and a larger
    quantity never costs more per unit."""
    for before, after in zip(breaks, breaks[1:]):
        if after["min_qty"] <= before["min_qty"]:
            return f"min_qty must be strictly ascending ({after['min_qty']} after {before['min_qty']})"
        if after["unit_price"] > before["unit_price"]:
            return (f"unit_price must not rise with quantity ({after['unit_price']} at {after['min_qty']} "
                    f"after {before['unit_price']} at {before['min_qty']})")
    return None


def as_breaks(raw: Iterable[Mapping] | None) -> tuple[PriceBreak, ...]:
    """Stored breaks (unit_price, or the legacy settings' unit_cost) as PriceBreaks, ascending."""
    out = [PriceBreak(int(b["min_qty"]), float(b["unit_price"] if "unit_price" in b else b["unit_cost"]))
           for b in raw or ()]
    return tuple(sorted(out, key=lambda b: b.min_qty))


def price_for(qty: int, breaks: Sequence[PriceBreak]) -> float | None:
    """Unit price of an order of `qty`: the break with the largest min_qty <= qty; None below every break
    (the supplier quotes nothing that small) or without breaks."""
    price = None
    for b in breaks:
        if qty >= b.min_qty:
            price = b.unit_price
    return price


def minimum_order(moq: int = 1, case_pack: int = 1, breaks: Sequence[PriceBreak] = ()) -> int:
    """The smallest order the supplier takes: MOQ and the first break, in whole case packs."""
    return round_order(1, moq, case_pack, breaks)


def round_order(qty: int, moq: int = 1, case_pack: int = 1, breaks: Sequence[PriceBreak] = ()) -> int:
    """`qty` rounded up to the MOQ (and the first price break: nothing is quoted below it), then up to whole
    case packs. 0 stays 0 (nothing to order)."""
    if qty <= 0:
        return 0
    floor = max(int(moq), breaks[0].min_qty if breaks else 1, 1)
    pack = max(int(case_pack), 1)
    return -(-max(int(qty), floor) // pack) * pack


# --- receipts and the scorecard ---------------------------------------------------------------------------

FIELDS = ("receipts", "on_time", "lead_days_sum", "lead_days_sq", "late_days_sum", "received", "rejected",
          "priced", "paid_value", "ref_value")


def receipt_problems(ordered_at: int, promised_date: str, received_at: int, received_qty: int,
                     rejected_qty: int, unit_price: float) -> str | None:
    """Why a receipt record is refused (None if fine)."""
    try:
        dt.date.fromisoformat(promised_date)
    except (TypeError, ValueError):
        return "promised_date must be a date YYYY-MM-DD"
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (ordered_at, received_at)):
        return "ordered_at and received_at must be epoch milliseconds"
    if received_at < ordered_at:
        return "received_at is before ordered_at"
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (received_qty, rejected_qty)):
        return "received_qty and rejected_qty must be whole numbers >= 0"
    if received_qty == 0 or rejected_qty > received_qty:
        return "received_qty must be positive and at least rejected_qty"
    if not isinstance(unit_price, (int, float)) or isinstance(unit_price, bool) or not math.isfinite(unit_price) \
            or unit_price < 0:
        return "unit_price must be a finite amount >= 0"
    return None


def utc_day(at_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(at_ms / 1000, tz=dt.timezone.utc).date()


def month_of(at_ms: int) -> str:
    return utc_day(at_ms).strftime("%Y-%m")


def scorecard_months(now_ms: int, months: int = SCORECARD_MONTHS) -> tuple[str, str]:
    """(first, last) YYYY-MM of the scorecard's window: the last `months` calendar months up to now."""
    day = utc_day(now_ms)
    index = day.year * 12 + day.month - 1 - (months - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}", day.strftime("%Y-%m")


def receipt_increments(ordered_at: int, promised_date: str, received_at: int, received_qty: int,
                       rejected_qty: int, unit_price: float, ref_price: float | None) -> dict[str, float]:
    """What one receipt adds to its month's sums. On time: received on or before the promised UTC day.
    `ref_price`: the lowest quote for the SKU at that quantity in the supplier's currency (None: unpriced)."""
    lead = (received_at - ordered_at) / DAY_MS
    late = (utc_day(received_at) - dt.date.fromisoformat(promised_date)).days
    priced = ref_price is not None and ref_price > 0
    return {"receipts": 1, "on_time": 1 if late <= 0 else 0, "lead_days_sum": lead, "lead_days_sq": lead * lead,
            "late_days_sum": max(late, 0), "received": received_qty, "rejected": rejected_qty,
            "priced": 1 if priced else 0, "paid_value": unit_price * received_qty if priced else 0.0,
            "ref_value": ref_price * received_qty if priced else 0.0}


def sum_months(months: Iterable[Mapping]) -> dict[str, float]:
    totals = dict.fromkeys(FIELDS, 0.0)
    for month in months:
        for k in FIELDS:
            totals[k] += float(month.get(k) or 0)
    return totals


def _blend(n: float, observed: float | None, prior: float) -> float:
    if observed is None or n <= 0:
        return prior
    return (n * observed + PRIOR_RECEIPTS * prior) / (n + PRIOR_RECEIPTS)


def scorecard(totals: Mapping[str, float], quoted_lead_days: float, quoted_spread_days: float) -> dict:
    """The supplier's figures from its summed receipts, and the blended ones the ranking uses."""
    n = float(totals.get("receipts") or 0)
    received, rejected = float(totals.get("received") or 0), float(totals.get("rejected") or 0)
    mean = spread = None
    if n:
        mean = totals["lead_days_sum"] / n
        spread = math.sqrt(max(totals["lead_days_sq"] / n - mean * mean, 0.0))
    on_time = totals["on_time"] / n if n else None
    reject_rate = rejected / received if received else None
    priced = float(totals.get("priced") or 0)
    price_index = totals["paid_value"] / totals["ref_value"] if priced and totals.get("ref_value") else None
    lead = _blend(n, mean, quoted_lead_days)
    spread_blended = math.sqrt(_blend(n, None if spread is None else spread ** 2, quoted_spread_days ** 2))
    return {
        "receipts": int(n),
        "on_time_rate": _round(on_time),
        "late_receipts": int(n - totals["on_time"]) if n else 0,
        "mean_days_late": _round(totals["late_days_sum"] / (n - totals["on_time"])) if n > totals["on_time"] else None,
        "lead_time_days": None if mean is None else {"mean": _round(mean), "spread": _round(spread)},
        "quoted_lead_time_days": {"mean": quoted_lead_days, "spread": quoted_spread_days},
        "received_units": int(received), "rejected_units": int(rejected), "reject_rate": _round(reject_rate),
        "price_index": _round(price_index), "priced_receipts": int(priced),
        "blended": {"on_time_rate": _round(_blend(n, on_time, PRIOR_ON_TIME)),
                    "lead_time_days": _round(lead), "lead_time_spread_days": _round(spread_blended),
                    "reject_rate": _round(_blend(n, reject_rate, PRIOR_REJECT_RATE)),
                    "prior_weight": _round(PRIOR_RECEIPTS / (n + PRIOR_RECEIPTS))},
    }


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


# --- the recommended supplier ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    supplier_id: str
    currency: str | None
    unit_price: float | None          # at the reference quantity rounded to this supplier's terms
    lead_time_days: float             # blended (scorecard "blended")
    lead_time_spread_days: float
    on_time_rate: float
    reject_rate: float


def rank(candidates: Sequence[Candidate]) -> list[dict]:
    """Each candidate's factors and score, best first (see the module docstring)."""
    def lead(c: Candidate) -> float:
        return max(c.lead_time_days + c.lead_time_spread_days, MIN_LEAD_DAYS)

    shortest = min((lead(c) for c in candidates), default=1.0)
    cheapest: dict[str | None, float] = {}
    peers: dict[str | None, int] = {}
    for c in candidates:
        if c.unit_price is not None and c.unit_price > 0:
            cheapest[c.currency] = min(cheapest.get(c.currency, c.unit_price), c.unit_price)
            peers[c.currency] = peers.get(c.currency, 0) + 1
    comparable = len(candidates) > 1
    out = []
    for c in candidates:
        if c.unit_price is not None and c.unit_price > 0 and (peers[c.currency] > 1 or not comparable):
            price = cheapest[c.currency] / c.unit_price
        elif c.unit_price == 0:
            price = 1.0
        else:
            price = NEUTRAL_FACTOR
        speed = max(shortest / lead(c) * c.on_time_rate, MIN_FACTOR)
        quality = max(1.0 - QUALITY_PENALTY * c.reject_rate, MIN_FACTOR)
        factors = {"price": price, "speed": speed, "quality": quality}
        score = math.prod(factors[k] ** w for k, w in WEIGHTS.items())
        out.append({"supplier_id": c.supplier_id, "score": round(score, 4),
                    "factors": {k: round(v, 4) for k, v in factors.items()}})
    prices = {c.supplier_id: c.unit_price for c in candidates}
    out.sort(key=lambda r: (-r["score"], prices[r["supplier_id"]] if prices[r["supplier_id"]] is not None
                            else math.inf, r["supplier_id"]))
    return out


_SLUG = re.compile(r"[^A-Za-z0-9._:@/+-]+")


def supplier_id_for(name: str) -> str:
    """The id a supplier named only by the old per-SKU settings gets: its name, lowercased, with runs of
    other characters as '-' (so "Acme Textiles" and "ACME textiles" are one supplier). A name with letters
    an id cannot hold (深圳工厂) keeps what it can and adds a hash of the whole name, so two such names
    never share an id."""
    normal = " ".join(name.lower().split())
    slug = _SLUG.sub("-", normal).strip("-")
    if normal.isascii():
        return slug[:128] or "supplier"
    digest = hashlib.sha256(normal.encode()).hexdigest()[:10]
    return f"{slug[:100] or 'supplier'}-{digest}"


# ISO 4217 currency codes in use (2025), without the precious-metal, fund-unit and test codes (XAU, XDR,
# XTS, XXX, ...), which no supplier invoices in.
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split())
