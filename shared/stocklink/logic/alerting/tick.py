"""The scheduled tick (every 5 minutes): push-failure and dead-letter depth checks, listings re-graded,
repeats that are due (unacknowledged), auto-clear of quiet incidents, and republishing of alerts a failed
publish left in the outbox. Without it a red SKU that stops changing would never be repeated."""
from __future__ import annotations

import functools

from stocklink.alerts.levels import Level
from stocklink.alerts.messages import action_edit
from stocklink.alerts.state import Action, AlertKey, AlertState, Decision, Policy, tick
from stocklink.logic.alerting import grading, tick_checks
from stocklink.observability import logger
from stocklink.store import alert_models as store


def run_tick(now_ms: int) -> dict:
    now = now_ms // 1000
    sent = []
    listed = store.open_states(limit=1000)
    checks = []
    for check in (tick_checks.push_failure_observations, tick_checks.dead_letter_observations,
                  tick_checks.channel_recheck_observations):
        try:
            checks += check(now_ms, listed)
        except Exception:  # noqa: BLE001 - a failing check must not stop repeats and auto-clear
            logger.exception("alerts: %s failed", check.__name__)
    for obs in checks:
        alert = grading.observe(obs, now_ms, action_edit(obs.key.rule))
        if alert is not None:
            sent.append(alert)
    republished = grading.resend_outbox(now_ms)
    for state, _, _ in listed:
        step = functools.partial(_tick_step, now=now, policy=grading.policy(state.key.rule))
        alert = grading.apply_step(state.key.id, step, now_ms, action_edit(state.key.rule))
        if alert is not None:
            sent.append(alert)
    return {"sent": [a.id for a in sent], "republished": republished}


def _tick_step(current: AlertState | None, now: int, policy: Policy) -> Decision:
    if current is None:  # deleted between the listing and the read: nothing to do
        return Decision(Action.NONE, Level.NONE, Level.NONE, AlertState(AlertKey("none", "none")), False, "ok")
    return tick(current, now, policy)
