"""Every adapter holds order and return line quantities to one rule (channels._common.positive_qty): a whole
number from 1 to MAX_LINE_QTY, else the payload is refused (PayloadInvalid: a 400, nothing applied)."""
import json

import pytest

from stocklink.channels._common import MAX_LINE_QTY, positive_qty
from stocklink.channels.base import OrderEvent, OrderEventKind, PayloadInvalid, WebhookRequest
from stocklink.channels.shopee import ShopeeAdapter
from stocklink.channels.shopify import ShopifyAdapter
from stocklink.channels.woocommerce import WooCommerceAdapter

BAD = [-5, 0, 1.5, "2.0", "-1", True, None, MAX_LINE_QTY + 1, float("nan"), float("inf")]


@pytest.mark.parametrize("value", BAD)
def test_the_shared_rule_refuses_what_is_not_a_sane_positive_integer(value):
    with pytest.raises(PayloadInvalid, match="invalid quantity"):
        positive_qty(value, "line")


@pytest.mark.parametrize("value,expected", [(1, 1), ("7", 7), (MAX_LINE_QTY, MAX_LINE_QTY)])
def test_the_shared_rule_keeps_whole_positive_numbers(value, expected):
    assert positive_qty(value, "line") == expected


@pytest.mark.parametrize("value", [-5, 0, MAX_LINE_QTY + 1])
def test_shopify_refund_lines_follow_the_rule(value):
    refund = {"id": 9, "order_id": 1, "refund_line_items": [
        {"quantity": value, "restock_type": "return", "line_item": {"id": 3, "variant_id": 5, "sku": "S"}}]}
    request = WebhookRequest({"x-shopify-topic": "refunds/create"}, json.dumps(refund).encode())
    with pytest.raises(PayloadInvalid, match="invalid quantity"):
        ShopifyAdapter().parse_webhook(request, "shop")


@pytest.mark.parametrize("value", [-5, MAX_LINE_QTY + 1])
def test_woocommerce_lines_follow_the_rule(value):
    order = {"id": 1, "status": "processing", "line_items": [{"id": 2, "product_id": 5, "quantity": value}]}
    request = WebhookRequest({"x-wc-webhook-topic": "order.updated"}, json.dumps(order).encode())
    with pytest.raises(PayloadInvalid, match="invalid quantity"):
        WooCommerceAdapter().parse_webhook(request, "shop")


@pytest.mark.parametrize("value", [-5, MAX_LINE_QTY + 1])
def test_shopee_return_amounts_follow_the_rule(value):
    event = OrderEvent("shopee", "shop", "O1", OrderEventKind.RETURNED, (), "return-R1")
    detail = {"response": {"return_sn": "R1", "order_sn": "O1", "needs_logistics": True, "status": "ACCEPTED",
                           "logistics_status": "LOGISTICS_DELIVERY_DONE",
                           "item": [{"item_id": 7, "model_id": 0, "amount": value}]}}
    with pytest.raises(PayloadInvalid, match="invalid quantity"):
        ShopeeAdapter().parse_order_detail(event, 200, json.dumps(detail).encode())
