"""The synthesized StockLinkStack matches infra/topology.py, resource by resource."""
from __future__ import annotations

import json
import re

import pytest
from infra_synth import check_dlq, check_sub_minute_schedule, refs, resource_paths, role_statements

from infra import topology
from infra.constructs.api import ROUTE_STACKS, route_stack_index
from stocklink.config import TABLE_ENV

DDB_WRITE = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def _actions(statement) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


# --- functions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_every_topology_function_is_deployed_with_its_settings_and_env(synth, spec):
    fn = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]
    assert fn["Handler"] == spec.handler
    assert fn["Runtime"] == "python3.12"
    assert fn["Architectures"] == ["arm64"]
    assert fn["MemorySize"] == spec.memory_mb
    assert fn["Timeout"] == spec.timeout_s
    assert fn.get("ReservedConcurrentExecutions") == spec.reserved_concurrency
    assert len(fn["Layers"]) == 1
    env = fn["Environment"]["Variables"]
    for logical, env_name in TABLE_ENV.items():
        assert env[env_name] == {"Ref": synth.lid(synth.stack.tables[logical])}, env_name
    assert env["EVENT_BUS_NAME"] == {"Ref": next(iter(synth.of_type("AWS::Events::EventBus")))}
    assert env["SECRETS_PREFIX"] == "stocklink/"
    assert env["API_TOKENS_SECRET"] == "stocklink/api-tokens"
    assert env["POWERTOOLS_SERVICE_NAME"] == spec.name
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "StockLink"
    assert env["LOG_LEVEL"] == "INFO"
    assert env["PYDANTIC_DISABLE_PLUGINS"] == "__all__"   # no entry-point scan at cold start
    assert env["OPENBLAS_NUM_THREADS"] == "1"            # numpy starts no BLAS thread per core at cold start
    assert env["SNAPSHOT_RETENTION_DAYS"] == "400"     # snapshot rows' TTL (context stocklink:snapshotRetentionDays)
    # Its own log group, with a retention.
    log_group = synth.resources[fn["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] > 0


def test_no_deployed_function_may_call_loopback_only_the_local_runtime_does(synth):
    """The outbound policy lets a process call 127.0.0.1 only with the local runtime's flag (its marketplace
    simulators); a deployed function with it could be pointed at the Lambda runtime API on 127.0.0.1:9001."""
    from infra.local.workers import function_environment
    from stocklink.config import LOOPBACK_FLAG

    functions = synth.of_type("AWS::Lambda::Function")
    assert functions
    for lid, fn in functions.items():
        env = (fn["Properties"].get("Environment") or {}).get("Variables") or {}
        assert LOOPBACK_FLAG not in env, lid
    for spec in topology.FUNCTIONS:
        local = function_environment(spec, ddb_endpoint="http://127.0.0.1:1", aws_endpoint="http://127.0.0.1:2")
        assert local[LOOPBACK_FLAG] == "1", spec.name


def test_functions_and_layer_use_local_assets_without_docker(synth):
    assets = json.loads((synth.outdir / "StockLinkStack.assets.json").read_text())
    assert assets["dockerImages"] == {}
    layer_dirs = [p for p in synth.outdir.glob("asset.*") if (p / "python" / "stocklink" / "config.py").exists()]
    function_dirs = [p for p in synth.outdir.glob("asset.*") if (p / "functions" / "__init__.py").exists()]
    assert len(layer_dirs) == 1 and len(function_dirs) == 1


# --- least privilege ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_function_role_touches_only_its_declared_tables(synth, spec):
    table_names = {synth.lid(t): name for name, t in synth.stack.tables.items()}
    role_lid = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = synth.resources[role_lid]["Properties"]
    assert not role.get("ManagedPolicyArns"), "no managed policies: everything is granted explicitly"
    readable, writable, appendable = set(), set(), set()
    for st in role_statements(synth, role_lid):
        ddb = [a for a in _actions(st) if a.startswith("dynamodb:")]
        if not ddb or _leading_keys(st):   # dirty markers, token use: test_dirty_marker_grant_is_..., ...
            continue
        assert "dynamodb:*" not in ddb and st["Resource"] != "*"
        touched = {table_names[r] for r in refs(st["Resource"])}
        if ddb == ["dynamodb:PutItem"]:    # append only: test_append_grants_are_put_item_only
            appendable |= touched
            continue
        readable |= touched
        if DDB_WRITE & set(ddb):
            writable |= touched
    assert readable == {name for name, mode in spec.tables.items() if mode != "append"}
    assert writable == {name for name, mode in spec.tables.items() if mode == "write"}
    assert appendable == {name for name, mode in spec.tables.items() if mode in ("append", "read+append")}


def test_the_snapshot_function_alone_writes_the_reports_table_which_the_reports_api_only_reads():
    modes = {spec.name: spec.tables.get("reports") for spec in topology.FUNCTIONS if "reports" in spec.tables}
    assert modes == {"snapshots": "write", "reports_api": "read"}
    assert topology.table("reports").ttl_attribute == "expires_at"


def test_the_audit_trail_is_append_only_for_every_function():
    """No function may change or delete audit entries: the API functions append, staff_api also reads."""
    modes = {spec.name: spec.tables.get("audit") for spec in topology.FUNCTIONS if "audit" in spec.tables}
    assert modes == {"staff_api": "read+append", "alerts_api": "append", "forecast_api": "append",
                     "reports_api": "append", "purchasing_api": "append",
                     "imports_api": "append"}


def test_only_staff_api_writes_tokens_and_every_token_reader_records_use_only():
    """POST/DELETE /tokens live on staff_api; the other API functions read tokens and may set last_used_at."""
    modes = {spec.name: spec.tables.get("tokens") for spec in topology.FUNCTIONS if "tokens" in spec.tables}
    assert modes == {"staff_api": "write", "storefront_api": "read", "alerts_api": "read", "forecast_api": "read",
                     "reports_api": "read", "purchasing_api": "read",
                     "imports_api": "read"}
    assert {spec.name for spec in topology.FUNCTIONS if spec.records_token_use} == {
        "storefront_api", "alerts_api", "forecast_api", "reports_api", "purchasing_api", "imports_api"}
    token_functions = {r.function for r in topology.ROUTES if r.path.startswith("/tokens")}
    assert token_functions == {"staff_api"}
    # every function that checks Bearer tokens can look up hashed ones
    assert {r.function for r in topology.ROUTES if r.auth == "token"} <= set(modes)


def _leading_keys(statement) -> list[str]:
    return statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", [])


@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_dirty_marker_grant_is_one_update_limited_to_the_marker_partitions(synth, spec):
    """Functions that commit stock changes with read-only catalog access may still leave reconciliation
    the SKUs of a lost stock.changed, and nothing else."""
    catalog_lid = synth.lid(synth.stack.tables["catalog"])
    role_lid = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Role"]["Fn::GetAtt"][0]
    conditioned = [st for st in role_statements(synth, role_lid)
                   if _leading_keys(st) and refs(st["Resource"]) == {catalog_lid} and _leading_keys(st) != ["SYNC#*"]]
    if not spec.marks_dirty:
        assert conditioned == []
        return
    (st,) = conditioned
    assert _actions(st) == ["dynamodb:UpdateItem"]
    assert refs(st["Resource"]) == {catalog_lid}
    assert _leading_keys(st) == ["RECON_DIRTY#*"]


@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_shown_note_grant_is_one_update_of_the_note_attributes_on_sync_items(synth, spec):
    """webhook_ingest (catalog read-only) notes what an order's listings may still sell, inside the order's
    transaction: UpdateItem of shown, updated_at and recent_sales on SYNC# items, nothing else."""
    catalog_lid = synth.lid(synth.stack.tables["catalog"])
    role_lid = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Role"]["Fn::GetAtt"][0]
    conditioned = [st for st in role_statements(synth, role_lid)
                   if _leading_keys(st) == ["SYNC#*"] and refs(st["Resource"]) == {catalog_lid}]
    assert spec.notes_listings_shown == (spec.name in ("webhook_ingest", "amazon_notifications"))
    if not spec.notes_listings_shown:
        assert conditioned == []
        return
    (st,) = conditioned
    assert _actions(st) == ["dynamodb:UpdateItem"]
    assert st["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"] == [
        "pk", "sk", "shown", "updated_at", "recent_sales"]
    assert st["Condition"]["StringEqualsIfExists"]["dynamodb:ReturnValues"] == ["NONE"]


@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_token_use_grant_is_one_update_of_last_used_at_on_name_items(synth, spec):
    tokens_lid = synth.lid(synth.stack.tables["tokens"])
    role_lid = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Role"]["Fn::GetAtt"][0]
    conditioned = [st for st in role_statements(synth, role_lid)
                   if _leading_keys(st) and refs(st["Resource"]) == {tokens_lid}]
    if not spec.records_token_use:
        assert conditioned == []
        return
    (st,) = conditioned
    assert _actions(st) == ["dynamodb:UpdateItem"]
    assert _leading_keys(st) == ["TOKEN"]
    assert st["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"] == ["pk", "sk", "last_used_at"]
    assert st["Condition"]["StringEqualsIfExists"]["dynamodb:ReturnValues"] == ["NONE"]


@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_append_grants_are_put_item_only(synth, spec):
    table_names = {synth.lid(t): name for name, t in synth.stack.tables.items()}
    role_lid = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Role"]["Fn::GetAtt"][0]
    for st in role_statements(synth, role_lid):
        ddb = [a for a in _actions(st) if a.startswith("dynamodb:")]
        touched = {table_names[r] for r in refs(st["Resource"]) if r in table_names}
        if "audit" in touched:
            assert DDB_WRITE & set(ddb) <= {"dynamodb:PutItem"}, st


def test_every_function_that_commits_stock_changes_can_mark_skus_dirty():
    for spec in topology.FUNCTIONS:
        if spec.tables.get("stock") == "write":
            assert spec.tables.get("catalog") == "write" or spec.marks_dirty, spec.name


SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
SECRET_WRITE = {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret",
                "secretsmanager:TagResource"}


def secret_grants(synth, spec) -> dict[str, set[str]]:
    """Secret group -> the Secrets Manager actions the function's role has on it."""
    role_lid = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Role"]["Fn::GetAtt"][0]
    tokens_lid = next(iter(synth.of_type("AWS::SecretsManager::Secret")))
    grants: dict[str, set[str]] = {}
    for st in role_statements(synth, role_lid):
        actions = {a for a in _actions(st) if a.startswith("secretsmanager:")}
        if not actions:
            continue
        if st["Resource"] == {"Ref": tokens_lid}:
            group = "api_tokens"
        else:
            group = {":secret:stocklink/shops/*": "shops",
                     ":secret:stocklink/chat/*": "chat"}[st["Resource"]["Fn::Join"][1][-1]]
        grants.setdefault(group, set()).update(actions)
    return grants


@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_function_role_gets_events_and_secrets_only_as_declared(synth, spec):
    role_lid = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Role"]["Fn::GetAtt"][0]
    actions = {a for st in role_statements(synth, role_lid) for a in _actions(st)}
    assert ("events:PutEvents" in actions) == spec.publishes_events
    # each declared group by its own ARN (the tokens secret exactly, the others by name prefix); write
    # does not include read
    assert secret_grants(synth, spec) == {group: SECRET_READ if mode == "read" else SECRET_WRITE
                                          for group, mode in spec.secrets.items()}


def test_shop_credentials_and_api_tokens_are_never_readable_by_one_function(synth):
    """A function holding platform credentials cannot read the API tokens, and the reverse: the webhook
    and sync functions read shop secrets only; the API functions read the tokens, and staff_api may store
    a shop's credentials (PUT /shops) but never read them."""
    readers = {spec.name: {g for g, actions in secret_grants(synth, spec).items() if SECRET_READ & actions}
               for spec in topology.FUNCTIONS}
    assert not [name for name, groups in readers.items() if {"shops", "api_tokens"} <= groups]
    assert {name for name, groups in readers.items() if "shops" in groups} == {
        "webhook_ingest", "reconcile", "channel_push", "imports_run", "order_poll", "amazon_notifications"}
    assert {name for name, groups in readers.items() if "api_tokens" in groups} == {
        "staff_api", "storefront_api", "alerts_api", "forecast_api", "reports_api", "purchasing_api",
        "imports_api"}
    assert secret_grants(synth, topology.function("staff_api"))["shops"] == SECRET_WRITE


def test_secret_names_the_code_uses_fall_under_the_granted_groups(monkeypatch):
    from stocklink import config, secrets
    from stocklink.logic.alerting.subscriptions import chat_secret_name

    config.settings.cache_clear()
    monkeypatch.delenv("SECRETS_PREFIX", raising=False)
    try:
        assert secrets.shop_secret_name("shopify", "s1").startswith("stocklink/shops/")
        assert chat_secret_name("ops").startswith("stocklink/chat/")
    finally:
        config.settings.cache_clear()


def test_a_function_declaring_shop_reads_and_tokens_is_refused():
    from infra.constructs.functions import Functions

    both = topology.Function("both", "x.handler", "x", secrets={"shops": "read", "api_tokens": "read"})
    with pytest.raises(ValueError, match="shop credentials and the API tokens"):
        Functions._grant_secrets(both, None, {}, "stocklink/")


def test_webhooks_keep_reserved_containers_and_the_forecast_is_capped(synth):
    reserved = {spec.name: synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"].get(
        "ReservedConcurrentExecutions") for spec in topology.FUNCTIONS}
    assert reserved.pop("webhook_ingest") == 100
    assert reserved.pop("forecast_run") == 1
    assert set(reserved.values()) == {None}            # the rest share the account's pool


def test_storefront_cannot_write_the_events_table(synth):
    # The concrete case from the issue: storefront_api has no access to events at all.
    assert "events" not in topology.function("storefront_api").tables
    events_lid = synth.lid(synth.stack.tables["events"])
    role_lid = synth.resources[synth.lid(synth.stack.functions["storefront_api"])]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert all(events_lid not in refs(st["Resource"]) for st in role_statements(synth, role_lid))


# --- tables ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", topology.TABLES, ids=lambda t: t.name)
def test_tables_are_on_demand_encrypted_recoverable_and_keyed_as_declared(synth, spec):
    resource = synth.resources[synth.lid(synth.stack.tables[spec.name])]
    props = resource["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    assert props["KeySchema"] == keys
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in props.get("GlobalSecondaryIndexes", [])}
    assert indexes == {name: [pk] + ([sk] if sk else []) for name, (pk, sk) in spec.indexes.items()}
    key_names = {spec.partition_key, spec.sort_key} | {k for pair in spec.indexes.values() for k in pair}
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types == {name: "N" if name in spec.number_keys else "S" for name in key_names - {None}}


# --- API ---------------------------------------------------------------------------------------------

def test_every_route_is_an_api_method_proxying_to_its_function(synth):
    paths = resource_paths(synth)
    deployed = {}
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue                    # the console's CORS preflights (test_infra_console)
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        deployed[(props["HttpMethod"], paths[props["ResourceId"]["Ref"]])] = refs(integration["Uri"])
        params = re.findall(r"{([^}]+)}", paths[props["ResourceId"]["Ref"]])
        assert props["RequestParameters"] == {f"method.request.path.{p}": True for p in params}
        assert "RequestValidatorId" in props
    assert set(deployed) == {(r.method, r.path) for r in topology.ROUTES}
    for route in topology.ROUTES:
        assert synth.lid(synth.stack.functions[route.function]) in deployed[(route.method, route.path)]


def _method_settings(synth) -> dict[tuple[str, str], dict]:
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    return {(m["HttpMethod"], m["ResourcePath"]): m for m in stage["Properties"]["MethodSettings"]}


def test_prod_stage_has_access_logs_throttling_and_execution_logging(synth):
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "prod"
    assert "DestinationArn" in props["AccessLogSetting"]
    for settings in _method_settings(synth).values():
        assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
        assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    default = _method_settings(synth)[("*", "/*")]
    assert (default["ThrottlingRateLimit"], default["ThrottlingBurstLimit"]) == (100, 200)


def test_the_webhook_method_has_its_own_throttle(synth):
    """Staff and storefront routes keep the stage's 100/s; the unauthenticated webhooks get their own,
    sized for a flash sale."""
    (webhook,) = [r for r in topology.ROUTES if r.function == "webhook_ingest"]
    assert webhook.throttle == topology.WEBHOOK_THROTTLE == (500.0, 1000)
    settings = _method_settings(synth)
    own = settings.pop(("POST", "/~1webhooks~1{platform}~1{shop}"))
    assert (own["ThrottlingRateLimit"], own["ThrottlingBurstLimit"]) == (500, 1000)
    assert list(settings) == [("*", "/*")]              # every other route: the stage default
    assert [r for r in topology.ROUTES if r.throttle] == [webhook]


def test_no_waf_unless_asked(synth):
    assert not synth.of_type("AWS::WAFv2::WebACL") and not synth.of_type("AWS::WAFv2::WebACLAssociation")
    assert synth.stack.api.web_acl is None


def test_waf_flag_adds_a_web_acl_rate_limiting_webhooks_per_address_on_the_stage(with_waf):
    (acl_lid, acl), = with_waf.of_type("AWS::WAFv2::WebACL").items()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
    (rule,) = props["Rules"]
    assert rule["Action"] == {"Block": {}}
    rate = rule["Statement"]["RateBasedStatement"]
    assert (rate["AggregateKeyType"], rate["Limit"], rate["EvaluationWindowSec"]) == ("IP", 6000, 60)
    match = rate["ScopeDownStatement"]["ByteMatchStatement"]
    assert (match["SearchString"], match["PositionalConstraint"], match["FieldToMatch"]) == (
        "/webhooks/", "CONTAINS", {"UriPath": {}})
    (association,) = with_waf.of_type("AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_lid, "Arn"]}
    (stage_lid,) = with_waf.of_type("AWS::ApiGateway::Stage")
    assert stage_lid in refs(association["Properties"]["ResourceArn"])
    # nothing else changes, and cdk-nag finds nothing (APIG3 is met instead of acknowledged)
    assert not with_waf.violations
    assert not any(rule == "AwsSolutions-APIG3" for _, rule, _ in with_waf.acknowledgements)


def test_outputs_name_the_api_url_and_bus(synth):
    outputs = synth.template["Outputs"]
    assert "ApiUrl" in outputs and "EventBusName" in outputs
    (bus,) = synth.of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == "stocklink"
    (secret,) = synth.of_type("AWS::SecretsManager::Secret").values()
    assert secret["Properties"]["Name"] == "stocklink/api-tokens"
    assert "GenerateSecretString" in secret["Properties"]


# --- schedules and dead-letter queues ----------------------------------------------------------------

def test_30s_schedule_is_a_1_minute_rule_starting_an_express_machine_with_a_30s_wait(synth):
    schedules = [s for s in topology.SCHEDULES if s.every_seconds == 30]
    assert {s.function for s in schedules} == {"reconcile", "order_poll"}
    for schedule in schedules:
        target = check_sub_minute_schedule(synth, schedule)
        check_dlq(synth, target["DeadLetterConfig"]["Arn"])
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_every_async_target_has_a_dead_letter_queue(synth):
    rules = synth.of_type("AWS::Events::Rule")
    assert len(rules) == len(topology.EVENT_RULES) + len(topology.SCHEDULES)
    for rule in rules.values():
        for target in rule["Properties"]["Targets"]:
            check_dlq(synth, target["DeadLetterConfig"]["Arn"])
    async_fns = ({r.function for r in topology.EVENT_RULES if r.queue is None}
                 | {s.function for s in topology.SCHEDULES})
    for name, fn in synth.stack.functions.items():
        props = synth.resources[synth.lid(fn)]["Properties"]
        if name in async_fns:
            check_dlq(synth, props["DeadLetterConfig"]["TargetArn"])
        else:
            assert "DeadLetterConfig" not in props  # API-only functions answer synchronously


def test_every_dead_letter_queue_raises_an_alarm_on_an_encrypted_topic(synth):
    alarm_topics = [lid for lid, topic in synth.of_type("AWS::SNS::Topic").items()
                    if topic["Properties"].get("DisplayName") == "StockLink alarms"]
    assert len(alarm_topics) == 1
    topic_lid = alarm_topics[0]
    assert "KmsMasterKeyId" in synth.resources[topic_lid]["Properties"]
    alarmed = set()
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": topic_lid}]
        assert props["Threshold"] == 1 and props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        alarmed |= refs(props["Dimensions"])
    # Work queues (those that redrive into a DLQ) are not alarmed; every dead-letter queue is.
    dead_letter_queues = {lid for lid, queue in synth.of_type("AWS::SQS::Queue").items()
                          if "RedrivePolicy" not in queue["Properties"]}
    assert alarmed == dead_letter_queues


QUEUED_RULES = [r for r in topology.EVENT_RULES if r.queue is not None]


def test_the_event_consumers_that_merge_batches_are_queued():
    assert {r.function for r in QUEUED_RULES} == {"channel_push", "alerts", "sales_aggregate"}
    for rule in QUEUED_RULES:
        assert 2 <= rule.queue.max_concurrency, rule.name
        # above 10 records AWS requires a batching window of at least 1 s
        assert rule.queue.batch_size <= 10 or rule.queue.max_batching_window_s >= 1, rule.name
    # the push is on the sale's critical path: handed over as soon as it lands, never held for a window
    (push,) = [r for r in QUEUED_RULES if r.function == "channel_push"]
    assert push.queue.max_batching_window_s == 0 and push.queue.batch_size <= 10
    # the consumers that only need to keep up gather bigger batches: fewer passes over a hot SKU
    assert all(r.queue.max_batching_window_s >= 1 and r.queue.batch_size > 10
               for r in QUEUED_RULES if r.function != "channel_push")


def _rule_lid(synth, rule) -> str:
    pattern = {"source": [rule.source], "detail-type": list(rule.detail_types)}
    (lid,) = [lid for lid, r in synth.of_type("AWS::Events::Rule").items()
              if r["Properties"].get("EventPattern") == pattern]
    return lid


@pytest.mark.parametrize("rule", QUEUED_RULES, ids=lambda r: r.name)
def test_a_queued_rule_feeds_an_sqs_queue_drained_in_batches_with_a_dlq(synth, rule):
    rule_lid = _rule_lid(synth, rule)
    # the rule targets the queue (with its own delivery DLQ and retries), not the function
    (target,) = synth.resources[rule_lid]["Properties"]["Targets"]
    (queue_lid,) = refs(target["Arn"])
    assert target["Arn"] == {"Fn::GetAtt": [queue_lid, "Arn"]}
    queue = synth.resources[queue_lid]["Properties"]
    assert synth.resources[queue_lid]["Type"] == "AWS::SQS::Queue"
    check_dlq(synth, target["DeadLetterConfig"]["Arn"])
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    # records failing max_receive_count times move to a DLQ that raises an alarm like every other
    assert queue["RedrivePolicy"]["maxReceiveCount"] == rule.queue.max_receive_count
    dlq_lid = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    check_dlq(synth, {"Fn::GetAtt": [dlq_lid, "Arn"]})
    assert dlq_lid == synth.lid(synth.stack.dead_letter_queues[f"{rule.name}-dlq"])   # alarmed, watched by the tick
    assert queue["VisibilityTimeout"] == rule.queue.visibility_timeout_s
    assert queue["VisibilityTimeout"] >= 6 * topology.function(rule.function).timeout_s
    # the function drains it in small batches at once, reporting partial failures, with bounded pollers
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_lid, "Arn"]}]
    fn_lid = synth.lid(synth.stack.functions[rule.function])
    assert mapping["FunctionName"] == {"Ref": fn_lid}
    assert mapping["BatchSize"] == rule.queue.batch_size
    if rule.queue.max_batching_window_s:
        assert mapping["MaximumBatchingWindowInSeconds"] == rule.queue.max_batching_window_s
    else:
        assert "MaximumBatchingWindowInSeconds" not in mapping   # no added wait: latency matters here
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": rule.queue.max_concurrency}
    # the function may consume that queue
    role_lid = synth.resources[fn_lid]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert any("sqs:ReceiveMessage" in _actions(st) and queue_lid in refs(st["Resource"])
               for st in role_statements(synth, role_lid))
    # and this rule no longer invokes it asynchronously (a schedule of the same function still may)
    invoke_grants = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()
                     if p["Properties"]["FunctionName"] in ({"Fn::GetAtt": [fn_lid, "Arn"]}, {"Ref": fn_lid})
                     and p["Properties"]["Principal"] == "events.amazonaws.com"]
    assert not [p for p in invoke_grants if rule_lid in refs(p.get("SourceArn"))]
    if not any(s.function == rule.function for s in topology.SCHEDULES):
        assert invoke_grants == []


