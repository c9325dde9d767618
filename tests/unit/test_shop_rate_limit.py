"""ShopRateLimit's choice of window, against an in-memory stand-in for the conditional counter (the real
counter on DynamoDB Local: tests/concurrency/test_shop_rate_limit.py)."""
from __future__ import annotations

import pytest

from stocklink.logic.sync import rate_limit, seams
from stocklink.store import sync_models


@pytest.fixture
def counter(monkeypatch):
    counts: dict[str, int] = {}
    tries: list[str] = []

    def take(platform, shop, window, limit, purge_at):
        tries.append(window)
        if counts.get(window, 0) >= limit:
            return None
        counts[window] = counts.get(window, 0) + 1
        return counts[window]

    monkeypatch.setattr(sync_models, "take_call_slot", take)
    monkeypatch.setattr(seams, "wall", lambda: 100.75)
    return counts, tries


def test_a_full_window_gives_a_slot_in_the_next_one_and_is_not_tried_again(counter):
    counts, tries = counter
    limit = rate_limit.ShopRateLimit("woocommerce", "s1", 2.0, 4)      # 1 call in each 500 ms window
    assert (limit.window_ms, limit.per_window) == (500, 1)
    # now is 100.75 s: the current window started at 100.5, the next ones at 101.0, 101.5, ...
    assert [limit.wait_time() for _ in range(5)] == [0.0, 0.25, 0.75, 1.25, 1.75]
    assert counts == {f"500ms#{i:014d}": 1 for i in range(201, 206)}
    # each window was tried once: the take that filled it told the container so, which starts past it
    assert [int(t.split("#")[1]) for t in tries] == [201, 202, 203, 204, 205]


def test_a_window_filled_by_another_container_is_tried_once_then_skipped(counter):
    counts, tries = counter
    limit = rate_limit.ShopRateLimit("woocommerce", "s1", 2.0, 4)
    counts["500ms#00000000000201"] = 1                    # another container's call
    assert [limit.wait_time() for _ in range(2)] == [0.25, 0.75]
    assert [int(t.split("#")[1]) for t in tries] == [201, 202, 203]


def test_a_window_holds_whole_calls_at_exactly_the_rate(counter):
    for rate, window_ms, per_window in ((5.0, 600, 3), (10.0, 500, 5), (7.0, 572, 4), (3.0, 667, 2)):
        limit = rate_limit.ShopRateLimit("x", "s1", rate, 1)
        assert (limit.window_ms, limit.per_window) == (window_ms, per_window)
        assert per_window * 1000 / window_ms <= rate       # rounded so that the rate is never exceeded


def test_fast_platforms_get_their_whole_rate_in_half_second_windows(counter):
    limit = rate_limit.ShopRateLimit("lazada", "s1", 50.0, 10)
    assert (limit.window_ms, limit.per_window) == (500, 25)
    waits = [limit.wait_time() for _ in range(51)]
    assert waits[:25] == [0.0] * 25 and waits[25:50] == [pytest.approx(0.25)] * 25
    assert waits[50] == pytest.approx(0.75)


def test_slow_rates_get_long_windows(counter):
    limit = rate_limit.ShopRateLimit("x", "s1", 0.5, 1)
    assert (limit.window_ms, limit.per_window) == (2000, 1)
    assert [limit.wait_time() for _ in range(2)] == [0.0, 1.25]


def test_without_the_shared_count_the_container_paces_itself(monkeypatch):
    def unavailable(*args):
        raise RuntimeError("DynamoDB unreachable")

    monkeypatch.setattr(sync_models, "take_call_slot", unavailable)
    clock = [50.0]
    monkeypatch.setattr(seams, "clock", lambda: clock[0])
    limit = rate_limit.ShopRateLimit("shopify", "s1", 2.0, 1)
    assert limit.wait_time() == 0.0
    assert limit.wait_time() == pytest.approx(0.5)       # the container's own bucket: 2/s, burst 1


def test_only_a_window_another_container_filled_looks_full(counter):
    """looks_full sends SKUs to the mailbox of a container already waiting: a window this container filled
    itself says nothing about anyone waiting, so it does not count."""
    counts, _ = counter
    limit = rate_limit.ShopRateLimit("woocommerce", "s1", 2.0, 4)
    assert limit.wait_time() == 0.0 and not limit.looks_full()       # filled window 201 itself
    other = rate_limit.ShopRateLimit("woocommerce", "s1", 2.0, 4)
    assert other.wait_time() == 0.25 and other.looks_full()         # found 201 full, took 202


def test_a_window_given_back_is_tried_again_by_the_next_take(counter, monkeypatch):
    """The take filled window 201 (so it is skipped next time); given back, it has room again and the next
    take uses it instead of leaving it empty and waiting a window longer."""
    counts, tries = counter
    monkeypatch.setattr(sync_models, "release_call_slot",
                        lambda platform, shop, window: counts.__setitem__(window, counts[window] - 1))
    limit = rate_limit.ShopRateLimit("woocommerce", "s1", 2.0, 4)
    delay, window = limit.take()
    assert (delay, window) == (0.0, "500ms#00000000000201")
    limit.give_back(window)
    assert limit.take() == (0.0, "500ms#00000000000201")
    assert [int(t.split("#")[1]) for t in tries] == [201, 201]


def test_take_now_takes_a_slot_of_the_current_window_or_none(counter):
    counts, tries = counter
    limit = rate_limit.ShopRateLimit("woocommerce", "s1", 2.0, 4)      # 1 call in each 500 ms window
    assert limit.take_now() is True                  # window 201 had room
    assert limit.take_now() is False                 # full now (this container filled it): no request
    other = rate_limit.ShopRateLimit("woocommerce", "s1", 2.0, 4)
    assert other.take_now() is False                 # another container finds it full; never a later window
    assert counts == {"500ms#00000000000201": 1}
    assert [int(t.split("#")[1]) for t in tries] == [201, 201]
