"""Shared by every test that drives the marketplace simulators: start one, and call its control API."""
from __future__ import annotations

import json
import urllib.request

import pytest

from infra.sandbox.server import serve


def control(base: str, method: str, name: str, doc=None, query: str = "", timeout: float = 30) -> dict:
    """Call the simulator's /_sandbox/<name> control endpoint (shops, listings, faults, calls, orders)."""
    data = json.dumps(doc).encode() if doc is not None else None
    request = urllib.request.Request(f"{base}/_sandbox/{name}{query}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def sandbox_base():
    """An in-process simulator on a free loopback port for the test module."""
    server, _ = serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
