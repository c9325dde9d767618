"""What the pulled platforms' integration tests share: a shop s1 listing the linked SKU beside a shop s2 whose
stored secret is stale (every call of its poll is refused), and the poller run on a given clock."""
from __future__ import annotations

from tests.integration.conftest import as_admin
from tests.integration.test_channel_sync import SKU, control


def connect_pulled_shops(linked, sandbox_base: str, receiver, platform: str, credentials: dict, secret_field: str,
                         listing_id: str, platform_ids: dict, *, list_on_stale: bool = False) -> None:
    """Shop s1 of `platform` showing `listing_id` (6 units, the linked SKU) in its simulator and linked to the
    SKU in StockLink, and shop s2 whose stored `secret_field` is stale; with `list_on_stale` s2's simulator
    shows the listing too (it stays unlinked in StockLink)."""
    for shop in ("s1", "s2"):
        api = f"{sandbox_base}/{platform}/{shop}"
        control(sandbox_base, "POST", "shops", {"platform": platform, "shop": shop,
                                                "credentials": {**credentials, "api_base_url": api},
                                                "webhook_url": f"{receiver.base}/hook/{platform}"})
        secret = credentials[secret_field] if shop == "s1" else "stale-secret"
        assert as_admin(linked).put(f"/shops/{platform}/{shop}", {**credentials, secret_field: secret,
                                                                  "api_base_url": api}).status == 200
        if shop == "s2" and not list_on_stale:
            continue           # s2 lists nothing: only its polls fail
        control(sandbox_base, "PUT", "listings", {"platform": platform, "shop": shop, "listings": [
            {"listing_id": listing_id, "quantity": 6, "platform_ids": platform_ids, "seller_sku": SKU}]})
        if shop == "s1":
            assert linked.put(f"/listings/{platform}/{shop}/{listing_id}", {
                "components": [{"sku": SKU, "qty": 1}], "platform_ids": platform_ids}).status == 200


def poll(now_ms: int) -> dict:
    from stocklink.logic.order_poll import run_poll
    return run_poll(now_ms, budget_ms=20_000)


def by_shop(report: dict, platform: str | None = None) -> dict[str, dict]:
    """The run's shop reports by shop name (of `platform` only, when given)."""
    return {r["shop"]: r for r in report["shops"] if platform is None or r["platform"] == platform}
