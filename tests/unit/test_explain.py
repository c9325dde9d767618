"""Why a listing shows its number: the terms add up to what channel sync computes, whatever the settings."""
from __future__ import annotations

from hypothesis import given, settings as hsettings, strategies as st

from stocklink.domain.allocation import (AllocationSettings, Component, ListingRef, display_quantity, plan_displays,
                                         quotas_by_sku)
from stocklink.domain.explain import explain_listing

CHANNEL = "shopify#s1"


def _explain(listing, stored, available, on_hand, extra=None, others=()):
    listings = [listing, *others]
    settings = {CHANNEL: stored, **{o.channel: stored for o in others}}
    return explain_listing(listing, listing.components[0].sku, stored, available, on_hand,
                           quotas_by_sku(listings, settings, available), extra), \
        plan_displays(listings, settings, available, extra_buffer=extra)[0].quantity


def test_shared_pool_less_reserved_less_buffer():
    listing = ListingRef(CHANNEL, "L-1", (Component("TEE", 1),))
    why, computed = _explain(listing, AllocationSettings(buffer=2), {"TEE": {"wh-a": 7, "wh-b": 3}},
                             {"TEE": {"wh-a": 10, "wh-b": 3}})
    assert (why["pool"], why["reserved"], why["buffer"], why["rule_adjustment"], why["shown"]) == (13, 3, 2, 0, 8)
    assert computed == 8 and why["guard"] is None
    assert "allocation.buffer 2" in why["sources"]["buffer"]


def test_quota_and_caps_are_the_rule_adjustment_and_name_their_settings():
    listing = ListingRef(CHANNEL, "L-1", (Component("TEE", 1),))
    stored = AllocationSettings(rule="quota", ratio=0.5, buffer=4, max_display=3)
    why, computed = _explain(listing, stored, {"TEE": {"wh-a": 10}}, {"TEE": {"wh-a": 12}})
    assert why["buffer"] == 0 and "not applied" in why["sources"]["buffer"]           # quota ignores buffers
    assert why["pool"] - why["reserved"] - why["buffer"] + why["rule_adjustment"] == computed == 3
    assert [s["qty"] for s in why["steps"]] == [5, 3]
    assert "max_display 3" in why["steps"][-1]["step"]


def test_sync_off_is_named_as_the_guard():
    listing = ListingRef(CHANNEL, "L-1", (Component("TEE", 1),))
    why, computed = _explain(listing, AllocationSettings(sync=False), {"TEE": {"wh-a": 5}}, {"TEE": {"wh-a": 5}})
    assert computed is None and why["shown"] is None and why["guard"].startswith("sync_off")


settings_strategy = st.builds(
    AllocationSettings, rule=st.sampled_from(["shared", "quota", "fixed"]), buffer=st.integers(0, 20),
    buffer_mode=st.sampled_from(["static", "dynamic"]), ratio=st.floats(0, 1), minimum=st.integers(0, 20),
    fixed=st.integers(0, 50), min_display=st.integers(0, 20), max_display=st.none() | st.integers(0, 50),
    sellout_threshold=st.integers(0, 10), warehouses=st.none() | st.just(("wh-a",)))


@hsettings(max_examples=300, deadline=None)
@given(stored=settings_strategy, a=st.integers(0, 60), b=st.integers(0, 60), held_a=st.integers(0, 10),
       qty=st.integers(1, 3), bundle=st.booleans(), other=st.integers(0, 30), dynamic=st.integers(0, 5),
       second_quota_shop=st.booleans())
def test_the_terms_always_reproduce_the_computed_quantity(stored, a, b, held_a, qty, bundle, other, dynamic,
                                                          second_quota_shop):
    components = (Component("TEE", qty),) + ((Component("CAP", 1),) if bundle else ())
    listing = ListingRef(CHANNEL, "L-1", components)
    available = {"TEE": {"wh-a": a, "wh-b": b}, "CAP": {"wh-a": other}}
    on_hand = {"TEE": {"wh-a": a + held_a, "wh-b": b}}
    others = (ListingRef("tiktok#t1", "T-1", (Component("TEE", 1),)),) if second_quota_shop else ()
    extra = {(CHANNEL, "TEE"): dynamic, (CHANNEL, "CAP"): dynamic}
    why, computed = _explain(listing, stored, available, on_hand, extra, others)
    assert why["shown"] == computed
    final = computed if computed is not None else why["steps"][-1]["qty"]
    assert why["pool"] - why["reserved"] - why["buffer"] + why["rule_adjustment"] == final
    assert why["steps"][-1]["qty"] == final
    assert why["reserved"] == held_a                      # wh-a is among the shop's warehouses either way
    if computed is not None:
        assert computed == display_quantity(stored, components, {
            "TEE": a if stored.warehouses else a + b, "CAP": other},
            quota_by_sku={s: q[CHANNEL] for s, q in quotas_by_sku([listing, *others], {
                CHANNEL: stored, **{o.channel: stored for o in others}}, available).items()},
            extra_buffer_by_sku={"TEE": dynamic, "CAP": dynamic} if stored.buffer_mode == "dynamic" else None)
