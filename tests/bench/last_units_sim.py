"""A timed, randomized model of the last units (issue 13): marketplaces, buyers and StockLink's sync of one
SKU, as a deterministic discrete-event simulation (simulated clock, seeded draws; no threads, network or
DynamoDB). Not a benchmark itself: tests/bench/last_units.py runs it over its stories.

Marketplaces: each listing keeps its real quantity `q`. A buyer whose listing shows 0 goes away; a sale
takes 1 off `q` at once and its webhook reaches StockLink after the webhook delay (uniform in [0, d], or
exactly d), so webhooks may arrive out of order. An absolute set overwrites `q` — including the platform's
own sales since the push was sent (the race that makes the guard raise an absolute channel only from 0);
a relative change adds to `q` and is refused if it would take it below 0 (Lazada).

StockLink (mirroring logic/sync): a webhook takes a unit off `available` (an oversell when none is left: the
platform sold a unit that does not exist) and lowers its channel's `shown` (logic/sync/shown.py). After
each webhook, each push result and every `tick_s` (the sweep), it decides the displays, one push in flight
per listing (a listing with one in flight waits for its result; the runtime's guard makes a SKU's moves
one after another under its lock, here listings move in parallel — a little faster, never less safe):
  - shared:   every listing is set to `available`, only when that differs from its last push (coalescing);
              a landed push sets `shown` to its number (store.sync_models.record_pushed);
  - buffer:   shared, each listing less dynamic_buffer(the other channels' velocity, its push-latency p99)
              — velocity as the runtime measures it there (velocity.sales_rates, the 5-minute window);
  - guarded:  shared until risk_threshold/at_risk (velocity.demand_rates: the faster of the last 20 s and
              5 minutes; push-latency p99 of the shop's samples, RiskPolicy's defaults before any; webhook
              delay always the policy's default, as guard.read passes none) say the SKU is at risk, then
              plan_moves as logic/sync/guard.py makes them: a raise counted as shown when sent (taken back
              if refused), a relative decrease counted once confirmed, an absolute cut to 0 starts a drain
              that ends `drain_s` after it landed, when what is still counted drops to min(0, shown);
  - declared: guarded from the start whatever the threshold (the seller's "guard always until T").
Push-latency samples come from shared pushes only (the guard records none, as in the runtime).
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

from stocklink.domain.allocation import AllocationSettings, dynamic_buffer
from stocklink.domain.last_units import ChannelDemand, RiskPolicy, at_risk, plan_moves, risk_threshold
from stocklink.logic.sync.velocity import VELOCITY_WINDOW_MS, demand_rates, p99, sales_rates

RELATIVE_PLATFORMS = frozenset({"lazada"})   # applies deltas and refuses a count below 0
CAS_PLATFORMS = frozenset({"shopify"})        # a set naming what it must show now (changeFromQuantity)
MODES = ("shared", "buffer", "guarded", "declared")
GUARDED_MODES = ("guarded", "declared")
SALES_KEPT = 200                             # velocity.note_sales keeps a channel's last 200 sales


@dataclass(frozen=True)
class Demand:
    """Buyers of one channel arriving as a Poisson process of `rate_per_s` between from_s and until_s."""
    channel: str
    rate_per_s: float
    from_s: float = 0.0
    until_s: float = math.inf


@dataclass(frozen=True)
class Story:
    name: str
    units: int
    duration_s: float
    channels: tuple[str, ...]
    demand: tuple[Demand, ...] = ()
    scripted_buyers: tuple[tuple[float, str], ...] = ()   # (when, channel): buyers besides the Poisson ones
    seed: int = 0


@dataclass(frozen=True)
class RunSettings:
    mode: str
    webhook_delay_s: float
    fixed_delay: bool = False                            # every webhook exactly webhook_delay_s late
    push_latency_s: tuple[float, float] = (0.2, 1.0)     # uniform; (x, x) for a fixed latency
    push_failure_rate: float = 0.0                       # pushes the platform refuses
    tick_s: float = 1.0
    seed: int = 1
    policy: RiskPolicy = RiskPolicy(enabled=True)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")


@dataclass
class Listing:
    """What one marketplace really shows, and how it takes a sale and our updates."""
    relative: bool
    q: int = 0

    def sell(self) -> bool:
        if self.q < 1:
            return False
        self.q -= 1
        return True

    def set(self, quantity: int) -> None:
        self.q = quantity                 # overwrites whatever the checkout took meanwhile

    def add(self, delta: int) -> bool:
        if self.q + delta < 0:
            return False
        self.q += delta
        return True


@dataclass(frozen=True)
class Push:
    channel: str
    quantity: int          # the number to show (absolute) or the change (relative)
    relative: bool
    guarded: bool          # sent by the guard (its bookkeeping) or by the shared sync
    counted: int = 0       # a guard raise: added to shown when sent
    cut: bool = False      # a guard's absolute 0: starts a drain when it lands
    sent_at: float = 0.0
    expected: int | None = None   # a compare-and-set: lands only if the platform shows this


@dataclass
class Outcome:
    story: str
    mode: str
    webhook_delay_s: float
    push_failure_rate: float
    units: int
    accepted: int = 0                  # orders the platforms took
    oversold: int = 0                  # webhooks that found nothing left
    sold: int = 0                      # orders backed by a unit
    stranded: int = 0                  # units unsold at the end
    left_on: dict = field(default_factory=dict)   # channel -> what its listing showed at the end
    draining_units: int = 0            # of the stranded units, counted on channels still draining
    sellout_at: float | None = None    # when the platforms took the last unit
    at_risk_from: float | None = None
    guard_exits: int = 0               # times the guard handed the SKU back to the shared sync
    pushes: int = 0
    below_zero_refusals: int = 0       # relative changes the platform refused (they would go below 0)
    turned_away: int = 0
    missed: int = 0                    # buyers turned away while units were still unsold

    @property
    def calls_per_order(self) -> float:
        return self.pushes / self.accepted if self.accepted else 0.0


def buyer_arrivals(story: Story, seed: int) -> list[tuple[float, str]]:
    """Every buyer of the story, the same in every mode (common random numbers make the modes comparable)."""
    arrivals = list(story.scripted_buyers)
    for d in story.demand:
        rng = random.Random(f"{seed}:{story.seed}:{story.name}:{d.channel}:{d.from_s}")
        t, end = d.from_s, min(d.until_s, story.duration_s)
        while d.rate_per_s > 0:
            t += rng.expovariate(d.rate_per_s)
            if t >= end:
                break
            arrivals.append((t, d.channel))
    return sorted(arrivals)


class Simulation:
    def __init__(self, story: Story, run: RunSettings):
        self.story, self.run, self.policy = story, run, run.policy
        self.listings = {ch: Listing(ch in RELATIVE_PLATFORMS) for ch in story.channels}
        self.available = story.units
        self.shown = {ch: 0 for ch in story.channels}
        self.last_pushed: dict[str, int] = {}
        self.in_flight: dict[str, Push] = {}
        self.drain_until: dict[str, float] = {}
        self.owned: set[str] = set()                     # last set by the guard: its count is exact
        self.sales: dict[str, list] = {}                 # channel -> [[at_ms, units]] (velocity.note_sales)
        self.latency_ms: dict[str, list[int]] = {ch: [] for ch in story.channels}
        self.was_at_risk = False
        self.now = 0.0
        self.sale_open = True
        self.draining_at_close: set[str] = set()
        self.out = Outcome(story.name, run.mode, run.webhook_delay_s, run.push_failure_rate, story.units)
        tag = f"{run.seed}:{story.seed}:{story.name}:{run.mode}:{run.webhook_delay_s}:{run.push_failure_rate}"
        self.webhook_rng, self.push_rng = random.Random(f"{tag}:webhooks"), random.Random(f"{tag}:pushes")
        self.queue: list = []
        self.order = itertools.count()

    # --- the clock ------------------------------------------------------------------------------------------

    def at(self, when: float, handler, *args) -> None:
        heapq.heappush(self.queue, (when, next(self.order), handler, args))

    def run_until_end(self) -> Outcome:
        self._open()
        for when, channel in buyer_arrivals(self.story, self.run.seed):
            self.at(when, self._buyer, channel)
        ticks = int(self.story.duration_s / self.run.tick_s)
        for i in range(1, ticks + 1):
            self.at(i * self.run.tick_s, self._decide)
        self.at(self.story.duration_s, self._close)
        while self.queue:
            when, _, handler, args = heapq.heappop(self.queue)
            self.now = max(self.now, when)
            if self.sale_open or handler == self._webhook:   # after the end only the late webhooks matter
                handler(*args)
        return self._report()

    def _open(self) -> None:
        """The sale opens with every listing already showing what the mode would show at rest (a declared
        sale: split before the first buyer, its cuts drained — nothing sells before the sale)."""
        for _ in range(4):
            self._decide()
            for push in list(self.in_flight.values()):
                self._lands(push, count_call=False)
            self.drain_until = {ch: 0.0 for ch in self.drain_until}
        self.drain_until.clear()
        self.queue.clear()                         # those pushes have landed already
        self.out.pushes = 0                        # and happened before the sale: not its calls

    def _close(self) -> None:
        self.sale_open = False
        self.out.left_on = {ch: listing.q for ch, listing in self.listings.items()}
        self.draining_at_close = set(self.drain_until)

    # --- marketplaces ---------------------------------------------------------------------------------------

    def _buyer(self, channel: str) -> None:
        if not self.listings[channel].sell():
            self.out.turned_away += 1
            self.out.missed += self.out.accepted < self.story.units
            return
        self.out.accepted += 1
        if self.out.accepted == self.story.units:
            self.out.sellout_at = self.now
        delay = self.run.webhook_delay_s
        late = delay if self.run.fixed_delay else self.webhook_rng.uniform(0, delay)
        self.at(self.now + late, self._webhook, channel)

    def _webhook(self, channel: str) -> None:
        self.shown[channel] -= 1
        if self.available < 1:
            self.out.oversold += 1
        else:
            self.available -= 1
            self.out.sold += 1
            now_ms = self._ms(self.now)
            kept = [s for s in self.sales.get(channel, []) if now_ms - s[0] <= VELOCITY_WINDOW_MS]
            self.sales[channel] = (kept + [[now_ms, 1]])[-SALES_KEPT:]
        if self.sale_open:
            self._decide()

    def _lands(self, push: Push, count_call: bool = True) -> None:
        del self.in_flight[push.channel]
        listing = self.listings[push.channel]
        refused = count_call and self.push_rng.random() < self.run.push_failure_rate
        if not refused:
            if push.relative:
                refused = not listing.add(push.quantity)
                self.out.below_zero_refusals += refused
            elif push.expected is not None and listing.q != push.expected:
                refused = True                                # an unreported order: the compare fails
            else:
                listing.set(push.quantity)
        if refused:
            self.shown[push.channel] -= push.counted          # a refused raise never happened
            if push.guarded and not push.cut and (not push.counted or push.expected is not None):
                self._cut(push.channel)                       # as guard._move: a refused decrease -> cut
                return
        elif not push.guarded:
            self.last_pushed[push.channel] = self.shown[push.channel] = push.quantity
            self.drain_until.pop(push.channel, None)
            self.owned.discard(push.channel)
            if count_call:
                self.latency_ms[push.channel].append(self._ms(self.now - push.sent_at))
        elif push.relative:
            self.owned.add(push.channel)
            if not push.counted:
                self.shown[push.channel] += push.quantity     # a decrease counts once confirmed
        else:
            self.owned.add(push.channel)
            self.last_pushed[push.channel] = push.quantity
            if push.expected is not None and not push.counted:
                self.shown[push.channel] += push.quantity - push.expected   # a decrease, confirmed
            if push.cut:
                self.drain_until[push.channel] = self.now + self.policy.drain_s
        if count_call:
            self._decide()

    def _cut(self, channel: str) -> None:
        self._send(Push(channel, 0, False, True, cut=True, sent_at=self.now))

    def _send(self, push: Push) -> None:
        self.in_flight[push.channel] = push
        self.out.pushes += 1
        low, high = self.run.push_latency_s
        self.at(self.now + self.push_rng.uniform(low, high), self._lands, push)

    # --- StockLink's decision -------------------------------------------------------------------------------

    def _decide(self) -> None:
        if self.run.mode in GUARDED_MODES:
            demands = self._demands()
            risky = self.run.mode == "declared" or bool(self.drain_until) or at_risk(
                self.available, risk_threshold(demands, self.policy), self.was_at_risk, self.policy)
            if risky and self.out.at_risk_from is None:
                self.out.at_risk_from = self.now
            self.out.guard_exits += self.was_at_risk and not risky
            self.was_at_risk = risky
            if risky:
                self._guard()
                return
        for channel in self.story.channels:
            want = max(0, self.available - self._buffer(channel))
            if channel not in self.in_flight and want != self.last_pushed.get(channel):
                self._send(Push(channel, want, relative=False, guarded=False, sent_at=self.now))

    def _buffer(self, channel: str) -> int:
        if self.run.mode != "buffer":
            return 0
        rates = sales_rates({"sales": self.sales}, self._ms(self.now))
        others = sum(rate for ch, rate in rates.items() if ch != channel)
        return dynamic_buffer(others, p99(self.latency_ms[channel]))

    def _demands(self) -> list[ChannelDemand]:
        rates = demand_rates({"sales": self.sales}, self._ms(self.now))
        paused = AllocationSettings(sync=False)
        return [ChannelDemand(ch, rates.get(ch, 0.0), self.shown[ch],
                              paused if ch in self.drain_until else AllocationSettings(),
                              push_latency_s=p99(self.latency_ms[ch]) if self.latency_ms[ch] else None,
                              relative=ch in RELATIVE_PLATFORMS or ch in CAS_PLATFORMS,
                              draining=ch in self.drain_until)
                for ch in self.story.channels]

    def _guard(self) -> None:
        for channel, until in list(self.drain_until.items()):
            if until <= self.now:                  # what it still counts was cut off, not sold
                self.shown[channel] = min(0, self.shown[channel])
                del self.drain_until[channel]
        for channel in self.story.channels:
            # as guard.plan: a count the shared sync left may miss orders its push overwrote: cut first
            if channel not in self.owned and channel not in CAS_PLATFORMS and channel not in self.in_flight \
                    and channel not in self.drain_until:
                self._cut(channel)
        if any(ch not in self.owned and ch not in CAS_PLATFORMS for ch in self.story.channels):
            return                                 # planned once every inherited count is cut (in flight)
        targets = plan_moves(self.available, self._demands(), self.policy)
        for channel in self.story.channels:
            new, shown = targets[channel], self.shown[channel]
            if channel in self.in_flight or channel in self.drain_until or new == max(0, shown):
                continue
            counted = max(0, new - shown)
            self.shown[channel] += counted         # a raise counts as shown from the moment it is sent
            if channel in RELATIVE_PLATFORMS:
                push = Push(channel, new - shown, True, True, counted, sent_at=self.now)
            elif channel in CAS_PLATFORMS:
                push = Push(channel, new, False, True, counted, sent_at=self.now, expected=max(0, shown))
            else:
                push = Push(channel, new, False, True, counted, cut=new == 0, sent_at=self.now)
            self._send(push)

    # --- the report -----------------------------------------------------------------------------------------

    def _report(self) -> Outcome:
        out = self.out
        out.stranded = self.available
        cut_off = sum(max(0, self.shown[ch]) for ch in self.draining_at_close)
        out.draining_units = min(out.stranded, cut_off)
        return out

    @staticmethod
    def _ms(seconds: float) -> int:
        return int(round(seconds * 1000))


def simulate(story: Story, run: RunSettings) -> Outcome:
    return Simulation(story, run).run_until_end()
