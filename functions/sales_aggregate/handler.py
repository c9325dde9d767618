"""On reservation.committed or stock.changed (EventBridge): count commit / return ledger entries into
daily demand. Thin: one call."""
from stocklink.logic.sales_history import on_event
from stocklink.observability import logger, metrics
from stocklink.time import now_ms


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return on_event(event, now_ms())
