"""The one way a request leaves StockLink: platform API calls (channel sync, reconciliation) and chat
notifications (alerting). Adapters and chat builders only build signed requests; this module sends them,
so a policy on where requests may go has one place to live. Standard library only: the layer stays small
and cold starts short.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from typing import Mapping, Protocol

HTTP_TIMEOUT_S = 10.0


class OutboundRequest(Protocol):
    """What every built request has (channels.base.HttpCall, alerts.chat.HttpRequest)."""
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


Response = tuple[int, dict, bytes]


def send(request: OutboundRequest, timeout: float = HTTP_TIMEOUT_S) -> Response:
    """One request with a timeout: (status, headers, body). A network failure (refused, reset, timed out)
    comes back as status 0 with the reason as body: callers treat it as retryable."""
    prepared = urllib.request.Request(request.url, data=request.body or None, headers=dict(request.headers),
                                      method=request.method)
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return 0, {}, str(exc).encode()
