"""Daily schedule, or forecast.requested on the bus: run (or continue) a forecast run. When the Lambda
time budget runs low the run's cursor is stored and the function asks for itself again on the bus."""
from functions import cold_start_done
from stocklink import bus
# Every invocation runs the numpy engine (which logic.forecasting_service imports only where it runs): load it
# with the function, as part of its cold start, rather than inside its first run.
from stocklink.forecasting import engine  # noqa: F401
from stocklink.logic import forecasting_service
from stocklink.observability import logger, metrics
from stocklink.time import now_ms

SAFETY_MS = 60_000


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    now = now_ms()
    run_id = (event.get("detail") or {}).get("run_id") or forecasting_service.daily_run_id(now)
    state = forecasting_service.run(
        run_id, now, has_time=lambda: context.get_remaining_time_in_millis() > SAFETY_MS)
    if state["status"] != "done":
        bus.publish(forecasting_service.FORECAST_REQUESTED, [{"run_id": run_id}])
    return {k: state[k] for k in ("run_id", "status", "skus", "suggestions", "events", "pages")}


cold_start_done()   # functions/__init__.py: garbage collection resumes
