"""The console in AWS on the synthesized template: the Cognito pool, groups and console client, the site's
bucket and CloudFront distribution (origin access control, security headers), the deployed config.json, the
pool in the API functions' environment and CORS for the site's origin only."""
from __future__ import annotations

import json

import pytest
from infra_synth import refs, resource_paths

from infra import topology

TOKEN_FUNCTIONS = {r.function for r in topology.ROUTES if r.auth == "token"}
OPTIONS = {"authDomainPrefix": "acme-ops", "consoleLocalCallback": "true",
           "consoleDomainName": "console.acme.example",
           "consoleCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                                    "0a1b2c3d-1111-2222-3333-444455556666"}


@pytest.fixture(scope="session")
def options(tmp_path_factory):
    """The app with every console context option: own domain prefix, local callback, own name + certificate."""
    from infra_synth import synthesize
    return synthesize(tmp_path_factory.mktemp("cdk-console"), **OPTIONS)


def one(s, cfn_type: str) -> tuple[str, dict]:
    (found,) = s.of_type(cfn_type).items()
    return found[0], found[1]["Properties"]


def distribution_url(s, path: str = "") -> dict:
    lid = s.lid(s.stack.console.distribution)
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [lid, "DomainName"]}] + ([path] if path else [])]}


# --- Cognito -------------------------------------------------------------------------------------------

