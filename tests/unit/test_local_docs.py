"""The local gateway's /docs page: Swagger UI (offline assets) over the API's own /openapi.json route."""
from __future__ import annotations

import json
import urllib.request

from infra import topology
from infra.local.gateway import Gateway
from infra.local.workers import InvocationResult


def test_docs_page_and_assets_are_served_and_the_contract_goes_to_its_function():
    invoked = []

    def invoke(function, event, request_id):
        invoked.append((function, event["path"]))
        return InvocationResult(True, {"statusCode": 200, "body": json.dumps({"openapi": "3.1.0"})})

    gateway = Gateway(topology.ROUTES, invoke, port=0)
    gateway.start()
    try:
        def get(path):
            with urllib.request.urlopen(gateway.url + path, timeout=5) as answer:
                return answer.status, answer.headers["Content-Type"], answer.read()

        status, content_type, page = get("/docs")
        assert status == 200 and content_type.startswith("text/html")
        assert b'url: "/openapi.json"' in page and b"/docs/swagger-ui-bundle.js" in page
        status, content_type, js = get("/docs/swagger-ui-bundle.js")
        assert status == 200 and "javascript" in content_type and b"SwaggerUIBundle" in js
        assert get("/docs/swagger-ui.css")[0] == 200
        assert invoked == []                          # the page and its assets never reach a function
        assert json.loads(get("/openapi.json")[2]) == {"openapi": "3.1.0"}
        assert invoked == [("staff_api", "/openapi.json")]
    finally:
        gateway.stop()
