"""`stocklink discover` over the HTTP API: report printed, apply and the first-sync choice sent as asked."""
import io
import json
from types import SimpleNamespace

from infra.local.api_cli import discover


class FakeApi:
    def __init__(self):
        self.sent = []
        self.answers = {
            ("POST", "/shops/tiktok/s1/listings/discover"): {"discovery_id": "d1", "status": "discovering"},
            ("GET", "/shops/tiktok/s1/listings/discover/d1"): [
                {"discovery_id": "d1", "status": "ready", "progress": {"calls": 3},
                 "summary": {"listings": 3, "mapped": 1, "unmapped": 1, "conflicts": 1},
                 "unmapped": [{"listing_id": "9", "seller_sku": "TEA1", "title": "Tea", "suggestions": ["TEA-1"]}],
                 "conflicts": [{"kind": "two_listings_one_sku", "skus": ["MUG-1"],
                                "listings": [{"listing_id": "3"}, {"listing_id": "4"}]}]},
                {"discovery_id": "d1", "status": "choosing", "first_sync": [
                    {"listing_id": "1", "platform_qty": 7, "stocklink_qty": 10, "status": "pending"}]},
                {"discovery_id": "d1", "status": "done", "first_sync": [
                    {"listing_id": "1", "platform_qty": 7, "stocklink_qty": 10, "status": "opening"}]}],
            ("POST", "/shops/tiktok/s1/listings/discover/d1/apply"): {"discovery_id": "d1", "status": "applying"},
            ("POST", "/shops/tiktok/s1/listings/discover/d1/first-sync"): {"discovery_id": "d1", "status": "settling"},
        }

    def json(self, method, path, body=None, **kw):
        self.sent.append((method, path, json.loads(body) if body else None))
        answer = self.answers[(method, path)]
        return answer.pop(0) if isinstance(answer, list) else answer


def test_discover_prints_the_report_then_applies_and_chooses():
    api, out = FakeApi(), io.StringIO()
    args = SimpleNamespace(platform="tiktok", shop="s1", mapping=None, apply=True, choice="opening", warehouse="wh-a")
    assert discover(args, api, stdout=out, stderr=io.StringIO(), poll_s=0) == 0
    text = out.getvalue()
    assert "1 mapped, 1 unmapped, 1 conflicts" in text and "maybe TEA-1" in text and "listings 3, 4" in text
    assert "1: platform 7, StockLink 10" in text and "opening for 1 listing(s); discovery done" in text
    assert ("POST", "/shops/tiktok/s1/listings/discover/d1/first-sync",
            {"choice": "opening", "warehouse_id": "wh-a"}) in api.sent


def test_without_apply_nothing_is_written():
    api, out = FakeApi(), io.StringIO()
    args = SimpleNamespace(platform="tiktok", shop="s1", mapping=None, apply=False, choice=None, warehouse=None)
    assert discover(args, api, stdout=out, stderr=io.StringIO(), poll_s=0) == 0
    assert [m for m, _, _ in api.sent] == ["POST", "GET"] and "nothing written" in out.getvalue()
