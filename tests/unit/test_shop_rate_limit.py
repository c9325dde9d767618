"""ShopRateLimit's choice of window, against an in-memory stand-in for the conditional counter (the real
counter on DynamoDB Local: tests/concurrency/test_shop_rate_limit.py)."""
from __future__ import annotations

import pytest

from stocklink.logic import channel_sync
from stocklink.store import sync_models


@pytest.fixture
def counter(monkeypatch):
    counts: dict[int, int] = {}
    tries: list[int] = []

    def take(platform, shop, second, limit):
        tries.append(second)
        if counts.get(second, 0) >= limit:
            return False
        counts[second] = counts.get(second, 0) + 1
        return True

    monkeypatch.setattr(sync_models, "take_call_slot", take)
    monkeypatch.setattr(channel_sync, "_wall", lambda: 100.75)
    return counts, tries


def test_a_full_window_gives_a_slot_in_the_next_one_and_is_not_tried_again(counter):
    counts, tries = counter
    limit = channel_sync.ShopRateLimit("woocommerce", "s1", 2.0, 4)
    assert [limit.wait_time() for _ in range(5)] == [0.0, 0.0, 0.25, 0.25, 1.25]
    assert counts == {100: 2, 101: 2, 102: 1}
    assert tries == [100, 100, 100, 101, 101, 101, 102]   # second 100 found full once, then skipped


def test_fractional_rates_allow_at_least_one_call_a_second(counter):
    limit = channel_sync.ShopRateLimit("x", "s1", 0.5, 1)
    assert [limit.wait_time() for _ in range(2)] == [0.0, 0.25]


def test_without_the_shared_count_the_container_paces_itself(monkeypatch):
    def unavailable(*args):
        raise RuntimeError("DynamoDB unreachable")

    monkeypatch.setattr(sync_models, "take_call_slot", unavailable)
    clock = [50.0]
    monkeypatch.setattr(channel_sync, "_clock", lambda: clock[0])
    limit = channel_sync.ShopRateLimit("shopify", "s1", 2.0, 1)
    assert limit.wait_time() == 0.0
    assert limit.wait_time() == pytest.approx(0.5)       # the container's own bucket: 2/s, burst 1
