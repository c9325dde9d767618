"""A stand-in Lambda for testing the local runtime itself (gateway, pools, bus, scheduler).

It uses powertools' module-level resolver exactly like the real handlers, so a runtime that called one
module from many threads would mix up requests (DESIGN §5) and the isolation test would catch it.
"""
from __future__ import annotations

import json
import os
import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
_IMPORTED_AT = time.time()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/echo/<item>")
def echo(item: str):
    body = app.current_event.json_body or {}
    time.sleep(0.005)  # widen the window in which a shared resolver would swap events
    return {
        "item": item,
        "path_item": app.current_event.path_parameters.get("item"),
        "body_item": body.get("item"),
        "query": app.current_event.query_string_parameters,
        "request_id": app.current_event.request_context.request_id,
        "pid": os.getpid(),
    }


@app.get("/env")
def env():
    keys = ("STOCK_TABLE", "EVENT_BUS_NAME", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_DEFAULT_REGION", "POWERTOOLS_SERVICE_NAME", "STOCKLINK_LOCAL")
    return {k: os.environ.get(k) for k in keys}


@app.get("/boom")
def boom():
    raise RuntimeError("boom on purpose")


@app.post("/publish")
def publish():
    import boto3

    body = app.current_event.json_body
    boto3.client("events").put_events(Entries=[{
        "Source": "stocklink", "DetailType": body["detail_type"], "Detail": json.dumps(body["detail"]),
        "EventBusName": os.environ["EVENT_BUS_NAME"]}])
    return {"published": True, "at": time.time()}


def _record(event: dict, context, **extra) -> None:
    with open(os.environ["ECHO_EVENTS_FILE"], "a") as fh:
        fh.write(json.dumps({"event": event, "received_at": time.time(),
                             "function_name": context.function_name,
                             "remaining_ms": context.get_remaining_time_in_millis(), **extra}) + "\n")


def _scheduled(event: dict, context) -> None:
    # A directory as a cross-process lock: if it already exists, another run of the schedule is in progress.
    lock = os.path.join(os.environ["ECHO_LOCK_DIR"], "running")
    try:
        os.mkdir(lock)
        overlapped = False
    except FileExistsError:
        overlapped = True
    _record(event, context, overlapped=overlapped)
    time.sleep(float(os.environ.get("ECHO_SCHEDULE_SLEEP", "0")))
    if not overlapped:
        os.rmdir(lock)


def handler(event, context):
    if "detail-type" in event:  # EventBridge (rule or schedule)
        if event["detail-type"] == "Scheduled Event":
            _scheduled(event, context)
            return {"ok": True}
        _record(event, context)
        if event["detail-type"] == "echo.fail":
            raise ValueError("this event always fails")
        return {"ok": True}
    if event.get("path") == "/malformed":
        return "not a proxy response"
    return app.resolve(event, context)
