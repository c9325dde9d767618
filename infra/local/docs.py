"""The local runtime's interactive API page: GET /docs is Swagger UI over GET /openapi.json.

Only the local gateway serves it (API Gateway has no such route); the Swagger UI files are the copies that
aws-lambda-powertools ships (a runtime dependency already), so the page works offline.
"""
from __future__ import annotations

from importlib import resources

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>StockLink API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui">Loading…</div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
  // "Authorize" takes a token from `stocklink local` output; it is kept across reloads of this page
  SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, filter: true,
                   persistAuthorization: true, tryItOutEnabled: true});
</script>
</body></html>
"""
_ASSETS = {"/docs/swagger-ui.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
           "/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.min.js", "application/javascript; charset=utf-8")}
_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"


def page(method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) of a docs page, or None when `path` is not one (the API's routes then)."""
    if method.upper() not in ("GET", "HEAD"):
        return None
    if path.rstrip("/") == "/docs":
        return 200, [("Content-Type", "text/html; charset=utf-8")], PAGE.encode()
    if path in _ASSETS:
        name, content_type = _ASSETS[path]
        body = resources.files(_PACKAGE).joinpath(name).read_bytes()
        return 200, [("Content-Type", content_type), ("Cache-Control", "max-age=3600")], body
    return None
