"""Alert text ('what to do'), SNS publish kwargs and filter policies."""
import json

import pytest

from stocklink.alerts.levels import Level, Thresholds
from stocklink.alerts.messages import (
    Alert, WarehouseStock, action_text, build_alert, days_of_cover, filter_policy, message_attributes,
    sns_publish_kwargs, sns_subject, suggest_transfer,
)
from stocklink.alerts.rules import from_order_needs_attention, from_oversell, from_stock_changed, policy_for
from stocklink.alerts.state import AlertKey, Observation, Policy, decide, tick

WAREHOUSES = [
    {"warehouse_id": "Warehouse B", "available": 100, "safety_stock": 50},   # surplus 50
    {"warehouse_id": "Warehouse C", "available": 80, "safety_stock": 60},    # surplus 20
]


def red_low_stock_decision():
    detail = {"sku": "X", "warehouse_id": "Warehouse A", "available": 12, "on_hand": 15, "version": 4,
              "safety_stock": 52, "daily_sales": 8, "abc_class": "A", "warehouses": WAREHOUSES}
    low = from_stock_changed(detail, Thresholds(), at=1_700_000_000)[0]
    return decide(None, low, policy_for(low.key.rule))


def test_low_stock_action_has_cover_and_transfer_from_most_surplus():
    alert = build_alert(red_low_stock_decision())
    # 12 / 8 = 1.5 days; need 52 - 12 = 40; B has 50 spare, C 20 -> 40 from B
    assert alert.action == "SKU X: 12 left in Warehouse A, ~1.5 days of sales, suggested transfer of 40 from Warehouse B"
    assert (alert.kind, alert.event, alert.severity, alert.sku) == ("low_stock", "raised", "red", "X")
    assert (alert.warehouse, alert.channel, alert.abc_class) == ("Warehouse A", None, "A")
    assert alert.title == "[RED] Low stock: X (Warehouse A)"
    assert alert.at == 1_700_000_000


def test_action_text_uses_only_the_data_there_is():
    assert action_text("low_stock", "X", {"available": 12, "warehouse": "W1"}) == "SKU X: 12 left in W1"
    assert action_text("low_stock", "X", {"available": 0, "warehouse": "W1"}) == \
        "SKU X: 0 left in W1, replenish or set the listing to 0 everywhere"
    assert action_text("low_stock", "X", {"available": 30, "warehouse": "W1", "daily_sales": 4,
                                          "suggested_order_qty": 120}) == \
        "SKU X: 30 left in W1, ~7.5 days of sales, suggested purchase order of 120"


def test_suggest_transfer_limits_and_rounding():
    target = WarehouseStock("A", 12, 52)
    assert suggest_transfer(target, [WarehouseStock("B", 75, 50)]) == ("B", 25)          # only 25 spare
    assert suggest_transfer(target, [WarehouseStock("B", 200, 50)], pack_size=12) == ("B", 36)  # 3 packs
    assert suggest_transfer(target, [WarehouseStock("B", 40, None)]) == ("B", 25)         # keeps 15 units
    assert suggest_transfer(target, [WarehouseStock("B", 50, 50)]) is None
    assert suggest_transfer(target, [WarehouseStock("C", 90, 50), WarehouseStock("B", 90, 50)]) == ("B", 40)
    assert suggest_transfer(WarehouseStock("A", 60, 52), [WarehouseStock("B", 200, 50)]) is None
    assert suggest_transfer(WarehouseStock("A", 5, None), [WarehouseStock("B", 200, 50)]) is None
    assert suggest_transfer(WarehouseStock("A", 5, None), [WarehouseStock("B", 200, 50)],
                            target_units=20) == ("B", 15)


def test_days_of_cover():
    assert days_of_cover(12, 8) == 1.5
    assert days_of_cover(-4, 8) == 0
    assert days_of_cover(12, 0) is None and days_of_cover(12, None) is None


def test_oversell_alert_text():
    o = from_oversell({"sku": "X", "channel": "tiktok", "order_id": "O-9", "requested": 3, "available": 0}, 50)
    alert = build_alert(decide(None, o, policy_for("oversell")))
    assert alert.severity == "red" and alert.channel == "tiktok"
    assert alert.action == ("SKU X oversold on tiktok (order O-9: wanted 3, 0 available). 0 was pushed to "
                            "every channel; fill the backorder or cancel and refund it")


