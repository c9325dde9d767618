"""DynamoDB tables, one per topology.TABLES entry."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.constructs import pascal


class Data(Construct):
    """On-demand tables with point-in-time recovery and KMS encryption (AWS-owned key managed by DynamoDB
    in the account: `AWS_MANAGED`, no key policy to maintain for the seller).

    retain=True (the default) keeps every table on stack deletion and turns on deletion protection: each
    table holds state that cannot be rebuilt (stock and ledger obviously; reservations are live holds;
    the events table holds the idempotency markers that make webhook replays harmless; catalog holds the
    shop/listing mappings). Development stacks pass retain=False (context stocklink:retainData=false).
    """

    def __init__(self, scope: Construct, id: str, *, tables, retain: bool = True) -> None:
        super().__init__(scope, id)
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in tables:
            def attribute(name: str) -> dynamodb.Attribute:
                kind = dynamodb.AttributeType.NUMBER if name in spec.number_keys else dynamodb.AttributeType.STRING
                return dynamodb.Attribute(name=name, type=kind)

            table = dynamodb.Table(
                self, pascal(spec.name),
                partition_key=attribute(spec.partition_key),
                sort_key=attribute(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl_attribute,
                deletion_protection=retain,
                removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
            )
            for index_name, (pk, sk) in spec.indexes.items():
                table.add_global_secondary_index(
                    index_name=index_name,
                    partition_key=attribute(pk),
                    sort_key=attribute(sk) if sk else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            self.tables[spec.name] = table
