"""Reservations: storefront hold, commit, release, ship of its own; staff reads and actions with a reason.
Thin: parse, call, map."""
from aws_lambda_powertools.logging import correlation_paths

from functions import cold_start_done
from stocklink.domain.requests import ReservationIn, StaffActionIn
from stocklink.domain.stock import ReservationAction
from stocklink.logic import storefront
from stocklink.observability import logger, metrics
from stocklink.time import now_ms
from stocklink.web import json_response, make_app, parse_body, principal

app = make_app()


@app.post("/reservations")
def create_reservation():
    who = principal(app, "storefront")
    status, body = storefront.hold(parse_body(app, ReservationIn), actor=who.name, now_ms=now_ms(),
                                   limits=storefront.limits_of(who))
    return json_response(status, body)


@app.get("/reservations/<reservation_id>")
def get_reservation(reservation_id: str):
    who = principal(app, "reservation_read")
    owner = None if who.reads_everything else who.name
    return json_response(200, storefront.get(reservation_id, now_ms(), owner=owner))


# Registered before the storefront's /<action> route, which would otherwise take "staff-action".
@app.post("/reservations/<reservation_id>/staff-action")
def staff_action(reservation_id: str):
    who = principal(app, "staff")
    return json_response(200, storefront.staff_action(reservation_id, parse_body(app, StaffActionIn),
                                                      actor=who.name, now_ms=now_ms()))


@app.post("/reservations/<reservation_id>/<action>")
def move_reservation(reservation_id: str, action: str):
    who = principal(app, "storefront")
    return json_response(200, storefront.move(reservation_id, storefront.parse_action(action),
                                              actor=who.name, now_ms=now_ms()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


cold_start_done()   # functions/__init__.py: garbage collection resumes
