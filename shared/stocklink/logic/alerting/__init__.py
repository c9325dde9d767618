"""Alert wiring: bus events -> observations -> hysteresis state in DynamoDB -> one SNS message per level
crossed; the scheduled tick; acknowledgement; alert rules; subscriptions; chat fan-out.

The decisions are stocklink.alerts (pure); this package does the I/O around them:
- a state is written only when the decision changed it, conditioned on the version read (or on the
  item not existing); a lost race re-reads and decides again, so two alert functions handling events of
  one SKU at once cannot both notify a level;
- the state is written together with the alert in an outbox, then the alert is published and the outbox
  entry dropped: a retried event re-grades the same stored version (stale: nothing sent twice), and a
  publish that failed is resent by the scheduled tick from the outbox, with the same Alert.id (chat
  delivery dedupes by it). Nothing is silently lost.

Modules: rules_api (alert-rule settings), observations and forecast_signals (bus events -> observations),
tick_checks (the tick's own observations: push failures, listings, dead letters), grading (decide, store,
outbox, publish), bus_events (the alert function's events and SQS batches), tick (the scheduled pass),
views (GET /alerts, ack), subscriptions (SNS email/SMS and chat targets), notify (chat fan-out) and seams
(clock, sleep and HTTP: what a test replaces). Modules call each other through the module
(`grading.observe(...)`), so a test patches a function once, where it is defined.
"""
