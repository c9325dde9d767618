"""Create StockLink's tables (and, for the local runtime, its bus and secrets) from the topology.

Used by the local runtime against DynamoDB Local and by tests against moto; CDK declares the same tables
from the same `infra.topology.TABLES` for AWS.
"""
from __future__ import annotations

from stocklink.config import TABLE_ENV, table_name
from infra.topology import TABLES, TableSpec


def table_definition(spec: TableSpec, physical_name: str) -> dict:
    keys = [(spec.partition_key, "HASH")] + ([(spec.sort_key, "RANGE")] if spec.sort_key else [])
    attributes = {name for name, _ in keys}
    gsis = []
    for index_name, (pk, sk) in spec.indexes.items():
        index_keys = [{"AttributeName": pk, "KeyType": "HASH"}]
        attributes.add(pk)
        if sk:
            index_keys.append({"AttributeName": sk, "KeyType": "RANGE"})
            attributes.add(sk)
        gsis.append({"IndexName": index_name, "KeySchema": index_keys, "Projection": {"ProjectionType": "ALL"}})
    definition = {
        "TableName": physical_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in keys],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "N" if name in spec.number_keys else "S"}
            for name in sorted(attributes)
        ],
    }
    if gsis:
        definition["GlobalSecondaryIndexes"] = gsis
    return definition


def create_tables(dynamodb_client) -> list[str]:
    """Create every table that does not exist yet; returns the physical names. Safe to call again."""
    existing = set()
    for page in dynamodb_client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    names = []
    for spec in TABLES:
        name = table_name(spec.name)
        names.append(name)
        if name not in existing:
            dynamodb_client.create_table(**table_definition(spec, name))
    for name in names:
        dynamodb_client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    return names


def table_env(prefix: str = "stocklink") -> dict[str, str]:
    """Environment variables naming each table, as CDK sets them on every function."""
    return {env: f"{prefix}-{logical}" for logical, env in TABLE_ENV.items()}
