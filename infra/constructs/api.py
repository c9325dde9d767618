"""REST API: one resource/method per topology.ROUTES entry, Lambda proxy to the route's function; the stage's
default throttle, a route's own where it declares one, and optionally a WAF web ACL (infra/constructs/waf).

The API itself (RestApi, deployment, stage, validator, gateway responses, WAF, the functions' invoke
permissions) stays in the parent stack, so its id and URL never change; its resources and methods, two
thirds of all resources, live in ROUTE_STACKS nested stacks (CloudFormation's limit is 500 per stack).
Each top-level path segment (/skus, /webhooks, ...) and its whole subtree belongs to one route stack, chosen
by a stable hash of the segment: adding a route or a segment never moves an existing route to another stack
(API Gateway refuses a second resource of the same path, so a moved route would fail the update).
"""
from __future__ import annotations

import re
import zlib

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import acknowledge
from infra.constructs.waf import WebAcl

# Nested stacks holding the API's resources and methods. Changing the number re-hashes the segments, i.e.
# moves routes between stacks: a deployed stack then needs the migration of infra/README.md.
ROUTE_STACKS = 4


def route_stack_index(path: str) -> int:
    """The route stack that holds a path: by its top-level segment, the same on every synth."""
    segment = path.strip("/").split("/")[0]
    return zlib.crc32(segment.encode()) % ROUTE_STACKS


class Api(Construct):
    def __init__(self, scope: Construct, id: str, *, routes, functions: dict[str, lambda_.IFunction],
                 log_retention: logs.RetentionDays, rate_limit: float = 100, burst_limit: int = 200,
                 waf: bool = False, detach_routes: bool = False) -> None:
        """detach_routes: the one-off first step of moving a deployed stack's routes into the route stacks
        (infra/README.md): no routes at all, only a MOCK GET /maintenance answering 503."""
        super().__init__(scope, id)
        if detach_routes:
            routes = ()
        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention,
                                    removal_policy=cdk.RemovalPolicy.DESTROY)
        self.api = apigw.RestApi(
            self, "RestApi",
            rest_api_name=f"{cdk.Stack.of(self).stack_name}-api",
            description="StockLink: staff API, storefront reservations, platform webhooks",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Access and execution logging need the account-level API Gateway CloudWatch role.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name="prod",
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # full request logging would write tokens and webhook bodies
                metrics_enabled=True,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                method_options=_own_throttles(routes),
            ),
        )
        # Path parameters are required by construction; bodies are validated by the functions' pydantic models
        # (webhook bodies must reach the function byte-for-byte for signature checks, so no API models there).
        validator = self.api.add_request_validator("Params", validate_request_parameters=True,
                                                   validate_request_body=False)
        self.routes = routes
        self.route_stacks: dict[int, cdk.NestedStack] = {}
        self._tops: dict[str, apigw.Resource] = {}
        integrations: dict[str, apigw.LambdaIntegration] = {}
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        for route in routes:
            if route.function not in functions:
                raise ValueError(f"route {route.method} {route.path} targets unknown function {route.function!r}")
            if route.function not in integrations:
                # One invoke permission per function, for this API only (not one per method, and no console
                # test-invoke grants): with one per method the stack passed CloudFormation's 500-resource limit
                # (502 with the WAF). The API itself routes each method to its one function.
                integrations[route.function] = apigw.LambdaIntegration(
                    functions[route.function], proxy=True, allow_test_invoke=False,
                    scope_permission_to_method=False)
            resource = self.resource_for(route.path)
            params = re.findall(r"{([^}+]+)\+?}", route.path)
            self.methods[(route.method, route.path)] = resource.add_method(
                route.method, integrations[route.function],
                request_validator=validator,
                request_parameters={f"method.request.path.{p}": True for p in params},
            )
        if detach_routes:
            self._maintenance_method()
        self.url = self.api.url
        # The API's origin without the stage, known before the stage exists (the console's CSP needs it,
        # and the functions' environment needs the console's origin: no cycle through the deployment).
        self.origin = (f"https://{self.api.rest_api_id}.execute-api.{cdk.Aws.REGION}."
                       f"{cdk.Aws.URL_SUFFIX}")
        self.web_acl = WebAcl(self, "Waf", stage=self.api.deployment_stage) if waf else None

        token_routes = sorted(f"{r.method} {r.path}" for r in routes if r.auth == "token")
        reason = ("No API Gateway authorizer by design: token routes (" + str(len(token_routes)) + ") are checked "
                  "by the function against the hashed tokens of the tokens table and the bootstrap tokens of the "
                  "stocklink/api-tokens secret, or as the console's Cognito ID tokens (stocklink.cognito); "
                  "platform webhooks are authenticated by the platform's HMAC signature over the raw body; "
                  "/health is public; CORS preflights (OPTIONS) carry no credentials by the standard.")
        # The methods are in the route stacks (the maintenance method of a detached API: under the RestApi).
        for scope in (*self.route_stacks.values(), *((self.api,) if detach_routes else ())):
            acknowledge(scope, "AwsSolutions-APIG4", reason)
            acknowledge(scope, "AwsSolutions-COG4", reason + " Sellers' storefronts and platforms are machines, "
                        "not Cognito users.")
        acknowledge(self.api, "AwsSolutions-APIG2",
                    "Request parameters are validated by API Gateway; bodies are validated by each function's "
                    "pydantic models (one source of truth for the schema), and webhook bodies must reach the "
                    "function unaltered for the HMAC check.")
        if not waf:
            acknowledge(self.api, "AwsSolutions-APIG3",
                        "WAF is optional and priced per web ACL (`cdk deploy -c stocklink:waf=true` adds one "
                        "with a per-address rate limit on the webhooks); without it the stage and webhook "
                        "throttles limit abuse.")
        acknowledge(self.api, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                    "API Gateway's account-level CloudWatch role uses the AWS-managed policy made for exactly this "
                    "purpose; it is required for access and execution logs.")

    def _maintenance_method(self) -> None:
        """The API must keep one method (CDK refuses an API without any); a path no route uses, so the next
        deployment can create every route in the route stacks without meeting an existing one."""
        self.api.root.add_resource("maintenance").add_method(
            "GET", apigw.MockIntegration(
                request_templates={"application/json": '{"statusCode": 503}'},
                integration_responses=[apigw.IntegrationResponse(
                    status_code="503",
                    response_templates={"application/json": '{"detail": "StockLink is being updated"}'})]),
            method_responses=[apigw.MethodResponse(status_code="503")])

    def resource_for(self, path: str) -> apigw.Resource:
        """The API resource of a path, made on first use inside its top-level segment's route stack."""
        segment, _, rest = path.strip("/").partition("/")
        if not segment:
            return self.api.root          # a method on "/" itself stays beside the API, in the parent
        top = self._tops.get(segment)
        if top is None:
            index = route_stack_index(segment)
            if index not in self.route_stacks:
                self.route_stacks[index] = cdk.NestedStack(
                    self, f"Routes{index}",
                    description=f"StockLink API resources and methods, route stack {index} of {ROUTE_STACKS} "
                                "(infra/constructs/api.py)")
            # A resource of the parent's API made in the nested stack: the API id and root resource id
            # become the nested stack's parameters, and the parent's deployment depends on its methods.
            top = apigw.Resource(self.route_stacks[index], segment, parent=self.api.root, path_part=segment)
            self._tops[segment] = top
        return top.resource_for_path(rest) if rest else top


