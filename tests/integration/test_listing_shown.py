"""What each platform may still sell of a listing (`shown`): a landed push sets it, every order the platform
reports lowers it (its checkout took the units first), a cancellation raises it back, a redelivery changes
nothing. The last-units rule builds on this number, so each step is checked through the real webhook."""
from tests.integration.conftest import as_admin
from tests.integration.test_shopify_webhooks import SECRET, SHOP, _order, _send

LISTING = "808950810"       # the variant id of the order's line


def _setup(staff):
    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    staff.put("/skus/IPOD2008PINK", {"name": "iPod Nano pink"})
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1",
                                   "lines": [{"sku": "IPOD2008PINK", "qty": 5}]})
    assert as_admin(staff).put(f"/shops/shopify/{SHOP}", {"webhook_secret": SECRET,
                                                          "access_token": "shpat"}).status == 200
    assert staff.put(f"/listings/shopify/{SHOP}/{LISTING}",
                     {"components": [{"sku": "IPOD2008PINK", "qty": 1}]}).status == 200


def _shown(staff):
    (listing,) = staff.get("/skus/IPOD2008PINK/channels").body["listings"]
    return listing["shown"]


def test_orders_lower_and_cancellations_raise_what_the_platform_may_still_sell(staff, webhooks):
    from stocklink.store import sync_models

    _setup(staff)
    assert _shown(staff) is None                            # never pushed: unknown
    sync_models.record_pushed("shopify", SHOP, LISTING, 5, 1_000)
    assert _shown(staff) == 5
    _send(webhooks, "orders/create", _order(order_id=1, lines=[
        {"id": 1, "variant_id": int(LISTING), "sku": "IPOD2008PINK", "quantity": 2}]))
    assert _shown(staff) == 3
    _send(webhooks, "orders/create", _order(order_id=1, lines=[
        {"id": 1, "variant_id": int(LISTING), "sku": "IPOD2008PINK", "quantity": 2}]), webhook_id="again")
    assert _shown(staff) == 3                               # a redelivery has one effect
    _send(webhooks, "orders/paid", _order(order_id=1, financial_status="paid", lines=[
        {"id": 1, "variant_id": int(LISTING), "sku": "IPOD2008PINK", "quantity": 2}]), webhook_id="paid")
    assert _shown(staff) == 3                               # paying takes no further units
    _send(webhooks, "orders/cancelled", _order(order_id=1, financial_status="voided", lines=[
        {"id": 1, "variant_id": int(LISTING), "sku": "IPOD2008PINK", "quantity": 2}]), webhook_id="cancel")
    assert _shown(staff) == 5                               # the platform may have put them back
    sync_models.record_pushed("shopify", SHOP, LISTING, 4, 2_000)
    assert _shown(staff) == 4


def test_an_order_the_pool_cannot_cover_still_lowers_what_the_platform_shows(staff, webhooks):
    from stocklink.store import sync_models

    _setup(staff)
    sync_models.record_pushed("shopify", SHOP, LISTING, 5, 1_000)
    out = _send(webhooks, "orders/create", _order(order_id=7, financial_status="paid", lines=[
        {"id": 1, "variant_id": int(LISTING), "sku": "IPOD2008PINK", "quantity": 6}]))
    assert out.body["outcomes"][0]["status"] == "oversold"
    assert _shown(staff) == -1                              # the platform sold them either way
