"""Pure pieces of the local runtime: route matching, API Gateway event building, proxy responses, events."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from infra import topology
from infra.local.bus import rule_pattern, scheduled_event
from infra.local.gateway import MethodNotAllowed, NoRoute, RouteTable, build_rest_event, proxy_response
from infra.local.workers import InvocationResult
from infra.topology import EventRule, Route

TABLE = RouteTable(topology.ROUTES)


def test_every_topology_route_matches_itself_with_sample_parameters():
    for route in topology.ROUTES:
        concrete = route.path.replace("{", "x").replace("}", "")
        matched, params = TABLE.match(route.method, concrete)
        assert (matched.method, matched.path) == (route.method, route.path)
        assert set(params) == {seg[1:-1] for seg in route.path.split("/") if seg.startswith("{")}


def test_path_parameters_are_extracted_and_decoded():
    route, params = TABLE.match("POST", "/reservations/r%2F1%20x/commit")
    assert route.path == "/reservations/{reservation_id}/commit"
    assert params == {"reservation_id": "r/1 x"}


def test_literal_segments_win_over_variables():
    table = RouteTable([Route("GET", "/skus/{sku}", "a"), Route("GET", "/skus/search", "b")])
    assert table.match("GET", "/skus/search")[0].function == "b"
    assert table.match("GET", "/skus/ABC")[0].function == "a"


def test_unknown_path_and_wrong_method():
    with pytest.raises(NoRoute):
        TABLE.match("GET", "/nope")
    with pytest.raises(NoRoute):
        TABLE.match("GET", "/skus/a/b/c")  # a variable never spans segments
    with pytest.raises(MethodNotAllowed) as exc:
        TABLE.match("DELETE", "/health")
    assert exc.value.allowed == ["GET"]


def test_method_is_case_insensitive_and_trailing_slash_tolerated():
    assert TABLE.match("get", "/health/")[0].path == "/health"


def test_rest_event_has_api_gateway_shape():
    route = Route("POST", "/reservations/{reservation_id}/commit", "storefront_api")
    now = datetime(2026, 11, 2, 8, 30, 5, tzinfo=timezone.utc)
    headers = [("Host", "127.0.0.1:8080"), ("Authorization", "Bearer t"), ("X-Dup", "1"), ("X-Dup", "2"),
               ("User-Agent", "pytest")]
    event = build_rest_event("post", "/reservations/r%201/commit?a=1&a=2&b=&c=%C3%A9", headers,
                             b'{"x": 1}', route, {"reservation_id": "r 1"}, "10.0.0.9", "req-1", now)
    assert event["resource"] == "/reservations/{reservation_id}/commit"
    assert event["path"] == "/reservations/r%201/commit"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Dup"] == "2"  # single-value map keeps the last value
    assert event["multiValueHeaders"]["X-Dup"] == ["1", "2"]
    assert event["headers"]["Authorization"] == "Bearer t"
    assert event["queryStringParameters"] == {"a": "2", "b": "", "c": "é"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""], "c": ["é"]}
    assert event["pathParameters"] == {"reservation_id": "r 1"}
    assert event["stageVariables"] is None
    ctx = event["requestContext"]
    assert ctx["requestId"] == "req-1"
    assert ctx["resourcePath"] == route.path and ctx["httpMethod"] == "POST"
    assert ctx["identity"]["sourceIp"] == "10.0.0.9" and ctx["identity"]["userAgent"] == "pytest"
    assert ctx["requestTime"] == "02/Nov/2026:08:30:05 +0000"
    assert ctx["requestTimeEpoch"] == int(now.timestamp() * 1000)
    assert ctx["stage"] and ctx["path"] == f"/{ctx['stage']}/reservations/r%201/commit"
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False
    json.dumps(event)  # it must travel to a worker as JSON


def test_rest_event_without_query_params_or_body_uses_nulls():
    event = build_rest_event("GET", "/health", [], b"", Route("GET", "/health", "staff_api"), {})
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_non_utf8_body_is_base64_encoded():
    raw = b"\xff\xfe\x00binary"
    event = build_rest_event("POST", "/webhooks/shopify/s", [], raw, Route("POST", "/webhooks/{platform}/{shop}",
                                                                            "webhook_ingest"), {})
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_proxy_response_passes_status_headers_and_body():
    result = InvocationResult(True, {"statusCode": 201, "headers": {"Content-Type": "application/json"},
                                     "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                                     "body": '{"ok":true}', "isBase64Encoded": False})
    status, headers, body = proxy_response(result)
    assert status == 201
    assert ("Set-Cookie", "a=1") in headers and ("Set-Cookie", "b=2") in headers
    assert body == b'{"ok":true}'


def test_proxy_response_decodes_base64_bodies():
    result = InvocationResult(True, {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(),
                                     "isBase64Encoded": True})
    assert proxy_response(result)[2] == b"\x00\x01"


@pytest.mark.parametrize("result", [
    InvocationResult(False, error="RuntimeError", traceback="..."),
    InvocationResult(True, "not a dict"),
    InvocationResult(True, {"body": "no status"}),
    InvocationResult(True, {"statusCode": "abc"}),
])
def test_failed_or_malformed_results_become_502(result):
    status, _, body = proxy_response(result)
    assert status == 502
    assert json.loads(body)["message"] == "Internal server error"


def test_scheduled_event_shape():
    event = scheduled_event("reconcile-every-30s", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["time"] == "2026-01-02T03:04:05Z"
    assert event["resources"][0].endswith(":rule/reconcile-every-30s")
    assert event["detail"] == {}


def test_rule_pattern_comes_from_the_topology_entry():
    rule = EventRule("sync-on-change", ("stock.changed", "listing.changed"), "channel_push")
    assert rule_pattern(rule) == {"source": ["stocklink"], "detail-type": ["stock.changed", "listing.changed"]}