def test_a_queued_function_without_a_schedule_has_no_async_dead_letter_queue(synth):
    for rule in QUEUED_RULES:
        props = synth.resources[synth.lid(synth.stack.functions[rule.function])]["Properties"]
        scheduled = any(s.function == rule.function for s in topology.SCHEDULES)
        assert ("DeadLetterConfig" in props) == scheduled, rule.function
        assert (f"{rule.function}-async" in synth.stack.dead_letter_queues) == scheduled, rule.function


def test_the_alert_tick_watches_the_dead_letter_queues_of_every_queued_rule(synth):
    env = synth.resources[synth.lid(synth.stack.functions["alerts"])]["Properties"]["Environment"]["Variables"]
    # {"<name>": "<queue URL>", ...} rendered as Fn::Join ["", [..., '..."<name>":"', {"Ref": queue}, ...]]
    parts = env["DEAD_LETTER_QUEUES"]["Fn::Join"][1]
    urls = {parts[n - 1].rsplit('"', 3)[-3]: parts[n]["Ref"] for n in range(1, len(parts)) if isinstance(parts[n], dict)}
    for rule in QUEUED_RULES:
        # a Ref of an SQS queue is its URL: the queue's redrive DLQ, by name
        assert urls[f"{rule.name}-dlq"] == synth.lid(synth.stack.dead_letter_queues[f"{rule.name}-dlq"]), rule.name


