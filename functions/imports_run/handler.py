"""The first hour's jobs, continued on the bus while the Lambda has time, then asking for themselves again:
import.requested applies a catalogue import chunk by chunk; discovery.requested pages through a shop's listings,
applies their mappings and carries out the first-sync choice (stocklink.logic.discovery)."""
from functions import cold_start_done
from stocklink import bus, events
from stocklink.logic import discovery, imports
from stocklink.observability import logger, metrics
from stocklink.time import now_ms

SAFETY_MS = 20_000       # a chunk takes well under a second; this leaves room for the slowest


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    detail = event.get("detail") or {}
    has_time = lambda: context.get_remaining_time_in_millis() > SAFETY_MS   # noqa: E731
    if detail.get("discovery_id"):
        state = discovery.run(str(detail["discovery_id"]), now_ms(), has_time)
        if state["again"]:
            bus.publish(events.DISCOVERY_REQUESTED, [{"discovery_id": state["discovery_id"]}])
        return state
    import_id = detail.get("import_id")
    if not import_id:
        return {"status": "no import_id"}
    state = imports.run_apply(import_id, now_ms(), has_time=has_time)
    if state["status"] == imports.APPLYING:
        bus.publish(events.IMPORT_REQUESTED, [{"import_id": import_id}])
    return state


cold_start_done()   # functions/__init__.py: garbage collection resumes
