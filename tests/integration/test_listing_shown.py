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


def _one_unit(order_id, financial_status="pending"):
    return _order(order_id=order_id, financial_status=financial_status, lines=[
        {"id": 1, "variant_id": int(LISTING), "sku": "IPOD2008PINK", "quantity": 1}])


def test_the_note_is_written_in_the_orders_transaction_and_refused_with_it(staff, webhooks, monkeypatch):
    """A delivery that races past the marker check (another container applied the order meanwhile) is
    refused whole on the marker: its note is not written a second time."""
    from stocklink.store import repository, sync_models

    _setup(staff)
    sync_models.record_pushed("shopify", SHOP, LISTING, 5, 1_000)
    assert _send(webhooks, "orders/create", _one_unit(1)).body["outcomes"][0]["status"] == "applied"
    assert _shown(staff) == 4
    real = repository.get_event
    looks = []

    def not_seen_yet(key):      # the race: the marker check runs before the first delivery's transaction
        looks.append(key)
        return None if len(looks) == 1 else real(key)

    monkeypatch.setattr(repository, "get_event", not_seen_yet)
    again = _send(webhooks, "orders/create", _one_unit(1), webhook_id="again").body["outcomes"][0]
    assert again["duplicate"] is True and len(looks) == 2
    assert _shown(staff) == 4
    assert staff.get("/skus/IPOD2008PINK/stock").body["totals"]["reserved"] == 1


def test_a_note_the_transaction_has_no_room_for_is_written_after_it(staff, webhooks, monkeypatch):
    """An order whose transaction is full (here: DynamoDB's limit lowered to what the hold itself takes)
    still lowers what its listing shows, by one UpdateItem after the transaction."""
    import botocore.client

    from stocklink.store import sync_models, transactions

    _setup(staff)
    sync_models.record_pushed("shopify", SHOP, LISTING, 5, 1_000)
    # reservation, marker, counter update, ledger entry: full at 4
    monkeypatch.setattr(transactions, "MAX_TRANSACTION_ITEMS", 4)
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append((operation, len(params.get("TransactItems", []))))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    assert _send(webhooks, "orders/create", _one_unit(2)).body["outcomes"][0]["status"] == "applied"
    assert ("TransactWriteItems", 4) in calls and ("UpdateItem", 0) in calls
    assert _shown(staff) == 4


def test_a_cancellation_of_an_expired_hold_writes_its_marker_and_note_together(staff, webhooks, monkeypatch):
    """The hold expired and the sweep released it: the platform's cancellation moves no stock, and its
    marker and its note (the platform may have put the units back) are one transaction."""
    import botocore.client

    from stocklink.logic import reservations
    from stocklink.store import sync_models
    from stocklink.time import now_ms

    _setup(staff)
    sync_models.record_pushed("shopify", SHOP, LISTING, 5, 1_000)
    _send(webhooks, "orders/create", _one_unit(3))
    assert _shown(staff) == 4
    assert reservations.release_expired(now_ms() + 10 * 86_400_000) == [f"shopify:{SHOP}:3"]
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
        return original(self, operation, params)

    with monkeypatch.context() as patched:
        patched.setattr(botocore.client.BaseClient, "_make_api_call", counting)
        cancelled = _send(webhooks, "orders/cancelled", _one_unit(3, "voided"), webhook_id="c1").body["outcomes"][0]
    assert cancelled["status"] == "applied"
    assert sorted(calls) == ["GetItem", "GetItem", "TransactWriteItems"]   # marker check, reservation, write
    assert _shown(staff) == 5
    _send(webhooks, "orders/cancelled", _one_unit(3, "voided"), webhook_id="c2")       # a redelivery
    assert _shown(staff) == 5
