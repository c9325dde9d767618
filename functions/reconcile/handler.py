"""Every 30 s (scheduled): the reconciliation pass. Thin: call the pass, return its report."""
from stocklink.logic.sweep import run_pass
from stocklink.observability import logger, metrics
from stocklink.time import now_ms


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return run_pass(now_ms())