def test_order_needs_attention_alert_text():
    o = from_order_needs_attention({"platform": "shopify", "shop": "s1", "order_id": "1001",
                                    "reason": "34 SKUs: one committed reservation takes at most 32",
                                    "lines": [{"sku": f"S{n}", "qty": 2} for n in range(34)]}, 50)
    assert (o.key, o.level) == (AlertKey("order_needs_attention", "*", "order:shopify:s1:1001"), Level.RED)
    alert = build_alert(decide(None, o, policy_for("order_needs_attention")))
    assert alert.severity == "red" and alert.channel == "shopify"
    assert alert.title == "[RED] Order needs attention: * (shopify:s1:1001)"
    assert alert.action.startswith("Order 1001 on shopify/s1 was not applied (34 SKUs: one committed "
                                   "reservation takes at most 32): 68 units of 34 SKUs are not reserved.")


def test_recovery_and_repeat_alerts():
    d = red_low_stock_decision()
    rep = tick(d.state, 1_700_000_000 + 2 * 3600, policy_for("low_stock"))
    alert = build_alert(rep)
    assert (alert.event, alert.title, alert.at) == ("repeat", "[RED] Low stock: X (Warehouse A) (repeat)",
                                                    1_700_000_000 + 7200)
    detail = {"sku": "X", "warehouse_id": "Warehouse A", "available": 80, "version": 5, "safety_stock": 52}
    rec = build_alert(decide(rep.state, from_stock_changed(detail, Thresholds(), 1_700_010_000)[0],
                             policy_for("low_stock")))
    assert (rec.event, rec.severity) == ("recovered", "red")
    assert rec.title == "[RECOVERED] Low stock: X (Warehouse A)"
    assert rec.action == "Cleared (red before): 80 now in Warehouse A"
    assert len({build_alert(d).id, alert.id, rec.id}) == 3


def test_alert_id_is_stable_for_the_same_decision():
    assert build_alert(red_low_stock_decision()).id == build_alert(red_low_stock_decision()).id


def test_sns_publish_kwargs_shape():
    alert = build_alert(red_low_stock_decision())
    kw = sns_publish_kwargs(alert, "arn:aws:sns:ap-southeast-1:123456789012:stocklink-alerts")
    assert set(kw) == {"TopicArn", "Subject", "Message", "MessageAttributes"}
    assert kw["Subject"] == "[RED] Low stock: X (Warehouse A)"
    assert kw["MessageAttributes"] == {
        "severity": {"DataType": "String", "StringValue": "red"},
        "kind": {"DataType": "String", "StringValue": "low_stock"},
        "event": {"DataType": "String", "StringValue": "raised"},
        "sku": {"DataType": "String", "StringValue": "X"},
        "warehouse": {"DataType": "String", "StringValue": "Warehouse A"},
        "abc_class": {"DataType": "String", "StringValue": "A"},
    }   # no channel attribute: absent values are left out, never sent empty
    assert Alert.from_dict(json.loads(kw["Message"])) == Alert.from_dict(json.loads(json.dumps(alert.to_dict())))


def test_sns_subject_is_ascii_and_at_most_100_chars():
    s = sns_subject("[RED] 低库存: SKU-1 " + "x" * 200)
    assert s.startswith("[RED] ???: SKU-1 ") and len(s) == 100 and s.isascii()
    assert sns_subject("\n") == "StockLink alert"


def test_message_attributes_skip_missing():
    a = Alert(id="i", key="push_failures#*#dlq:q", kind="push_failures", event="raised", severity="yellow",
              sku="*", title="t", action="a", at=0)
    assert set(message_attributes(a)) == {"severity", "kind", "event", "sku"}


