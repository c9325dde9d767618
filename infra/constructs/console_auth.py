"""Sign-in for the console in AWS: a Cognito user pool whose groups are the StockLink roles a person can
hold (admin, staff, buyer, viewer; storefronts are machines with machine tokens), its hosted-UI domain, and the
console's app client (authorization code with PKCE, no secret: the console is a public browser client).

The API verifies the pool's ID tokens itself (stocklink.cognito): the functions get the pool and client
ids in their environment (infra/stacks/stocklink_stack.py).
"""
from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.constructs import acknowledge

# Groups = roles; precedence decides which group's IAM role Cognito would pick (none here), lowest first.
ROLE_GROUPS = {
    "admin": "StockLink admin: everything, including tokens, shop credentials and the audit trail",
    "staff": "StockLink staff: stock, catalog, channels and alerts day to day",
    "viewer": "StockLink viewer: reads the board, SKUs, reports; changes nothing",
    # last: the groups before it keep their precedence
    "buyer": "StockLink buyer: suppliers, their quotes and (later) purchase orders; reads what viewers read",
}
TOKEN_VALIDITY = cdk.Duration.hours(1)      # ID and access tokens: an API call proves a sign-in this recent
SESSION = cdk.Duration.hours(8)             # refresh token: the console's session, one working day
LOCAL_CONSOLE = "http://127.0.0.1:8080/console/"
_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED = ("aws", "amazon", "cognito")    # Cognito refuses domain prefixes containing these


def default_domain_prefix(stack_name: str) -> str:
    """The stack's name, made a valid prefix: account-unique with the account id appended at deploy time."""
    name = re.sub(r"[^a-z0-9-]+", "-", stack_name.lower())
    for word in _RESERVED:
        name = name.replace(word, "")
    name = re.sub(r"-+", "-", name).strip("-")[:40] or "stocklink"
    return f"{name}-{cdk.Aws.ACCOUNT_ID}"


def check_domain_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix) or any(word in prefix for word in _RESERVED):
        raise ValueError(f"stocklink:authDomainPrefix {prefix!r}: 1-63 of a-z 0-9 -, not starting or ending "
                         f"with -, without {', '.join(_RESERVED)}")
    return prefix


class ConsoleAuth(Construct):
    """The user pool and its hosted-UI domain; `add_console_client` adds the console's app client once the
    console's URL is known (the site's distribution needs this domain for its CSP first)."""

    def __init__(self, scope: Construct, id: str, *, domain_prefix: str | None, retain: bool = True) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.pool = cognito.UserPool(
            self, "UserPool",
            user_pool_name=f"{stack.stack_name}-console",
            self_sign_up_enabled=False,                     # an admin creates every account
            # a username (readable in the audit trail as cognito:<username>) and the email to sign in with
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=cdk.Duration.days(3)),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Plus plan: threat protection (compromised credentials, adaptive authentication) enforced
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            user_invitation=cognito.UserInvitationConfig(
                email_subject="Your StockLink console account",
                email_body="Your StockLink console user name is {username} and your temporary password is "
                           "{####}. You will choose a new password at your first sign-in."),
            deletion_protection=retain,
            removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
        )
        acknowledge(self.pool, "AwsSolutions-COG2",
                    "MFA is optional (TOTP; no SMS): a seller's viewers and warehouse staff may sign in "
                    "without an authenticator app, admins are told to enrol one (README), and the Plus plan's "
                    "threat protection (compromised-credential checks, risk scoring of sign-ins) is enforced.")
        self.groups = {
            name: cognito.UserPoolGroup(self, f"{name.capitalize()}Group", user_pool=self.pool, group_name=name,
                                        description=description, precedence=index)
            for index, (name, description) in enumerate(ROLE_GROUPS.items())
        }
        prefix = check_domain_prefix(domain_prefix) if domain_prefix else default_domain_prefix(stack.stack_name)
        self.domain = self.pool.add_domain("HostedUi", cognito_domain=cognito.CognitoDomainOptions(
            domain_prefix=prefix))
        self.domain_host = f"{self.domain.domain_name}.auth.{stack.region}.amazoncognito.com"
        self.domain_url = f"https://{self.domain_host}"
        self.client: cognito.UserPoolClient | None = None

    def add_console_client(self, console_url: str, *, local_callback: bool = False) -> cognito.UserPoolClient:
        """The console's public client: code grant (PKCE) to console_url only, and the local runtime's
        console too when asked (a developer pointing `make run`'s console at this pool)."""
        urls = [console_url] + ([LOCAL_CONSOLE] if local_callback else [])
        self.client = self.pool.add_client(
            "Console",
            user_pool_client_name="stocklink-console",
            generate_secret=False,
            # no password flows from the browser: sign-in happens on the hosted UI only; refresh stays allowed
            auth_flows=cognito.AuthFlow(user_srp=False),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False,
                                         client_credentials=False),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=urls, logout_urls=urls, default_redirect_uri=console_url),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            id_token_validity=TOKEN_VALIDITY,
            access_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=SESSION,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
        )
        return self.client
