"""Alert state machine: worsen/repeat/ack/recover, hysteresis, staleness, persistence, flash sale."""
import random
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from stocklink.alerts.levels import Level, Thresholds
from stocklink.alerts.rules import DEFAULT_POLICIES, stock_observations
from stocklink.alerts.kinds import Kind
from stocklink.alerts.state import (
    Action, AlertKey, AlertState, Observation, Policy, acknowledge, decide, tick,
)

KEY = AlertKey("low_stock", "SKU-1", "wh:A")
POLICY = Policy(cooldown={Level.YELLOW: 1000, Level.ORANGE: 500, Level.RED: 100})


def obs(level, at, clear=None, seq=None):
    return Observation(KEY, level, at, clear, seq)


def run(observations, policy=POLICY, state=None):
    decisions = []
    for o in observations:
        d = decide(state, o, policy)
        state = d.state
        decisions.append(d)
    return state, decisions


def actions(decisions):
    return [(d.action.value, d.level.label) for d in decisions]


def test_each_worsening_notifies_once():
    _, ds = run([obs(Level.YELLOW, 0), obs(Level.ORANGE, 1), obs(Level.ORANGE, 2), obs(Level.RED, 3)])
    assert actions(ds) == [("notify", "yellow"), ("notify", "orange"), ("none", "orange"), ("notify", "red")]
    assert ds[2].reason == "unchanged" and ds[2].changed is False


def test_jump_straight_to_red_is_one_notification():
    _, ds = run([obs(Level.NONE, 0), obs(Level.RED, 1)])
    assert actions(ds) == [("none", "none"), ("notify", "red")]
    assert ds[1].previous is Level.NONE


def test_repeat_only_after_cooldown_then_waits_again():
    _, ds = run([obs(Level.RED, 0), obs(Level.RED, 99), obs(Level.RED, 100), obs(Level.RED, 150),
                 obs(Level.RED, 200)])
    assert actions(ds) == [("notify", "red"), ("none", "red"), ("repeat", "red"), ("none", "red"),
                           ("repeat", "red")]


def test_acknowledge_stops_repeats_but_not_a_worse_level():
    state, _ = run([obs(Level.ORANGE, 0)])
    state = acknowledge(state, at=10, by="ops@example.com")
    assert (state.acked_level, state.acked_by) == (Level.ORANGE, "ops@example.com")
    state, ds = run([obs(Level.ORANGE, 600), obs(Level.ORANGE, 5000), obs(Level.RED, 5001)], state=state)
    assert actions(ds) == [("none", "orange"), ("none", "orange"), ("notify", "red")]
    assert ds[0].reason == "acknowledged"
    # red is not acknowledged: it repeats after its cooldown
    _, ds = run([obs(Level.RED, 5101)], state=state)
    assert actions(ds) == [("repeat", "red")]


def test_acknowledged_level_reentered_stays_quiet_until_recovery():
    state, _ = run([obs(Level.RED, 0)])
    state = acknowledge(state, at=1)
    state, ds = run([obs(Level.ORANGE, 2, clear=Level.ORANGE), obs(Level.RED, 1000)], state=state)
    assert actions(ds) == [("none", "orange"), ("none", "red")]
    assert ds[1].reason == "acknowledged"
    state, ds = run([obs(Level.NONE, 1001), obs(Level.RED, 1002)], state=state)
    assert actions(ds) == [("recover", "red"), ("notify", "red")]   # new episode, ack gone


def test_improving_is_quiet_and_recovery_is_one_notice():
    state, ds = run([obs(Level.RED, 0), obs(Level.ORANGE, 1), obs(Level.YELLOW, 2), obs(Level.NONE, 3),
                     obs(Level.NONE, 4)])
    assert actions(ds) == [("notify", "red"), ("none", "orange"), ("none", "yellow"), ("recover", "red"),
                           ("none", "none")]
    assert ds[1].reason == "improved"
    assert ds[3].previous is Level.YELLOW   # held yellow; the notice names the red that was announced
    assert state.level is Level.NONE and state.notified == {}


