"""The last units are never shown twice (issue 13): oversold orders and sell-through of one SKU's pool
offered on five marketplaces, in the shared mode, the shared mode with dynamic buffers, and the guard.

    python -m tests.bench.last_units [--seed 1] [--quick] [--fixed-delay]

A deterministic discrete-event simulation (tests/bench/last_units_sim.py: simulated clock, seeded draws,
the real domain functions of stocklink.domain.last_units and the runtime's velocity estimates). Four
stories, each at webhook delays 0, 1 and 3 s (uniform in [0, d]; `--fixed-delay`: exactly d), push
latency uniform 0.2–1.0 s; every story has more buyers than units, so a perfect allocation sells out.
Per story × delay × mode:
  oversold   orders the platforms accepted beyond the units received (webhooks that found nothing left);
  sold/left  units sold / units still unsold when the sale ends, and where those were: on which listings
             (tt tiktok, sp shopee, lz lazada, wc woocommerce, sf shopify; "everywhere" when every listing
             showed them all) and held back by StockLink (counted on a draining listing, or headroom);
  sold out   seconds until the platforms took the last unit ('-': never);
  calls/ord  platform calls (stock pushes) per order accepted;
  missed     buyers turned away while units were still unsold;
  guard from when the guard first took the SKU (s); exits: times it handed the SKU back to the shared sync;
  refused    relative changes Lazada refused (they would have taken its count below 0).
`--quick`: the 3 s delay only. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import time

from tests.bench.last_units_sim import Demand, Outcome, RunSettings, Story, simulate

ALL_CHANNELS = ("tiktok", "shopee", "lazada", "woocommerce", "shopify")
SHORT = {"tiktok": "tt", "shopee": "sp", "lazada": "lz", "woocommerce": "wc", "shopify": "sf"}

STORIES = (
    Story("dominant", 120, 30.0, ALL_CHANNELS, seed=1,
          demand=(Demand("tiktok", 10.0), *(Demand(ch, 0.5) for ch in ALL_CHANNELS if ch != "tiktok"))),
    Story("even", 120, 30.0, ("tiktok", "shopee", "lazada"), seed=2,
          demand=tuple(Demand(ch, 4.0) for ch in ("tiktok", "shopee", "lazada"))),
    Story("burst moves", 120, 24.0, ALL_CHANNELS, seed=3,
          demand=(Demand("tiktok", 6.0, until_s=12.0), Demand("shopee", 6.0, from_s=12.0),
                  *(Demand(ch, 0.5) for ch in ALL_CHANNELS))),
    Story("last 5", 5, 10.0, ALL_CHANNELS, seed=4, demand=tuple(Demand(ch, 1.0) for ch in ALL_CHANNELS)),
)
DELAYS = (0.0, 1.0, 3.0)
# (label, mode, push failure rate)
MODES = (("shared", "shared", 0.0), ("shared+dyn buffer", "buffer", 0.0), ("guarded", "guarded", 0.0),
         ("guarded (declared)", "declared", 0.0), ("guarded, 5% refused", "guarded", 0.05))


def runs(seed: int, delays=DELAYS, fixed_delay: bool = False, stories=STORIES, modes=MODES):
    """(story, delay, label, outcome) for every combination, in table order."""
    for story in stories:
        for delay in delays:
            for label, mode, failures in modes:
                run = RunSettings(mode, delay, fixed_delay=fixed_delay, push_failure_rate=failures, seed=seed)
                yield story, delay, label, simulate(story, run)


def where_left(out: Outcome) -> str:
    if out.stranded == 0:
        return ""
    shown = {ch: q for ch, q in out.left_on.items() if q > 0}
    if shown and all(q >= out.stranded for q in out.left_on.values()):
        return "everywhere"
    parts = [f"{SHORT[ch]}{q}" for ch, q in sorted(shown.items(), key=lambda kv: -kv[1])]
    held = max(0, out.stranded - sum(shown.values()))
    if held:
        drained = min(held, out.draining_units)
        parts.append(f"held {held}" + (f" (drain {drained})" if drained else ""))
    return " ".join(parts)


HEADER = (f"{'story':<12}{'delay':>5}  {'mode':<20}{'oversold':>8}{'sold/left':>10}  {'left where':<22}"
          f"{'sold out':>8}{'calls/ord':>10}{'missed':>7}{'guard from':>11}{'exits':>6}{'refused':>8}")


def row(story: Story, delay: float, label: str, out: Outcome) -> str:
    sold_out = f"{out.sellout_at:.1f}" if out.sellout_at is not None else "-"
    guarded = out.at_risk_from is not None
    risk = f"{out.at_risk_from:.1f}" if guarded else "-"
    exits, refused = (out.guard_exits, out.below_zero_refusals) if guarded else ("-", "-")
    sold_left = f"{out.sold}/{out.stranded}"
    return (f"{story.name:<12}{delay:>4.0f}s  {label:<20}{out.oversold:>8}{sold_left:>10}  "
            f"{where_left(out):<22}{sold_out:>8}{out.calls_per_order:>10.2f}{out.missed:>7}"
            f"{risk:>11}{exits:>6}{refused:>8}")


def summary(label: str, outs: list[Outcome]) -> str:
    sell_through = 100 * statistics.mean(o.sold / o.units for o in outs)
    calls = statistics.mean(o.calls_per_order for o in outs)
    return (f"{label:<20} oversold {sum(o.oversold for o in outs):>4}   sell-through {sell_through:5.1f} %   "
            f"missed buyers {sum(o.missed for o in outs):>5}   calls/order {calls:.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="base seed of every draw (default 1)")
    parser.add_argument("--quick", action="store_true", help="the 3 s webhook delay only")
    parser.add_argument("--fixed-delay", action="store_true", help="every webhook exactly the delay late")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    delays = (3.0,) if args.quick else DELAYS
    print(HEADER)
    by_mode: dict[str, list[Outcome]] = {}
    previous = None
    for story, delay, label, out in runs(args.seed, delays, args.fixed_delay):
        if previous is not None and previous != (story.name, delay):
            print()
        previous = (story.name, delay)
        print(row(story, delay, label, out))
        by_mode.setdefault(label, []).append(out)
    print()
    for label, outs in by_mode.items():
        print(summary(label, outs))
    delay_kind = "exactly d" if args.fixed_delay else "uniform in [0, d]"
    count = len(by_mode) * len(STORIES) * len(delays)
    print(f"\n{count} runs, seed {args.seed}, webhook delay {delay_kind}, push latency 0.2–1.0 s, "
          f"in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
