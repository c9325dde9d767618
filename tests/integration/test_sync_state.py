"""Listing sync state on moto: claims of several listings go in one transaction, a listing a newer
computation holds is left out and the others are still claimed; pushed quantities are recorded together."""
from __future__ import annotations

from stocklink.store import sync_models as sm


def test_claim_many_wins_every_listing_not_held_by_a_newer_computation(aws):
    assert sm.claim("lazada", "s1", "B", 7, read_at_ms=2_000)           # a newer computation holds B
    assert sm.claim("lazada", "s1", "C", 7, read_at_ms=500)             # an older one held C ...
    assert sm.record_pushed("lazada", "s1", "C", 7, now_ms=600, claimed_at=500)   # ... and its push landed
    won = sm.claim_many("lazada", "s1", [("A", 5), ("B", 5), ("C", 5), ("D", 5)], read_at_ms=1_000)
    assert won == {"A", "C", "D"}
    states = sm.listing_states("lazada", "s1", ["A", "B", "C", "D"])
    assert {lid: (int(s.computed_qty), int(s.claim_at)) for lid, s in states.items()} == {
        "A": (5, 1_000), "B": (7, 2_000), "C": (5, 1_000), "D": (5, 1_000)}
    assert sm.claim_many("lazada", "s1", [("A", 4), ("B", 4)], read_at_ms=900) == set()   # older than both
    assert sm.blocked("lazada", "s1", ["A", "B"], read_at_ms=900) == set()                # both newer: drop


def test_a_listing_whose_push_may_still_be_landing_is_not_claimed_again_until_it_has(aws):
    assert sm.claim("tiktok", "s1", "A", 5, read_at_ms=1_000)           # A's push is in flight
    assert sm.claim_many("tiktok", "s1", [("A", 4), ("B", 4)], read_at_ms=2_000) == {"B"}
    assert sm.blocked("tiktok", "s1", ["A"], read_at_ms=2_000) == {"A"}  # newer, only waiting
    assert sm.in_flight("tiktok", "s1", ["A", "B"]) == {"A", "B"}
    assert sm.record_pushed("tiktok", "s1", "A", 5, now_ms=1_500, claimed_at=1_000)   # landed
    assert sm.in_flight("tiktok", "s1", ["A"]) == set()
    assert sm.claim("tiktok", "s1", "A", 4, read_at_ms=2_000)


def test_record_pushed_many_records_each_listing(aws):
    sm.record_pushed_many("shopify", "s1", [("A", 3), ("B", 0)], now_ms=5_000)
    states = sm.listing_states("shopify", "s1", ["A", "B"])
    assert {lid: (s.status, int(s.pushed_qty), int(s.pushed_at)) for lid, s in states.items()} == {
        "A": ("pushed", 3, 5_000), "B": ("pushed", 0, 5_000)}
