"""One Lambda function per topology.FUNCTIONS entry, with grants computed from its declaration."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import acknowledge, logical_id, pascal
from stocklink.config import TABLE_ENV

# Deployed runtime. The layer's wheels are built for this ABI (infra.layer.PYTHON_VERSION must match);
# the code also runs on the local 3.11. 3.12 rather than 3.13/3.14 until the lead moves both together.
RUNTIME = lambda_.Runtime.PYTHON_3_12
# arm64 (Graviton): ~20 % cheaper per GB-second than x86_64 at equal or better speed for this
# I/O-bound code, and every binary dependency (numpy, pydantic-core) ships aarch64 manylinux wheels.
ARCHITECTURE = lambda_.Architecture.ARM_64
LAYER_ARCH = "aarch64"

SECRETS_READ_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
SECRETS_WRITE_ACTIONS = ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue",
                         "secretsmanager:UpdateSecret", "secretsmanager:TagResource"]


class Functions(Construct):
    def __init__(
        self, scope: Construct, id: str, *,
        functions, tables: dict[str, dynamodb.Table], indexed_tables: set[str], bus: events.IEventBus,
        layer_code: lambda_.Code, functions_code: lambda_.Code,
        secrets_prefix: str, api_tokens_secret: str,
        async_functions: set[str], dlq_factory, log_retention: logs.RetentionDays,
        log_level: str = "INFO",
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.layer = lambda_.LayerVersion(
            self, "SharedLayer",
            code=layer_code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="stocklink package + powertools, pynamodb, pydantic, numpy (boto3 comes with the runtime)",
        )
        missing = sorted(set(tables) - set(TABLE_ENV))
        if missing:
            raise ValueError(f"tables {missing} have no environment variable in stocklink.config.TABLE_ENV")
        # Every function learns every table's name (names are not secrets, and shared models read them at
        # import); only the grants below decide what it may touch.
        table_env = {TABLE_ENV[name]: table.table_name for name, table in tables.items()}
        secrets_arn = stack.format_arn(service="secretsmanager", resource="secret",
                                       resource_name=f"{secrets_prefix}*",
                                       arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)

        self.functions: dict[str, lambda_.Function] = {}
        for spec in functions:
            cid = pascal(spec.name)
            # Own role instead of the AWSLambdaBasicExecutionRole managed policy: logs only to its own group.
            role = iam.Role(self, f"{cid}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                            description=f"StockLink {spec.name}: least privilege from infra/topology.py")
            log_group = logs.LogGroup(self, f"{cid}Logs", retention=log_retention,
                                      removal_policy=cdk.RemovalPolicy.DESTROY)
            log_group.grant_write(role)
            is_async = spec.name in async_functions
            fn = lambda_.Function(
                self, cid,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=spec.handler,
                code=functions_code,
                layers=[self.layer],
                memory_size=spec.memory_mb,
                timeout=cdk.Duration.seconds(spec.timeout_s),
                description=spec.description[:256],
                role=role,
                log_group=log_group,
                # Async invocations (EventBridge rules, schedules) that still fail after Lambda's retries
                # land here instead of vanishing.
                dead_letter_queue=dlq_factory(f"{spec.name}-async", eventbridge_target=False) if is_async else None,
                environment={
                    **table_env,
                    "EVENT_BUS_NAME": bus.event_bus_name,
                    "SECRETS_PREFIX": secrets_prefix,
                    "API_TOKENS_SECRET": api_tokens_secret,
                    "POWERTOOLS_SERVICE_NAME": spec.name,
                    "POWERTOOLS_METRICS_NAMESPACE": "StockLink",
                    "LOG_LEVEL": log_level,
                    "POWERTOOLS_LOG_LEVEL": log_level,
                },
            )
            acknowledge(fn, "AwsSolutions-L1",
                        "Python 3.12 is deliberate: the layer's binary wheels (numpy, pydantic-core) are built for "
                        "cp312; moving to a newer runtime changes RUNTIME and infra.layer.PYTHON_VERSION together.")
            for table_name, mode in spec.tables.items():
                if table_name not in tables:
                    raise ValueError(f"function {spec.name} uses unknown table {table_name!r}")
                table = tables[table_name]
                if mode == "write":
                    table.grant_read_write_data(fn)
                elif mode == "read":
                    table.grant_read_data(fn)
                else:
                    raise ValueError(f"function {spec.name}: table access must be 'read' or 'write', got {mode!r}")
                if table_name in indexed_tables:
                    acknowledge(role, f"AwsSolutions-IAM5[Resource::<{logical_id(table)}.Arn>/index/*]",
                                f"Query on the {table_name} table's own global secondary indexes (index/*) "
                                f"is part of the {mode} access declared for {spec.name} in the topology.")
            if spec.publishes_events:
                bus.grant_put_events_to(fn)
            actions = (SECRETS_READ_ACTIONS if spec.reads_secrets or spec.writes_secrets else []) + \
                      (SECRETS_WRITE_ACTIONS if spec.writes_secrets else [])
            if actions:
                role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[secrets_arn]))
                acknowledge(role, f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:{secrets_prefix}*]",
                            f"Secrets are limited to the {secrets_prefix} prefix: per-shop platform credentials "
                            "are created at runtime (one secret per shop), so their names are not known at deploy time.")
            self.functions[spec.name] = fn