def test_reworsening_within_cooldown_is_quiet_and_after_it_notifies():
    _, ds = run([obs(Level.RED, 0), obs(Level.ORANGE, 10), obs(Level.RED, 20), obs(Level.ORANGE, 30),
                 obs(Level.RED, 130)])
    assert actions(ds) == [("notify", "red"), ("none", "orange"), ("none", "red"), ("none", "orange"),
                           ("notify", "red")]
    assert ds[2].reason == "cooldown"


def test_hysteresis_band_stops_flapping_on_the_floor():
    t = Thresholds()  # floor 15, band 2 units
    state, notes = None, []
    for i, stock in enumerate([14, 15, 14, 16, 14, 15, 16, 14]):
        o = stock_observations("SKU-1", "wh:A", stock, None, t, at=i)[0]
        d = decide(state, o, POLICY)
        state = d.state
        notes.append(d.action.value)
    assert notes == ["notify"] + ["none"] * 7      # 15 and 16 are within the band: still red
    o = stock_observations("SKU-1", "wh:A", 17, None, t, at=20)[0]
    assert decide(state, o, POLICY).action is Action.RECOVER   # 17 = floor + band


def test_without_band_the_same_oscillation_flaps_recoveries():
    # the contrast that shows the band is what prevents the flapping
    state, notes = None, []
    for i, stock in enumerate([14, 15, 14, 15]):
        o = stock_observations("SKU-1", "wh:A", stock, None, Thresholds(band_units=0, band_pct=0), at=i)[0]
        d = decide(state, o, POLICY)
        state, notes = d.state, notes + [d.action.value]
    assert notes == ["notify", "recover", "notify", "recover"]


def test_stale_and_duplicate_observations_change_nothing():
    state, _ = run([obs(Level.RED, 100, seq=7)])
    for late in (obs(Level.NONE, 200, seq=6), obs(Level.NONE, 200, seq=7)):
        d = decide(state, late, POLICY)
        assert (d.action, d.reason, d.changed, d.state) == (Action.NONE, "stale", False, state)
    # without seq, an older time is stale
    state, _ = run([obs(Level.RED, 100)])
    assert decide(state, obs(Level.NONE, 99), POLICY).reason == "stale"


def test_versions_bump_on_material_changes_only():
    state, ds = run([obs(Level.RED, 0), obs(Level.RED, 1), obs(Level.RED, 100)])
    assert [d.state.version for d in ds] == [1, 1, 2]
    assert [d.changed for d in ds] == [True, False, True]


def test_tick_repeats_when_due_and_is_quiet_otherwise():
    state, _ = run([obs(Level.RED, 0)])
    assert tick(state, 50, POLICY).action is Action.NONE
    d = tick(state, 100, POLICY)
    assert (d.action, d.at, d.state.notified[Level.RED]) == (Action.REPEAT, 100, 100)
    assert tick(d.state, 150, POLICY).action is Action.NONE
    assert tick(acknowledge(d.state, 160), 10_000, POLICY).action is Action.NONE


def test_tick_auto_clears_quiet_incidents():
    policy = DEFAULT_POLICIES[Kind.OVERSELL]   # red, auto-clear after 6 h
    key = AlertKey("oversell", "SKU-1", "all")
    d = decide(None, Observation(key, Level.RED, 0), policy)
    d = decide(d.state, Observation(key, Level.RED, 3600), policy)   # occurs again: keeps it alive
    assert d.state.last_seen_at == 3600
    assert d.action is Action.REPEAT                                    # 1 h red cooldown has passed
    assert tick(d.state, 3600 + 3599, policy).action is Action.NONE
    d = decide(d.state, Observation(key, Level.RED, 4000), policy)      # within cooldown: quiet, but
    assert (d.action, d.changed, d.state.last_seen_at) == (Action.NONE, True, 4000)  # must be stored
    assert tick(d.state, 4000 + 6 * 3600 - 1, policy).action is Action.REPEAT
    rec = tick(d.state, 4000 + 6 * 3600, policy)
    assert (rec.action, rec.level, rec.state.level) == (Action.RECOVER, Level.RED, Level.NONE)


