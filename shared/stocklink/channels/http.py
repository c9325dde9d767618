"""Sending a built platform call. Adapters only build signed HttpCalls; this is the one place that sends
them (standard library only, so the layer stays small and cold starts short)."""
from __future__ import annotations

import urllib.error
import urllib.request

from stocklink.channels.base import HttpCall

HTTP_TIMEOUT_S = 10.0


def send(call: HttpCall) -> tuple[int, dict, bytes]:
    """One platform call with a timeout; network failures come back as status 0 (retryable)."""
    request = urllib.request.Request(call.url, data=call.body or None, headers=dict(call.headers),
                                     method=call.method)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return 0, {}, str(exc).encode()
