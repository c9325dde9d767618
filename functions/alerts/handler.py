"""Alert function: bus events (stock.changed, order.oversold, order.unmapped, sync.anomaly, ledger.mismatch,
forecast.stockout_risk, forecast.burst, forecast.slow_mover) and the scheduled tick (repeats, auto-clear,
push-failure counts, dead-letter depths, outbox resends). Thin: route the event to stocklink.logic.alerting."""
from stocklink.logic import alerting
from stocklink.observability import logger, metrics
from stocklink.time import now_ms


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    if event.get("detail-type") == "Scheduled Event":
        return alerting.run_tick(now_ms())
    sent = alerting.handle_event(event, now_ms())
    return {"sent": [{"id": a.id, "key": a.key, "event": a.event, "severity": a.severity} for a in sent]}
