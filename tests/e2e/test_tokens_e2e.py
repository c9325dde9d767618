"""Tokens and the audit trail through the local runtime (DynamoDB Local, separate worker processes): a
token made over HTTP works in another function's workers at once and stops within the 5 s bound there."""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.e2e.runtime_process import handlers_exist


def test_token_lifecycle_across_worker_processes(local_runtime):
    if not handlers_exist("staff_api", "storefront_api"):
        pytest.skip("needs functions/staff_api and functions/storefront_api")
    url, admin = local_runtime.url, local_runtime.headers
    name = f"web-{uuid.uuid4().hex[:6]}"
    made = requests.post(f"{url}/tokens", headers=admin, timeout=60,
                         json={"name": name, "roles": ["storefront"], "max_open_holds": 3})
    assert made.status_code == 201, made.text
    mine = {"Authorization": f"Bearer {made.json()['token']}"}
    # storefront_api's workers never saw it: it works there at once (a reservation of nothing known is a 404)
    assert requests.get(f"{url}/reservations/none-{name}", headers=mine, timeout=60).status_code == 404
    assert requests.get(f"{url}/warehouses", headers=mine, timeout=60).status_code == 403
    listed = requests.get(f"{url}/tokens", headers=admin, timeout=60)
    assert made.json()["token"] not in listed.text
    assert any(t["name"] == name and t["max_open_holds"] == 3 for t in listed.json()["tokens"])

    assert requests.delete(f"{url}/tokens/{name}", headers=admin, timeout=60).status_code == 200
    deleted_at = time.monotonic()
    while requests.get(f"{url}/reservations/none-{name}", headers=mine, timeout=60).status_code != 401:
        assert time.monotonic() - deleted_at < 5.5, "a revoked token still works after the 5 s bound"
        time.sleep(0.2)

    trail = requests.get(f"{url}/audit", headers=admin, params={"limit": "50"}, timeout=60).json()["entries"]
    routes = [(e["method"], e["route"], e["target"]) for e in trail if e["actor"] == "dev"]
    assert ("DELETE", "/tokens/{name}", {"name": name}) in routes and ("POST", "/tokens", {}) in routes
