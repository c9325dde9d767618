"""Order notifications a platform puts on a queue the stack owns (Amazon SP-API ORDER_CHANGE on SQS).

The queue policy admits only the platform's publisher, so there is no signature to check: what binds a
message to a shop is the seller (and marketplace) it names, matched against each configured shop's
credentials (the adapter's `belongs_to`). Each message's order events go to the same order logic as a
webhook (logic/orders), so the same idempotency markers make a redelivery — or the fallback poll seeing
the same change — apply once.

Per message:
- another notification type, or a seller no shop is configured for: nothing is stored (logged);
- a message that cannot be understood (PayloadInvalid): nothing is stored, logged and dropped — retrying
  cannot mend it, and the fallback poll still reads the order if it is real;
- anything else (the tables, a throttle): the message is reported failed, SQS hands it out again, and
  after the queue's max receive count it waits in the dead-letter queue (alarmed).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from stocklink.channels.base import PayloadInvalid
from stocklink.logic import orders
from stocklink.logic.catalog import shop_credentials
from stocklink.observability import logger
from stocklink.store import catalog as catalog_store


@dataclass
class QueueBatch:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0            # other notification types, unknown sellers
    refused: int = 0            # messages that could not be understood
    failed: list[str] = field(default_factory=list)   # message ids to hand out again


def ingest_notifications(platform: str, messages: list[tuple[str, bytes]], now_ms: int) -> QueueBatch:
    """Apply each (message_id, body); the ids of the messages to retry are in `failed`."""
    from stocklink.channels.registry import adapter_for

    adapter = adapter_for(platform)
    batch = QueueBatch()
    shops: list[tuple[str, dict]] | None = None
    for message_id, body in messages:
        batch.received += 1
        try:
            owner = adapter.notification_owner(body)
            if owner is None:
                batch.ignored += 1
                continue
            if shops is None:       # read once per batch, and only when a message needs it
                shops = _shops(platform)
            shop = next((name for name, creds in shops if adapter.belongs_to(creds, *owner)), None)
            if shop is None:
                logger.warning("notification for no configured shop", extra={"platform": platform,
                                                                            "message_id": message_id})
                batch.ignored += 1
                continue
            for event in adapter.parse_notification(body, shop):
                outcome = orders.apply_order_event(event, now_ms)
                if outcome.get("duplicate"):
                    batch.duplicates += 1
                else:
                    batch.applied += 1
        except PayloadInvalid as exc:
            logger.warning("notification refused", extra={"platform": platform, "message_id": message_id,
                                                          "reason": str(exc)[:300]})
            batch.refused += 1
        except Exception:  # noqa: BLE001 - this message is handed out again, the others go on
            logger.exception("notification failed", extra={"platform": platform, "message_id": message_id})
            batch.failed.append(message_id)
    return batch


def _shops(platform: str) -> list[tuple[str, dict]]:
    found = []
    for doc in catalog_store.all_shops():
        if doc.get("platform") != platform:
            continue
        credentials = shop_credentials(platform, doc["shop"])
        if credentials:
            found.append((doc["shop"], credentials))
    return found
