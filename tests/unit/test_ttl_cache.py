"""The one per-container cache: loads once per period per key, remembers None only when asked."""
from stocklink.ttl_cache import TtlCache


def test_loads_once_per_period_and_again_after_it():
    now = [0.0]
    calls = []
    cache = TtlCache(30, clock=lambda: now[0])
    load = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get("k", load) == 1
    now[0] = 29.9
    assert cache.get("k", load) == 1
    now[0] = 30.0
    assert cache.get("k", load) == 2
    cache.forget("k")
    assert cache.get("k", load) == 3


def test_none_is_kept_only_when_asked():
    cache = TtlCache(30, clock=lambda: 0.0)
    calls = []
    assert cache.get("absent", lambda: calls.append(1), keep_none=False) is None
    assert cache.get("absent", lambda: calls.append(1), keep_none=False) is None
    assert len(calls) == 2
    cache.get("kept", lambda: calls.append(1))
    cache.get("kept", lambda: calls.append(1))
    assert len(calls) == 3


def test_a_miss_is_kept_for_its_own_shorter_period():
    now = [0.0]
    cache = TtlCache(5, clock=lambda: now[0])
    found = {"k": None}
    assert cache.get("k", lambda: found["k"], none_seconds=1) is None
    found["k"] = "v"
    now[0] = 0.9
    assert cache.get("k", lambda: found["k"], none_seconds=1) is None
    now[0] = 1.0
    assert cache.get("k", lambda: found["k"], none_seconds=1) == "v"
    found["k"] = "w"
    now[0] = 5.9
    assert cache.get("k", lambda: found["k"], none_seconds=1) == "v"   # a hit keeps its full period


def test_max_entries_drops_the_oldest():
    cache = TtlCache(30, clock=lambda: 0.0, max_entries=2)
    for key in ("a", "b", "c"):
        cache.get(key, lambda: key.upper())
    calls = []
    assert cache.get("a", lambda: calls.append(1) or "A2") == "A2" and calls == [1]   # "a" was dropped
    assert cache.get("c", lambda: calls.append(1) or "C2") == "C"