def test_state_round_trips_through_a_dynamodb_item():
    state, _ = run([Observation(KEY, Level.ORANGE, 5, seq=3, facts={"available": 12, "pct": 23.1})])
    state = acknowledge(state, at=9, by="lead")
    item = state.to_item()
    assert item["pk"] == "low_stock#SKU-1#wh:A"
    assert item["level"] == "orange" and item["notified"] == {"orange": 5}
    assert not any(isinstance(v, float) for v in item.values())    # boto3 rejects floats
    # boto3's resource layer hands numbers back as Decimal
    as_read = {k: (Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in item.items()}
    as_read["notified"] = {"orange": Decimal(5)}
    assert AlertState.from_item(as_read) == state
    assert AlertKey.parse(item["pk"]) == KEY


def test_flash_sale_of_200_orders_notifies_at_most_once_per_level():
    # 210 units against safety stock 200; 200 one-unit orders arrive within ten minutes,
    # half of them delivered out of order (EventBridge does not promise order)
    t = Thresholds()
    events = [(i * 3, 210 - (i + 1), i + 1) for i in range(200)]   # (at, available after, stock version)
    rnd = random.Random(7)
    for i in range(0, 200, 2):
        j = min(i + rnd.randrange(1, 5), 199)
        events[i], events[j] = events[j], events[i]
    state, sent = None, []
    for at, available, version in events:
        o = stock_observations("SKU-1", "wh:A", available, 200, t, at=at, seq=version)[0]
        d = decide(state, o, DEFAULT_POLICIES[Kind.LOW_STOCK])
        state = d.state
        if d.notifies:
            sent.append((d.action.value, d.level.label))
    assert len(sent) == len(set(sent)) <= 3
    assert all(a == "notify" for a, _ in sent)
    assert state.level is Level.RED           # ended at 10 units: red
    assert ("notify", "red") in sent


def test_flash_sale_in_order_crosses_each_level_exactly_once():
    t, state, sent = Thresholds(), None, []
    for i in range(200):
        o = stock_observations("SKU-1", "wh:A", 209 - i, 200, t, at=i, seq=i + 1)[0]
        d = decide(state, o, DEFAULT_POLICIES[Kind.LOW_STOCK])
        state = d.state
        if d.notifies:
            sent.append((d.level.label, 209 - i))
    # yellow below 100, orange below 60, red below 20 (10 % of 200)
    assert sent == [("yellow", 99), ("orange", 59), ("red", 19)]


# ---------------------------------------------------------------- property

COOLDOWN = {Level.YELLOW: 600, Level.ORANGE: 300, Level.RED: 120}

steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=400),        # seconds until the next change
              st.integers(min_value=-40, max_value=40),       # stock delta
              st.booleans()),                                  # acknowledge after this step?
    min_size=1, max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(start=st.integers(min_value=0, max_value=300), safety=st.one_of(st.none(), st.integers(1, 250)),
       seq_steps=steps, ack_prob=st.booleans())
def test_no_repeated_notification_of_an_unchanged_level_within_its_cooldown(start, safety, seq_steps, ack_prob):
    policy, t = Policy(cooldown=COOLDOWN), Thresholds()
    state, now, stock = None, 0, start
    last_sent: dict[Level, int] = {}     # level -> time of its last notification, this episode
    held_before = Level.NONE
    acked = Level.NONE
    for dt, delta, ack in seq_steps:
        now += dt
        stock += delta
        o = stock_observations("S", "wh:A", stock, safety, t, at=now)[0]
        d = decide(state, o, policy)
        state = d.state
        if d.action in (Action.NOTIFY, Action.REPEAT):
            prev = last_sent.get(d.level)
            assert prev is None or now - prev >= COOLDOWN[d.level], (d, prev)
            assert d.level > acked                       # acknowledged levels never notify again
            if d.action is Action.NOTIFY:
                assert d.level > held_before             # notify only when the level worsens
            last_sent[d.level] = now
        elif d.action is Action.RECOVER:
            assert held_before > Level.NONE
            last_sent, acked = {}, Level.NONE            # a recovery ends the episode
        held_before = state.level
        if ack and ack_prob and state.level > Level.NONE:
            state = acknowledge(state, now)
            acked = state.level
