"""The per-shop mailbox on moto: a container waiting for a rate-limited shop's next call announces it,
others hand it their SKUs while it waits, it collects them in one conditional write, and a hand-over after
that fails (its sender pushes itself). Nothing handed over is lost."""
from __future__ import annotations

from stocklink.store import sync_models as sm


def test_hand_over_needs_a_waiter_whose_slot_is_still_ahead(aws):
    assert sm.hand_over("woocommerce", "s1", ["A"], now_ms=1_000) is False          # nobody waits
    assert sm.await_slot("woocommerce", "s1", "waiter-1", due_ms=2_000, now_ms=1_000)
    assert sm.hand_over("woocommerce", "s1", ["A", "B"], now_ms=1_500)
    assert sm.hand_over("woocommerce", "s1", ["B", "C"], now_ms=1_600)
    assert sm.hand_over("woocommerce", "s1", ["D"], now_ms=2_000) is False          # its slot has come
    assert sm.hand_over("shopify", "s1", ["A"], now_ms=1_500) is False              # per shop
    assert sm.collect("woocommerce", "s1", "waiter-1") == {"A", "B", "C"}
    assert sm.hand_over("woocommerce", "s1", ["E"], now_ms=1_700) is False          # collected: closed


def test_one_waiter_at_a_time_and_uncollected_skus_pass_to_the_next(aws):
    assert sm.await_slot("lazada", "s1", "w1", due_ms=5_000, now_ms=1_000)
    assert sm.await_slot("lazada", "s1", "w2", due_ms=6_000, now_ms=2_000) is False  # w1 still waits
    assert sm.await_slot("lazada", "s1", "w2", due_ms=5_000, now_ms=2_000) is False  # for a slot no later
    assert sm.hand_over("lazada", "s1", ["A"], now_ms=3_000)
    # w1 died before collecting; after its slot time a new waiter takes over, and with it A
    assert sm.await_slot("lazada", "s1", "w3", due_ms=8_000, now_ms=6_000)
    assert sm.collect("lazada", "s1", "w1") == set()                                # not its mailbox now
    assert sm.collect("lazada", "s1", "w3") == {"A"}


def test_a_waiter_for_an_earlier_slot_takes_the_mailbox_and_what_was_handed_to_the_later_one(aws):
    """Two containers wait for WooCommerce's next calls: the later one announced first. The one whose slot
    opens first takes the mailbox over, so what was handed over goes out in the earlier call; the later
    waiter's collect finds nothing and it pushes only its own SKUs."""
    assert sm.await_slot("woocommerce", "s1", "later", due_ms=3_000, now_ms=1_000)
    assert sm.hand_over("woocommerce", "s1", ["A"], now_ms=1_100)
    assert sm.await_slot("woocommerce", "s1", "earlier", due_ms=2_500, now_ms=1_200)
    assert sm.hand_over("woocommerce", "s1", ["B"], now_ms=1_300)
    assert sm.await_slot("woocommerce", "s1", "later", due_ms=3_000, now_ms=1_400) is False
    assert sm.collect("woocommerce", "s1", "earlier") == {"A", "B"}
    assert sm.collect("woocommerce", "s1", "later") == set()
