"""Every 30 s (scheduled): pull the order changes of the shops whose platforms send no webhook. Thin: a
budget from the remaining time, the run, its report."""
from functions import cold_start_done
from stocklink.logic.order_poll import run_poll
from stocklink.observability import logger, metrics
from stocklink.time import now_ms

SAFETY_MARGIN_MS = 3_000     # left for the report and the metrics flush


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    remaining = context.get_remaining_time_in_millis() if context is not None else 20_000
    return run_poll(now_ms(), budget_ms=max(1_000, remaining - SAFETY_MARGIN_MS))


cold_start_done()   # functions/__init__.py: garbage collection resumes
