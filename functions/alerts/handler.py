"""Alert function: bus events (stock.changed, order.oversold, order.unmapped, sync.anomaly, ledger.mismatch)
and the scheduled tick. Thin: route the event to stocklink.logic.alerting."""
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
