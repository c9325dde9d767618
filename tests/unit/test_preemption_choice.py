"""First paid wins, the pure rule (domain/preemption.py): newest hold first, other channels only, just enough."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stocklink.domain.preemption import Hold, choose_holds, covers, takeable
from stocklink.domain.stock import ReservationStatus

NOW_S = 1_800_000_000
BIG = 1_000


def hold(rid, created_at, units, channel="web", status=ReservationStatus.HELD, expires_at=NOW_S + 600):
    return Hold(rid, channel, status, created_at, expires_at, units, allocations=len(units))


def ids(chosen):
    return None if chosen is None else [h.reservation_id for h in chosen]


def test_newest_hold_is_taken_first():
    holds = [hold("old", 1, {"A": 2}), hold("new", 3, {"A": 2}), hold("mid", 2, {"A": 2})]
    assert ids(choose_holds({"A": 2}, holds, channel="shopify:s", now_s=NOW_S, budget=BIG)) == ["new"]


def test_only_holds_of_other_channels_unpaid_and_unexpired_are_taken():
    holds = [hold("same-channel", 9, {"A": 5}, channel="shopify:s"),
             hold("paid", 8, {"A": 5}, status=ReservationStatus.COMMITTED, expires_at=None),
             hold("expired", 7, {"A": 5}, expires_at=NOW_S),
             hold("released", 6, {"A": 5}, status=ReservationStatus.RELEASED, expires_at=None),
             hold("tiktok", 1, {"A": 1}, channel="tiktok:t")]
    assert ids(choose_holds({"A": 1}, holds, channel="shopify:s", now_s=NOW_S, budget=BIG)) == ["tiktok"]
    assert choose_holds({"A": 2}, holds, channel="shopify:s", now_s=NOW_S, budget=BIG) is None
    assert not takeable(holds[0], channel="shopify:s", now_s=NOW_S)
    assert takeable(holds[0], channel="lazada:l", now_s=NOW_S)


def test_just_enough_holds_and_only_those_with_a_short_sku():
    holds = [hold("h5", 5, {"B": 3}), hold("h4", 4, {"A": 1}), hold("h3", 3, {"A": 1, "B": 1}),
             hold("h2", 2, {"A": 1}), hold("h1", 1, {"A": 4})]
    # B is not short: h5 is left alone; two units of A come from the two newest holds carrying A
    assert ids(choose_holds({"A": 2}, holds, channel="x", now_s=NOW_S, budget=BIG)) == ["h4", "h3"]


def test_a_hold_made_unnecessary_by_a_later_one_is_given_back():
    holds = [hold("new", 2, {"A": 1}), hold("old", 1, {"A": 2})]
    assert ids(choose_holds({"A": 2}, holds, channel="x", now_s=NOW_S, budget=BIG)) == ["old"]


def test_multi_sku_shortfall_needs_every_sku_covered():
    holds = [hold("a", 3, {"A": 2}), hold("b", 2, {"B": 1}), hold("ab", 1, {"A": 1, "B": 1})]
    assert ids(choose_holds({"A": 2, "B": 1}, holds, channel="x", now_s=NOW_S, budget=BIG)) == ["a", "b"]
    assert choose_holds({"A": 4, "B": 1}, holds, channel="x", now_s=NOW_S, budget=BIG) is None


def test_nothing_short_takes_nothing():
    assert choose_holds({}, [hold("h", 1, {"A": 1})], channel="x", now_s=NOW_S, budget=BIG) == []
    assert choose_holds({"A": 0}, [hold("h", 1, {"A": 1})], channel="x", now_s=NOW_S, budget=BIG) == []


def test_holds_beyond_the_transaction_budget_are_passed_over():
    wide = Hold("wide", "web", ReservationStatus.HELD, 2, NOW_S + 60, {"A": 2}, allocations=40)   # 82 items
    narrow = hold("narrow", 1, {"A": 2})                                                         # 4 items
    assert ids(choose_holds({"A": 2}, [wide, narrow], channel="x", now_s=NOW_S, budget=50)) == ["narrow"]
    assert choose_holds({"A": 2}, [wide], channel="x", now_s=NOW_S, budget=50) is None
    assert ids(choose_holds({"A": 2}, [wide, narrow], channel="x", now_s=NOW_S, budget=82)) == ["wide"]


_holds = st.lists(st.builds(
    lambda n, created, units, channel, status, expiry: hold(f"h{n}", created, units, channel, status,
                                                            None if status is not ReservationStatus.HELD
                                                            else NOW_S + expiry),
    st.integers(0, 10**6), st.integers(0, 50),
    st.dictionaries(st.sampled_from("ABC"), st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["web", "shopify:s", "tiktok:t"]),
    st.sampled_from([ReservationStatus.HELD, ReservationStatus.HELD, ReservationStatus.COMMITTED]),
    st.integers(-5, 5)), max_size=12, unique_by=lambda h: h.reservation_id)


@settings(max_examples=300, deadline=None)
@given(short=st.dictionaries(st.sampled_from("ABC"), st.integers(0, 6), max_size=3), holds=_holds,
       budget=st.integers(0, 60))
def test_choice_covers_with_takeable_holds_none_of_them_unneeded(short, holds, budget):
    chosen = choose_holds(short, holds, channel="shopify:s", now_s=NOW_S, budget=budget)
    usable = [h for h in holds if takeable(h, channel="shopify:s", now_s=NOW_S)]
    if chosen is None:
        # without a budget it is None exactly when every takeable hold together falls short
        assert not covers(usable, short) or budget < sum(h.transaction_items for h in usable)
        return
    assert covers(chosen, short)
    assert all(h in usable for h in chosen)
    assert sum(h.transaction_items for h in chosen) <= budget
    assert len({h.reservation_id for h in chosen}) == len(chosen)
    for h in chosen:   # just enough: without any one of them the shortfall is not covered
        assert not covers([o for o in chosen if o is not h], short)


@settings(max_examples=200, deadline=None)
@given(short=st.dictionaries(st.sampled_from("ABC"), st.integers(1, 6), min_size=1, max_size=3), holds=_holds)
def test_unlimited_budget_is_none_only_when_all_takeable_holds_fall_short(short, holds):
    chosen = choose_holds(short, holds, channel="shopify:s", now_s=NOW_S, budget=BIG)
    usable = [h for h in holds if takeable(h, channel="shopify:s", now_s=NOW_S)]
    assert (chosen is None) == (not covers(usable, short))
