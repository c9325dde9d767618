"""StockLinkStack: everything StockLink deploys into a seller's account, built from infra/topology.py.

Adding a function, route, rule, schedule or table to the topology deploys it with no change here.
"""
from __future__ import annotations

from types import ModuleType

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import layer, topology as default_topology
from infra.constructs import acknowledge
from infra.constructs.alarms import Alarms
from infra.constructs.alerts import AlertTopics
from infra.constructs.api import Api, allow_browser_origin
from infra.constructs.console_auth import ConsoleAuth
from infra.constructs.console_site import ConsoleSite
from infra.constructs.data import Data
from infra.constructs.dlq import DeadLetterQueues
from infra.constructs.events import Bus
from infra.constructs.functions import LAYER_ARCH, RUNTIME, Functions
from infra.constructs.platform_queues import PlatformQueues
from infra.constructs.schedules import Schedules

# Same values as stocklink.config's defaults; the functions get them explicitly through their environment.
from stocklink.config import DEFAULT_API_TOKENS_SECRET as API_TOKENS_SECRET  # noqa: E402
from stocklink.config import DEFAULT_EVENT_BUS as BUS_NAME  # noqa: E402
from stocklink.config import DEFAULT_SECRETS_PREFIX as SECRETS_PREFIX  # noqa: E402


class StockLinkStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, topology: ModuleType = default_topology,
                 skip_layer_deps: bool | None = None, retain_data: bool = True, waf: bool = False,
                 log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH, **kwargs) -> None:
        kwargs.setdefault("description", "StockLink: multi-channel inventory sync (infra/topology.py)")
        super().__init__(scope, id, **kwargs)
        if RUNTIME.name != f"python{layer.PYTHON_VERSION}":
            raise ValueError(f"layer wheels are built for {layer.PYTHON_VERSION}, functions run {RUNTIME.name}")

        data = Data(self, "Data", tables=topology.TABLES, retain=retain_data)
        bus = Bus(self, "Events", bus_name=BUS_NAME)
        dlqs = DeadLetterQueues(self, "DeadLetters")

        tokens = secretsmanager.Secret(
            self, "ApiTokens",
            secret_name=API_TOKENS_SECRET,
            description="Bootstrap Bearer tokens of the StockLink APIs (the generated admin token; "
                        "tokens made with POST /tokens live hashed in the tokens table)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template='{"tokens": {}}', generate_string_key="bootstrap",
                exclude_punctuation=True, password_length=48),
        )
        acknowledge(tokens, "AwsSolutions-SMG4",
                    "The bootstrap admin token gets the first admin in; automatic rotation would cut them off. "
                    "Tokens are made and revoked with POST/DELETE /tokens (hashed in the tokens table), and "
                    "the bootstrap token is retired with DELETE /tokens/bootstrap.")

        layer_asset = layer.build_layer(arch=LAYER_ARCH, skip_deps=skip_layer_deps)
        functions_asset = layer.build_functions()
        async_functions = ({rule.function for rule in topology.EVENT_RULES if getattr(rule, "queue", None) is None}
                           | {schedule.function for schedule in topology.SCHEDULES})
        fns = Functions(
            self, "Functions",
            functions=topology.FUNCTIONS, tables=data.tables,
            indexed_tables={spec.name for spec in topology.TABLES if spec.indexes},
            bus=bus.bus,
            layer_code=_code(layer_asset), functions_code=_code(functions_asset),
            secrets_prefix=SECRETS_PREFIX, api_tokens_secret=API_TOKENS_SECRET,
            api_tokens_arn=tokens.secret_arn,
            async_functions=async_functions, dlq_factory=dlqs, log_retention=log_retention,
            # how long daily snapshot rows are kept (TTL): -c stocklink:snapshotRetentionDays=N
            snapshot_retention_days=int(self.node.try_get_context("stocklink:snapshotRetentionDays") or 400),
        )
        self.functions = fns.functions
        self.tables = data.tables
        bus.add_rules(topology.EVENT_RULES, fns.functions, dlqs)
        self.event_queues = bus.queues
        self.schedules = Schedules(self, "Schedules", schedules=topology.SCHEDULES, functions=fns.functions,
                                   dlq_factory=dlqs, log_retention=log_retention)
        # stocklink:apiRoutes=detached: step 1 of moving a deployed stack's routes into nested stacks
        # (infra/README.md, "Route stacks"); never leave a stack so.
        self.api = Api(self, "Api", routes=topology.ROUTES, functions=fns.functions,
                       log_retention=log_retention, waf=waf,
                       detach_routes=self.node.try_get_context("stocklink:apiRoutes") == "detached")
        self._console(topology, retain_data, log_retention)
        self.alert_topics = AlertTopics(self, "Alerts", topics=getattr(topology, "TOPICS", ()),
                                        topic_queues=getattr(topology, "TOPIC_QUEUES", ()),
                                        functions=fns.functions)
        self.platform_queues = PlatformQueues(self, "PlatformQueues", specs=getattr(topology, "PLATFORM_QUEUES", ()),
                                              functions=fns.functions)
        self.dead_letter_queues = {**dlqs.queues, **{f"{name}-dlq": q for name, q in
                                                     self.alert_topics.dead_letter_queues.items()},
                                   **{f"{name}-dlq": q for name, q in self.platform_queues.dead_letter_queues.items()}}
        alerts_fn = fns.functions.get("alerts")
        if alerts_fn is not None and self.dead_letter_queues:
            # The alert tick reports dead-letter depth (e.g. stock pushes piling up) as push_failures
            # alerts: queue URLs in the environment, GetQueueAttributes on exactly those queues.
            alerts_fn.add_environment("DEAD_LETTER_QUEUES", self.to_json_string(
                {name: q.queue_url for name, q in sorted(self.dead_letter_queues.items())}))
            for q in self.dead_letter_queues.values():
                q.grant(alerts_fn, "sqs:GetQueueAttributes")
        self.alarms = Alarms(self, "Alarms", dead_letter_queues=self.dead_letter_queues,
                             email=self.node.try_get_context("stocklink:alarmEmail") or None)

        cdk.CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the prod stage")
        cdk.CfnOutput(self, "EventBusName", value=bus.bus.event_bus_name)
        cdk.CfnOutput(self, "ApiTokensSecretArn", value=tokens.secret_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn,
                      description="Subscribe here (or set context stocklink:alarmEmail) for dead-letter alarms")
        cdk.CfnOutput(self, "ConsoleUrl", value=self.console.url,
                      description="The console; sign in with a user of the pool (README: Console in AWS)")
        cdk.CfnOutput(self, "ConsoleUserPoolId", value=self.console_auth.pool.user_pool_id)
        cdk.CfnOutput(self, "ConsoleClientId", value=self.console_auth.client.user_pool_client_id)
        cdk.CfnOutput(self, "ConsoleSignInDomain", value=self.console_auth.domain_host)
        cdk.Tags.of(self).add("project", "stocklink")

    def _console(self, topology: ModuleType, retain_data: bool, log_retention: logs.RetentionDays) -> None:
        """The console in AWS: Cognito sign-in, the built app on S3 + CloudFront with its config.json, CORS
        for the site's origin, and the pool in the environment of every function serving token routes.

        Context: stocklink:authDomainPrefix (hosted-UI prefix; default from the stack name and account),
        stocklink:consoleLocalCallback=true (also allow the local runtime's console as redirect URI),
        stocklink:consoleDomainName + stocklink:consoleCertificateArn (own name, TLS 1.2+)."""
        context = self.node.try_get_context
        self.console_auth = ConsoleAuth(self, "ConsoleAuth", domain_prefix=context("stocklink:authDomainPrefix"),
                                        retain=retain_data)
        self.console = ConsoleSite(self, "Console", api_origin=self.api.origin,
                                   auth_origin=self.console_auth.domain_url, log_retention=log_retention,
                                   domain_name=context("stocklink:consoleDomainName"),
                                   certificate_arn=context("stocklink:consoleCertificateArn"))
        client = self.console_auth.add_console_client(
            self.console.url,
            local_callback=str(context("stocklink:consoleLocalCallback")).lower() in ("true", "1", "yes"))
        allow_browser_origin(self.api, self.console.origin)
        pool_id = self.console_auth.pool.user_pool_id
        for name in sorted({route.function for route in topology.ROUTES if route.auth == "token"}):
            fn = self.functions[name]
            fn.add_environment("COGNITO_USER_POOL_ID", pool_id)
            fn.add_environment("COGNITO_CLIENT_ID", client.user_pool_client_id)
            fn.add_environment("CONSOLE_ORIGIN", self.console.origin)
        self.console.deploy_files(layer.REPO_ROOT / "console" / "dist", {
            "apiBase": self.api.url,
            "auth": {"mode": "cognito", "region": self.region, "userPoolId": pool_id,
                     "clientId": client.user_pool_client_id, "domain": self.console_auth.domain_host},
        })


def _code(asset: layer.Asset) -> lambda_.Code:
    # The folder is content-addressed; handing CDK its hash spares it fingerprinting ~60 MB of wheels.
    return lambda_.Code.from_asset(str(asset.path), asset_hash=asset.asset_hash,
                                   asset_hash_type=cdk.AssetHashType.CUSTOM, exclude=[".complete"])
