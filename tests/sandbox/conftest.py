"""Sandbox simulators in-process on an ephemeral loopback port, plus a tiny webhook receiver."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from stocklink.channels.base import HttpCall
from tests.sandbox_support import control, receiver, sandbox_base  # noqa: F401 (fixtures)


def send(call: HttpCall) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(call.url, data=call.body or None, headers=dict(call.headers), method=call.method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(autouse=True)
def _clean(sandbox_base, receiver):
    control(sandbox_base, "POST", "reset", {})
    receiver.requests.clear()
