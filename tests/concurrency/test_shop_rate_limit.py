"""The shop-wide platform call limit on DynamoDB Local: several containers (each its own ShopRateLimit, as
separate Lambda containers have) taking call slots from many threads at once never put more calls into a
window than the platform's rate allows, and every caller gets a slot."""
from __future__ import annotations

import threading

import pytest

from stocklink.logic.sync import rate_limit, seams
from stocklink.store import sync_models

CONTAINERS, THREADS_EACH, CALLS_EACH = 3, 4, 5
RATE = 4                                   # calls per second the platform allows this shop
NOW = 1_800_000_000.25                     # a frozen wall clock: every caller starts in the same second


@pytest.fixture
def windows(local_tables, dynamodb_local, monkeypatch):
    model = sync_models.CallWindow
    monkeypatch.setattr(model.Meta, "host", dynamodb_local, raising=False)
    monkeypatch.setattr(model, "_connection", None, raising=False)
    monkeypatch.setattr(seams, "wall", lambda: NOW)
    yield model
    model._connection = None


def test_containers_together_never_exceed_the_shop_rate_in_any_second(windows):
    limits = [rate_limit.ShopRateLimit("woocommerce", "s1", RATE, RATE) for _ in range(CONTAINERS)]
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(CONTAINERS * THREADS_EACH)

    def caller(limit):
        start.wait()
        mine = [limit.wait_time() for _ in range(CALLS_EACH)]
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=caller, args=(limit,)) for limit in limits for _ in range(THREADS_EACH)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    total = CONTAINERS * THREADS_EACH * CALLS_EACH
    counts = {int(w.sk.split("#")[1]): int(w.calls) for w in windows.query("RATE#woocommerce#s1")}
    window_ms, per_window = limits[0].window_ms, limits[0].per_window
    assert (window_ms, per_window) == (500, 2)            # the shortest window of whole calls at exactly 4/s
    assert sum(counts.values()) == total and len(waits) == total
    assert max(counts.values()) <= per_window
    # windows are filled in order from now on: 60 calls, 2 per half second, take 30 consecutive windows
    first = int(NOW * 1000) // window_ms
    assert sorted(counts) == list(range(first, first + total // per_window))
    assert all(c == per_window for c in counts.values())
    # so any one second (two consecutive windows) holds at most RATE calls
    assert max(counts[i] + counts.get(i + 1, 0) for i in counts) <= RATE
    # each caller waits for the start of the window it was given
    assert sorted(round(w, 3) for w in waits) == sorted(
        round(max(0.0, i * window_ms / 1000 - NOW), 3) for i in counts for _ in range(per_window))


@pytest.fixture
def mailbox(local_tables, dynamodb_local, monkeypatch):
    model = sync_models.ShopMailbox
    monkeypatch.setattr(model.Meta, "host", dynamodb_local, raising=False)
    monkeypatch.setattr(model, "_connection", None, raising=False)
    yield model
    model._connection = None


def test_every_sku_handed_over_is_collected_by_the_waiter_or_refused_to_its_sender(mailbox):
    """12 senders hand over SKUs while the waiter collects at an arbitrary moment: a hand-over that
    succeeded is in what the waiter collected, one that failed went back to its sender. None is lost."""
    assert sync_models.await_slot("woocommerce", "s1", "waiter", due_ms=10_000_000, now_ms=0)
    accepted: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(13)
    collected: set[str] = set()

    def sender(i):
        go.wait()
        for k in range(10):
            sku = f"S{i}-{k}"
            if sync_models.hand_over("woocommerce", "s1", [sku], now_ms=1_000):
                with lock:
                    accepted.append(sku)

    def waiter():
        go.wait()
        collected.update(sync_models.collect("woocommerce", "s1", "waiter"))

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(12)] + [threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(accepted) == collected
    assert sync_models.collect("woocommerce", "s1", "waiter") == set()     # nothing left behind