def test_user_pool_is_invitation_only_with_strong_passwords_totp_and_threat_protection(synth):
    lid, pool = one(synth, "AWS::Cognito::UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["AliasAttributes"] == ["email"] and pool["UsernameConfiguration"] == {"CaseSensitive": False}
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(password[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert pool["MfaConfiguration"] == "OPTIONAL" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["UserPoolTier"] == "PLUS" and pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["AccountRecoverySetting"]["RecoveryMechanisms"] == [{"Name": "verified_email", "Priority": 1}]
    # stateful like the tables: deletion protection and kept on stack deletion
    assert pool["DeletionProtection"] == "ACTIVE"
    assert synth.resources[lid]["DeletionPolicy"] == "Retain"


def test_groups_are_the_four_person_roles_of_that_pool(synth):
    pool_lid, _ = one(synth, "AWS::Cognito::UserPool")
    groups = {g["Properties"]["GroupName"]: g["Properties"]
              for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()}
    assert set(groups) == {"admin", "buyer", "staff", "viewer"}
    assert all(g["UserPoolId"] == {"Ref": pool_lid} for g in groups.values())


def test_hosted_ui_domain_prefix_comes_from_the_stack_or_the_context(synth, options):
    _, domain = one(synth, "AWS::Cognito::UserPoolDomain")
    assert domain["Domain"] == {"Fn::Join": ["", ["stocklinkstack-", {"Ref": "AWS::AccountId"}]]}
    _, chosen = one(options, "AWS::Cognito::UserPoolDomain")
    assert chosen["Domain"] == "acme-ops"


def test_console_client_is_public_code_grant_to_the_console_url_with_short_tokens(synth):
    pool_lid, _ = one(synth, "AWS::Cognito::UserPool")
    _, client = one(synth, "AWS::Cognito::UserPoolClient")
    assert client["UserPoolId"] == {"Ref": pool_lid}
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]   # no password flows outside the hosted UI
    console = distribution_url(synth, "/console/")
    assert client["CallbackURLs"] == [console] and client["LogoutURLs"] == [console]
    assert client["DefaultRedirectURI"] == console
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"}
    assert (client["IdTokenValidity"], client["AccessTokenValidity"], client["RefreshTokenValidity"]) == (60, 60, 480)
    assert client["PreventUserExistenceErrors"] == "ENABLED" and client["EnableTokenRevocation"] is True


def test_local_console_callback_only_when_asked(synth, options):
    _, client = one(options, "AWS::Cognito::UserPoolClient")
    local = "http://127.0.0.1:8080/console/"
    assert client["CallbackURLs"] == ["https://console.acme.example/console/", local]
    assert client["LogoutURLs"] == client["CallbackURLs"]
    _, default = one(synth, "AWS::Cognito::UserPoolClient")
    assert local not in json.dumps(default)


# --- the site ------------------------------------------------------------------------------------------

def test_files_bucket_is_private_tls_only_encrypted_versioned_and_logged(synth):
    files_lid = synth.lid(synth.stack.console.bucket)
    logs_lid = synth.lid(synth.stack.console.logs)
    files = synth.resources[files_lid]["Properties"]
    assert files["PublicAccessBlockConfiguration"] == {k: True for k in (
        "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")}
    assert files["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"}
    assert files["VersioningConfiguration"] == {"Status": "Enabled"}
    assert files["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_lid}
    logs = synth.resources[logs_lid]["Properties"]
    assert logs["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True and "BucketEncryption" in logs
    assert "AccessControl" not in logs                    # S3 log delivery by bucket policy, not the legacy ACL
    for lid in (files_lid, logs_lid):
        statements = _bucket_policy(synth, lid)
        assert any(st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for st in statements), lid


def _bucket_policy(s, bucket_lid: str) -> list[dict]:
    (policy,) = [p["Properties"] for p in s.of_type("AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": bucket_lid}]
    return policy["PolicyDocument"]["Statement"]


def test_distribution_reads_the_bucket_through_origin_access_control_only(synth):
    dist_lid = synth.lid(synth.stack.console.distribution)
    files_lid = synth.lid(synth.stack.console.bucket)
    (origin,) = synth.resources[dist_lid]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [files_lid, "RegionalDomainName"]}
    oac_lid, oac = one(synth, "AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_lid, "Id"]}
    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert not synth.of_type("AWS::CloudFront::CloudFrontOriginAccessIdentity")
    (allow,) = [st for st in _bucket_policy(synth, files_lid) if st["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [files_lid, "Arn"]}, "/*"]]}
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":cloudfront::", {"Ref": "AWS::AccountId"}, ":distribution/",
        {"Ref": dist_lid}]]}}}                           # this distribution, and no other


def test_distribution_serves_the_spa_over_https_http3_with_logs(synth):
    config = synth.resources[synth.lid(synth.stack.console.distribution)]["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "console/index.html"
    assert {(e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in config["CustomErrorResponses"]} == {
        (403, 200, "/console/index.html"), (404, 200, "/console/index.html")}
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https" and behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["HttpVersion"] == "http2and3"
    assert config["Logging"]["Bucket"] == {"Fn::GetAtt": [synth.lid(synth.stack.console.logs), "RegionalDomainName"]}
    assert "ViewerCertificate" not in config               # *.cloudfront.net (acknowledged CFR4)


def test_own_domain_gets_its_certificate_and_tls_1_2(options):
    config = options.resources[options.lid(options.stack.console.distribution)]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["console.acme.example"]
    assert config["ViewerCertificate"] == {"AcmCertificateArn": OPTIONS["consoleCertificateArn"],
                                           "MinimumProtocolVersion": "TLSv1.2_2021", "SslSupportMethod": "sni-only"}
    assert not options.violations
    assert not any(rule == "AwsSolutions-CFR4" for _, rule, _ in options.acknowledgements)
    env = options.resources[options.lid(options.stack.functions["staff_api"])]["Properties"]["Environment"]
    assert env["Variables"]["CONSOLE_ORIGIN"] == "https://console.acme.example"


def test_security_headers_and_a_csp_naming_the_api_and_the_hosted_ui(synth):
    _, policy = one(synth, "AWS::CloudFront::ResponseHeadersPolicy")
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    csp = _render(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    directives = dict(d.split(" ", 1) for d in csp.split("; ") if " " in d)
    api = "https://${" + synth.lid(synth.stack.api.api) + "}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    hosted_ui = "https://${" + synth.lid(synth.stack.console_auth.domain) + "}.auth.${AWS::Region}.amazoncognito.com"
    assert directives["connect-src"].split() == ["'self'", api, hosted_ui]
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    config = synth.resources[synth.lid(synth.stack.console.distribution)]["Properties"]["DistributionConfig"]
    policy_lid, _ = one(synth, "AWS::CloudFront::ResponseHeadersPolicy")
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": policy_lid}


def _render(value) -> str:
    """A Fn::Join of strings and Refs as text, Refs as ${LogicalId}."""
    if isinstance(value, str):
        return value
    return "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in value["Fn::Join"][1])


# --- deployment and config.json ------------------------------------------------------------------------

def test_config_json_is_deployed_with_the_api_url_and_cognito_ids(synth):
    (deployment,) = [r["Properties"] for r in synth.resources.values() if r["Type"] == "Custom::CDKBucketDeployment"]
    assert deployment["DestinationBucketName"] == {"Ref": synth.lid(synth.stack.console.bucket)}
    assert deployment["DestinationBucketKeyPrefix"] == "console/"
    assert deployment["DistributionId"] == {"Ref": synth.lid(synth.stack.console.distribution)}
    assert deployment["DistributionPaths"] == ["/console/*"]
    configs = [(key, markers) for key, markers in zip(deployment["SourceObjectKeys"], deployment["SourceMarkers"])
               if (synth.outdir / f"asset.{key.removesuffix('.zip')}" / "config.json").exists()]
    (key, markers) = configs[0]
    text = (synth.outdir / f"asset.{key.removesuffix('.zip')}" / "config.json").read_text()
    for marker, value in markers.items():                    # what the deployment writes in place of each marker
        text = text.replace(marker, json.dumps(value))
    config = json.loads(text)
    stage_lid = next(iter(synth.of_type("AWS::ApiGateway::Stage")))
    assert stage_lid in refs(config["apiBase"]) and synth.lid(synth.stack.api.api) in refs(config["apiBase"])
    auth = config["auth"]
    assert auth["mode"] == "cognito"
    assert refs(auth["userPoolId"]) == {one(synth, "AWS::Cognito::UserPool")[0]}
    assert refs(auth["clientId"]) == {one(synth, "AWS::Cognito::UserPoolClient")[0]}
    assert refs(auth["domain"]) == {one(synth, "AWS::Cognito::UserPoolDomain")[0], "AWS::Region"}
    assert refs(auth["region"]) == {"AWS::Region"}


def test_without_a_console_build_only_config_json_is_deployed_with_a_warning(tmp_path):
    deployment, warnings = _site_only(tmp_path, dist=tmp_path / "missing")
    assert len(deployment["SourceObjectKeys"]) == 1
    assert any("has no index.html" in w for w in warnings)


def test_a_console_build_is_deployed_beside_config_json(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>StockLink</title>")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    deployment, warnings = _site_only(tmp_path, dist=dist)
    assert len(deployment["SourceObjectKeys"]) == 2 and not warnings
    staged = [tmp_path / "out" / f"asset.{k.removesuffix('.zip')}" for k in deployment["SourceObjectKeys"]]
    assert {p.name for d in staged for p in d.iterdir()} == {"index.html", "assets", "config.json"}
    assert deployment["Prune"] is False            # a browser on the previous build can still load its chunks


def _site_only(tmp_path, dist):
    """The site construct alone in a small stack (a second synth of the whole app would cost seconds)."""
    import aws_cdk as cdk
    from aws_cdk import aws_logs as logs

    from infra.constructs.console_site import ConsoleSite

    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "SiteOnly")
    site = ConsoleSite(stack, "Console", api_origin="https://api.example.com",
                       auth_origin="https://auth.example.com", log_retention=logs.RetentionDays.ONE_WEEK)
    site.deploy_files(dist, {"apiBase": "https://api.example.com/prod/"})
    from aws_cdk.assertions import Annotations, Match

    template = app.synth().get_stack_by_name("SiteOnly").template
    (deployment,) = [r["Properties"] for r in template["Resources"].values()
                     if r["Type"] == "Custom::CDKBucketDeployment"]
    warnings = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    return deployment, [str(w.entry.data) for w in warnings]


# --- the API side --------------------------------------------------------------------------------------

def test_functions_serving_token_routes_know_the_pool_client_and_console_origin(synth):
    pool_lid, _ = one(synth, "AWS::Cognito::UserPool")
    client_lid, _ = one(synth, "AWS::Cognito::UserPoolClient")
    for spec in topology.FUNCTIONS:
        env = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Environment"]["Variables"]
        if spec.name in TOKEN_FUNCTIONS:
            assert env["COGNITO_USER_POOL_ID"] == {"Ref": pool_lid}, spec.name
            assert env["COGNITO_CLIENT_ID"] == {"Ref": client_lid}, spec.name
            assert env["CONSOLE_ORIGIN"] == distribution_url(synth), spec.name
        else:
            assert not {"COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "CONSOLE_ORIGIN"} & set(env), spec.name


def test_cors_preflight_for_the_console_origin_on_token_routes_only(synth):
    paths = resource_paths(synth)
    origin = {"Fn::Join": ["", ["'https://", {"Fn::GetAtt": [synth.lid(synth.stack.console.distribution),
                                                             "DomainName"]}, "'"]]}
    preflights = {}
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            assert props["Integration"]["Type"] == "MOCK"            # answered by API Gateway, no function
            (answer,) = props["Integration"]["IntegrationResponses"]
            preflights[paths[props["ResourceId"]["Ref"]]] = answer["ResponseParameters"]
    expected: dict[str, set[str]] = {}
    for route in topology.ROUTES:
        if route.auth == "token":
            expected.setdefault(route.path, set()).add(route.method)
    assert set(preflights) == set(expected)                           # no preflight for webhooks or /health
    for path, headers in preflights.items():
        assert headers["method.response.header.Access-Control-Allow-Origin"] == origin, path
        methods = headers["method.response.header.Access-Control-Allow-Methods"].strip("'").split(",")
        assert set(methods) == expected[path], path
        assert "Authorization" in headers["method.response.header.Access-Control-Allow-Headers"]
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()}
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses.values():
        assert response["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == origin


def test_outputs_name_the_console_url_and_cognito_ids(synth):
    outputs = synth.template["Outputs"]
    assert outputs["ConsoleUrl"]["Value"] == distribution_url(synth, "/console/")
    assert outputs["ConsoleUserPoolId"]["Value"] == {"Ref": one(synth, "AWS::Cognito::UserPool")[0]}
    assert outputs["ConsoleClientId"]["Value"] == {"Ref": one(synth, "AWS::Cognito::UserPoolClient")[0]}
    assert "ConsoleSignInDomain" in outputs


def test_bad_domain_prefix_fails_the_synth():
    from infra.constructs.console_auth import check_domain_prefix, default_domain_prefix

    for bad in ("Acme", "-acme", "acme-", "my-aws-shop", "cognito-ops", "a" * 64, "acme_ops"):
        with pytest.raises(ValueError):
            check_domain_prefix(bad)
    assert check_domain_prefix("acme-ops") == "acme-ops"
    assert default_domain_prefix("Amazon-StockLink_Prod").startswith("stocklink-prod-")   # + the account id
