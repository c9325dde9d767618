"""Relative stock changes against the simulators: an adjustment lands on the platform's own count, so a
sale the platform made while the change was on its way is kept (an absolute set overwrites it)."""
from __future__ import annotations

import json
import threading

import pytest

from stocklink.channels._common import Outcome
from stocklink.channels.base import HttpCall, StockAdjust, StockPush
from stocklink.channels.registry import WEBHOOK_PLATFORMS as PLATFORMS, adapter_for  # pulled platforms: their own tests

from .conftest import control, send
from .test_sandbox_channels import SETUPS, SHOP, TAMPER, listed, prepare

RELATIVE = [p for p in PLATFORMS if adapter_for(p).supports_relative]


def two_listings(platform: str) -> tuple[str, str]:
    first, second, *_ = SETUPS[platform].listings
    return first, second


def show(base: str, platform: str, quantities: dict[str, int]) -> None:
    control(base, "PUT", "listings", {"platform": platform, "shop": SHOP, "listings": [
        {"listing_id": lid, "quantity": qty} for lid, qty in quantities.items()]})


def checkout(base: str, platform: str, listing_id: str, qty: int = 1) -> None:
    control(base, "POST", "orders", {"platform": platform, "shop": SHOP, "kind": "paid",
                                     "lines": [{"listing_id": listing_id, "qty": qty}]})


def adjust(platform: str, creds: dict, deltas: dict[str, int]):
    adapter = adapter_for(platform)
    ids = SETUPS[platform].listings
    results = []
    for call in adapter.build_stock_adjustments(creds, [StockAdjust(lid, d, ids[lid]) for lid, d in deltas.items()]):
        status, headers, body = send(call)
        results.append(adapter.classify_response(status, body, headers))
    return results


def test_the_relative_platforms_are_shopify_and_lazada():
    assert RELATIVE == ["shopify", "lazada"]


@pytest.mark.parametrize("platform", RELATIVE)
def test_an_adjustment_keeps_the_sale_the_platform_made_meanwhile_a_set_does_not(sandbox_base, receiver, platform):
    creds = prepare(sandbox_base, receiver, platform)
    relative, absolute = two_listings(platform)
    # StockLink last saw 5 on both and now wants 2 fewer on each; meanwhile each platform sells one.
    show(sandbox_base, platform, {relative: 5, absolute: 5})
    checkout(sandbox_base, platform, relative)
    checkout(sandbox_base, platform, absolute)
    assert listed(sandbox_base, platform) == {**listed(sandbox_base, platform), relative: 4, absolute: 4}

    assert [r.outcome for r in adjust(platform, creds, {relative: -2})] == [Outcome.OK]
    adapter = adapter_for(platform)
    [call] = adapter.build_stock_updates(creds, [StockPush(absolute, 5 - 2, SETUPS[platform].listings[absolute])])
    status, headers, body = send(call)
    assert adapter.classify_response(status, body, headers).ok

    shown = listed(sandbox_base, platform)
    assert shown[relative] == 2      # 5, the platform's sale -> 4, -2 -> 2: the sale is kept
    assert shown[absolute] == 3      # the set overwrote the sale: the platform offers one unit too many

    # The call log tells the two apart and records what each call left on the listing.
    calls = control(sandbox_base, "GET", "calls", query=f"?platform={platform}&shop={SHOP}")["calls"]
    stock_calls = [(c["kind"], c["listings"]) for c in calls if c["kind"] in ("stock_adjust", "stock_update")]
    assert stock_calls == [("stock_adjust", {relative: 2}), ("stock_update", {absolute: 3})]


