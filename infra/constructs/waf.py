"""Optional AWS WAF web ACL on the API stage (context stocklink:waf=true): a per-source-IP rate limit on
the platform webhooks, so one address flooding the unauthenticated webhook route is blocked by WAF before
it uses up the method's own throttle that a flash sale's real webhooks need.

Only the webhooks are rate limited per address: staff and storefront routes carry Bearer tokens, and a
seller's storefront server legitimately sends a whole sale's reservations from one address.
"""
from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Requests one source address may send to the webhooks per window before WAF blocks it: 100/s on
# average, far above one delivery address of a marketplace, far below the webhook method's throttle.
WEBHOOK_LIMIT_PER_IP = 6000
WINDOW_S = 60
WEBHOOK_PATH = "/webhooks/"     # "contains": the stage name precedes it on the default endpoint


class WebAcl(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: apigw.Stage,
                 webhook_limit_per_ip: int = WEBHOOK_LIMIT_PER_IP) -> None:
        super().__init__(scope, id)
        webhooks = wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="CONTAINS", search_string=WEBHOOK_PATH,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")]))
        self.acl = wafv2.CfnWebACL(
            self, "Acl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            description="StockLink API: per-address rate limit on the platform webhooks",
            visibility_config=_visibility("stocklink-api"),
            rules=[wafv2.CfnWebACL.RuleProperty(
                name="webhooks-per-ip", priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=(
                    wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP", limit=webhook_limit_per_ip, evaluation_window_sec=WINDOW_S,
                        scope_down_statement=webhooks))),
                visibility_config=_visibility("stocklink-webhooks-per-ip"))],
        )
        self.association = wafv2.CfnWebACLAssociation(self, "Association", resource_arn=stage.stage_arn,
                                                       web_acl_arn=self.acl.attr_arn)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(cloud_watch_metrics_enabled=True, metric_name=metric,
                                                    sampled_requests_enabled=True)
