"""The last-units simulator (tests/bench/last_units_sim.py) is right at its lowest layer: marketplaces take
sales and our updates as the real platforms do, the shared mode oversells where it must, the figures add up,
and the guard — the protocol of stocklink.domain.last_units as logic/sync/guard.py runs it — offers each unit
once. The last three are the shortest runs found (by a random search over scripted buyers) where the guard,
taking a SKU over from the shared sync, oversells; each names the runtime rule that lets it happen."""
from __future__ import annotations

import pytest

from tests.bench.last_units import DELAYS, MODES, STORIES, runs
from tests.bench.last_units_sim import Listing, RunSettings, Story, simulate

EXACT = {"fixed_delay": True, "push_latency_s": (0.5, 0.5)}


def scripted(units: int, channels: tuple[str, ...], buyers) -> Story:
    return Story("scripted", units, 12.0, channels, scripted_buyers=tuple(buyers))


def test_a_listing_takes_sales_and_our_updates_as_its_platform_does():
    absolute = Listing(relative=False, q=5)
    assert absolute.sell() and absolute.q == 4
    absolute.set(5)                                  # a set sent before that sale overwrites it
    assert absolute.q == 5
    relative = Listing(relative=True, q=2)
    assert not relative.add(-3) and relative.q == 2  # Lazada refuses a count below 0, and changes nothing
    assert relative.add(-2) and relative.q == 0
    assert not relative.sell() and relative.q == 0   # a buyer of a listing showing 0 goes away


def test_an_absolute_set_overwrites_the_sales_made_while_it_was_on_its_way():
    """3 units. Shopee sells one; StockLink pushes 2 (it lands after 1 s). Meanwhile TikTok sells one: the
    2 that lands erases that sale, so TikTok offers 2 of the 1 unit left — and both buyers get one."""
    story = scripted(3, ("tiktok", "shopee"),
                     [(0.1, "shopee"), (0.8, "tiktok"), (1.5, "tiktok"), (1.6, "tiktok")])
    out = simulate(story, RunSettings("shared", 0.2, fixed_delay=True, push_latency_s=(1.0, 1.0)))
    assert (out.accepted, out.oversold, out.sold, out.stranded) == (4, 1, 3, 0)


def test_the_shared_pool_is_sold_twice_by_two_channels_before_their_webhooks_arrive():
    story = scripted(2, ("tiktok", "shopee"),
                     [(0.1, "tiktok"), (0.2, "shopee"), (0.3, "tiktok"), (0.4, "shopee")])
    out = simulate(story, RunSettings("shared", 2.0, **EXACT))
    assert (out.accepted, out.oversold, out.sold) == (4, 2, 2)
    guarded = simulate(story, RunSettings("declared", 2.0, **EXACT))
    assert (guarded.accepted, guarded.oversold, guarded.sold) == (2, 0, 2)   # one unit on each channel


def test_units_sold_and_units_stranded_add_up_to_the_units_received_in_every_run():
    for seed in (1, 2):
        for story, delay, label, out in runs(seed):
            where = f"{story.name} {delay}s {label} seed {seed}"
            assert out.sold + out.stranded == story.units, where
            assert out.sold == min(out.accepted, story.units), where
            # the platforms' count of orders agrees with the webhooks StockLink found nothing left for
            assert out.oversold == max(0, out.accepted - story.units), where
            assert out.draining_units <= out.stranded, where


def test_runs_are_deterministic():
    story = STORIES[0]
    first, again = (simulate(story, RunSettings("guarded", 3.0, push_failure_rate=0.05)) for _ in range(2))
    assert first == again


@pytest.mark.parametrize("failures", [0.0, 0.05], ids=["pushes-ok", "5%-refused"])
@pytest.mark.parametrize("mode", ["declared", "guarded"])
def test_the_guard_never_oversells_across_the_stories(mode, failures):
    """`declared` holds: the guard from the start never sells a unit twice. `guarded` — shared until the
    SKU is at risk — fails today: see the three scenarios below (the benchmark's findings)."""
    oversold = {f"{story.name} {delay:.0f}s": out.oversold
                for story, delay, _, out in runs(1, DELAYS, modes=[(mode, mode, failures)]) if out.oversold}
    assert oversold == {}


def test_a_guard_whose_cut_channel_drains_hands_the_sku_back_to_the_shared_sync():
    """7 units, TikTok and Shopee both show 7. TikTok sells one: 6 left, at risk (3 units per channel × 2).
    TikTok's 6 fit and stay; Shopee is cut to 0 and drains. Drained channels are paused (sync off) in the
    demands guard.read builds, and risk_threshold counts selling channels only: the threshold falls to 3,
    6 > 1.5 × 3, so the SKU is safe again and the shared sync pushes 6 to both (ending Shopee's drain):
    12 units offered for 6 until the guard cuts Shopee again. Seven buyers get one."""
    story = scripted(7, ("tiktok", "shopee"),
                     [(0.1, "tiktok"), (1.3, "shopee"), *((1.3 + i / 100, "tiktok") for i in range(1, 7))])
    out = simulate(story, RunSettings("guarded", 0.1, **EXACT))
    assert out.guard_exits == 0 and out.oversold == 0, (out.guard_exits, out.oversold)


def test_the_guard_counts_what_a_shared_set_overwrote():
    """8 units. Lazada's sale is reported at 2.05 s: 7 is pushed to both, landing at 2.55 s. TikTok sells
    one at 2.3 s, which that 7 overwrites: TikTok offers 7 of the 6 left, but shown (the 7 that landed,
    minus the order reported at 4.3 s) counts 6. At 4.3 s the SKU is at risk, TikTok's 6 "fit" and are kept,
    and seven TikTok buyers get one. The shared sync alone would have pushed 6 and oversold nothing."""
    story = scripted(8, ("tiktok", "lazada"),
                     [(0.05, "lazada"), (2.3, "tiktok"), *((5.0 + i / 10, "tiktok") for i in range(7))])
    assert simulate(story, RunSettings("shared", 2.0, **EXACT)).oversold == 0
    assert simulate(story, RunSettings("guarded", 2.0, **EXACT)).oversold == 0


def test_a_relative_decrease_below_the_unreported_orders_is_refused_again_and_again():
    """7 units; TikTok's first order is reported at 2.2 s: 6 left, at risk. TikTok's 6 fit and stay;
    Lazada, counted at 7 while it shows 6 (its order of 1.7 s is unreported), should go to 0: the guard asks
    for -7, Lazada sells again meanwhile and refuses (5 - 7 < 0). Every retry asks for -shown, and shown
    still counts the orders in flight, so from 2.2 s to 6.2 s each decrease is refused (7 times) while
    Lazada keeps offering units the pool no longer has. An absolute 0 (a cut with a drain, as
    channels/lazada.py suggests after such a refusal) would have stopped it at once."""
    story = scripted(7, ("tiktok", "lazada"),
                     [(0.2, "tiktok"), (0.6, "tiktok"), (1.7, "lazada"), (2.2, "tiktok"), (2.3, "lazada"),
                      (2.3, "tiktok"), (3.7, "lazada"), (3.7, "tiktok")])
    out = simulate(story, RunSettings("guarded", 2.0, **EXACT))
    assert out.oversold == 0, (out.oversold, out.below_zero_refusals)


def test_the_bench_modes_are_the_ones_documented():
    assert [label for label, _, _ in MODES] == [
        "shared", "shared+dyn buffer", "guarded", "guarded (declared)", "guarded, 5% refused"]
