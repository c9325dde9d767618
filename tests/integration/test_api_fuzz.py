"""Schemathesis over the OpenAPI contract: every route, in-process against the moto-backed handlers behind
the local runtime's API Gateway emulation (tests/integration/inprocess.py).

Each route gets MAX_EXAMPLES generated requests (valid and invalid inputs; the contract's examples first),
each with the token of a role drawn from the route's allowed roles and, for a share, a role it does not
allow. Every answer must be no 5xx, a documented status, and a body matching the documented schema; a request
the contract calls invalid must not be accepted (2xx).
Unsigned webhook deliveries must be a 401 whatever they carry (a 404 for a platform without an adapter).
"""
from __future__ import annotations

import itertools
import os
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

from stocklink.channels.registry import PLATFORMS
from stocklink.contract import document
from tests.integration.conftest import (ADMIN_TOKEN, BUYER_TOKEN, STAFF_TOKEN, STOREFRONT_TOKEN, VIEWER_TOKEN,
                                        moto_env)
from tests.integration.inprocess import GatewayApp

# CI: 25 cases per route, the same ones every run. A deeper local hunt: STOCKLINK_FUZZ_EXAMPLES=200 and
# STOCKLINK_FUZZ_RANDOM=1 (new cases each run; pytest --hypothesis-seed=N replays one).
MAX_EXAMPLES = int(os.environ.get("STOCKLINK_FUZZ_EXAMPLES", "25"))
DERANDOMIZE = not os.environ.get("STOCKLINK_FUZZ_RANDOM")
TOKENS = {"admin": ADMIN_TOKEN, "staff": STAFF_TOKEN, "viewer": VIEWER_TOKEN, "buyer": BUYER_TOKEN,
          "storefront": STOREFRONT_TOKEN}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]       # a request the contract calls invalid must not be accepted

schema = schemathesis.openapi.from_dict(document())
schema.app = GatewayApp()
schema.config.update(base_url="http://localhost")    # the document's server is relative (".")
# examples (the contract's own) + generated cases; not the coverage phase, whose boundary cases are not
# bounded by max_examples (the run must stay bounded)
schema.config.phases.update(phases=["examples", "fuzzing"])
schema.config.generation.update(modes=["positive", "negative"], with_security_parameters=False,
                                database="none")


@pytest.fixture(scope="module")
def seeded():
    """One moto world for the whole run, with the README's walkthrough in it, so the example ids exist."""
    import boto3

    from functions.staff_api.handler import handler as staff
    from functions.storefront_api.handler import handler as storefront
    from stocklink import notifications
    from stocklink.config import settings as config_settings
    from tests.integration.apigw import ApiClient

    with moto_env() as bus, pytest.MonkeyPatch.context() as env:
        # the alerts topic that CDK names in alerts_api's environment (email and SMS subscriptions go there)
        env.setenv("ALERTS_TOPIC_ARN", boto3.client("sns").create_topic(Name="stocklink-alerts")["TopicArn"])
        config_settings.cache_clear()
        notifications.reset_clients()
        admin = ApiClient(staff, ADMIN_TOKEN)
        admin.put("/warehouses/wh-a", {"name": "Shenzhen A", "priority": 1})
        admin.put("/skus/TEE-RED-M", {"name": "Red tee M", "price": 19.9})
        admin.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1",
                                       "lines": [{"sku": "TEE-RED-M", "qty": 1000}]})
        admin.put("/shops/shopify/s1", {"webhook_secret": "fuzz-secret"})
        admin.put("/listings/shopify/s1/L-1", {"components": [{"sku": "TEE-RED-M", "qty": 1}],
                                               "platform_ids": {"inventory_item_id": "1"}})
        from functions.forecast_api.handler import handler as forecast_api
        ApiClient(forecast_api, ADMIN_TOKEN).put("/suppliers/acme", {"name": "Acme Textiles", "currency": "CNY"})
        ApiClient(forecast_api, ADMIN_TOKEN).put("/suppliers/acme/quotes/TEE-RED-M",
                                                 {"price_breaks": [{"min_qty": 1, "unit_price": 4.2}]})
        ApiClient(storefront, STOREFRONT_TOKEN).post(
            "/reservations", {"reservation_id": "web-1", "channel": "web", "lines": [{"sku": "TEE-RED-M", "qty": 1}]})
        yield bus
        config_settings.cache_clear()
        notifications.reset_clients()
    if os.environ.get("STOCKLINK_FUZZ_SUMMARY"):          # with -s: how far the cases got, per route
        for label in sorted({label for label, _ in STATUSES}):
            print(label, dict(sorted((code, n) for (lbl, code), n in STATUSES.items() if lbl == label)))


def _rotation(allowed: list[str]):
    """Roles in turn: every allowed role twice, then one the route refuses (the matrix test covers refusals;
    here most cases should reach the handler's logic)."""
    refused = [role for role in TOKENS if role not in allowed][:1]
    return itertools.cycle(allowed * 2 + refused)


ROLE_TURNS: dict[str, itertools.cycle] = defaultdict(lambda: None)
STATUSES: Counter = Counter()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_route_answers_within_its_contract(case, seeded):
    allowed = case.operation.definition.raw.get("x-stocklink-roles", [])
    headers = dict(case.headers or {})
    if allowed:
        turns = ROLE_TURNS[case.operation.label] or _rotation(allowed)
        ROLE_TURNS[case.operation.label] = turns
        headers["Authorization"] = f"Bearer {TOKENS[next(turns)]}"
    case.headers = headers
    response = case.call()
    STATUSES[(case.operation.label, response.status_code)] += 1
    case.validate_response(response, checks=CHECKS)
    if case.path == "/webhooks/{platform}/{shop}":
        # unsigned: refused, with the one 401 text; a platform StockLink has no adapter for is a 404
        known = case.path_parameters["platform"] in PLATFORMS
        assert response.status_code == (401 if known else 404), case.path_parameters
