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
from stocklink.config import CHAT_SECRETS, SHOP_SECRETS, TABLE_ENV
from stocklink.store.keys import DIRTY_PREFIX, SHOWN_NOTE_ATTRIBUTES, SYNC_PREFIX, TOKENS_PK

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
SECRETS_ACTIONS = {"read": SECRETS_READ_ACTIONS, "write": SECRETS_WRITE_ACTIONS}
# Secret groups created at runtime (one secret per shop / per chat subscription): names under the prefix.
RUNTIME_SECRET_GROUPS = {"shops": SHOP_SECRETS, "chat": CHAT_SECRETS}


class Functions(Construct):
    def __init__(
        self, scope: Construct, id: str, *,
        functions, tables: dict[str, dynamodb.Table], indexed_tables: set[str], bus: events.IEventBus,
        layer_code: lambda_.Code, functions_code: lambda_.Code,
        secrets_prefix: str, api_tokens_secret: str, api_tokens_arn: str,
        async_functions: set[str], dlq_factory, log_retention: logs.RetentionDays,
        log_level: str = "INFO", snapshot_retention_days: int = 400,
    ) -> None:
        super().__init__(scope, id)
        if snapshot_retention_days < 1:
            raise ValueError("snapshot_retention_days must be at least 1")
        self.layer = self._layer(layer_code)
        env = {**self._environment(tables, bus, secrets_prefix, api_tokens_secret, log_level),
               "SNAPSHOT_RETENTION_DAYS": str(snapshot_retention_days)}
        secret_arns = {"api_tokens": api_tokens_arn, **{
            group: cdk.Stack.of(self).format_arn(service="secretsmanager", resource="secret",
                                                 resource_name=f"{secrets_prefix}{path}*",
                                                 arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
            for group, path in RUNTIME_SECRET_GROUPS.items()}}
        self.functions: dict[str, lambda_.Function] = {}
        for spec in functions:
            fn, role = self._function(spec, functions_code, env, log_retention,
                                      dlq_factory if spec.name in async_functions else None)
            self._grant_tables(spec, fn, role, tables, indexed_tables)
            if spec.marks_dirty:
                self._grant_dirty_markers(role, tables["catalog"])
            if spec.records_token_use:
                self._grant_token_use(role, tables["tokens"])
            if spec.notes_listings_shown:
                self._grant_shown_notes(role, tables["catalog"])
            if spec.publishes_events:
                bus.grant_put_events_to(fn)
            self._grant_secrets(spec, role, secret_arns, secrets_prefix)
            self.functions[spec.name] = fn

    def _layer(self, layer_code: lambda_.Code) -> lambda_.LayerVersion:
        """The one layer every function runs with: the stocklink package and its dependencies."""
        return lambda_.LayerVersion(
            self, "SharedLayer",
            code=layer_code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="stocklink package + powertools, pynamodb, pydantic, numpy (boto3 comes with the runtime)",
        )

    @staticmethod
    def _environment(tables, bus: events.IEventBus, secrets_prefix: str, api_tokens_secret: str,
                     log_level: str) -> dict[str, str]:
        """Environment of every function (POWERTOOLS_SERVICE_NAME is filled in per function)."""
        missing = sorted(set(tables) - set(TABLE_ENV))
        if missing:
            raise ValueError(f"tables {missing} have no environment variable in stocklink.config.TABLE_ENV")
        # Every function learns every table's name (names are not secrets, and shared models read them at
        # import); only the grants below decide what it may touch.
        table_env = {TABLE_ENV[name]: table.table_name for name, table in tables.items()}
        return {
            **table_env,
            "EVENT_BUS_NAME": bus.event_bus_name,
            "SECRETS_PREFIX": secrets_prefix,
            "API_TOKENS_SECRET": api_tokens_secret,
            "POWERTOOLS_SERVICE_NAME": "",  # each function's own name (_function)
            "POWERTOOLS_METRICS_NAMESPACE": "StockLink",
            "LOG_LEVEL": log_level,
            "POWERTOOLS_LOG_LEVEL": log_level,
            # pydantic scans every installed distribution's entry points for plugins at the first model
            # (tens of ms of cold start); StockLink uses none
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
            # numpy's OpenBLAS starts a thread per core when it loads (~40 ms of the forecast function's cold
            # import, tests/bench/cold_import.py); no function has the vCPUs or the matrix work to use them
            "OPENBLAS_NUM_THREADS": "1",
        }

    def _function(self, spec, code: lambda_.Code, env: dict[str, str], log_retention: logs.RetentionDays,
                  dlq_factory) -> tuple[lambda_.Function, iam.Role]:
        """The function of one topology entry with its own role and log group; dlq_factory (None for a
        function only invoked synchronously) gives it a dead-letter queue for failed async invocations."""
        cid = pascal(spec.name)
        # Own role instead of the AWSLambdaBasicExecutionRole managed policy: logs only to its own group.
        role = iam.Role(self, f"{cid}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"StockLink {spec.name}: least privilege from infra/topology.py")
        log_group = logs.LogGroup(self, f"{cid}Logs", retention=log_retention,
                                  removal_policy=cdk.RemovalPolicy.DESTROY)
        log_group.grant_write(role)
        fn = lambda_.Function(
            self, cid,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=code,
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=cdk.Duration.seconds(spec.timeout_s),
            description=spec.description[:256],
            role=role,
            log_group=log_group,
            reserved_concurrent_executions=spec.reserved_concurrency,
            # Async invocations (EventBridge rules, schedules) that still fail after Lambda's retries
            # land here instead of vanishing.
            dead_letter_queue=(dlq_factory(f"{spec.name}-async", eventbridge_target=False)
                               if dlq_factory is not None else None),
            environment={**env, "POWERTOOLS_SERVICE_NAME": spec.name},
        )
        acknowledge(fn, "AwsSolutions-L1",
                    "Python 3.12 is deliberate: the layer's binary wheels (numpy, pydantic-core) are built for "
                    "cp312; moving to a newer runtime changes RUNTIME and infra.layer.PYTHON_VERSION together.")
        return fn, role

    @staticmethod
    def _grant_tables(spec, fn: lambda_.Function, role: iam.Role, tables: dict[str, dynamodb.Table],
                      indexed_tables: set[str]) -> None:
        """Read or read-write data access to exactly the tables the topology entry declares."""
        for table_name, mode in spec.tables.items():
            if table_name not in tables:
                raise ValueError(f"function {spec.name} uses unknown table {table_name!r}")
            table = tables[table_name]
            if mode == "write":
                table.grant_read_write_data(fn)
            elif mode in ("read", "read+append"):
                table.grant_read_data(fn)
            elif mode != "append":
                raise ValueError(f"function {spec.name}: table access must be 'read', 'write', 'append' or "
                                 f"'read+append', got {mode!r}")
            if mode in ("append", "read+append"):
                # PutItem only: new items (the audit trail's entries); no update, no delete
                table.grant(fn, "dynamodb:PutItem")
            if table_name in indexed_tables:
                acknowledge(role, f"AwsSolutions-IAM5[Resource::<{logical_id(table)}.Arn>/index/*]",
                            f"Query on the {table_name} table's own global secondary indexes (index/*) "
                            f"is part of the {mode} access declared for {spec.name} in the topology.")

    @staticmethod
    def _grant_dirty_markers(role: iam.Role, catalog: dynamodb.Table) -> None:
        """UpdateItem on the catalog's dirty-marker partitions only (IAM checks the partition key): enough
        to leave reconciliation a lost stock.changed, nothing else of the catalog."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:UpdateItem"], resources=[catalog.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{DIRTY_PREFIX}*"]}}))

    @staticmethod
    def _grant_shown_notes(role: iam.Role, catalog: dynamodb.Table) -> None:
        """UpdateItem of what a listing may still sell (and its recent sales) on the catalog's sync-state
        items only (IAM checks the partition key and the attributes named, also inside TransactWriteItems):
        enough for an order to note it, not to change a listing's push state or anything else."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:UpdateItem"], resources=[catalog.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{SYNC_PREFIX}*"]},
                        "ForAllValues:StringEquals": {"dynamodb:Attributes": list(SHOWN_NOTE_ATTRIBUTES)},
                        "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE"]}}))

    @staticmethod
    def _grant_token_use(role: iam.Role, tokens: dynamodb.Table) -> None:
        """UpdateItem of last_used_at on the tokens' name items only (IAM checks the partition key and the
        attributes the request names): enough to record a token's use, not to change its roles or limits,
        revive a deleted token (the update is conditional on the item existing) or touch a hash item."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["dynamodb:UpdateItem"], resources=[tokens.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TOKENS_PK]},
                        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "last_used_at"]},
                        "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE"]}}))

    @staticmethod
    def _grant_secrets(spec, role: iam.Role, secret_arns: dict[str, str], secrets_prefix: str) -> None:
        """Read or write (write does not include read) on exactly the secret groups the topology entry
        declares: the API tokens secret by its ARN, shop credentials and chat webhooks by name prefix."""
        if spec.secrets.get("shops") == "read" and "api_tokens" in spec.secrets:
            raise ValueError(f"function {spec.name} may not read shop credentials and the API tokens both")
        for group, mode in sorted(spec.secrets.items()):
            if group not in secret_arns:
                raise ValueError(f"function {spec.name} uses unknown secret group {group!r}")
            if mode not in SECRETS_ACTIONS:
                raise ValueError(f"function {spec.name}: secret access must be 'read' or 'write', "
                                 f"got {mode!r}")
            role.add_to_principal_policy(iam.PolicyStatement(actions=SECRETS_ACTIONS[mode],
                                                             resources=[secret_arns[group]]))
            if group in RUNTIME_SECRET_GROUPS:
                name = f"{secrets_prefix}{RUNTIME_SECRET_GROUPS[group]}*"
                acknowledge(role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:"
                                  f"<AWS::Region>:<AWS::AccountId>:secret:{name}]",
                            f"The {group} secrets are created at runtime (one per shop or chat "
                            "subscription), so their names are unknown at deploy time; the grant covers "
                            f"only the {name} names.")
