"""Channel push: stock.changed / order.oversold from the bus, through an SQS queue, in batches.
Thin: records in, one merged sync, partial batch failures out.

The rule delivers to a queue that this function drains (topology: channel-push-on-stock, QueueDelivery), so
the events of a burst arrive together and are merged: each listing is pushed at most once per batch. Records
whose SKUs have a listing that could not be pushed after retries are reported in batchItemFailures: only
they come back, and after max_receive_count receives they move to the queue's dead-letter queue; details
are in GET /sync/failures. A record whose body is not an event is reported failed (kept, never dropped).
A bare EventBridge event (a direct invocation) is handled too and raises if anything could not be pushed.
Ingestion never waits for this function.
"""
from functions import cold_start_done
from stocklink.logic.sync.batch import handle_events
from stocklink.observability import logger, metrics
from stocklink.sqs_batch import item_failures, parse_records
from stocklink.time import now_ms


class SyncIncomplete(Exception):
    """Some listings could not be pushed; details are in GET /sync/failures."""


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    records = event.get("Records")
    events, ids, bad = parse_records(records, "channel_push") if records is not None else ([event], [], [])
    result = handle_events(events, now_ms)
    report = result.report
    metrics.add_metric(name="ChannelPushEvents", unit="Count", value=len(events))
    metrics.add_metric(name="ChannelPushes", unit="Count", value=report.pushed)
    metrics.add_metric(name="ChannelPushesCoalesced", unit="Count", value=report.unchanged + report.superseded)
    metrics.add_metric(name="ChannelPushesHandedOver", unit="Count", value=report.handed_over)
    if report.failed:
        metrics.add_metric(name="ChannelPushFailures", unit="Count", value=report.failed)
    if records is None:
        if report.failed:
            raise SyncIncomplete(f"{report.failed} listing(s) not pushed: {report.failures[:5]}")
        return report.as_dict()
    failed = bad + [ids[i] for i in result.failed_events]
    return item_failures(failed)


cold_start_done()   # functions/__init__.py: garbage collection resumes
