"""DynamoDB Local for tests that need real concurrency semantics (moto's DynamoDB oversells under threads)."""
from __future__ import annotations

import boto3
import pytest

from stocklink.store.models import ALL_MODELS


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
    # Every publisher goes through publish_returning_failed (bus.publish too): nothing reaches for EventBridge.
    monkeypatch.setattr(bus, "publish_returning_failed", lambda detail_type, details: published.extend(
        (detail_type, d) for d in details) or [])
    yield published
    for model in ALL_MODELS:
        model._connection = None
