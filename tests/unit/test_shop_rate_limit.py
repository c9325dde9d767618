"""ShopRateLimit's choice of window, against an in-memory stand-in for the conditional counter (the real
counter on DynamoDB Local: tests/concurrency/test_shop_rate_limit.py)."""
from __future__ import annotations

import pytest

from stocklink.logic import channel_sync
from stocklink.store import sync_models


@pytest.fixture
def counter(monkeypatch):
    counts: dict[str, int] = {}
    tries: list[str] = []

    def take(platform, shop, window, limit, purge_at):
        tries.append(window)
        if counts.get(window, 0) >= limit:
            return False
        counts[window] = counts.get(window, 0) + 1
        return True

    monkeypatch.setattr(sync_models, "take_call_slot", take)
    monkeypatch.setattr(channel_sync, "_wall", lambda: 100.75)
    return counts, tries


def test_a_full_window_gives_a_slot_in_the_next_one_and_is_not_tried_again(counter):
    counts, tries = counter
    limit = channel_sync.ShopRateLimit("woocommerce", "s1", 2.0, 4)      # 2 calls in each 1 s window
    assert (limit.window_ms, limit.per_window) == (1000, 2)
    assert [limit.wait_time() for _ in range(5)] == [0.0, 0.0, 0.25, 0.25, 1.25]
    assert counts == {"1000ms#00000000000100": 2, "1000ms#00000000000101": 2, "1000ms#00000000000102": 1}
    # second 100 was found full once, then skipped
    assert [int(t.split("#")[1]) for t in tries] == [100, 100, 100, 101, 101, 101, 102]


def test_fast_platforms_get_their_whole_rate_in_one_window(counter):
    limit = channel_sync.ShopRateLimit("lazada", "s1", 50.0, 10)
    assert (limit.window_ms, limit.per_window) == (1000, 50)
    waits = [limit.wait_time() for _ in range(51)]
    assert waits[:50] == [0.0] * 50 and waits[50] == pytest.approx(0.25)


def test_slow_rates_get_long_windows(counter):
    limit = channel_sync.ShopRateLimit("x", "s1", 0.5, 1)
    assert (limit.window_ms, limit.per_window) == (2000, 1)
    assert [limit.wait_time() for _ in range(2)] == [0.0, 1.25]


def test_without_the_shared_count_the_container_paces_itself(monkeypatch):
    def unavailable(*args):
        raise RuntimeError("DynamoDB unreachable")

    monkeypatch.setattr(sync_models, "take_call_slot", unavailable)
    clock = [50.0]
    monkeypatch.setattr(channel_sync, "_clock", lambda: clock[0])
    limit = channel_sync.ShopRateLimit("shopify", "s1", 2.0, 1)
    assert limit.wait_time() == 0.0
    assert limit.wait_time() == pytest.approx(0.5)       # the container's own bucket: 2/s, burst 1
