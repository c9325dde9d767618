"""How long each platform may take to report an order it took (channels/base.order_report_lag_s), the number
the last-units guard drains a cut listing for: a pulled platform's settle time, the poller's period and a
run; a platform that pushes its orders, 0 (its webhook delay: the policy's drain_s). The poller's period and
run are the topology's, read by logic from channels/base (logic never imports infra)."""
from __future__ import annotations

import pytest

from infra import topology
from stocklink.channels import base
from stocklink.channels.registry import POLLING_PLATFORMS, WEBHOOK_PLATFORMS, adapter_for
from stocklink.logic import order_poll


def test_the_pollers_period_and_run_are_the_topologys():
    schedules = [s for s in topology.SCHEDULES if s.function == "order_poll"]
    assert [s.every_seconds for s in schedules] == [base.ORDER_POLL_PERIOD_S] == [order_poll.POLL_PERIOD_S]
    assert topology.function("order_poll").timeout_s == base.ORDER_POLL_RUN_S


@pytest.mark.parametrize("platform", ["pinduoduo", "jd"])
def test_a_platform_read_only_by_polling_reports_an_order_within_its_settle_a_period_and_a_run(platform):
    adapter = adapter_for(platform)
    assert not getattr(adapter, "consumes_messages", False) and not getattr(adapter, "min_poll_interval_s", 0)
    lag = base.order_report_lag_s(adapter)
    assert lag == adapter.poll_settle_s + base.ORDER_POLL_PERIOD_S + base.ORDER_POLL_RUN_S
    assert lag > adapter.poll_settle_s          # a window ends the settle before its run: never sooner


def test_pinduoduo_reports_an_order_later_than_jd_by_the_difference_of_their_settle_times():
    pdd, jd = adapter_for("pinduoduo"), adapter_for("jd")
    assert base.order_report_lag_s(pdd) - base.order_report_lag_s(jd) == pdd.poll_settle_s - jd.poll_settle_s


def test_taobaos_queue_is_read_at_every_run_with_no_settle_time():
    taobao = adapter_for("taobao")
    assert taobao.consumes_messages
    assert base.order_report_lag_s(taobao) == base.ORDER_POLL_PERIOD_S + base.ORDER_POLL_RUN_S
    # its windows (the safety sweep) would take far longer: they are not the path an order normally takes
    assert base.order_report_lag_s(taobao) < base.pulled_order_lag_s(taobao.poll_settle_s,
                                                                      taobao.min_poll_interval_s)


@pytest.mark.parametrize("platform", ["douyin", "amazon"])
def test_a_platform_that_pushes_its_orders_has_no_lag_beyond_its_webhook_delay(platform):
    adapter = adapter_for(platform)
    assert platform in POLLING_PLATFORMS           # it is polled too, as the fallback
    assert base.order_report_lag_s(adapter) == 0


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS)
def test_webhook_platforms_declare_no_lag(platform):
    assert base.order_report_lag_s(adapter_for(platform)) == 0


def test_a_platform_polled_less_often_than_the_poller_runs_waits_its_own_interval():
    assert base.pulled_order_lag_s(120, 300) == 120 + 300 + base.ORDER_POLL_RUN_S
    assert base.pulled_order_lag_s(60, 10) == 60 + base.ORDER_POLL_PERIOD_S + base.ORDER_POLL_RUN_S
