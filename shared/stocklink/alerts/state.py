"""Alert state per (rule, sku, scope): the pure machine that decides notify / repeat / recover / nothing.

No storms, no silence:
- notify when the level worsens (each level crossed notifies at most once per cooldown);
- repeat an unchanged level only after its cooldown, and never once acknowledged;
- a worsening to a level notified within its cooldown (e.g. red -> orange -> red) stays quiet;
- improving within the episode is quiet; clearing to NONE sends one recovery notice;
- hysteresis: the held level only falls to the observation's `clear_level` (graded against lines
  raised by a band), so stock oscillating around a line does not flap;
- stale or duplicate observations (seq not newer, or older time) change nothing.

Times are integer epoch seconds supplied by the caller (`now`); nothing here reads a clock.
The state serialises to a flat DynamoDB-friendly dict (str / int / map only): store it with a
condition on `version` so two concurrent alert functions cannot both notify.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Mapping

from stocklink.alerts.levels import Level

HOUR = 3600

DEFAULT_COOLDOWN: Mapping[Level, int] = {Level.YELLOW: 24 * HOUR, Level.ORANGE: 6 * HOUR, Level.RED: 2 * HOUR}


class Action(StrEnum):
    NOTIFY = "notify"     # level worsened: raise an alert
    REPEAT = "repeat"     # same level still there after its cooldown
    RECOVER = "recover"   # cleared: one recovery notice
    NONE = "none"


@dataclass(frozen=True)
class AlertKey:
    rule: str
    sku: str
    scope: str = "all"    # "wh:<warehouse>", "ch:<channel>", "dlq:<queue>", "batch:<id>" or "all"

    @property
    def id(self) -> str:
        return f"{self.rule}#{self.sku}#{self.scope}"

    @staticmethod
    def parse(key_id: str) -> "AlertKey":
        rule, sku, scope = key_id.split("#", 2)
        return AlertKey(rule, sku, scope)


@dataclass(frozen=True)
class Observation:
    key: AlertKey
    level: Level                      # level by the entry lines
    at: int                           # epoch seconds of the underlying event
    clear_level: Level | None = None  # level by the banded lines (>= level); None = no hysteresis
    seq: int | None = None            # source version (e.g. stock item version); newer = larger
    facts: Mapping[str, Any] = field(default_factory=dict)  # numbers for the message text

    def __post_init__(self):
        object.__setattr__(self, "at", int(self.at))


@dataclass(frozen=True)
class Policy:
    cooldown: Mapping[Level, int] = field(default_factory=lambda: dict(DEFAULT_COOLDOWN))
    recovery_notice: bool = True
    auto_clear_after: int | None = None  # incidents: clear on `tick` after this long with no occurrence

    def cooldown_for(self, level: Level) -> int:
        return int(self.cooldown.get(level, DEFAULT_COOLDOWN.get(level, 0)))


@dataclass(frozen=True)
class AlertState:
    key: AlertKey
    level: Level = Level.NONE
    since: int | None = None          # start of the current episode (level left NONE)
    last_at: int | None = None        # time of the last accepted observation
    last_seq: int | None = None
    last_seen_at: int | None = None   # last observation above NONE (drives auto-clear of incidents)
    notified: Mapping[Level, int] = field(default_factory=dict)  # level -> last notification, this episode
    acked_level: Level = Level.NONE   # acknowledged up to this level, this episode
    acked_at: int | None = None
    acked_by: str | None = None
    version: int = 0                  # bumped on every material change; use as a write condition
    facts: Mapping[str, Any] = field(default_factory=dict)  # last observation's facts, for tick messages

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": self.key.id, "rule": self.key.rule, "sku": self.key.sku, "scope": self.key.scope,
            "level": self.level.label, "acked_level": self.acked_level.label, "version": self.version,
            "notified": {lvl.label: int(t) for lvl, t in self.notified.items()},
        }
        for name in ("since", "last_at", "last_seq", "last_seen_at", "acked_at"):
            value = getattr(self, name)
            if value is not None:
                item[name] = int(value)
        if self.acked_by is not None:
            item["acked_by"] = self.acked_by
        if self.facts:
            # a JSON string: boto3 rejects float attributes, and facts are only read back whole
            item["facts"] = json.dumps(self.facts, sort_keys=True, ensure_ascii=False, default=str)
        return item

    @staticmethod
    def from_item(item: Mapping[str, Any]) -> "AlertState":
        # boto3's resource layer returns numbers as Decimal: coerce back to int
        def num(name):
            v = item.get(name)
            return None if v is None else int(v)

        return AlertState(
            key=AlertKey(item["rule"], item["sku"], item["scope"]),
            level=Level.parse(item.get("level", "none")),
            since=num("since"), last_at=num("last_at"), last_seq=num("last_seq"),
            last_seen_at=num("last_seen_at"),
            notified={Level.parse(k): int(v) for k, v in (item.get("notified") or {}).items()},
            acked_level=Level.parse(item.get("acked_level", "none")),
            acked_at=num("acked_at"), acked_by=item.get("acked_by"),
            version=int(item.get("version", 0)),
            facts=json.loads(item["facts"]) if item.get("facts") else {},
        )


@dataclass(frozen=True)
class Decision:
    action: Action
    level: Level      # what the message is about; for RECOVER, the worst level notified in the episode
    previous: Level   # held level before this decision
    state: AlertState
    changed: bool     # the state must be written back (conditional on the old version)
    reason: str       # worsened | repeat_due | recovered | cooldown | acknowledged | improved | held |
                      # unchanged | cleared_silently | stale | ok
    at: int = 0       # time of the decision (observation time, or `now` of a tick)

    @property
    def notifies(self) -> bool:
        return self.action is not Action.NONE


def _material(old: AlertState, new: AlertState) -> AlertState:
    return replace(new, version=old.version + 1)


def _last_notified(st: AlertState, level: Level) -> int | None:
    # For a level reached by improving (red -> orange) there is no own notification yet: the last
    # notification of the episode is what a repeat waits on.
    if level in st.notified:
        return st.notified[level]
    return max(st.notified.values()) if st.notified else None


def _maybe_repeat(old: AlertState, st: AlertState, now: int, policy: Policy, changed: bool) -> Decision:
    level = st.level
    if level <= st.acked_level:
        return Decision(Action.NONE, level, old.level, _material(old, st) if changed else st, changed,
                        "acknowledged")
    last = _last_notified(st, level)
    if last is not None and now - last >= policy.cooldown_for(level):
        st = _material(old, replace(st, notified={**st.notified, level: now}))
        return Decision(Action.REPEAT, level, old.level, st, True, "repeat_due")
    return Decision(Action.NONE, level, old.level, _material(old, st) if changed else st, changed,
                    "unchanged")


def _recover(old: AlertState, st: AlertState, policy: Policy) -> Decision:
    # The notice carries the worst level notified this episode, so whoever heard the red alert (e.g. a
    # subscription filtered on severity=red) also hears it clear, even if it improved to yellow first.
    cleared = max(old.notified) if old.notified else old.level
    fresh = replace(st, level=Level.NONE, since=None, notified={}, acked_level=Level.NONE,
                    acked_at=None, acked_by=None)
    fresh = _material(old, fresh)
    if policy.recovery_notice and old.notified:
        return Decision(Action.RECOVER, cleared, old.level, fresh, True, "recovered")
    return Decision(Action.NONE, cleared, old.level, fresh, True, "cleared_silently")


def _is_stale(st: AlertState, obs: Observation) -> bool:
    if obs.seq is not None and st.last_seq is not None:
        return obs.seq <= st.last_seq
    return st.last_at is not None and obs.at < st.last_at


def decide(state: AlertState | None, obs: Observation, policy: Policy = Policy()) -> Decision:
    """The next state and what to send for one observation."""
    return replace(_decide(state, obs, policy), at=obs.at)


def _decide(state: AlertState | None, obs: Observation, policy: Policy) -> Decision:
    old = state or AlertState(key=obs.key)
    if _is_stale(old, obs):
        return Decision(Action.NONE, old.level, old.level, old, False, "stale")

    raw = obs.level
    clear = max(obs.clear_level if obs.clear_level is not None else raw, raw)
    held = old.level
    if raw > held:
        new = raw
    elif held is Level.NONE:
        new = Level.NONE
    else:
        new = min(held, clear)  # hysteresis: fall only as far as the banded grade allows

    st = replace(old, last_at=obs.at, last_seq=obs.seq if obs.seq is not None else old.last_seq,
                 facts=dict(obs.facts) if obs.facts else old.facts)
    seen_changed = False
    if raw > Level.NONE:
        st = replace(st, last_seen_at=obs.at)
        seen_changed = policy.auto_clear_after is not None  # incidents need it persisted

    if new > held:
        st = replace(st, level=new, since=old.since if old.since is not None else obs.at)
        if new <= st.acked_level:
            return Decision(Action.NONE, new, held, _material(old, st), True, "acknowledged")
        last = st.notified.get(new)
        if last is not None and obs.at - last < policy.cooldown_for(new):
            return Decision(Action.NONE, new, held, _material(old, st), True, "cooldown")
        st = _material(old, replace(st, notified={**st.notified, new: obs.at}))
        return Decision(Action.NOTIFY, new, held, st, True, "worsened")

    if new < held:
        if new is Level.NONE:
            return _recover(old, st, policy)
        st = _material(old, replace(st, level=new))
        return Decision(Action.NONE, new, held, st, True, "improved")

    if held is Level.NONE:
        return Decision(Action.NONE, Level.NONE, held, st, False, "ok")
    return _maybe_repeat(old, st, obs.at, policy, seen_changed)


def tick(state: AlertState, now: int, policy: Policy = Policy()) -> Decision:
    """Scheduled sweep with no new observation: repeats that are due, auto-clear of quiet incidents.

    Without it a red SKU that stops changing would never be repeated (silence)."""
    now = int(now)
    return replace(_tick(state, now, policy), at=now)


def _tick(state: AlertState, now: int, policy: Policy) -> Decision:
    if state.level is Level.NONE:
        return Decision(Action.NONE, Level.NONE, Level.NONE, state, False, "ok")
    if (policy.auto_clear_after is not None and state.last_seen_at is not None
            and now - state.last_seen_at >= policy.auto_clear_after):
        return _recover(state, state, policy)
    return _maybe_repeat(state, state, now, policy, False)


def acknowledge(state: AlertState, at: int, by: str | None = None) -> AlertState:
    """Stop repeats of the current level (and re-raises up to it) until the alert clears or worsens
    beyond it."""
    if state.level is Level.NONE:
        return state
    return replace(state, acked_level=state.level, acked_at=int(at), acked_by=by,
                   version=state.version + 1)
