"""Allocation rules: examples for each rule and display limit, and properties (hypothesis)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from stocklink.domain.allocation import (
    AllocationSettings,
    Component,
    ListingRef,
    bundle_units,
    display_quantity,
    dynamic_buffer,
    plan_displays,
    pool,
    quota_split,
)

ONE = (Component("A", 1),)


def show(settings: AllocationSettings, pool_units: int, components=ONE, **kw):
    return display_quantity(settings, components, {c.sku: pool_units for c in components}, **kw)


def test_shared_pool_minus_buffer():
    assert show(AllocationSettings(buffer=3), 10) == 7
    assert show(AllocationSettings(buffer=30), 10) == 0


def test_pool_uses_only_the_channels_warehouses_and_ignores_negative():
    assert pool({"a": 5, "b": 7, "c": -2}) == 12
    assert pool({"a": 5, "b": 7}, ["b", "z"]) == 7


def test_fixed_is_capped_by_the_pool():
    assert show(AllocationSettings(rule="fixed", fixed=5), 100) == 5
    assert show(AllocationSettings(rule="fixed", fixed=5), 3) == 3


def test_quota_ratio_with_minimum():
    assert show(AllocationSettings(rule="quota", ratio=0.3, minimum=5), 100) == 30
    assert show(AllocationSettings(rule="quota", ratio=0.3, minimum=5), 10) == 5


def test_quota_split_scales_down_when_minimums_and_ratios_overflow():
    split = quota_split(10, {"tiktok#s": (0.6, 4), "shopee#s": (0.6, 4), "lazada#s": (0.5, 0)})
    assert sum(split.values()) <= 10
    assert split["tiktok#s"] >= 4 and split["shopee#s"] >= 4
    assert quota_split(3, {"a": (0.1, 4), "b": (0.1, 4)}) in ({"a": 2, "b": 1}, {"a": 1, "b": 2})


def test_min_display_never_shows_more_than_exists():
    s = AllocationSettings(buffer=10, min_display=3)
    assert show(s, 8) == 3          # buffer would show 0; min display raises to 3 since 8 exist
    assert show(s, 2) == 2          # but never above what exists


def test_max_display_caps():
    assert show(AllocationSettings(max_display=50), 500) == 50


def test_sellout_protection_shows_zero_at_or_below_threshold():
    s = AllocationSettings(sellout_threshold=2)
    assert show(s, 2) == 0
    assert show(s, 3) == 3
    assert show(AllocationSettings(), 0) == 0


def test_sync_off_means_no_value():
    assert show(AllocationSettings(sync=False), 10) is None


def test_bundle_is_min_of_component_sets():
    comps = (Component("A", 2), Component("B", 3))
    assert bundle_units({"A": 9, "B": 10}, comps) == 3
    assert display_quantity(AllocationSettings(), comps, {"A": 9, "B": 10}) == 3
    assert display_quantity(AllocationSettings(), comps, {"A": 9}) == 0


def test_dynamic_buffer_is_velocity_times_latency_p99():
    assert dynamic_buffer(2.0, 1.5) == 3
    assert dynamic_buffer(0.1, 1.0) == 1
    assert dynamic_buffer(0.0, 5.0) == 0
    s = AllocationSettings(buffer=1, buffer_mode="dynamic")
    assert show(s, 10, extra_buffer_by_sku={"A": 3}) == 6


def test_settings_validation_and_round_trip():
    with pytest.raises(ValueError):
        AllocationSettings(rule="nope")
    with pytest.raises(ValueError):
        AllocationSettings(ratio=1.5)
    s = AllocationSettings(rule="quota", ratio=0.4, minimum=2, warehouses=("a", "b"))
    assert AllocationSettings.from_dict(s.to_dict()) == s


def test_plan_displays_splits_quota_between_channels():
    listings = [ListingRef("tiktok#s", "t1", ONE), ListingRef("shopee#s", "p1", ONE),
                ListingRef("lazada#s", "l1", ONE)]
    settings = {"tiktok#s": AllocationSettings(rule="quota", ratio=0.7, minimum=1),
                "shopee#s": AllocationSettings(rule="quota", ratio=0.7, minimum=1),
                "lazada#s": AllocationSettings(buffer=2)}
    out = {d.listing_id: d.quantity for d in plan_displays(listings, settings, {"A": {"w1": 6, "w2": 4}})}
    assert out["t1"] + out["p1"] <= 10
    assert out["l1"] == 8


# -- properties -------------------------------------------------------------------------------------------
quota_specs = st.dictionaries(st.text("abcdef", min_size=1, max_size=3),
                              st.tuples(st.floats(0, 1, allow_nan=False), st.integers(0, 500)),
                              min_size=1, max_size=6)


@hsettings(max_examples=300, deadline=None)
@given(pool_units=st.integers(0, 5000), quotas=quota_specs)
def test_quota_sums_never_exceed_the_pool(pool_units, quotas):
    split = quota_split(pool_units, quotas)
    assert set(split) == set(quotas)
    assert all(v >= 0 for v in split.values())
    assert sum(split.values()) <= pool_units
    # when everything fits, each channel gets what it asked for
    wants = {c: max(m, int(r * pool_units)) for c, (r, m) in quotas.items()}
    if sum(wants.values()) <= pool_units:
        assert split == wants


settings_strategy = st.builds(
    AllocationSettings,
    rule=st.sampled_from(["shared", "quota", "fixed"]),
    buffer=st.integers(0, 50), ratio=st.floats(0, 1, allow_nan=False), minimum=st.integers(0, 50),
    fixed=st.integers(0, 200), min_display=st.integers(0, 100),
    max_display=st.none() | st.integers(0, 300), sellout_threshold=st.integers(0, 10),
    buffer_mode=st.sampled_from(["static", "dynamic"]),
)


@hsettings(max_examples=300, deadline=None)
@given(settings=settings_strategy,
       components=st.lists(st.builds(Component, st.sampled_from("ABCD"), st.integers(1, 6)),
                           min_size=1, max_size=4, unique_by=lambda c: c.sku),
       pools=st.fixed_dictionaries({k: st.integers(-5, 400) for k in "ABCD"}),
       extra=st.integers(0, 40))
def test_bundle_display_never_exceeds_what_components_allow(settings, components, pools, extra):
    qty = display_quantity(settings, components, pools, extra_buffer_by_sku={k: extra for k in "ABCD"})
    assert qty is not None and qty >= 0
    allowed = min(max(0, pools[c.sku]) // c.qty for c in components)
    assert qty <= allowed
    if settings.max_display is not None:
        assert qty <= settings.max_display
    if allowed <= settings.sellout_threshold:
        assert qty == 0


@hsettings(max_examples=200, deadline=None)
@given(avail=st.dictionaries(st.sampled_from(["w1", "w2", "w3"]), st.integers(0, 300), min_size=1),
       ratios=st.lists(st.tuples(st.floats(0, 1, allow_nan=False), st.integers(0, 100)), min_size=1, max_size=5))
def test_quota_channels_together_never_show_more_than_the_pool(avail, ratios):
    listings = [ListingRef(f"p{i}#s", f"l{i}", ONE) for i in range(len(ratios))]
    settings = {f"p{i}#s": AllocationSettings(rule="quota", ratio=r, minimum=m) for i, (r, m) in enumerate(ratios)}
    shown = plan_displays(listings, settings, {"A": avail})
    assert sum(d.quantity for d in shown) <= sum(avail.values())
