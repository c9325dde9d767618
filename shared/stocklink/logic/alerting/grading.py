"""Grading: an observation against the stored alert state -> decision -> conditional write (with the alert
in an outbox) -> SNS publish -> outbox entry dropped. The concurrency and delivery guarantees live here:

- the conditional write on the state's `version` (or on the item not existing) is the guard: of two
  functions deciding the same crossing only the one whose write lands publishes; the loser re-reads and
  decides again (now: nothing to send);
- the alert goes into the outbox in the same transaction as the state, before the publish: a publish that
  fails leaves it there and raises (the event is retried, re-grades the same stored version: stale), and
  the tick resends outbox entries older than PENDING_GRACE_MS with the same Alert.id. No race sends a
  level twice; nothing is lost.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping

from stocklink import notifications
from stocklink.alerts import rules
from stocklink.alerts.kinds import Kind
from stocklink.alerts.messages import Alert, build_alert, sns_publish_kwargs
from stocklink.alerts.state import HOUR, AlertState, Decision, Observation, Policy, decide
from stocklink.observability import logger, metrics
from stocklink.store import alert_models as store

MAX_RACE_RETRIES = 8
PENDING_GRACE_MS = 120_000          # an outbox entry older than this was not published: the tick resends it
SEEN_WRITE_MIN_S = 60
# Forecasting publishes only positives (at risk, slow): an alert it stops confirming clears on the tick
# once a daily run has passed without it (36 h leaves room for a late run).
POLICY_OVERRIDES: Mapping[str, Policy] = {
    Kind.STOCKOUT_FORECAST: replace(rules.DEFAULT_POLICIES[Kind.STOCKOUT_FORECAST], auto_clear_after=36 * HOUR),
    Kind.SLOW_MOVER: replace(rules.DEFAULT_POLICIES[Kind.SLOW_MOVER], auto_clear_after=36 * HOUR),
    Kind.LATE_PO: replace(rules.DEFAULT_POLICIES[Kind.LATE_PO], auto_clear_after=36 * HOUR),
}


def policy(rule: str) -> Policy:
    return rules.policy_for(rule, POLICY_OVERRIDES)


def publish(alert: Alert) -> str:
    message_id = notifications.publish_alert(sns_publish_kwargs(alert, notifications.topic_arn()))
    metrics.add_metric(name="AlertsPublished", unit="Count", value=1)
    logger.info("alert published", extra={"alert_id": alert.id, "key": alert.key, "event": alert.event,
                                          "severity": alert.severity})
    return message_id


def observe(obs: Observation, now_ms: int, edit: Callable[[Alert], Alert] | None = None,
            known: tuple[AlertState | None, dict | None] | None = None) -> Alert | None:
    """Grade one observation; the alert it sent, if any (`edit` rewrites its action text first). `known`:
    its stored state as just read (read_states), used instead of reading it again."""
    kind_policy = policy(obs.key.rule)
    return apply_step(obs.key.id, lambda state: decide(state, obs, kind_policy), now_ms, edit, known)


def read_states(observations: list[Observation]) -> dict[str, tuple[AlertState | None, dict | None]]:
    """The stored states of several observations' keys, in one read: a SKU's pass grades one key per
    warehouse rule and per listing, each a GetItem of its own before (7 reads for a SKU on five platforms).
    A state read here may be overtaken before its write: the write's condition on the version catches that,
    and the step re-reads and decides again, as for any concurrent writer."""
    return store.get_states([obs.key.id for obs in observations]) if observations else {}


def apply_step(key_id: str, step: Callable[[AlertState | None], Decision], now_ms: int,
               edit: Callable[[Alert], Alert] | None = None,
               known: tuple[AlertState | None, dict | None] | None = None) -> Alert | None:
    """Read (unless `known` is the state just read), decide (`step`), conditionally write (the state, and the
    alert into the outbox in the same transaction), then publish and drop the outbox entry. See the module
    docstring."""
    for _ in range(MAX_RACE_RETRIES):
        state, last_alert = known if known is not None else store.get_state(key_id)
        known = None                       # a retry after a lost race reads again
        decision = step(state)
        if not decision.changed or _only_recently_seen(state, decision):
            return None
        alert = build_alert(decision)
        if alert is not None and edit is not None:
            alert = edit(alert)
        try:
            store.save_state(decision.state, expected_version=None if state is None else state.version,
                             now_ms=now_ms, last_alert=alert.to_dict() if alert else None,
                             keep_last_alert=last_alert, outbox_alert=alert.to_dict() if alert else None)
        except store.Conflict:
            metrics.add_metric(name="AlertStateRaces", unit="Count", value=1)
            continue
        if alert is not None:
            publish(alert)
            store.clear_outbox(alert.id)
        return alert
    raise RuntimeError(f"alert state {key_id}: too many concurrent writers")


def _only_recently_seen(old: AlertState | None, decision: Decision) -> bool:
    """True when the decision sends nothing and only refreshes an incident's last_seen_at (and times,
    facts) by less than SEEN_WRITE_MIN_S: not worth a write. Twenty oversold orders of one SKU at once
    would otherwise be twenty contending writes of the same item; auto-clear works in hours."""
    new = decision.state
    if old is None or decision.notifies or old.last_seen_at is None or new.last_seen_at is None:
        return False
    same = all(getattr(old, f) == getattr(new, f) for f in
               ("level", "since", "notified", "acked_level", "acked_at", "acked_by"))
    return same and 0 <= new.last_seen_at - old.last_seen_at < SEEN_WRITE_MIN_S


def resend_outbox(now_ms: int) -> int:
    """Publish again every outbox entry older than PENDING_GRACE_MS (its publish failed or its function
    died), with the same Alert.id: chat delivery dedupes by it. Returns how many were resent."""
    resent = 0
    for entry in store.outbox():
        if now_ms - int(entry.get("at_ms", 0)) >= PENDING_GRACE_MS:
            alert = Alert.from_dict(entry["alert"])
            publish(alert)
            store.clear_outbox(alert.id)
            resent += 1
    return resent