def allow_browser_origin(api: Api, origin: str) -> None:
    """CORS for one browser origin (the console site) on the token routes, the only ones a browser calls:
    API Gateway answers each preflight itself (a MOCK OPTIONS method: no function runs), the functions add
    the headers to their answers (stocklink.web.console_cors), and API Gateway's own errors (throttling,
    no such route) carry the origin too so the console can read them."""
    methods: dict[str, set[str]] = {}
    for route in api.routes:
        if route.auth == "token":
            methods.setdefault(route.path, set()).add(route.method)
    for path, allowed in sorted(methods.items()):
        api.resource_for(path).add_cors_preflight(
            allow_origins=[origin], allow_methods=sorted(allowed),
            allow_headers=["Authorization", "Content-Type"], max_age=cdk.Duration.minutes(10))
    for name, response_type in (("Cors4xx", apigw.ResponseType.DEFAULT_4_XX),
                                ("Cors5xx", apigw.ResponseType.DEFAULT_5_XX)):
        api.api.add_gateway_response(name, type=response_type,
                                     response_headers={"Access-Control-Allow-Origin": f"'{origin}'",
                                                       "Vary": "'Origin'"})


def _own_throttles(routes) -> dict[str, apigw.MethodDeploymentOptions]:
    """Method settings of the routes with their own throttle (the webhooks). They keep the stage's logging:
    a method's settings replace the stage defaults for that method."""
    return {f"{route.path}/{route.method}": apigw.MethodDeploymentOptions(
                throttling_rate_limit=route.throttle[0], throttling_burst_limit=route.throttle[1],
                logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False, metrics_enabled=True)
            for route in routes if getattr(route, "throttle", None)}
