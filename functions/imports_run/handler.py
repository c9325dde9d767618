"""import.requested on the bus: apply (or continue applying) a catalogue import, chunk by chunk, while the
Lambda has time; then ask for itself again on the bus until the import is applied."""
from functions import cold_start_done
from stocklink import bus, events
from stocklink.logic import imports
from stocklink.observability import logger, metrics
from stocklink.time import now_ms

SAFETY_MS = 20_000       # a chunk takes well under a second; this leaves room for the slowest


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    import_id = (event.get("detail") or {}).get("import_id")
    if not import_id:
        return {"status": "no import_id"}
    state = imports.run_apply(import_id, now_ms(),
                              has_time=lambda: context.get_remaining_time_in_millis() > SAFETY_MS)
    if state["status"] == imports.APPLYING:
        bus.publish(events.IMPORT_REQUESTED, [{"import_id": import_id}])
    return state


cold_start_done()   # functions/__init__.py: garbage collection resumes
