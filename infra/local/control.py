"""The local runtime's own control routes under /_local/ (no API Gateway has them; the topology does not
declare them): what tests and the demo need from the runtime itself, over the same HTTP port as the API.

  POST /_local/schedules/{name}   run the schedule now (after the run in progress, if any) and answer with
                                  what its function returned: {schedule, function, ok, result | error}
  GET  /_local/platform-queues    the queues platforms deliver to (topology.PLATFORM_QUEUES: Amazon's
                                  notifications): {queues: [{name, function, url, region}]}, what a seller
                                  registers as the platform's destination (a simulator, locally)

Only the dev token (the runtime's admin token, `Authorization: Bearer ...`) is let in: 401 otherwise.
"""
from __future__ import annotations

import hmac
import json
from typing import Callable

PREFIX = "/_local/"

Answer = tuple[int, list[tuple[str, str]], bytes]


def _json(status: int, doc: dict) -> Answer:
    return status, [("Content-Type", "application/json")], json.dumps(doc, default=str).encode()


class LocalControl:
    def __init__(self, token: Callable[[], str | None], scheduler: Callable[[], object],
                 platform_queues: Callable[[], list[dict]]):
        self._token, self._scheduler, self._platform_queues = token, scheduler, platform_queues

    def page(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        """The answer to a /_local/ request, or None when `path` is not one (the API's routes then)."""
        if not path.startswith(PREFIX):
            return None
        expected = self._token() or ""
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            return _json(401, {"error": "unauthorized", "message": "the local runtime's dev token is required"})
        parts = path[len(PREFIX):].strip("/").split("/")
        if parts[0] == "schedules" and len(parts) == 2:
            if method.upper() != "POST":
                return _json(405, {"error": "method_not_allowed", "message": f"{method} is not allowed on {path}"})
            return self._run_schedule(parts[1])
        if parts == ["platform-queues"]:
            if method.upper() != "GET":
                return _json(405, {"error": "method_not_allowed", "message": f"{method} is not allowed on {path}"})
            return _json(200, {"queues": self._platform_queues()})
        return _json(404, {"error": "not_found", "message": f"No local route {method} {path}"})

    def _run_schedule(self, name: str) -> Answer:
        scheduler = self._scheduler()
        if scheduler is None:
            return _json(503, {"error": "not_ready", "message": "the scheduler has not started yet"})
        try:
            schedule = scheduler.schedule(name)
        except KeyError:
            names = ", ".join(s.name for s in scheduler.schedules)
            return _json(404, {"error": "not_found", "message": f"no schedule {name!r} (there are: {names})"})
        result = scheduler.run_now(name)
        doc = {"schedule": name, "function": schedule.function, "ok": bool(getattr(result, "ok", False))}
        if doc["ok"]:
            doc["result"] = result.payload
        else:
            doc["error"] = getattr(result, "error", None) or "the function failed"
        return _json(200 if doc["ok"] else 502, doc)
