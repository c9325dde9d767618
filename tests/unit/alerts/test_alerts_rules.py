"""Events -> Observations."""
from stocklink.alerts.kinds import Kind
from stocklink.alerts.levels import Level, Thresholds
from stocklink.alerts.rules import (
    DEFAULT_POLICIES, channel_observations, from_demand_burst, from_expiry, from_ledger_mismatch,
    from_oversell, from_push_failures, from_slow_mover, from_stock_changed, from_stockout_forecast,
    from_sync_anomaly, from_unmapped_sku, grade_high, grade_low, policy_for,
)
from stocklink.alerts.state import AlertKey, Policy


def test_stock_changed_gives_low_and_overstock_observations_per_warehouse():
    detail = {"sku": "X", "warehouse_id": "A", "available": 25, "on_hand": 45, "version": 9,
              "safety_stock": 100, "abc_class": "B",
              "warehouses": [{"warehouse_id": "A", "available": 25}, {"warehouse_id": "B", "available": 300}]}
    low, over = from_stock_changed(detail, Thresholds(max_units=250), at=77)
    assert low.key == AlertKey("low_stock", "X", "wh:A") and over.key == AlertKey("overstock", "X", "wh:A")
    assert (low.level, low.clear_level, low.seq, low.at) == (Level.ORANGE, Level.ORANGE, 9, 77)
    assert (over.level, over.clear_level) == (Level.NONE, Level.NONE)
    assert low.facts["warehouses"] == [{"warehouse": "B", "available": 300, "safety_stock": None}]
    assert (low.facts["abc_class"], low.facts["pct_of_safety"], low.facts["reason"]) == ("B", 25.0, "below_orange_pct")
    # 52 is above the 50 % line but inside the band (55): clear level stays yellow
    low, _ = from_stock_changed({**detail, "available": 52}, Thresholds(), at=78)
    assert (low.level, low.clear_level) == (Level.NONE, Level.YELLOW)
    _, over = from_stock_changed({**detail, "available": 251}, Thresholds(max_units=250), at=79)
    assert (over.level, over.clear_level) == (Level.YELLOW, Level.YELLOW)


def test_stock_changed_without_warehouse_is_pooled_scope():
    low, _ = from_stock_changed({"sku": "X", "available": 3}, Thresholds(), at=1)
    assert low.key.scope == "all" and low.level is Level.RED and low.seq is None


def test_channel_observations_use_the_floor_only():
    obs = channel_observations("X", {"tiktok": 14, "shopee": 15}, Thresholds(), at=5)
    assert [(o.key.scope, o.level, o.clear_level) for o in obs] == [
        ("ch:shopee", Level.NONE, Level.RED),   # 15: at the floor, inside the band
        ("ch:tiktok", Level.RED, Level.RED),
    ]


def test_incident_events():
    o = from_oversell({"sku": "X", "platform": "shopee", "order_id": "9", "requested": 2}, 3)
    assert (o.key, o.level, o.facts["channel"]) == (AlertKey("oversell", "X", "all"), Level.RED, "shopee")
    u = from_unmapped_sku({"platform": "tiktok", "shop": "s1", "listing_id": "L-1", "order_id": "O"}, 3)
    assert (u.key, u.level) == (AlertKey("unmapped_sku", "L-1", "ch:tiktok:s1"), Level.ORANGE)
    s = from_sync_anomaly({"sku": "X", "channel": "lazada", "expected": 5, "listed": 3}, 3)
    assert (s.key.scope, s.level) == ("ch:lazada", Level.ORANGE)
    assert from_sync_anomaly({"sku": "X", "channel": "lazada", "expected": 5, "listed": 9}, 3).level is Level.RED
    assert from_ledger_mismatch({"sku": "X", "warehouse_id": "A", "stored": 40, "replayed": 38}, 3).level is Level.RED
    assert from_ledger_mismatch({"sku": "X", "warehouse_id": "A", "stored": 40, "replayed": 40}, 3).level is Level.NONE
    assert from_demand_burst({"sku": "X", "observed": 120, "expected": 20}, 3).level is Level.YELLOW


