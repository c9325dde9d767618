"""Integration fixtures: the handlers against moto (DynamoDB, EventBridge → SQS, Secrets Manager)."""
from __future__ import annotations

import json
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws

from tests.integration.apigw import ApiClient

ADMIN_TOKEN = "admin-token-for-tests"
STAFF_TOKEN = "staff-token-for-tests"
STOREFRONT_TOKEN = "storefront-token-for-tests"
VIEWER_TOKEN = "viewer-token-for-tests"
BUYER_TOKEN = "buyer-token-for-tests"


@contextmanager
def moto_env():
    """Tables, tokens and the bus on moto; `aws` gives each test its own, a module may share one."""
    from infra.local.provision import create_tables
    from stocklink import auth, secrets
    from stocklink.logic import reports, sales_history
    from stocklink.logic.sync import config
    from stocklink.store import audit as audit_store

    secrets.forget()
    config.reset_caches()     # each test is a fresh container
    auth.forget()
    audit_store.forget_marked_days()
    reports.forget_cache()
    sales_history.forget_marks()
    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        secretsmanager = boto3.client("secretsmanager")
        secretsmanager.create_secret(Name="stocklink/api-tokens", SecretString=json.dumps({"tokens": {
            ADMIN_TOKEN: {"name": "root", "roles": ["admin"]},
            STAFF_TOKEN: {"name": "alice", "roles": ["staff"]},
            STOREFRONT_TOKEN: {"name": "shop-front", "roles": ["storefront"]},
            VIEWER_TOKEN: {"name": "vera", "roles": ["viewer"]},
            BUYER_TOKEN: {"name": "bo", "roles": ["buyer"]},
        }}))
        events = boto3.client("events")
        events.create_event_bus(Name="stocklink")
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="capture-all", EventBusName="stocklink", EventPattern=json.dumps({"source": ["stocklink"]}))
        events.put_targets(Rule="capture-all", EventBusName="stocklink", Targets=[{"Id": "q", "Arn": queue_arn}])
        yield BusCapture(sqs, queue_url)
        secrets.forget()


@pytest.fixture
def aws():
    with moto_env() as bus:
        yield bus


class BusCapture:
    """Everything published on the StockLink bus, read back through a real rule → SQS target."""

    def __init__(self, sqs, queue_url):
        self.sqs, self.queue_url = sqs, queue_url

    def drain(self) -> list[dict]:
        events = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def staff(aws) -> ApiClient:
    from functions.staff_api.handler import handler
    return ApiClient(handler, STAFF_TOKEN)


def as_admin(client: ApiClient) -> ApiClient:
    """The same API with an admin token: shop credentials and the URLs StockLink calls (PUT /shops,
    PUT /subscriptions) need the admin role."""
    return ApiClient(client.handler, ADMIN_TOKEN)


@pytest.fixture
def storefront(aws) -> ApiClient:
    from functions.storefront_api.handler import handler
    return ApiClient(handler, STOREFRONT_TOKEN)


@pytest.fixture
def staff_reservations(aws) -> ApiClient:
    """The reservation routes (served by storefront_api, as API Gateway routes them) with the staff token."""
    from functions.storefront_api.handler import handler
    return ApiClient(handler, STAFF_TOKEN)


@pytest.fixture
def webhooks(aws) -> ApiClient:
    from functions.webhook_ingest.handler import handler
    return ApiClient(handler, None)


@pytest.fixture
def stocked(staff):
    """Two warehouses (A before B) and a SKU with 3 units in each."""
    staff.put("/warehouses/wh-a", {"name": "Shenzhen A", "region": "cn-south", "priority": 1})
    staff.put("/warehouses/wh-b", {"name": "Dongguan B", "region": "cn-south", "priority": 2})
    staff.put("/skus/TEE-RED-M", {"name": "Red tee M", "price": 19.9, "unit_cost": 6.5})
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "lines": [{"sku": "TEE-RED-M", "qty": 3}], "reference": "PO-1"})
    staff.post("/stock/receipts", {"warehouse_id": "wh-b", "lines": [{"sku": "TEE-RED-M", "qty": 3}], "reference": "PO-2"})
    return staff


def pytest_collection_modifyitems(items):
    """schemathesis names its per-route items `test[GET /path]`, but on pytest 9 (structured node ids) they all
    keep the function's id; pytest-xdist schedules by id, so the 47 routes would collapse into one.
    Each item's id takes its name, as pytest builds it for any parametrized test."""
    for item in items:
        if getattr(item, "operation_label", None) and item.nodeid != f"{item.parent.nodeid}::{item.name}":
            if hasattr(item.parent, "id"):          # pytest >= 9
                item._id = item.parent.id.child(item.name)
            else:
                item._nodeid = f"{item.parent.nodeid}::{item.name}"