def test_filter_policy_shapes():
    assert filter_policy({"severity": ["red", "orange"], "kind": ["low_stock"], "warehouse": "WH-A"}) == \
        '{"kind":["low_stock"],"severity":["orange","red"],"warehouse":["WH-A"]}'
    assert json.loads(filter_policy({"min_severity": "orange"})) == {"severity": ["orange", "red"]}
    assert json.loads(filter_policy({"warehouse": ["A"], "match_missing": ["warehouse"]})) == \
        {"warehouse": ["A", {"exists": False}]}
    assert filter_policy({"kind": [], "severity": ["red"]}) == '{"severity":["red"]}'


@pytest.mark.parametrize("spec", [
    {"colour": ["red"]},
    {"severity": ["crimson"]},
    {"severity": ["red"], "min_severity": "orange"},
    {"severity": ["red"], "kind": ["a"], "event": ["raised"], "sku": ["s"], "warehouse": ["w"], "channel": ["c"]},
    {"sku": [f"s{i}" for i in range(151)]},
    {"sku": [f"s{i}" for i in range(20)], "warehouse": [f"w{i}" for i in range(8)]},   # 160 combinations
    {"match_missing": ["warehouse"]},
])
def test_filter_policy_rejects_what_sns_would(spec):
    with pytest.raises(ValueError):
        filter_policy(spec)


def test_end_to_end_observation_to_sns():
    key = AlertKey("push_failures", "*", "dlq:push-dlq")
    d = decide(None, Observation(key, Level.ORANGE, 10, facts={"queue": "push-dlq", "depth": 12}), Policy())
    kw = sns_publish_kwargs(build_alert(d), "arn")
    body = json.loads(kw["Message"])
    assert body["action"] == ("12 stock pushes waiting in push-dlq: check channel credentials and rate "
                              "limits, then redrive the queue")
    assert kw["MessageAttributes"]["severity"]["StringValue"] == "orange"


def test_unread_refunds_raise_an_orange_alert_per_shop_that_says_what_to_grant_and_clears_when_read_again():
    from stocklink.alerts.rules import from_pulled_refunds_unread

    detail = {"platform": "pinduoduo", "shop": "s1", "unread": True,
              "error": "HTTP 200 20031 pdd.refund.list.increment.get: 应用未获得该接口所属权限包的授权"}
    unread = from_pulled_refunds_unread(detail, 100)
    assert (unread.key, unread.level) == (AlertKey("pulled_refunds_unread", "*", "shop:pinduoduo:s1"), Level.ORANGE)
    raised = decide(None, unread, policy_for(unread.key.rule))
    alert = build_alert(raised)
    assert (alert.severity, alert.channel, alert.event) == ("orange", "pinduoduo", "raised")
    assert alert.title == "[ORANGE] Refunds not read: * (pinduoduo:s1)"
    assert alert.action.startswith("Refunds of pinduoduo/s1 are not read (the platform refuses them: HTTP 200 20031 "
                                   "pdd.refund.list.increment.get: 应用未获得该接口所属权限包的授权)")
    assert "Grant the app the after-sales (售后) permission" in alert.action

    # another shop is another alert; the same shop read again clears its own with one recovery notice
    assert from_pulled_refunds_unread({**detail, "shop": "s2"}, 100).key != unread.key
    read = from_pulled_refunds_unread({"platform": "pinduoduo", "shop": "s1", "unread": False}, 200)
    assert read.level is Level.NONE
    recovered = build_alert(decide(raised.state, read, policy_for(read.key.rule)))
    assert (recovered.event, recovered.severity) == ("recovered", "orange")
    assert recovered.title == "[RECOVERED] Refunds not read: * (pinduoduo:s1)"


def test_unread_refunds_are_repeated_by_the_tick_while_no_event_says_they_are_read():
    from stocklink.alerts.rules import from_pulled_refunds_unread

    unread = from_pulled_refunds_unread({"platform": "pinduoduo", "shop": "s1", "unread": True}, 100)
    policy = policy_for(unread.key.rule)
    raised = decide(None, unread, policy)
    assert policy.auto_clear_after is None       # only the poller's "read again" event clears it
    assert build_alert(tick(raised.state, 100 + 3600, policy)) is None
    repeat = build_alert(tick(raised.state, 100 + 24 * 3600, policy))
    assert repeat.event == "repeat" and "no reason given" in repeat.action