# CloudFormation refuses a template of more than 500 resources. Each stack keeps room for issue 19's growth
# (~10 functions, ~60 routes: ~70 resources in the parent, ~130 spread over the route stacks).
STACK_RESOURCE_LIMIT = 400


def test_every_stack_stays_well_inside_cloudformations_500_resources(with_waf):
    """The API's resources and methods (two thirds of the whole) live in the route stacks; with the WAF the
    single stack had reached 483. Every template stays far below the limit, with room to grow."""
    counts = with_waf.resource_counts()
    print("\nresources per stack (with the WAF): " + ", ".join(f"{n}: {c}" for n, c in counts.items())
          + f"; total {sum(counts.values())}")
    assert all(count <= STACK_RESOURCE_LIMIT for count in counts.values()), counts
    route_stacks = [t for name, t in with_waf.templates.items() if name.endswith(".nested.template.json")]
    assert len(route_stacks) == ROUTE_STACKS
    parent = with_waf.template["Resources"]
    assert not [lid for lid, r in parent.items() if r["Type"] in ("AWS::ApiGateway::Method", "AWS::ApiGateway::Resource")]
    for template in route_stacks:                        # nothing but the API's resources and methods
        assert {r["Type"] for r in template["Resources"].values()} == {"AWS::ApiGateway::Resource",
                                                                        "AWS::ApiGateway::Method"}
    api_grants = [p["Properties"] for p in with_waf.of_type("AWS::Lambda::Permission").values()
                  if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    functions = {json.dumps(p["FunctionName"], sort_keys=True) for p in api_grants}
    assert len(api_grants) == len(functions) == len({r.function for r in topology.ROUTES})
    (api_lid,) = with_waf.of_type("AWS::ApiGateway::RestApi")
    assert all(api_lid in refs(p["SourceArn"]) for p in api_grants)     # this API, no other caller


def test_each_path_subtree_lives_in_the_route_stack_its_top_segment_hashes_to(synth):
    """A route never moves between stacks when others are added: API Gateway refuses a second resource of
    the same path, so a move would fail the update (infra/README.md, "Route stacks")."""
    paths = resource_paths(synth)
    stacks = synth.stack.api.route_stacks
    for index, nested in stacks.items():
        (template,) = [t for name, t in synth.templates.items() if name == nested.template_file]
        for lid, resource in template["Resources"].items():
            if resource["Type"] == "AWS::ApiGateway::Resource":
                assert route_stack_index(paths[lid]) == index, paths[lid]
    assert set(stacks) == {route_stack_index(r.path) for r in topology.ROUTES}


# Stateful or addressed resources a deployed stack keeps only while their logical ids stay: the tables (and
# their data), the bus and the tokens secret (fixed names), the console's users, the API and its stage
# (the URL platforms and storefronts call), the console's buckets, the work and dead-letter queues.
KEPT_LOGICAL_IDS = {
    "AWS::DynamoDB::Table": {"DataAlerts2B703F81", "DataAuditE4D9F575", "DataCatalog8550AEFB", "DataEventsB3DAF25C",
                             "DataForecastB1F0C52D", "DataLedgerDBC368C7", "DataPurchasing3D0551C9",
                             "DataReportsDF118707", "DataReservationsD19987A1", "DataStock7314ACC5",
                             "DataTokensCB583751"},
    "AWS::Events::EventBus": {"EventsBus45DE4339"},
    "AWS::SecretsManager::Secret": {"ApiTokens3BDC4436"},
    "AWS::Cognito::UserPool": {"ConsoleAuthUserPool5EBCD0F1"},
    "AWS::ApiGateway::RestApi": {"ApiRestApiE35FEAFE"},
    "AWS::ApiGateway::Stage": {"ApiRestApiDeploymentStageprodE828476C"},
    "AWS::S3::Bucket": {"ConsoleFiles2D43986C", "ConsoleLogs223D8CCD"},
    "AWS::SQS::Queue": {"EventsAlertsOnEventsQueue3B0D91A4", "EventsChannelPushOnStockQueue5575A3B0",
                        "EventsSalesOnStockChangedQueue6529B32C", "DeadLettersChannelPushOnStockDlqF3CAB408"},
}


@pytest.mark.parametrize("cfn_type", sorted(KEPT_LOGICAL_IDS))
def test_stateful_resources_keep_their_logical_ids_in_the_parent(synth, cfn_type):
    """An update from a template of before the route stacks updates these in place, never replaces them."""
    in_parent = {lid for lid, r in synth.template["Resources"].items() if r["Type"] == cfn_type}
    assert KEPT_LOGICAL_IDS[cfn_type] <= in_parent
    if cfn_type == "AWS::DynamoDB::Table":
        assert in_parent == KEPT_LOGICAL_IDS[cfn_type] == {synth.lid(t) for t in synth.stack.tables.values()}


def test_the_detached_step_keeps_the_api_and_data_but_no_route(synth, detached):
    """Step 1 of the move (infra/README.md): the parent drops every route, so step 2 can create them in the
    route stacks without meeting an existing path; everything else keeps its logical id."""
    assert not detached.stack.api.route_stacks and len(detached.templates) == 1
    (method,) = detached.of_type("AWS::ApiGateway::Method").values()
    assert method["Properties"]["Integration"]["Type"] == "MOCK"
    assert resource_paths(detached)[method["Properties"]["ResourceId"]["Ref"]] == "/maintenance"
    assert not {"maintenance"} & {r.path.strip("/").split("/")[0] for r in topology.ROUTES}
    assert not detached.violations
    # (the functions' API invoke permissions go with the routes and come back under the same ids)
    kept = {lid for lid, r in synth.template["Resources"].items()
            if r["Type"] not in ("AWS::CloudFormation::Stack", "AWS::ApiGateway::Deployment")
            and r["Properties"].get("Principal") != "apigateway.amazonaws.com"}
    assert kept <= set(detached.template["Resources"])
    for lid in kept - {lid for lid, r in synth.template["Resources"].items() if r["Type"] == "AWS::ApiGateway::Stage"}:
        assert detached.template["Resources"][lid] == synth.template["Resources"][lid], lid
