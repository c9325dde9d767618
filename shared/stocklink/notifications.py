"""SNS and SQS for alerting: publishing on the alerts topic, its email/SMS subscriptions, and the depth of
the dead-letter queues the scheduled tick watches. The only module alerting reaches AWS messaging through
(as stocklink.bus is for EventBridge): clients are created on first use and kept for the container.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from stocklink import aws_clients
from stocklink.config import settings
from stocklink.observability import logger

_DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@lru_cache(maxsize=1)
def _sns():
    return aws_clients.client("sns")


@lru_cache(maxsize=1)
def _sqs():
    return aws_clients.client("sqs")


def reset_clients() -> None:
    """Forget the clients (a test's fresh container, or new endpoint settings)."""
    _sns.cache_clear()
    _sqs.cache_clear()


# ---------------------------------------------------------------- the alerts topic

def topic_arn() -> str:
    arn = settings().alerts_topic_arn
    if not arn:
        raise RuntimeError("ALERTS_TOPIC_ARN is not set")
    return arn


def publish_alert(kwargs: Mapping[str, Any]) -> str:
    """Publish one message (stocklink.alerts.messages.sns_publish_kwargs); returns its SNS MessageId."""
    return _sns().publish(**kwargs)["MessageId"]


def subscribe(protocol: str, endpoint: str, filter_policy: str) -> str:
    """Subscribe an email address or phone number to the topic, filtered on message attributes; returns
    the subscription ARN (for email: pending until the recipient confirms)."""
    attributes = {"FilterPolicy": filter_policy, "FilterPolicyScope": "MessageAttributes"}
    return _sns().subscribe(TopicArn=topic_arn(), Protocol=protocol, Endpoint=endpoint, Attributes=attributes,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]


def set_filter_policy(subscription_arn: str, filter_policy: str) -> None:
    _sns().set_subscription_attributes(SubscriptionArn=subscription_arn, AttributeName="FilterPolicy",
                                       AttributeValue=filter_policy)


def unsubscribe(subscription_arn: str) -> None:
    _sns().unsubscribe(SubscriptionArn=subscription_arn)


# ---------------------------------------------------------------- queue depths

def queue_depths(refs: Mapping[str, str]) -> dict[str, int]:
    """{name: messages waiting (visible + in flight)} for each {name: queue URL or queue name}. A queue
    that cannot be read is logged and left out: one must not hide the others."""
    depths = {}
    for name, ref in refs.items():
        try:
            url = ref if "://" in ref else _sqs().get_queue_url(QueueName=ref)["QueueUrl"]
            attrs = _sqs().get_queue_attributes(QueueUrl=url, AttributeNames=_DEPTH_ATTRIBUTES)["Attributes"]
        except Exception:  # noqa: BLE001 - see the docstring
            logger.exception("could not read the depth of queue %s", name)
            continue
        depths[name] = sum(int(attrs.get(a, 0)) for a in _DEPTH_ATTRIBUTES)
    return depths
