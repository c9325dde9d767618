"""Chat fan-out through real SNS -> SQS (with redrive to a DLQ) on moto and the real notify handler, against
local HTTP receivers that check DingTalk / Feishu signatures or answer 500."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tests.integration.apigw import LambdaContext
from tests.integration.conftest import as_admin
from tests.integration.test_alerting import AlertFn, Topic, alert_fn, alerts_api, topic  # noqa: F401 fixtures
from tests.sandbox_support import loopback_simulators  # noqa: F401 fixture

# The chat platforms' stand-ins answer on 127.0.0.1, as in the local runtime (tests/sandbox_support).
pytestmark = pytest.mark.usefixtures("loopback_simulators")

SECRET = "SEC-test-secret-0123456789"


class Receiver:
    """A chat platform stand-in: records every POST; `status`/`reply` choose the answer per path."""

    def __init__(self):
        self.posts: list[dict] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                receiver.posts.append({"path": parts.path, "query": parse_qs(parts.query),
                                       "body": json.loads(body)})
                status, reply = receiver.answers.get(parts.path, (200, {"errcode": 0, "code": 0}))
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, path: str) -> list[dict]:
        return [p for p in self.posts if p["path"] == path]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


class ChatQueue:
    """The notify function's queue as CDK declares it (SNS subscription, redrive to a DLQ after
    max_receive_count receives), drained the way Lambda's SQS event source does with partial batch
    failures: delivered records deleted, failed ones visible again at once (visibility 0 here)."""

    def __init__(self, topic: Topic, max_receive_count: int):
        from infra.topology import TOPIC_QUEUES

        (spec,) = [q for q in TOPIC_QUEUES if q.topic == "alerts"]
        self.spec, self.sqs = spec, boto3.client("sqs")
        self.dlq = self.sqs.create_queue(QueueName=f"{spec.name}-dlq")["QueueUrl"]
        dlq_arn = self._arn(self.dlq)
        self.url = self.sqs.create_queue(QueueName=spec.name, Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})},
        )["QueueUrl"]
        topic.sns.subscribe(TopicArn=topic.arn, Protocol="sqs", Endpoint=self._arn(self.url))
        from functions.notify.handler import handler
        self.handler = handler

    def _arn(self, url):
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def run(self, rounds: int = 20) -> int:
        """Invoke the handler until the queue is empty; returns the number of invocations."""
        calls = 0
        for _ in range(rounds):
            msgs = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=self.spec.batch_size,
                                            AttributeNames=["All"]).get("Messages", [])
            if not msgs:
                return calls
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "eventSource": "aws:sqs"} for m in msgs]
            result = self.handler({"Records": records}, LambdaContext())
            calls += 1
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            for m in msgs:
                if m["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        raise AssertionError("queue never drained")

    def dead_letters(self) -> list[dict]:
        out = []
        while True:
            msgs = self.sqs.receive_message(QueueUrl=self.dlq, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(m)
                self.sqs.delete_message(QueueUrl=self.dlq, ReceiptHandle=m["ReceiptHandle"])


def _raise_ledger_mismatch(alert_fn, sku="SKU-9", wh="wh-a"):
    from stocklink import bus

    bus.publish("ledger.mismatch", [{"sku": sku, "warehouse_id": wh, "stored": 10, "replayed": 7}])
    (sent,) = alert_fn.pump()
    return sent


def test_signed_dingtalk_and_feishu_receive_correct_payloads_once(alerts_api, alert_fn, topic, receiver):
    chat = ChatQueue(topic, max_receive_count=3)
    assert as_admin(alerts_api).put("/subscriptions/ops-dingtalk", {
        "protocol": "dingtalk", "endpoint": f"{receiver.url}/robot/send?access_token=abc", "secret": SECRET,
        "filter": {"min_severity": "orange"}}).status == 200
    assert as_admin(alerts_api).put("/subscriptions/ops-feishu", {
        "protocol": "feishu", "endpoint": f"{receiver.url}/open-apis/bot/v2/hook/xyz", "secret": SECRET,
        "filter": {"kind": ["ledger_mismatch"]}}).status == 200
    assert as_admin(alerts_api).put("/subscriptions/yellow-slack", {
        "protocol": "slack", "endpoint": f"{receiver.url}/services/T/B/C",
        "filter": {"severity": ["yellow"]}}).status == 200
    listed = alerts_api.get("/subscriptions").body["subscriptions"]
    assert "abc" not in json.dumps(listed) and SECRET not in json.dumps(listed)  # secrets stay in SM

    sent = _raise_ledger_mismatch(alert_fn)
    chat.run()

    (ding,) = receiver.to("/robot/send")
    ts = ding["query"]["timestamp"][0]
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest())
    assert ding["query"]["sign"][0] == expected.decode() and ding["query"]["access_token"] == ["abc"]
    assert ding["body"]["msgtype"] == "markdown" and "SKU-9" in ding["body"]["markdown"]["text"]

    (feishu,) = receiver.to("/open-apis/bot/v2/hook/xyz")
    fts = feishu["body"]["timestamp"]
    fexpected = base64.b64encode(hmac.new(f"{fts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    assert feishu["body"]["sign"] == fexpected
    assert feishu["body"]["msg_type"] == "interactive"
    assert feishu["body"]["card"]["header"]["template"] == "red"
    assert sent["id"] in json.dumps(feishu["body"], ensure_ascii=False) or sent["key"] in json.dumps(feishu["body"])
    assert receiver.to("/services/T/B/C") == []  # filtered: yellow only

    # SNS delivers at least once: the same message again reaches nobody twice
    again = chat.handler({"Records": [{"messageId": "dup", "body": json.dumps({
        "Type": "Notification", "TopicArn": topic.arn, "Message": json.dumps(_last_alert(alert_fn)),
        "MessageAttributes": {}})}]}, LambdaContext())
    assert again == {"batchItemFailures": []}
    assert len(receiver.posts) == 2
    assert chat.dead_letters() == []


def test_a_subscription_made_after_the_last_alert_receives_the_next_one(alerts_api, alert_fn, topic, receiver):
    """The notify container stays warm between alerts; a chat group added in between is not missed
    (a container-wide cache of subscriptions once dropped alerts for 30 s after a subscription)."""
    chat = ChatQueue(topic, max_receive_count=3)
    assert as_admin(alerts_api).put("/subscriptions/first", {
        "protocol": "wecom", "endpoint": f"{receiver.url}/first?key=k1"}).status == 200
    _raise_ledger_mismatch(alert_fn, sku="SKU-1")
    chat.run()
    assert len(receiver.to("/first")) == 1

    assert as_admin(alerts_api).put("/subscriptions/second", {
        "protocol": "wecom", "endpoint": f"{receiver.url}/second?key=k2"}).status == 200
    _raise_ledger_mismatch(alert_fn, sku="SKU-2")
    chat.run()
    (post,) = receiver.to("/second")
    assert "SKU-2" in json.dumps(post["body"])
    assert len(receiver.to("/first")) == 2


def _last_alert(alert_fn):
    from stocklink.logic.alerting.views import list_alerts
    from stocklink.store.alert_models import get_state

    (view,) = list_alerts("open")["alerts"]
    return get_state(view["id"])[1]


def test_failing_chat_endpoint_ends_in_dlq_and_nothing_is_lost(alerts_api, alert_fn, topic, receiver):
    chat = ChatQueue(topic, max_receive_count=3)
    receiver.answers["/broken"] = (500, {"errcode": -1, "errmsg": "system busy"})
    as_admin(alerts_api).put("/subscriptions/good", {"protocol": "wecom", "endpoint": f"{receiver.url}/good?key=k1"})
    as_admin(alerts_api).put("/subscriptions/bad", {"protocol": "dingtalk", "endpoint": f"{receiver.url}/broken",
                                          "secret": SECRET})

    sent = _raise_ledger_mismatch(alert_fn)
    invocations = chat.run()
    assert invocations == 3  # maxReceiveCount receives, then SQS moved it aside

    assert len(receiver.to("/good")) == 1          # delivered once despite three receives
    assert len(receiver.to("/broken")) == 3 * 5    # 5 attempts (with backoff) per receive
    (dead,) = chat.dead_letters()
    assert json.loads(json.loads(dead["Body"])["Message"])["id"] == sent["id"]

    # the endpoint recovers; redriving the dead letter delivers to it and only to it
    receiver.answers.pop("/broken")
    result = chat.handler({"Records": [{"messageId": dead["MessageId"], "body": dead["Body"]}]}, LambdaContext())
    assert result == {"batchItemFailures": []}
    assert len(receiver.to("/good")) == 1 and len(receiver.to("/broken")) == 16


def test_email_and_sms_subscriptions_are_sns_subscriptions_with_filter_policy(alerts_api, topic):
    answer = as_admin(alerts_api).put("/subscriptions/buyer", {"protocol": "email", "endpoint": "buyer@example.com",
                                                     "filter": {"severity": ["red"], "warehouse": ["wh-a"]}})
    assert answer.status == 200, answer.body
    arn = answer.body["subscription_arn"]
    attrs = topic.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"severity": ["red"], "warehouse": ["wh-a"]}
    assert attrs["Protocol"] == "email" and attrs["Endpoint"] == "buyer@example.com"

    # changing the filter updates the same subscription
    as_admin(alerts_api).put("/subscriptions/buyer", {"protocol": "email", "endpoint": "buyer@example.com",
                                            "filter": {"min_severity": "orange"}})
    attrs = topic.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == {"severity": ["orange", "red"]}

    sms = as_admin(alerts_api).put("/subscriptions/night", {"protocol": "sms", "endpoint": "+8613800000000",
                                                  "filter": {"severity": "red"}})
    assert sms.status == 200
    assert as_admin(alerts_api).put("/subscriptions/x", {"protocol": "sms", "endpoint": "12"}).status == 400
    assert as_admin(alerts_api).put("/subscriptions/x", {"protocol": "pager", "endpoint": "a"}).status == 400
    assert as_admin(alerts_api).put("/subscriptions/x", {"protocol": "email", "endpoint": "a@b.c",
                                               "filter": {"colour": ["red"]}}).status == 400
    assert as_admin(alerts_api).put("/subscriptions/x", {"protocol": "slack",
                                               "endpoint": "http://hooks.example.com/x"}).status == 400

    assert alerts_api.call("DELETE", "/subscriptions/buyer").status == 200
    subs = topic.sns.list_subscriptions_by_topic(TopicArn=topic.arn)["Subscriptions"]
    assert arn not in [s["SubscriptionArn"] for s in subs]
    assert [s["id"] for s in alerts_api.get("/subscriptions").body["subscriptions"]] == ["night"]
