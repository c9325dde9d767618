"""The control plane's changed_ago_s: an order change stamped that many seconds back is what the incremental
order API shows in a window that ends before now (the window a poller reads past the platform's settle time),
and not in the window of the last minute; a value outside 0..86400 is refused and places no order."""
from __future__ import annotations

import time
import urllib.error

import pytest

from stocklink.channels.base import PollWindow
from stocklink.channels.pinduoduo import PinduoduoAdapter

from .conftest import control, send
from .test_sandbox_pinduoduo import setup


def events_in(creds: dict, window: PollWindow) -> list[str]:
    adapter = PinduoduoAdapter()
    status, _, body = send(adapter.build_order_poll(creds, window, None))
    return [e.order_id for e in adapter.parse_order_poll("s1", window, None, status, body).events]


def test_a_change_stamped_back_is_in_the_window_before_the_settle_time(sandbox_base, receiver):
    creds = setup(sandbox_base, receiver)
    placed = control(sandbox_base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", "kind": "paid",
                                                      "lines": [{"listing_id": "1180000001", "qty": 1}],
                                                      "changed_ago_s": 300})
    now = int(time.time())
    assert events_in(creds, PollWindow(now - 400, now - 200)) == [placed["order_id"]]
    assert events_in(creds, PollWindow(now - 60, now + 5)) == []


@pytest.mark.parametrize("ago", [-1, 86401, "300", True])
def test_a_stamp_out_of_range_is_refused_and_places_nothing(sandbox_base, receiver, ago):
    setup(sandbox_base, receiver)
    before = control(sandbox_base, "GET", "listings", query="?platform=pinduoduo&shop=s1")["listings"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        control(sandbox_base, "POST", "orders", {"platform": "pinduoduo", "shop": "s1", "kind": "paid",
                                                 "lines": [{"listing_id": "1180000001", "qty": 1}],
                                                 "changed_ago_s": ago})
    assert refused.value.code == 400
    assert control(sandbox_base, "GET", "listings", query="?platform=pinduoduo&shop=s1")["listings"] == before
