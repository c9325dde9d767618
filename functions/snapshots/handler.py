"""Hourly schedule, or snapshot.requested on the bus: take (or continue) a daily snapshot run. A scheduled
tick runs the day that just ended (within the first hours after midnight; a finished run returns at
once); when the Lambda's time runs low the run's cursor is stored and the function asks for itself again
on the bus."""
from functions import cold_start_done
from stocklink import bus
from stocklink.logic import snapshots
from stocklink.observability import logger, metrics
from stocklink.time import now_ms

SAFETY_MS = 30_000


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    now = now_ms()
    detail = event.get("detail") or {}
    run_id = detail.get("run_id") or snapshots.daily_run_id(now)
    if run_id is None:
        return {"status": "nothing due"}
    state = snapshots.run(run_id, now, day=detail.get("day"), requested_by=detail.get("requested_by") or "schedule",
                          has_time=lambda: context.get_remaining_time_in_millis() > SAFETY_MS)
    if state["status"] != "done":
        bus.publish(snapshots.SNAPSHOT_REQUESTED, [{"run_id": run_id, "day": state["day"]}])
    metrics.add_metric(name="SnapshotRows", unit="Count", value=state.get("rows", 0))
    return {k: state.get(k) for k in ("run_id", "day", "status", "skus", "rows", "pages")}


cold_start_done()   # functions/__init__.py: garbage collection resumes
