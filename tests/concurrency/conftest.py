"""DynamoDB Local for tests that need real concurrency semantics (moto's DynamoDB oversells under threads)."""
from __future__ import annotations

import importlib
import inspect

import boto3
import pytest
from pynamodb.models import Model

# Every table model of the store (stock, reservations, ... and the reconciliation, sync, guard, alert and sales
# models the hot paths also write: a SKU marked dirty after a lost publish, for one), so none of them ever
# reaches for a real AWS endpoint from a test.
STORE_MODULES = ("models", "alert_models", "last_units_models", "reconcile_models", "sales_models", "sync_models")
ALL_MODELS = tuple({obj for name in STORE_MODULES
                    for obj in vars(importlib.import_module(f"stocklink.store.{name}")).values()
                    if inspect.isclass(obj) and issubclass(obj, Model) and obj is not Model
                    and getattr(obj.Meta, "table_name", None)})


@pytest.fixture(scope="session")
def dynamodb_local():
    from infra.local.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as ddb:
        yield ddb.endpoint_url


@pytest.fixture
def local_tables(dynamodb_local, monkeypatch):
    """Point every model at DynamoDB Local with fresh tables; events are captured, not sent."""
    from infra.local.provision import create_tables
    from stocklink import bus

    client = boto3.client("dynamodb", endpoint_url=dynamodb_local)
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    create_tables(client)
    for model in ALL_MODELS:
        monkeypatch.setattr(model.Meta, "host", dynamodb_local, raising=False)
        monkeypatch.setattr(model, "_connection", None, raising=False)
    published: list[tuple[str, dict]] = []
    # bus.publish goes through publish_returning_failed: capturing there sees every event, none is lost
    monkeypatch.setattr(bus, "publish_returning_failed", lambda detail_type, details: published.extend(
        (detail_type, d) for d in details) or [])
    yield published
    for model in ALL_MODELS:
        model._connection = None
