"""The console in AWS: the built single-page app (console/dist) in a private S3 bucket, served at
https://<distribution>/console/ by CloudFront through origin access control, with a runtime config.json
(API URL, Cognito ids) written at deploy time so one build serves every stack.

- Bucket: no public access, TLS only, SSE-S3 (origin access control reads it without a key policy),
  versioned, server access logs to the site's log bucket. Only CloudFront, as this distribution (the
  bucket policy's AWS:SourceArn), may read it.
- Distribution: HTTPS only (HTTP redirects), HTTP/2 and HTTP/3, standard access logs to the log bucket,
  security headers on every answer (HSTS, nosniff, frame DENY, referrer policy, a CSP that lets the page
  talk to its own origin, the API and the Cognito hosted UI only). A path the app routes itself
  (/console/skus/X) is no object: S3 answers 403/404 and CloudFront answers index.html with 200.
- TLS 1.2+ to viewers needs a certificate of one's own: with context stocklink:consoleDomainName and
  stocklink:consoleCertificateArn (an ACM certificate in us-east-1) the site is served on that name with
  TLSv1.2_2021; without, on the *.cloudfront.net name, whose default certificate CloudFront pairs with its
  TLSv1 policy (acknowledged below).
"""
from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constructs import acknowledge, logical_id

PREFIX = "console"                      # the app's files live under console/ and it is served at /console/
INDEX = f"/{PREFIX}/index.html"
LOG_DAYS = 365


