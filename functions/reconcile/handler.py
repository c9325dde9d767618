"""Every 30 s (scheduled): the reconciliation pass. Thin: a budget from the remaining time, the pass,
its report."""
from functions import cold_start_done
from stocklink.logic.sync.sweep import run_pass
from stocklink.observability import logger, metrics
from stocklink.time import now_ms

SAFETY_MARGIN_MS = 3_000     # left for the report, metrics flush and the lease release


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    remaining = context.get_remaining_time_in_millis() if context is not None else 20_000
    return run_pass(now_ms(), budget_ms=max(1_000, remaining - SAFETY_MARGIN_MS))


cold_start_done()   # functions/__init__.py: garbage collection resumes
