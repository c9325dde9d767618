"""Environment settings, parsed once per container.

Lambda sets these from the CDK stack; the local runtime sets the same names for its workers; tests set
them in fixtures. Nothing else in the code reads os.environ for configuration.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_EVENT_BUS = "stocklink"
DEFAULT_SECRETS_PREFIX = "stocklink/"
DEFAULT_API_TOKENS_SECRET = "stocklink/api-tokens"
# Secret name groups under the prefix; the CDK grants each function only the groups it declares.
SHOP_SECRETS = "shops/"      # one secret per shop: platform credentials
CHAT_SECRETS = "chat/"       # one secret per chat subscription: webhook URL and signing secret
LOOPBACK_FLAG = "STOCKLINK_ALLOW_LOOPBACK_HTTP"   # the local runtime's workers only (stocklink.outbound_policy)

TABLE_ENV = {
    "stock": "STOCK_TABLE",
    "ledger": "LEDGER_TABLE",
    "reservations": "RESERVATIONS_TABLE",
    "events": "EVENTS_TABLE",
    "catalog": "CATALOG_TABLE",
    "alerts": "ALERTS_TABLE",
    "forecast": "FORECAST_TABLE",
    "tokens": "TOKENS_TABLE",
    "audit": "AUDIT_TABLE",
    "reports": "REPORTS_TABLE",
    "purchasing": "PURCHASING_TABLE",
}


def table_name(logical: str) -> str:
    """Physical table name for a logical table; read at model definition (container start)."""
    return os.environ.get(TABLE_ENV[logical], f"stocklink-{logical}")


@dataclass(frozen=True)
class Settings:
    event_bus_name: str
    secrets_prefix: str
    api_tokens_secret: str
    default_hold_seconds: int
    aws_endpoint_url: str | None
    alerts_topic_arn: str = ""              # the alerts SNS topic (alert function publishes, API subscribes)
    notify_retry_base_delay: float = 1.0    # chat webhook retry backoff base, seconds (tests shrink it)
    dead_letter_queues: str = ""            # JSON {name: queue URL or name}: DLQ depths the alert tick checks
    requeue_queue: str = ""                 # URL or name of the function's own event queue (bus.publish_later)
    allow_loopback_http: bool = False       # outbound calls may reach 127.0.0.1 (the local runtime's simulators);
                                            # set only by infra/local/workers.py, never by the CDK stack
    snapshot_retention_days: int = 400      # daily snapshot rows expire (TTL) this long after their day
    # The console's Cognito sign-in (stocklink.cognito); both unset (the local runtime): JWTs are refused
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    console_origin: str = ""                # the console site's origin, the one origin CORS answers

    @staticmethod
    def from_env() -> "Settings":
        return Settings(
            event_bus_name=os.environ.get("EVENT_BUS_NAME", DEFAULT_EVENT_BUS),
            secrets_prefix=os.environ.get("SECRETS_PREFIX", DEFAULT_SECRETS_PREFIX),
            api_tokens_secret=os.environ.get("API_TOKENS_SECRET", DEFAULT_API_TOKENS_SECRET),
            default_hold_seconds=int(os.environ.get("DEFAULT_HOLD_SECONDS", "900")),
            aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            alerts_topic_arn=os.environ.get("ALERTS_TOPIC_ARN", ""),
            notify_retry_base_delay=float(os.environ.get("NOTIFY_RETRY_BASE_DELAY", "1.0")),
            dead_letter_queues=os.environ.get("DEAD_LETTER_QUEUES", ""),
            requeue_queue=os.environ.get("REQUEUE_QUEUE", ""),
            allow_loopback_http=os.environ.get(LOOPBACK_FLAG) == "1",
            snapshot_retention_days=int(os.environ.get("SNAPSHOT_RETENTION_DAYS", "400")),
            cognito_user_pool_id=os.environ.get("COGNITO_USER_POOL_ID", ""),
            cognito_client_id=os.environ.get("COGNITO_CLIENT_ID", ""),
            console_origin=os.environ.get("CONSOLE_ORIGIN", ""),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