def content_security_policy(api_origin: str, auth_origin: str) -> str:
    """What the page may load and call: its own files, the API and the hosted UI's token endpoint. Inline
    styles are allowed (React and ECharts set style attributes); scripts only from the site itself."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self' {api_origin} {auth_origin}",
        f"form-action 'self' {auth_origin}",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "upgrade-insecure-requests",
    ])


class ConsoleSite(Construct):
    def __init__(self, scope: Construct, id: str, *, api_origin: str, auth_origin: str,
                 log_retention: logs.RetentionDays, domain_name: str | None = None,
                 certificate_arn: str | None = None) -> None:
        super().__init__(scope, id)
        if bool(domain_name) != bool(certificate_arn):
            raise ValueError("stocklink:consoleDomainName and stocklink:consoleCertificateArn go together")
        self.log_retention = log_retention
        # S3 server access logs delivered under a bucket policy (logging.s3.amazonaws.com, this account's
        # source bucket) rather than the legacy LogDeliveryWrite ACL; set before any child reads it.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.logs = s3.Bucket(
            self, "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront's standard logs are delivered with an ACL grant: the bucket must accept ACLs
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(LOG_DAYS))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self, "Files",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="s3/console-files/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(30))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self, "SecurityHeaders",
            comment="StockLink console: HSTS, nosniff, frame DENY, referrer policy, CSP",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730), include_subdomains=True, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(api_origin, auth_origin), override=True),
            ),
        )
        spa_fallback = [cloudfront.ErrorResponse(http_status=status, response_http_status=200,
                                                 response_page_path=INDEX, ttl=cdk.Duration.seconds(10))
                        for status in (403, 404)]
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment="StockLink console",
            default_root_object=INDEX.lstrip("/"),
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ]),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            error_responses=spa_fallback,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/console/",
            log_includes_cookies=False,
            domain_names=[domain_name] if domain_name else None,
            certificate=(acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
                         if certificate_arn else None),
            minimum_protocol_version=(cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate_arn else None),
        )
        host = domain_name or self.distribution.distribution_domain_name
        self.origin = f"https://{host}"
        self.url = f"{self.origin}/{PREFIX}/"
        if not certificate_arn:
            acknowledge(self.distribution, "AwsSolutions-CFR4",
                        "Without a domain of its own the console is served on the distribution's *.cloudfront.net "
                        "name, whose default certificate CloudFront pairs with its TLSv1 policy; modern browsers "
                        "negotiate TLS 1.2/1.3 anyway. Context stocklink:consoleDomainName + "
                        "stocklink:consoleCertificateArn serves it on an own name with TLSv1.2_2021.")
        acknowledge(self.distribution, "AwsSolutions-CFR1",
                    "No geo restriction: a seller's staff and warehouses work from wherever the seller sells "
                    "(mainland China, South-East Asia, travelling staff); access is decided by Cognito sign-in.")
        acknowledge(self.distribution, "AwsSolutions-CFR2",
                    "No WAF on the console's distribution: it serves only static files of a public build and "
                    "config.json (no secrets); every data request goes to the API, which authenticates it and "
                    "has its own throttles and optional WAF (stocklink:waf).")

    def deploy_files(self, dist: Path, config: dict) -> s3deploy.BucketDeployment:
        """Upload the built console and its config.json (tokens resolved at deploy time), then invalidate the
        distribution's cache of /console/*. Without a build only config.json is deployed (with a warning),
        so synth and the infra tests do not need Node."""
        sources = [s3deploy.Source.json_data("config.json", config)]
        if (dist / "index.html").is_file():
            sources.insert(0, s3deploy.Source.asset(str(dist)))
        else:
            cdk.Annotations.of(self).add_warning_v2(
                "stocklink:consoleNotBuilt",
                f"{dist} has no index.html: only {PREFIX}/config.json is deployed. Build the console first "
                "(`npm ci && npm run build` in console/, or `make run` once) and deploy again.")
        self.deployment = s3deploy.BucketDeployment(
            self, "Deploy",
            sources=sources,
            destination_bucket=self.bucket,
            destination_key_prefix=f"{PREFIX}/",
            # Old hashed assets stay: a browser still holding the previous index.html can load its lazy chunks.
            prune=False,
            distribution=self.distribution,
            distribution_paths=[f"/{PREFIX}/*"],
            memory_limit=256,
            log_group=logs.LogGroup(self, "DeployLogs", retention=self.log_retention,
                                    removal_policy=cdk.RemovalPolicy.DESTROY),
        )
        self._acknowledge_deployment_handler()
        return self.deployment

    def _acknowledge_deployment_handler(self) -> None:
        """The findings on the handler aws-cdk-lib builds for BucketDeployment (one per stack, outside this
        construct): its runtime, managed logging policy and grants are the library's, scoped to the two
        buckets it copies between and the invalidation of this distribution."""
        stack = cdk.Stack.of(self)
        (handler,) = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        qualifier = (stack.node.try_get_context("@aws-cdk/core:bootstrapQualifier")
                     or cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER)
        assets = f"arn:<AWS::Partition>:s3:::cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*"
        copy = ("aws-cdk-lib's BucketDeployment handler copies the console build from the CDK assets bucket "
                "(read) into the console bucket (write; delete is granted by the library though prune is off); "
                "its grant helpers spell the actions with wildcards and the objects as bucket/*, on exactly "
                "those two buckets.")
        for finding in ("Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                        "Action::s3:DeleteObject*", "Action::s3:Abort*", f"Resource::{assets}",
                        f"Resource::<{logical_id(self.bucket)}.Arn>/*"):
            acknowledge(handler, f"AwsSolutions-IAM5[{finding}]", copy)
        acknowledge(handler, "AwsSolutions-IAM5[Resource::*]",
                    "aws-cdk-lib's BucketDeployment handler is granted cloudfront:CreateInvalidation and "
                    "GetInvalidation on *; it invalidates only the distribution it is given (this console's).")
        acknowledge(handler, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                             "AWSLambdaBasicExecutionRole]",
                    "aws-cdk-lib's BucketDeployment handler role uses the AWS-managed basic execution policy "
                    "to write its logs; the role is the library's, not configurable per statement.")
        acknowledge(handler, "AwsSolutions-L1",
                    "aws-cdk-lib picks the BucketDeployment handler's Python runtime (with its AWS CLI layer); "
                    "it moves with the library version, not with this stack.")
