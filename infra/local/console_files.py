"""The web console's files on the local gateway: GET /console/... beside the API on the same port.

`console/dist` (built by `make run`) is served as it is; `/console/config.json` is generated here (the API is on
this origin, sign-in is by token) so one build serves every environment; a path that is not a file is a client
route of the single-page app and gets index.html, except under /console/assets/ where a missing file is a 404.
Nothing outside `dist` can be reached: the path is resolved and must stay inside it.
"""
from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from urllib.parse import unquote

from infra.local.workers import REPO_ROOT

PREFIX = "/console"
DEFAULT_DIST = REPO_ROOT / "console" / "dist"
LOCAL_CONFIG = {"apiBase": "", "auth": {"mode": "token"}}

_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
          ".png": "image/png", ".ico": "image/x-icon", ".woff2": "font/woff2", ".txt": "text/plain; charset=utf-8",
          ".map": "application/json"}
_SECURITY = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
             ("X-Frame-Options", "DENY")]
# The page talks to this origin only (charts draw SVG with inline styles, hence 'unsafe-inline' for styles).
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")

Answer = tuple[int, list[tuple[str, str]], bytes]


def _text(status: int, message: str) -> Answer:
    return status, [("Content-Type", "text/plain; charset=utf-8"), *_SECURITY], message.encode()


class ConsoleFiles:
    def __init__(self, dist: Path | str = DEFAULT_DIST, config: dict | None = None):
        self.dist = Path(dist).resolve()
        self.config = json.dumps(config or LOCAL_CONFIG).encode()

    def page(self, method: str, path: str) -> Answer | None:
        """(status, headers, body) for a console path, or None when `path` is not the console's."""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return None
        if method.upper() not in ("GET", "HEAD"):
            return _text(405, "the console is read-only: GET it")
        if path == PREFIX:
            return 308, [("Location", PREFIX + "/"), *_SECURITY], b""
        relative = unquote(path[len(PREFIX) + 1:])
        if relative == "config.json":
            return 200, [("Content-Type", "application/json"), ("Cache-Control", "no-store"), *_SECURITY], self.config
        index = self.dist / "index.html"
        if not index.is_file():
            return _text(503, "The console is not built: run `make run` (it builds it), or "
                              "`cd console && npm ci && npm run build`.")
        if "\0" in relative or "\\" in relative:
            return _text(400, "bad path")
        target = (self.dist / relative).resolve() if relative else index
        if not target.is_relative_to(self.dist):
            return _text(404, "not found")
        if target.is_file():
            return self._file(target)
        if relative.startswith("assets/") or Path(relative).suffix:
            return _text(404, "not found")          # a missing file, not a page of the app
        return self._file(index)                     # a client route: the app reads the URL itself

    def _file(self, target: Path) -> Answer:
        content_type = _TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0] \
            or "application/octet-stream"
        hashed = target.parent.name == "assets"      # Vite's file names carry their content hash
        cache = "public, max-age=31536000, immutable" if hashed else "no-cache"
        headers = [("Content-Type", content_type), ("Cache-Control", cache), *_SECURITY]
        if target.suffix == ".html":
            headers.append(("Content-Security-Policy", _CSP))
        return 200, headers, target.read_bytes()