def test_grade_high_and_low_bands():
    assert [grade_high(v, (1, 10, 100))[0] for v in (0, 1, 9, 10, 99, 100)] == \
        [Level.NONE, Level.YELLOW, Level.YELLOW, Level.ORANGE, Level.ORANGE, Level.RED]
    assert grade_high(60, (1, 10, 100)) == (Level.ORANGE, Level.RED)   # red clears below 50
    assert grade_high(0, (1, 10, 100)) == (Level.NONE, Level.NONE)
    assert grade_low(7.5, (30, 14, 7), band=1) == (Level.ORANGE, Level.RED)   # red held until 8 days
    assert grade_low(6.9, (30, 14, 7)) == (Level.RED, Level.RED)


def test_push_failures_dlq_depth():
    o = from_push_failures("push-dlq", 12, at=9)
    assert (o.key, o.level, o.clear_level) == (AlertKey("push_failures", "*", "dlq:push-dlq"), Level.ORANGE, Level.ORANGE)


def test_stockout_forecast_against_lead_time():
    def lvl(days):
        return from_stockout_forecast({"sku": "X", "days_to_stockout": days, "lead_time_days": 7}, 1).level
    assert [lvl(d) for d in (8, 7, 6.9, 3.5, 3.4)] == [Level.NONE, Level.NONE, Level.ORANGE, Level.ORANGE, Level.RED]
    o = from_stockout_forecast({"sku": "X", "days_to_stockout": 7.5, "lead_time_days": 7}, 1)
    assert (o.level, o.clear_level) == (Level.NONE, Level.ORANGE)   # clears at lead time + 1 day


def test_slow_mover_and_expiry():
    assert from_slow_mover({"sku": "X", "slow": True}, 1).level is Level.YELLOW
    assert from_slow_mover({"sku": "X", "slow": False}, 1).level is Level.NONE
    e = from_expiry({"sku": "X", "batch_id": "B7", "expires_in_days": 10, "qty": 40}, 1)
    assert (e.key.scope, e.level) == ("batch:B7", Level.ORANGE)
    assert from_expiry({"sku": "X", "batch_id": "B7", "expires_in_days": 3, "qty": 0}, 1).level is Level.NONE


def test_policies():
    assert set(DEFAULT_POLICIES) == set(Kind)
    assert policy_for("oversell").auto_clear_after == 6 * 3600
    custom = Policy(cooldown={Level.RED: 60})
    assert policy_for("oversell", {"oversell": custom}) is custom


def test_order_poll_lag_is_orange_past_its_threshold_red_far_past_it_and_clears_below():
    from stocklink.alerts.rules import POLL_LAG_RED_FACTOR, from_order_poll_lag

    detail = {"platform": "pinduoduo", "shop": "s1", "threshold_s": 300}
    assert from_order_poll_lag({**detail, "lag_s": 299}, 1).level is Level.NONE
    late = from_order_poll_lag({**detail, "lag_s": 300, "error": "HTTP 200 70031"}, 1)
    assert late.level is Level.ORANGE and late.key.scope == "shop:pinduoduo:s1"
    assert late.facts["error"] == "HTTP 200 70031"
    assert from_order_poll_lag({**detail, "lag_s": 300 * POLL_LAG_RED_FACTOR}, 1).level is Level.RED


def test_order_poll_lag_has_a_message():
    from stocklink.alerts.kinds import Kind
    from stocklink.alerts.messages import action_text

    text = action_text(Kind.ORDER_POLL_LAG, "*", {"channel": "pinduoduo", "shop": "s1", "lag_s": 900,
                                                  "threshold_s": 300, "error": "HTTP 503"})
    assert "pinduoduo/s1" in text and "15 min" in text and "HTTP 503" in text


def test_the_unread_refunds_event_is_graded_by_the_alerts_function():
    from stocklink.alerts.kinds import Kind
    from stocklink.events import ORDER_POLL_REFUNDS_UNREAD
    from stocklink.logic.alerting.observations import from_event

    unread, = from_event(ORDER_POLL_REFUNDS_UNREAD, {"platform": "pinduoduo", "shop": "s1", "unread": True,
                                                     "error": "HTTP 200 20031"}, 5)
    assert (unread.key.rule, unread.key.scope, unread.level) == (Kind.PULLED_REFUNDS_UNREAD, "shop:pinduoduo:s1",
                                                                 Level.ORANGE)
    assert unread.facts == {"channel": "pinduoduo", "shop": "s1", "error": "HTTP 200 20031"}
    read, = from_event(ORDER_POLL_REFUNDS_UNREAD, {"platform": "pinduoduo", "shop": "s1", "unread": False}, 6)
    assert read.level is Level.NONE
