"""The replay's purchase-order and two-warehouse model (tests/bench/replay_po_model.py) counts every unit:
what arrives is what was ordered less what was rejected, what is sold or on hand or on its way is what there
was plus what arrived, stock never goes below zero, and a transfer never takes more than its donor holds — on
a tiny catalogue, for the seed rules, with and without transfers. Figures are the benchmark's business."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stocklink.forecasting import policy
from tests.bench import replay_po_model as model
from tests.bench.bench_data import synthetic_demand

START, DAYS, N = 90, 150, 16


def tiny_catalogue():
    Y, _ = synthetic_demand(N, START + DAYS, seed=4)
    rng = np.random.default_rng(8)
    lead = rng.integers(3, 15, N).astype(float)
    pack = rng.choice([1, 6], N)
    moq = np.maximum(pack, np.ceil(Y[:START].mean(0) * 10)).astype(int)   # large orders: donors to be had
    share_a = rng.uniform(0.5, 0.95, N)
    return model.split_demand(Y, share_a, seed=2), model.Catalogue(lead, 0.2 * lead, moq, pack, share_a)


def seed_rule(name, demand, cat):
    flat = demand.reshape(demand.shape[0], 2 * N).astype(float)

    def levels(t):
        target = policy.seed_levels(name, flat[:t], np.tile(cat.lead_days, 2)).reshape(2, N)
        return target, target
    return levels


@pytest.mark.parametrize("rule", [policy.SEED_7D, policy.SEED_AVG_LT])
@pytest.mark.parametrize("moving", [False, True])
def test_every_unit_is_accounted_for_and_stock_never_goes_negative(rule, moving):
    demand, cat = tiny_catalogue()
    settings = model.Settings(transfers=moving, reject_rate=0.05, transfer_loss_rate=0.05, split_share=0.5)
    out = model.simulate(demand, cat, seed_rule(rule, demand, cat), 1, settings, start=START)
    assert out.unbalanced() == {}
    assert out.lowest_on_hand >= 0
    assert out.demand == demand[START:].sum() and 0 < out.sold <= out.demand
    assert out.pos_placed > 0 and out.accepted > 0 and out.rejected > 0
    assert out.receipts > out.pos_received          # some POs came in two parts
    if moving:
        assert out.transfers > 0 and out.units_moved > 0
        assert out.most_moved_beyond_available <= 0  # never more than the donor had on hand
        assert out.transfer_cost == pytest.approx(out.units_moved * settings.lane_cost_per_unit)
    else:
        assert out.transfers == out.units_moved == out.transfer_lost == 0


def test_a_po_received_in_one_part_takes_one_receipt():
    demand, cat = tiny_catalogue()
    out = model.simulate(demand, cat, seed_rule(policy.SEED_AVG_LT, demand, cat), 1,
                         model.Settings(split_share=0.0), start=START)
    assert out.pos_received > 0
    assert out.receipts == out.pos_received


def test_a_warehouse_that_never_orders_is_kept_in_stock_by_transfers_from_one_that_does_not_sell():
    """wh-a sells 2 a day and never reorders (s = -1); wh-b sells nothing and holds 150 units: only
    transfers can serve wh-a once its 10 units are gone."""
    days = START + 60
    demand = np.zeros((days, 2, 1), np.int64)
    demand[:, 0, 0] = 2
    cat = model.Catalogue(np.array([7.0]), np.array([1.4]), np.array([1]), np.array([1]), np.array([1.0]))

    def levels(t):
        return np.array([[-1.0], [-1.0]]), np.array([[10.0], [150.0]])

    settings = model.Settings(transfer_loss_rate=0.0)
    alone = model.simulate(demand, cat, levels, 1, settings, start=START)
    helped = model.simulate(demand, cat, levels, 1, dataclasses.replace(settings, transfers=True),
                            start=START)
    assert alone.sold == 10 and alone.transfers == 0
    assert helped.sold == helped.demand == 120
    assert helped.transfers > 0 and helped.most_moved_beyond_available <= 0
    assert helped.unbalanced() == {} and helped.pos_placed == 0
