"""Per-container memory of slow-changing configuration: shop records and secrets, a shop's call rate, and
whether any shop uses the dynamic buffer. Each is re-read at most every CONFIG_CACHE_S, so a burst of
events costs no configuration reads; a change made through the API is seen within that time.

The listings showing each SKU (the reverse index), the listings themselves and the shops' allocation
settings are kept under the catalog's listings version instead (store.catalog): a push reads that number in
the same request as its guard states, and whatever was read under another number is forgotten first, so a
listing linked, changed or re-mapped, or a shop's allocation changed, is seen by the next push as if nothing
were cached. CONFIG_CACHE_S still bounds an entry's age (a write that bypassed store.catalog)."""
from __future__ import annotations

import threading
from typing import Callable, Hashable

from stocklink.logic.sync import seams
from stocklink.store import catalog
from stocklink.ttl_cache import TtlCache

CONFIG_CACHE_S = 30.0

_cache = TtlCache(CONFIG_CACHE_S, clock=lambda: seams.clock())
LISTINGS_CACHE_MAX = 20_000
_listings = TtlCache(CONFIG_CACHE_S, clock=lambda: seams.clock(), max_entries=LISTINGS_CACHE_MAX)
_listings_version: list = [None]
_listings_lock = threading.Lock()


def cached(key: str, load: Callable[[], object], keep_none: bool = True):
    """load() at most every CONFIG_CACHE_S per container (the shop's secrets are cached as long already)."""
    return _cache.get(key, load, keep_none)


def forget() -> None:
    _cache.forget()
    with _listings_lock:
        _listings.forget()
        _listings_version[0] = None


def listings_cached(version: int, keys: list[Hashable], load: Callable[[list], dict]) -> dict:
    """{key: value} for `keys` from what this container read under the listings `version`; load(missing)
    -> {key: value} reads the rest (a key it leaves out is remembered as absent). An entry read under
    another version is never returned: the cache is emptied when the version read changes."""
    with _listings_lock:
        if _listings_version[0] != version:
            _listings.forget()
            _listings_version[0] = version
    return _listings.get_many(keys, load)


def reset_caches() -> None:
    """Forget everything this container remembers (tests start each case as a fresh container)."""
    from stocklink.logic.sync import rate_limit, velocity

    forget()
    velocity.forget_pending_latencies()
    rate_limit.forget_limiters()


def shop_credentials(platform: str, shop: str) -> dict | None:
    from stocklink.logic.catalog import shop_credentials as read

    # an unknown shop is not remembered: it may be created a moment later
    return cached(f"shop#{platform}#{shop}", lambda: read(platform, shop), keep_none=False)


def shop_call_rate(platform: str, shop: str) -> float | None:
    from stocklink.logic.catalog import shop_call_rate as read

    return cached(f"rate#{platform}#{shop}", lambda: read(platform, shop))


def any_dynamic_buffer() -> bool:
    """Whether some shop uses the dynamic buffer: only then is sales velocity worth two requests per SKU."""
    return bool(cached("dynamic", lambda: any(
        (data or {}).get("buffer_mode") == "dynamic" for data in catalog.all_allocation_settings())))
