"""The alerts slice of the synthesized stack: encrypted topic, chat queue with DLQ and alarm, event rule,
and least-privilege SNS/KMS/SQS grants per function."""
from __future__ import annotations

from infra_synth import refs, role_statements

from infra import topology


def _actions(statement) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _role_lid(synth, name):
    fn = synth.resources[synth.lid(synth.stack.functions[name])]["Properties"]
    return fn["Role"]["Fn::GetAtt"][0]


def _statements_with(synth, name, prefix):
    return [s for s in role_statements(synth, _role_lid(synth, name))
            if any(a.startswith(prefix) for a in _actions(s))]


def test_alerts_topic_is_kms_encrypted_with_rotation_and_ssl_only(synth):
    topic = synth.stack.alert_topics.topics["alerts"]
    props = synth.resources[synth.lid(topic)]["Properties"]
    key_lid = props["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert synth.resources[key_lid]["Properties"]["EnableKeyRotation"] is True
    policies = [p["Properties"] for p in synth.of_type("AWS::SNS::TopicPolicy").values()
                if {"Ref": synth.lid(topic)} in p["Properties"]["Topics"]]
    denies = [s for p in policies for s in p["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_chat_queue_is_subscribed_encrypted_with_dlq_alarm_and_batch_failures(synth):
    (spec,) = topology.TOPIC_QUEUES
    at = synth.stack.alert_topics
    queue_lid, dlq_lid = synth.lid(at.queues[spec.name]), synth.lid(at.dead_letter_queues[spec.name])
    queue = synth.resources[queue_lid]["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_lid, "Arn"]},
                                      "maxReceiveCount": spec.max_receive_count}
    assert queue["VisibilityTimeout"] >= topology.function(spec.function).timeout_s
    for lid in (queue_lid, dlq_lid):
        assert "KmsMasterKeyId" in synth.resources[lid]["Properties"]

    (sub,) = [s["Properties"] for s in synth.of_type("AWS::SNS::Subscription").values()
              if s["Properties"]["Protocol"] == "sqs"]
    assert sub["TopicArn"] == {"Ref": synth.lid(at.topics["alerts"])}
    assert sub["Endpoint"] == {"Fn::GetAtt": [queue_lid, "Arn"]}
    assert not sub.get("RawMessageDelivery")  # the envelope keeps the message attributes

    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_lid, "Arn"]}]
    assert mapping["FunctionName"] == {"Ref": synth.lid(synth.stack.functions[spec.function])}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    alarmed = set()
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        alarmed |= refs(alarm["Properties"]["Dimensions"])
    assert dlq_lid in alarmed


def test_alert_rule_routes_bus_events_to_the_alert_function(synth):
    (rule,) = [r for r in topology.EVENT_RULES if r.function == "alerts"]
    patterns = [r["Properties"]["EventPattern"] for r in synth.of_type("AWS::Events::Rule").values()
                if "EventPattern" in r["Properties"]]
    assert {"source": ["stocklink"], "detail-type": list(rule.detail_types)} in patterns
    assert {"stock.changed", "order.oversold", "order.unmapped"} <= set(rule.detail_types)


