"""The Amazon SP-API notification queue in the synthesized stack: its policy lets only Amazon's publishing
account send (no one else may put an order on it), it is SSL-only with a DLQ that is alarmed, and its consumer
takes it with partial batch failures and may only receive / delete on it."""
from __future__ import annotations

from infra_synth import refs, role_statements

from infra import topology
from stocklink.channels.amazon import NOTIFICATION_PUBLISHER_ACCOUNT


def _actions(statement) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _queue_policy_statements(synth, queue_lid):
    return [s for p in synth.of_type("AWS::SQS::QueuePolicy").values()
            if {"Ref": queue_lid} in p["Properties"]["Queues"] for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_the_amazon_queue_admits_only_amazons_publisher(synth):
    (spec,) = topology.PLATFORM_QUEUES
    assert spec.publisher_account == NOTIFICATION_PUBLISHER_ACCOUNT
    queue_lid = synth.lid(synth.stack.platform_queues.queues[spec.name])
    statements = _queue_policy_statements(synth, queue_lid)
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert _actions(allow) == {"sqs:SendMessage", "sqs:GetQueueAttributes"}
    principal = allow["Principal"]["AWS"]
    assert NOTIFICATION_PUBLISHER_ACCOUNT in str(principal) and "*" not in str(principal)
    assert refs(allow["Resource"]) == {queue_lid}
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_the_amazon_queue_has_an_alarmed_dlq_and_a_batch_failure_consumer(synth):
    (spec,) = topology.PLATFORM_QUEUES
    pq = synth.stack.platform_queues
    queue_lid, dlq_lid = synth.lid(pq.queues[spec.name]), synth.lid(pq.dead_letter_queues[spec.name])
    queue = synth.resources[queue_lid]["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_lid, "Arn"]},
                                      "maxReceiveCount": spec.max_receive_count}
    assert queue["VisibilityTimeout"] >= topology.function(spec.function).timeout_s
    assert queue["SqsManagedSseEnabled"] is True
    (mapping,) = [m["Properties"] for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_lid, "Arn"]}]
    assert mapping["FunctionName"] == {"Ref": synth.lid(synth.stack.functions[spec.function])}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarmed = set()
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        alarmed |= refs(alarm["Properties"]["Dimensions"])
    assert dlq_lid in alarmed


def test_the_consumer_may_only_take_messages_off_its_own_queue(synth):
    (spec,) = topology.PLATFORM_QUEUES
    queue_lid = synth.lid(synth.stack.platform_queues.queues[spec.name])
    fn = synth.resources[synth.lid(synth.stack.functions[spec.function])]["Properties"]
    sqs_statements = [s for s in role_statements(synth, fn["Role"]["Fn::GetAtt"][0])
                      if any(a.startswith("sqs:") for a in _actions(s))]
    assert sqs_statements
    for statement in sqs_statements:
        assert refs(statement["Resource"]) == {queue_lid}
        assert not {"sqs:SendMessage", "sqs:SetQueueAttributes", "sqs:*"} & _actions(statement)
