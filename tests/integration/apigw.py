"""Drive a handler with API Gateway REST proxy events, as API Gateway would."""
from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass

from infra.topology import ROUTES


@dataclass
class LambdaContext:
    function_name: str = "test-fn"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-fn"
    aws_request_id: str = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict


def _match(method: str, path: str):
    for route in ROUTES:
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path) + "$"
        found = re.match(pattern, path)
        if found and route.method == method:
            return route.path, found.groupdict()
    return path, {}


def api_event(method: str, path: str, body: bytes | str | None = None, headers: dict | None = None,
              query: dict | None = None) -> dict:
    resource, params = _match(method, path)
    raw = body.encode() if isinstance(body, str) else body
    is_text = True
    if raw is not None:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False
    headers = {"Host": "api.example.com", "Content-Type": "application/json", **(headers or {})}
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query, "multiValueQueryStringParameters":
            {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params or None, "stageVariables": None,
        "requestContext": {"requestId": str(uuid.uuid4()), "resourcePath": resource, "httpMethod": method,
                           "stage": "prod", "path": f"/prod{path}", "identity": {"sourceIp": "127.0.0.1"}},
        "body": None if raw is None else (raw.decode() if is_text else base64.b64encode(raw).decode()),
        "isBase64Encoded": not is_text,
    }


class ApiClient:
    def __init__(self, handler, token: str | None):
        self.handler, self.token = handler, token

    def call(self, method: str, path: str, body=None, headers: dict | None = None, query: dict | None = None,
             raw: bytes | None = None) -> Answer:
        all_headers = dict(headers or {})
        if self.token and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {self.token}"
        payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        response = self.handler(api_event(method, path, payload, all_headers, query), LambdaContext())
        text = response.get("body") or "{}"
        if response.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        headers = dict(response.get("headers") or {})
        headers.update({name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()
                        if values})
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if content_type.startswith("text/csv"):      # a CSV answer: its text under "csv"
            return Answer(response["statusCode"], {"csv": text}, headers)
        return Answer(response["statusCode"], json.loads(text), headers)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)
