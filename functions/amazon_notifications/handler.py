"""Amazon SP-API ORDER_CHANGE notifications from the stack's SQS queue (its policy admits only Amazon's
publisher): each message's order is applied once through the webhook order logic. Thin: the batch to
logic/queued_ingest, the messages to retry back to SQS as partial batch failures."""
from functions import cold_start_done
from stocklink.logic.queued_ingest import ingest_notifications
from stocklink.observability import logger, metrics
from stocklink.time import now_ms


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    records = event.get("Records", [])
    batch = ingest_notifications("amazon", [(r["messageId"], r["body"].encode()) for r in records], now_ms())
    logger.info("amazon notifications", extra={"received": batch.received, "applied": batch.applied,
                                               "duplicates": batch.duplicates, "ignored": batch.ignored,
                                               "refused": batch.refused, "failed": len(batch.failed)})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in batch.failed]}


cold_start_done()   # functions/__init__.py: garbage collection resumes