def test_least_privilege_for_sns_kms_and_sqs(synth):
    topic_lid = synth.lid(synth.stack.alert_topics.topics["alerts"])
    key_lid = synth.lid(synth.stack.alert_topics.keys["alerts"])
    queue_lid = synth.lid(synth.stack.alert_topics.queues["alerts-chat"])

    (publish,) = _statements_with(synth, "alerts", "sns:")
    assert _actions(publish) == {"sns:Publish"} and publish["Resource"] == {"Ref": topic_lid}
    kms = _statements_with(synth, "alerts", "kms:")
    assert kms and all(refs(s["Resource"]) == {key_lid} for s in kms)
    assert all(_actions(s) <= {"kms:Decrypt", "kms:GenerateDataKey*"} for s in kms)

    (manage,) = _statements_with(synth, "alerts_api", "sns:")
    assert "sns:Publish" not in _actions(manage) and "sns:Subscribe" in _actions(manage)
    assert refs(manage["Resource"]) == {topic_lid}

    assert _statements_with(synth, "chat_notify", "sns:") == []
    sqs = _statements_with(synth, "chat_notify", "sqs:")
    assert sqs and all(refs(s["Resource"]) == {queue_lid} for s in sqs)
    assert not any(a.startswith("sqs:Send") for s in sqs for a in _actions(s))

    for spec in topology.FUNCTIONS:
        if spec.name not in ("alerts", "alerts_api"):
            assert _statements_with(synth, spec.name, "sns:") == [], spec.name
        env = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Environment"]["Variables"]
        assert ("ALERTS_TOPIC_ARN" in env) == (spec.name in ("alerts", "alerts_api")), spec.name


def test_alert_function_gets_forecast_events_and_reads_every_dead_letter_queue_depth(synth):
    (rule,) = [r for r in topology.EVENT_RULES if r.function == "alerts"]
    assert {"forecast.stockout_risk", "forecast.burst", "forecast.slow_mover"} <= set(rule.detail_types)

    dlq_lids = {synth.lid(q) for q in synth.stack.dead_letter_queues.values()}
    assert len(dlq_lids) >= 2
    env = synth.resources[synth.lid(synth.stack.functions["alerts"])]["Properties"]["Environment"]["Variables"]
    assert refs(env["DEAD_LETTER_QUEUES"]) == dlq_lids          # every DLQ's URL, nothing else
    # Its own event queue (alerts-on-events, drained by the event source mapping) it may consume; every
    # other queue, i.e. the dead-letter queues, it may only read the depth of.
    sqs = _statements_with(synth, "alerts", "sqs:")
    consume = [s for s in sqs if "sqs:ReceiveMessage" in _actions(s)]
    (own_queue,) = {lid for s in consume for lid in refs(s["Resource"])}
    assert own_queue not in dlq_lids
    assert synth.resources[own_queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [synth.lid(synth.stack.dead_letter_queues[f"{rule.name}-dlq"]), "Arn"]}
    # (scheduled, so still invoked asynchronously: it may send to its own async DLQ, nowhere else)
    send = [s for s in sqs if any(a.startswith("sqs:Send") for a in _actions(s))]
    assert {lid for s in send for lid in refs(s["Resource"])} == {
        synth.lid(synth.stack.dead_letter_queues["alerts-async"])}
    reads = [s for s in sqs if s not in consume and s not in send]
    assert reads and all(_actions(s) == {"sqs:GetQueueAttributes"} for s in reads)
    assert set().union(*(refs(s["Resource"]) for s in reads)) == dlq_lids
    for spec in topology.FUNCTIONS:
        env = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Environment"]["Variables"]
        assert ("DEAD_LETTER_QUEUES" in env) == (spec.name == "alerts"), spec.name


def test_only_channel_push_may_put_events_back_on_a_queue_and_only_on_its_own(synth):
    """The last-units guard's 'a drain is over' is a delayed message on channel_push's own queue."""
    own_queue = synth.lid(synth.stack.event_queues["channel-push-on-stock"])
    env = synth.resources[synth.lid(synth.stack.functions["channel_push"])]["Properties"]["Environment"]["Variables"]
    assert refs(env["REQUEUE_QUEUE"]) == {own_queue}
    send = [s for s in _statements_with(synth, "channel_push", "sqs:")
            if any(a.startswith("sqs:Send") for a in _actions(s))]
    assert send and all(refs(s["Resource"]) == {own_queue} for s in send)
    for spec in topology.FUNCTIONS:
        if spec.name != "channel_push":
            variables = synth.resources[synth.lid(synth.stack.functions[spec.name])]["Properties"]["Environment"]
            assert "REQUEUE_QUEUE" not in variables["Variables"], spec.name
