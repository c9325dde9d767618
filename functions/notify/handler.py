"""Chat fan-out: SQS (subscribed to the alerts topic) -> each matching chat group, with retries.
Thin: one record at a time; failed records are reported so SQS redelivers them (and, after
maxReceiveCount, moves them to the DLQ) while delivered ones are deleted."""
from functions import cold_start_done
from stocklink.logic.alerting.notify import chat_subscriptions, notify_message
from stocklink.observability import logger, metrics
from stocklink.time import now_ms


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    failures = []
    records = event.get("Records", [])
    targets = chat_subscriptions() if records else []
    for record in records:
        try:
            notify_message(record["body"], now_ms(), targets=targets)
        except Exception:  # noqa: BLE001 - this record is retried by SQS, the others are not held up
            logger.exception("notify failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


cold_start_done()   # functions/__init__.py: garbage collection resumes
