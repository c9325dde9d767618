"""The last-units rule for platforms whose orders are pulled (domain/last_units with each adapter's
order_report_lag_s): a cut listing's units stay counted to it until an order its platform took before the cut
must have reached StockLink through the poller; such a platform's unseen sales count in the at-risk threshold
and in what a cut costs. Pure: the poller's schedule is modelled, not run."""
from __future__ import annotations

import math

import pytest

from stocklink.channels.base import ORDER_POLL_PERIOD_S, ORDER_POLL_RUN_S, order_report_lag_s
from stocklink.channels.registry import adapter_for
from stocklink.domain.last_units import (ChannelDemand, RiskPolicy, drain_s, plan_moves, risk_threshold,
                                         unreported_window_s)

POLICY = RiskPolicy()          # drain_s 8 s: the webhook platforms' drain


def _reported_at(sold_at: float, first_run: float, settle_s: float, run_s: float) -> float:
    """When the poller applies an order the platform took at `sold_at`: the first run (every
    ORDER_POLL_PERIOD_S from `first_run`) whose window, ending `settle_s` before the run, covers it, plus the
    time the run takes to reach it."""
    k = max(0, math.ceil((sold_at + settle_s - first_run) / ORDER_POLL_PERIOD_S))
    return first_run + k * ORDER_POLL_PERIOD_S + run_s


def _pulled(name: str, platform: str, velocity: float = 0.0, shown: int = 0, relative: bool = True):
    return ChannelDemand(name, velocity, shown, relative=relative,
                         report_lag_s=order_report_lag_s(adapter_for(platform)))


@pytest.mark.parametrize("platform", ["pinduoduo", "jd", "taobao"])
def test_a_cut_drains_until_every_order_taken_before_it_has_been_pulled(platform):
    """Whatever the poller's phase and however long its run takes, an order the platform took at the moment
    the cut landed (the latest one it can have taken) is applied before the drain ends; the webhook drain of
    today's policy would end long before (the Pinduoduo unit the CN demo saw re-offered on JD)."""
    adapter = adapter_for(platform)
    # Taobao's orders come by its TMC queue, drained at every run: no settle time
    settle = 0 if getattr(adapter, "consumes_messages", False) else adapter.poll_settle_s
    drain = drain_s(_pulled("p", platform), POLICY)
    cut_at = 1_000.0
    latest = max(_reported_at(sold_at, first_run, settle, run_s)
                 for first_run in range(0, ORDER_POLL_PERIOD_S)
                 for sold_at in (cut_at - 1, cut_at)
                 for run_s in (0, ORDER_POLL_RUN_S))
    assert latest - cut_at <= drain
    assert latest - cut_at > POLICY.drain_s              # the policy's 8 s alone lets the unit go too soon


def test_a_pushing_platform_drains_for_the_policys_drain_and_a_longer_policy_drain_wins():
    assert drain_s(ChannelDemand("tiktok", 0.0, 0), POLICY) == POLICY.drain_s
    assert drain_s(_pulled("douyin", "douyin"), POLICY) == POLICY.drain_s          # pushed: webhooks
    assert drain_s(_pulled("amazon", "amazon"), POLICY) == POLICY.drain_s          # pushed: SQS notifications
    long_policy = RiskPolicy(drain_s=600)
    assert drain_s(_pulled("pdd", "pinduoduo"), long_policy) == 600


def test_a_pulled_platforms_unseen_sales_raise_the_at_risk_threshold():
    """The units a channel may have sold unseen while every channel still shows the pool: a webhook
    platform's over its delay, a pulled platform's over its lag."""
    velocity = 0.02                                       # ~1 unit a minute
    webhook = [ChannelDemand("tiktok", velocity, 10, push_latency_s=1.0)]
    pulled = [ChannelDemand("pdd", velocity, 10, push_latency_s=1.0,
                            report_lag_s=order_report_lag_s(adapter_for("pinduoduo")))]
    lag = unreported_window_s(pulled[0], POLICY)
    assert lag == order_report_lag_s(adapter_for("pinduoduo")) > POLICY.default_webhook_delay_s
    assert risk_threshold(webhook, POLICY) == POLICY.min_units_per_channel       # 2 × 0.02 × 4 s: < 1 unit
    assert risk_threshold(pulled, POLICY) == pytest.approx(POLICY.k * velocity * (1.0 + lag))
    assert risk_threshold(pulled, POLICY) > risk_threshold(webhook, POLICY)
    # a measured webhook delay longer than the lag counts instead
    slow_hooks = [ChannelDemand("pdd", velocity, 10, webhook_delay_s=lag + 60, report_lag_s=lag)]
    assert unreported_window_s(slow_hooks[0], POLICY) == lag + 60


def test_an_absolute_pulled_platform_that_would_sell_its_units_during_its_drain_is_left_selling():
    """A cut locks a channel's units away for its drain. A JD listing (absolute numbers only) that sells about
    what it shows within its ~2 min drain is better left selling; a webhook platform selling as slowly is
    cut, its surplus going to the channel that sold out."""
    webhook = [ChannelDemand("fast", 3.0, 0), ChannelDemand("woo", 0.05, 6, relative=False)]
    assert plan_moves(8, webhook) == {"fast": 2, "woo": 0}          # cut: 8 s of drain cost it nothing
    pulled = [ChannelDemand("fast", 3.0, 0), _pulled("jd", "jd", velocity=0.05, shown=6, relative=False)]
    assert 0.05 * (POLICY.absolute_refill_s + drain_s(pulled[1], POLICY)) > 6 - 2     # sells them meanwhile
    assert plan_moves(8, pulled) == {"fast": 2, "jd": 6}            # left selling: only the headroom moves
