"""The last-units protocol against a model of marketplaces: whatever the interleaving of checkouts, webhook
deliveries (late, reordered), pushes (slow, lost with an unknown outcome, refused) and read-backs, the
platforms never sell more units than were received.

The model keeps what a platform really shows (`q`) and what StockLink knows (`available`, and `shown` per
channel, the bookkeeping stocklink.domain.last_units describes): a raise counts as shown when sent, a
decrease once confirmed, and every order webhook lowers its channel's shown. A relative change may take a
platform's count below 0 (Shopify does; one that refuses instead is a refused push). An absolute number
is only set on a channel StockLink counts at 0. Hypothesis shrinks any counterexample to its shortest.
"""
from __future__ import annotations

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from stocklink.domain.last_units import ChannelDemand, plan_moves, split_by_demand


class Marketplaces(RuleBasedStateMachine):
    @initialize(units=st.integers(0, 12),
                channels=st.lists(st.tuples(st.booleans(), st.floats(0, 3, allow_nan=False)), min_size=1, max_size=5))
    def start(self, units, channels):
        self.received = units
        self.available = units                       # StockLink's pool: received minus orders it has heard of
        self.relative = [rel for rel, _ in channels]
        self.velocity = [v for _, v in channels]
        self.q = [0] * len(channels)                 # what each platform really shows
        self.shown = [0] * len(channels)             # what StockLink counts as shown
        self.pending: dict[int, tuple[str, int]] = {}   # channel -> push in flight: ("add", delta) | ("set", value)
        self.webhooks: list[int] = []                # order webhooks in flight, by channel
        self.sold = 0

    def _demands(self):
        return [ChannelDemand(str(j), self.velocity[j], self.shown[j], relative=self.relative[j])
                for j in range(len(self.q))]

    @rule(data=st.data())
    def checkout(self, data):
        """A buyer orders one unit; the platform's checkout refuses what its listing no longer shows."""
        j = data.draw(st.integers(0, len(self.q) - 1))
        if self.q[j] >= 1:
            self.q[j] -= 1
            self.sold += 1
            self.webhooks.append(j)

    @precondition(lambda self: self.webhooks)
    @rule(data=st.data())
    def webhook_arrives(self, data):
        """Any webhook in flight, in any order."""
        j = self.webhooks.pop(data.draw(st.integers(0, len(self.webhooks) - 1)))
        self.available = max(0, self.available - 1)
        self.shown[j] -= 1

    @rule()
    def sync(self):
        """StockLink plans the moves and sends a push to every channel without one in flight."""
        plan = plan_moves(self.available, self._demands())
        for j in range(len(self.q)):
            new = plan[str(j)]
            if j in self.pending or new == self.shown[j]:
                continue
            if self.relative[j]:
                self.pending[j] = ("add", new - self.shown[j])
            else:
                assert self.shown[j] == 0 < new, "an absolute number is only set on a channel counted at 0"
                self.pending[j] = ("set", new)
            if new > self.shown[j]:
                self.shown[j] = new                  # a raise counts as shown from the moment it is sent

    @precondition(lambda self: self.pending)
    @rule(data=st.data(), outcome=st.sampled_from(["confirmed", "refused", "unknown"]))
    def push_lands(self, data, outcome):
        j = data.draw(st.sampled_from(sorted(self.pending)))
        kind, value = self.pending.pop(j)
        applied = outcome == "confirmed" or (outcome == "unknown" and data.draw(st.booleans()))
        if applied:
            self.q[j] = self.q[j] + value if kind == "add" else value
        raise_ = kind == "set" or value > 0
        if outcome == "confirmed" and not raise_:
            self.shown[j] += value
        elif outcome == "refused" and raise_:
            self.shown[j] -= value
        # unknown: a raise stays counted, a decrease stays uncounted

    @invariant()
    def never_oversold(self):
        assert self.sold <= self.received
        assert sum(max(0, q) for q in self.q) <= self.received - self.sold, "a unit offered on two channels"


TestMarketplaces = Marketplaces.TestCase
TestMarketplaces.settings = settings(max_examples=400, stateful_step_count=60, deadline=None)


def test_split_follows_demand_and_never_exceeds_the_pool():
    demands = [ChannelDemand("fast", 3.0, 0), ChannelDemand("slow", 1.0, 0), ChannelDemand("idle", 0.0, 0)]
    assert split_by_demand(8, demands) == {"fast": 6, "slow": 2, "idle": 0}
    assert split_by_demand(4, [ChannelDemand(str(i), 0.0, 0) for i in range(4)]) == {"0": 1, "1": 1, "2": 1, "3": 1}


def test_units_move_lower_first_then_raise():
    # "slow" holds 6 of 8 units; "fast" sold out. First pass: lower slow, raise fast only within headroom.
    demands = [ChannelDemand("fast", 3.0, 0), ChannelDemand("slow", 1.0, 6)]
    first = plan_moves(8, demands)
    assert first == {"fast": 2, "slow": 2}           # headroom 8 - 6 = 2 before slow's decrease is confirmed
    # slow confirmed 2: fast may now take its share
    assert plan_moves(8, [ChannelDemand("fast", 3.0, 2), ChannelDemand("slow", 1.0, 2)]) == {"fast": 6, "slow": 2}


def test_an_absolute_channel_is_refilled_when_sold_out_and_never_lowered():
    demands = [ChannelDemand("fast", 3.0, 0), ChannelDemand("woo", 1.0, 6, relative=False)]
    assert plan_moves(8, demands) == {"fast": 2, "woo": 6}
    assert plan_moves(8, [ChannelDemand("fast", 3.0, 2), ChannelDemand("woo", 1.0, 0, relative=False)]) == \
        {"fast": 6, "woo": 2}                       # sold out: refilled with its share
    assert plan_moves(20, [ChannelDemand("fast", 3.0, 0), ChannelDemand("woo", 0.1, 0, relative=False)]) == \
        {"fast": 19, "woo": 1}                      # at most 10 s of its sales (at least 1) at a time


def test_a_paused_channel_keeps_its_units_counted():
    demands = [ChannelDemand("on", 1.0, 0), ChannelDemand("off", 5.0, 4)]
    from dataclasses import replace

    from stocklink.domain.allocation import AllocationSettings
    demands[1] = replace(demands[1], settings=AllocationSettings(sync=False))
    assert plan_moves(6, demands) == {"on": 2, "off": 4}
