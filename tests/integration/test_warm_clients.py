"""A fresh container's thread pool must not build a DynamoDB client (or a Secrets Manager provider) per thread:
store.models.warm_clients builds each connection's client once, and secrets makes one Secrets Manager client."""
from __future__ import annotations

import json
import threading

import boto3
import botocore.session
from pynamodb.models import Model

from stocklink import aws_clients, secrets
from stocklink.store import models, sync_models


def _store_models() -> list[type[Model]]:
    found, todo = [], [Model]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("stocklink.store"):
                found.append(sub)
    return found


def _fresh_container(monkeypatch) -> None:
    for model in _store_models():
        monkeypatch.setattr(model, "_connection", None)
    monkeypatch.setattr(models, "_CONNECTIONS", {})
    monkeypatch.setattr(aws_clients, "_session", None)


def _count_clients(monkeypatch) -> list[str]:
    made: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self, service_name, *args, **kwargs):
        made.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return made


def _count_sessions(monkeypatch) -> list:
    """Every botocore session created from now on (each parses the endpoint and service model files)."""
    sessions: list = []
    original_init = botocore.session.Session.__init__

    def counting_init(self, *args, **kwargs):
        sessions.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "__init__", counting_init)
    return sessions


def _together(n: int, work) -> None:
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def run():
        start.wait()
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_after_warm_up_threads_starting_together_build_no_dynamodb_client(aws, monkeypatch):
    _fresh_container(monkeypatch)
    made = _count_clients(monkeypatch)
    sessions = _count_sessions(monkeypatch)

    models.warm_clients()
    built = len(made)
    assert len(sessions) == 1                     # endpoint and service model files parsed once
    _together(8, lambda: (sync_models.listing_states("shopify", "demo", ["1", "2"]),
                          models.CatalogItem.count("SKU"), models.StockItem.count("SKU-1")))

    connections = {id(m._get_connection().connection) for m in _store_models()} | \
        {id(c) for c in models._CONNECTIONS.values()}
    assert built == len(connections) > 0          # one client per connection, built by the warm-up
    assert len(made) == built                     # the eight threads built none


def test_per_sku_reads_sent_at_once_on_a_fresh_container_parse_botocore_once(aws, monkeypatch):
    """Channel sync reads SKUs from a thread pool (reconciliation and the staff API too, not only
    channel_push): the pool warms the container's clients before its threads start, else each thread
    reaching a model first builds a client from a botocore session of its own."""
    from stocklink.logic.sync import displays, executors

    _fresh_container(monkeypatch)
    monkeypatch.setattr(executors, "_executors", {})       # a fresh container: no pool yet
    monkeypatch.setattr(executors, "_warmed", False)
    sessions = _count_sessions(monkeypatch)
    skus = [f"SKU-{i}" for i in range(12)]
    try:
        assert displays.available(skus) == {sku: {} for sku in skus}
        assert len(displays.listings_for(skus)) == 0
    finally:
        executors.io().shutdown()
    assert len(sessions) == 1


def test_threads_reading_secrets_together_share_one_provider(aws, monkeypatch):
    boto3.client("secretsmanager").create_secret(Name="stocklink/shops/shopify/demo",
                                                 SecretString=json.dumps({"access_token": "t"}))
    secrets.forget()
    made = _count_clients(monkeypatch)

    values: list = []
    _together(8, lambda: values.append(secrets.read_json("stocklink/shops/shopify/demo")))

    assert values == [{"access_token": "t"}] * 8
    assert made.count("secretsmanager") == 1


def test_models_first_used_one_by_one_share_the_container_session(aws, monkeypatch):
    """Without the warm-up (the storefront and webhook handlers use a few models, on one thread), each model's
    first call builds only its client: botocore's files are parsed once per container, not once per model."""
    _fresh_container(monkeypatch)
    sessions = _count_sessions(monkeypatch)
    made = _count_clients(monkeypatch)

    models.CatalogItem.count("SKU")
    models.StockItem.count("SKU-1")
    sync_models.listing_states("shopify", "demo", ["1"])

    assert len(sessions) == 1
    assert made.count("dynamodb") == 3
