"""On reservation.committed or stock.changed (EventBridge, through an SQS queue in batches): count commit /
return ledger entries into daily demand. Thin: records in, one call, partial batch failures out.

The rule delivers to a queue this function drains (topology: sales-on-stock-changed, QueueDelivery): each
(sku, warehouse) ledger stream named by a batch is counted once (sales_history.on_events). Records naming
a stream that could not be counted, and records whose body is not an event, are reported in
batchItemFailures (after max_receive_count receives they move to the queue's DLQ). A bare EventBridge
event (a direct invocation) is handled too, as one event."""
from functions import cold_start_done
from stocklink.logic.sales_history import on_event, on_events
from stocklink.observability import logger, metrics
from stocklink.sqs_batch import item_failures, parse_records
from stocklink.time import now_ms


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    records = event.get("Records")
    if records is None:
        return on_event(event, now_ms())
    events, ids, bad = parse_records(records, "sales_aggregate")
    result = on_events(events, now_ms())
    metrics.add_metric(name="SalesEvents", unit="Count", value=len(events))
    metrics.add_metric(name="SalesStreamsCounted", unit="Count", value=result["streams"])
    metrics.add_metric(name="SalesEntriesCounted", unit="Count", value=result["counted"])
    failed = bad + [ids[i] for i in result["failed"]]
    if failed:
        metrics.add_metric(name="SalesEventFailures", unit="Count", value=len(failed))
    return item_failures(failed)


cold_start_done()   # functions/__init__.py: garbage collection resumes
