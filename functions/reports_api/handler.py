"""Reports API: the list of reports, one report over a period (from the daily snapshots), and a snapshot
of today taken on request. Thin: parse, call, map."""
import datetime as dt

from aws_lambda_powertools.logging import correlation_paths

from functions import cold_start_done
from stocklink.logic import reports, snapshots
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, principal

app = make_app()


@app.get("/reports")
def get_reports():
    principal(app, "staff_read")
    return json_response(200, reports.list_reports())


@app.get("/reports/<name>")
def get_report(name: str):
    principal(app, "staff_read")
    today = dt.date.fromisoformat(snapshots.day_of(now_ms()))
    return json_response(200, reports.report(name, app.current_event.query_string_parameters, today))


@app.post("/reports/snapshots/run")
def post_snapshot_run():
    who = principal(app, "staff")
    return json_response(202, snapshots.request_run(now_ms(), who.name))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
