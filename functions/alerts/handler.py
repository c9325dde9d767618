"""Alert function: bus events (stock.changed, order.oversold, order.unmapped, sync.anomaly, ledger.mismatch,
forecast.stockout_risk, forecast.burst, forecast.slow_mover) and the scheduled tick (repeats, auto-clear,
push-failure counts, dead-letter depths, outbox resends). Thin: route the event to stocklink.logic.alerting
(bus_events, tick).

Bus events arrive through an SQS queue in batches (topology: alerts-on-events, QueueDelivery): the batch
goes to bus_events.handle_events, which merges one SKU's stock.changed events, and the records of the groups
that failed are reported in batchItemFailures (after max_receive_count receives they move to the queue's
DLQ). A record whose body is not an event is reported failed (kept, never dropped). The scheduled tick and
a bare EventBridge event (a direct invocation) are handled as before; the latter raises on failure.
"""
from functions import cold_start_done
from stocklink.logic.alerting import bus_events, tick
from stocklink.observability import logger, metrics
from stocklink.sqs_batch import item_failures, parse_records
from stocklink.time import now_ms


def _sent(alerts) -> list[dict]:
    return [{"id": a.id, "key": a.key, "event": a.event, "severity": a.severity} for a in alerts]


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    if event.get("detail-type") == "Scheduled Event":
        return tick.run_tick(now_ms())
    records = event.get("Records")
    if records is None:
        return {"sent": _sent(bus_events.handle_event(event, now_ms()))}
    events, ids, bad = parse_records(records, "alerts")
    outcome = bus_events.handle_events(events, now_ms())
    metrics.add_metric(name="AlertEvents", unit="Count", value=len(events))
    metrics.add_metric(name="AlertStockPasses", unit="Count", value=outcome.passes)
    failed = bad + [ids[i] for i in outcome.failed]
    if failed:
        metrics.add_metric(name="AlertEventFailures", unit="Count", value=len(failed))
    return item_failures(failed)


cold_start_done()   # functions/__init__.py: garbage collection resumes
