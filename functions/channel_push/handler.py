"""Channel push (EventBridge: stock.changed, order.oversold). Thin: event in, sync, report out.

What could not be pushed after retries is recorded as a sync failure; the handler then raises so that
Lambda's asynchronous retries try the still-different listings again and, after those, the event goes to
the rule target's dead-letter queue. Ingestion never waits for this function.
"""
from stocklink.logic.channel_sync import handle_event
from stocklink.observability import logger, metrics
from stocklink.time import now_ms


class SyncIncomplete(Exception):
    """Some listings could not be pushed; details are in GET /sync/failures."""


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    report = handle_event(event, now_ms)
    metrics.add_metric(name="ChannelPushes", unit="Count", value=report.pushed)
    metrics.add_metric(name="ChannelPushesCoalesced", unit="Count", value=report.unchanged + report.superseded)
    if report.failed:
        metrics.add_metric(name="ChannelPushFailures", unit="Count", value=report.failed)
        raise SyncIncomplete(f"{report.failed} listing(s) not pushed: {report.failures[:5]}")
    return report.as_dict()