@pytest.mark.parametrize("platform", RELATIVE)
def test_adjustments_and_checkouts_interleave_without_losing_either(sandbox_base, receiver, platform):
    creds = prepare(sandbox_base, receiver, platform)
    listing, _ = two_listings(platform)
    show(sandbox_base, platform, {listing: 50})
    errors: list[BaseException] = []

    def guarded(work, *args):
        try:
            result = work(*args)
            assert result is None or all(r.outcome is Outcome.OK for r in result), result
        except BaseException as exc:  # noqa: BLE001 - reported below: a lost call is not a platform's loss
            errors.append(exc)

    workers = ([threading.Thread(target=guarded, args=(checkout, sandbox_base, platform, listing)) for _ in range(12)]
               + [threading.Thread(target=guarded, args=(adjust, platform, creds, {listing: +1})) for _ in range(6)])
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(w.is_alive() for w in workers) and errors == [], errors
    assert listed(sandbox_base, platform)[listing] == 50 - 12 + 6


@pytest.mark.parametrize("platform", RELATIVE)
def test_tampered_adjustments_are_rejected_like_the_platform(sandbox_base, receiver, platform):
    creds = prepare(sandbox_base, receiver, platform)
    listing, _ = two_listings(platform)
    adapter = adapter_for(platform)
    [call] = adapter.build_stock_adjustments(creds, [StockAdjust(listing, -7, SETUPS[platform].listings[listing])])
    status, headers, body = send(TAMPER[platform](call))
    result = adapter.classify_response(status, body, headers)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, SETUPS[platform].rejected_code)
    assert listed(sandbox_base, platform)[listing] == 10


@pytest.mark.parametrize("platform", RELATIVE)
def test_a_throttled_adjustment_changed_nothing_and_goes_through_once_resent(sandbox_base, receiver, platform):
    creds = prepare(sandbox_base, receiver, platform)
    listing, _ = two_listings(platform)
    adapter = adapter_for(platform)
    control(sandbox_base, "POST", "faults", {"status": 429, "count": 1, "platform": platform})
    [call] = adapter.build_stock_adjustments(creds, [StockAdjust(listing, -3, SETUPS[platform].listings[listing])])
    outcomes = []
    for _ in range(2):
        status, headers, body = send(call)
        outcomes.append(adapter.classify_response(status, body, headers).outcome)
    assert outcomes == [Outcome.RETRYABLE, Outcome.OK]
    assert listed(sandbox_base, platform)[listing] == 7


# -- Shopify: inventoryAdjustQuantities ------------------------------------------------------------------
def _rewrite(call: HttpCall, edit) -> HttpCall:
    body = json.loads(call.body)
    edit(body)
    return HttpCall(call.method, call.url, call.headers, json.dumps(body).encode())


def test_shopify_adjustments_may_take_available_below_zero(sandbox_base, receiver):
    creds = prepare(sandbox_base, receiver, "shopify")
    listing, _ = two_listings("shopify")
    show(sandbox_base, "shopify", {listing: 1})
    assert [r.outcome for r in adjust("shopify", creds, {listing: -3})] == [Outcome.OK]
    assert listed(sandbox_base, "shopify")[listing] == -2
    adapter = adapter_for("shopify")
    [call] = adapter.build_read_back(creds, [listing])
    status, _, body = send(call)
    assert adapter.parse_read_back(status, body) == {listing: -2}


def test_shopify_resending_the_same_adjustment_applies_it_once(sandbox_base, receiver):
    creds = prepare(sandbox_base, receiver, "shopify")
    listing, _ = two_listings("shopify")
    adapter = adapter_for("shopify")
    [call] = adapter.build_stock_adjustments(creds, [StockAdjust(listing, 4, SETUPS["shopify"].listings[listing])])
    first, again = send(call), send(call)
    assert again[2] == first[2] and listed(sandbox_base, "shopify")[listing] == 14
    # The same key with other parameters is refused, not applied.
    changed = _rewrite(call, lambda b: b["variables"]["input"]["changes"][0].update(delta=40))
    status, headers, body = send(changed)
    result = adapter.classify_response(status, body, headers)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
    assert listed(sandbox_base, "shopify")[listing] == 14
    calls = control(sandbox_base, "GET", "calls", query=f"?platform=shopify&shop={SHOP}")["calls"]
    assert [c["listings"] for c in calls] == [{listing: 14}, {}, {}]


