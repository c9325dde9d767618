"""On stock.changed (EventBridge): count ship / return ledger entries into daily sales. Thin: one call."""
from stocklink.logic.sales_history import on_stock_changed
from stocklink.observability import logger, metrics
from stocklink.time import now_ms


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return on_stock_changed(event.get("detail") or {}, now_ms())