@pytest.mark.parametrize("edit,code", [
    (lambda b: b["variables"]["input"]["changes"][0].pop("changeFromQuantity"), "INVALID_FIELD_ARGUMENTS"),
    (lambda b: b.update(query=b["query"].replace(" @idempotent(key: $key)", "")), "BAD_REQUEST"),
    (lambda b: b["variables"]["input"]["changes"][0].update(changeFromQuantity=9), "CHANGE_FROM_QUANTITY_STALE"),
    (lambda b: b["variables"]["input"]["changes"][0].update(ledgerDocumentUri="app://x/1"),
     "INVALID_AVAILABLE_DOCUMENT"),
    (lambda b: b["variables"]["input"]["changes"][0].update(inventoryItemId="gid://shopify/InventoryItem/1"),
     "INVALID_INVENTORY_ITEM"),
    (lambda b: b["variables"]["input"]["changes"][0].update(delta=-2_000_000_011), "INVALID_QUANTITY_TOO_LOW"),
])
def test_shopify_refuses_malformed_adjustments_and_changes_nothing(sandbox_base, receiver, edit, code):
    creds = prepare(sandbox_base, receiver, "shopify")
    listing, _ = two_listings("shopify")
    adapter = adapter_for("shopify")
    [call] = adapter.build_stock_adjustments(creds, [StockAdjust(listing, -1, SETUPS["shopify"].listings[listing])])
    status, headers, body = send(_rewrite(call, edit))
    result = adapter.classify_response(status, body, headers)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, code)
    assert listed(sandbox_base, "shopify")[listing] == 10


# -- Lazada: AdjustSellableQuantity ----------------------------------------------------------------------
def test_lazada_refuses_an_adjustment_below_zero_and_applies_none_of_the_request(sandbox_base, receiver):
    creds = prepare(sandbox_base, receiver, "lazada")
    first, second = two_listings("lazada")
    show(sandbox_base, "lazada", {first: 5, second: 1})
    [result] = adjust("lazada", creds, {first: -2, second: -3})
    assert (result.outcome, result.failed_listings) == (Outcome.PERMANENT, (second,))
    assert {k: listed(sandbox_base, "lazada")[k] for k in (first, second)} == {first: 5, second: 1}
    # Down to exactly 0 is accepted.
    assert [r.outcome for r in adjust("lazada", creds, {first: -2, second: -1})] == [Outcome.OK]
    assert {k: listed(sandbox_base, "lazada")[k] for k in (first, second)} == {first: 3, second: 0}


def test_lazada_adjust_is_a_distinct_signed_path(sandbox_base, receiver):
    creds = prepare(sandbox_base, receiver, "lazada")
    listing, _ = two_listings("lazada")
    adapter = adapter_for("lazada")
    [call] = adapter.build_stock_adjustments(creds, [StockAdjust(listing, -1, SETUPS["lazada"].listings[listing])])
    # Pointing the adjust call at /update changes the signed path: refused, nothing set to -1 or changed.
    moved = HttpCall(call.method, call.url.replace("/sellable/adjust", "/sellable/update"), call.headers, call.body)
    status, headers, body = send(moved)
    assert adapter.classify_response(status, body, headers).code == "IncompleteSignature"
    assert listed(sandbox_base, "lazada")[listing] == 10


def test_shopify_a_rebuilt_retry_with_the_same_key_is_applied_once(sandbox_base, receiver):
    creds = prepare(sandbox_base, receiver, "shopify")
    listing, _ = two_listings("shopify")
    adapter = adapter_for("shopify")
    adjusts = [StockAdjust(listing, -3, SETUPS["shopify"].listings[listing])]
    for _ in range(3):   # e.g. an answer lost on the way back, then two rebuilt retries
        [call] = adapter.build_stock_adjustments(creds, adjusts, key="push-7")
        status, headers, body = send(call)
        assert adapter.classify_response(status, body, headers).ok
    assert listed(sandbox_base, "shopify")[listing] == 7
