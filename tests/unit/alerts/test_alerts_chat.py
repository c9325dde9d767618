"""Chat webhooks: native formats, signatures against values computed independently (openssl), response
classification per platform, backoff and the delivery loop."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from stocklink.alerts.chat import (
    ChatTarget, Platform, RetryPolicy, SendOutcome, backoff_delay, build_request, classify_response,
    deliver, dingtalk_sign, feishu_sign, next_delay, retry_schedule,
)
from stocklink.alerts.messages import Alert

ALERT = Alert(
    id="abc123", key="low_stock#X#wh:A", kind="low_stock", event="raised", severity="red", sku="X",
    title="[RED] Low stock: X (A)", action="SKU X: 12 left in A, ~1.5 days of sales, suggested transfer of 40 from B",
    at=1_700_000_000, warehouse="A", abc_class="A",
)
NOW_MS = 1_700_000_000_000

# printf '1700000000000\nSECtest' | openssl dgst -sha256 -hmac SECtest -binary | base64
DINGTALK_SIGN = "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="
# key = "1700000000\nSECtest", message empty:
# printf '' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '1700000000\nSECtest' | xxd -p) -binary | base64
FEISHU_SIGN = "G7XpBpG8NgG02fJOAhX6FRAObIljmFoxVReo8I62pEk="


def body(req):
    return json.loads(req.body.decode("utf-8"))


def test_dingtalk_signature_matches_openssl():
    assert dingtalk_sign("SECtest", NOW_MS) == DINGTALK_SIGN


def test_feishu_signature_matches_openssl_and_is_not_the_dingtalk_scheme():
    assert feishu_sign("SECtest", 1_700_000_000) == FEISHU_SIGN
    # keyed with timestamp+secret over an empty message; the DingTalk arrangement gives another value
    # printf '1700000000\nSECtest' | openssl dgst -sha256 -hmac SECtest -binary | base64
    assert dingtalk_sign("SECtest", 1_700_000_000) != FEISHU_SIGN


def test_dingtalk_signed_request():
    target = ChatTarget(Platform.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=TOKEN", "SECtest")
    req = build_request(target, ALERT, NOW_MS)
    assert req.url == ("https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=1700000000000"
                       "&sign=aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D")
    assert parse_qs(urlsplit(req.url).query)["sign"] == [DINGTALK_SIGN]
    assert req.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body(req) == {"msgtype": "markdown", "markdown": {
        "title": "[RED] Low stock: X (A)",
        "text": "### 🔴 [RED] Low stock: X (A)\n\nSKU X · warehouse A · class A\n\n" + ALERT.action}}


def test_dingtalk_resign_replaces_old_params_and_unsigned_mode_leaves_url():
    target = ChatTarget(Platform.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1&sign=old",
                        "SECtest")
    q = parse_qs(urlsplit(build_request(target, ALERT, NOW_MS).url).query)
    assert q == {"access_token": ["T"], "timestamp": ["1700000000000"], "sign": [DINGTALK_SIGN]}
    plain = ChatTarget(Platform.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=T")
    assert build_request(plain, ALERT, NOW_MS).url == plain.url


@pytest.mark.parametrize("platform", [Platform.FEISHU, Platform.LARK])
def test_feishu_signed_card(platform):
    url = "https://open.feishu.cn/open-apis/bot/v2/hook/HOOK"
    req = build_request(ChatTarget(platform, url, "SECtest"), ALERT, NOW_MS + 999)   # seconds, truncated
    assert req.url == url
    assert body(req) == {
        "timestamp": "1700000000", "sign": FEISHU_SIGN, "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": "[RED] Low stock: X (A)"}, "template": "red"},
            "elements": [
                {"tag": "div", "text": {"tag": "lark_md", "content": "SKU X · warehouse A · class A\n" + ALERT.action}},
                {"tag": "note", "elements": [{"tag": "plain_text", "content": "low_stock · abc123"}]},
            ],
        },
    }


def test_feishu_unsigned_and_recovered_colour():
    rec = Alert(**{**ALERT.to_dict(), "event": "recovered", "title": "[RECOVERED] Low stock: X (A)"})
    b = body(build_request(ChatTarget(Platform.FEISHU, "https://x/hook"), rec, NOW_MS))
    assert "sign" not in b and "timestamp" not in b
    assert b["card"]["header"]["template"] == "green"


def test_wecom_markdown():
    req = build_request(ChatTarget(Platform.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"), ALERT, NOW_MS)
    assert req.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
    assert body(req) == {"msgtype": "markdown", "markdown": {"content":
        "**[RED] Low stock: X (A)**\n> <font color=\"warning\">RED</font> · SKU X · warehouse A · class A\n"
        + ALERT.action}}


def test_wecom_content_is_cut_at_4096_utf8_bytes():
    long = Alert(**{**ALERT.to_dict(), "action": "库" * 3000})   # 9000 bytes
    content = body(build_request(ChatTarget(Platform.WECOM, "https://w"), long, NOW_MS))["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("...")


def test_slack_blocks_and_escaping():
    a = Alert(**{**ALERT.to_dict(), "action": "move <40> from A&B", "severity": "orange",
                 "title": "[ORANGE] Low stock: X (A)"})
    b = body(build_request(ChatTarget(Platform.SLACK, "https://hooks.slack.com/services/T/B/X"), a, NOW_MS))
    assert b == {
        "text": "🟠 [ORANGE] Low stock: X (A): move <40> from A&B",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "🟠 [ORANGE] Low stock: X (A)", "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "move &lt;40&gt; from A&amp;B"}},
            {"type": "context", "elements": [{"type": "mrkdwn",
                                              "text": "SKU X · warehouse A · class A · low_stock · abc123"}]},
        ],
    }


@pytest.mark.parametrize("platform, status, raw, headers, expected", [
    ("wecom", 200, b'{"errcode":0,"errmsg":"ok"}', None, SendOutcome(True, False, "0", "ok")),
    ("wecom", 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}', None,
     SendOutcome(False, True, "45009", "api freq out of limit", 60.0)),
    ("wecom", 200, b'{"errcode":93000,"errmsg":"invalid webhook url"}', None,
     SendOutcome(False, False, "93000", "invalid webhook url")),
    ("wecom", 200, b'{"errcode":-1,"errmsg":"system busy"}', None, SendOutcome(False, True, "-1", "system busy")),
    ("wecom", 502, b"<html>Bad Gateway</html>", None, SendOutcome(False, True, "http_502", "<html>Bad Gateway</html>")),
    ("dingtalk", 200, b'{"errcode":0,"errmsg":"ok"}', None, SendOutcome(True, False, "0", "ok")),
    ("dingtalk", 200, b'{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}', None,
     SendOutcome(False, True, "130101", "send too fast, exceed 20 times per minute", 60.0)),
    ("dingtalk", 200, b'{"errcode":310000,"errmsg":"sign not match"}', None,
     SendOutcome(False, False, "310000", "sign not match")),
    ("feishu", 200, b'{"code":0,"msg":"success","data":{}}', None, SendOutcome(True, False, "0", "success")),
    ("feishu", 200, b'{"StatusCode":0,"StatusMessage":"success"}', None, SendOutcome(True, False, "0", "success")),
    ("feishu", 200, b'{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}',
     None, SendOutcome(False, False, "19021",
                       "sign match fail or timestamp is not within one hour from current time")),
    ("lark", 400, b'{"code":11232,"msg":"frequency limited"}', None,
     SendOutcome(False, True, "11232", "frequency limited", 1.0)),
    ("feishu", 429, b"", {"Retry-After": "3"}, SendOutcome(False, True, "http_429", "", 3.0)),
    ("slack", 200, b"ok", None, SendOutcome(True, False, "ok", "ok")),
    ("slack", 400, b"invalid_payload", None, SendOutcome(False, False, "invalid_payload", "invalid_payload")),
    ("slack", 410, b"channel_is_archived", None, SendOutcome(False, False, "channel_is_archived", "channel_is_archived")),
    ("slack", 500, b"rollup_error", None, SendOutcome(False, True, "rollup_error", "rollup_error")),
    ("slack", 429, b"", {"retry-after": "7"}, SendOutcome(False, True, "http_429", "", 7.0)),
])
def test_classify_response(platform, status, raw, headers, expected):
    assert classify_response(platform, status, raw, headers) == expected


class TopRng:
    """uniform() at its upper end: makes the jitter ceiling visible."""

    def uniform(self, a, b):
        return b


def test_backoff_doubles_to_the_cap_with_full_jitter_below_it():
    policy = RetryPolicy(max_attempts=8, base_delay=1.0, max_delay=30.0)
    assert retry_schedule(policy, TopRng()) == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    import random
    rng = random.Random(1)
    assert all(0 <= backoff_delay(a, policy, rng) <= min(30.0, 2 ** (a - 1)) for a in range(1, 20) for _ in range(20))


def test_next_delay_honours_retry_after_and_stops():
    policy = RetryPolicy(max_attempts=3)
    limited = SendOutcome(False, True, "45009", retry_after=60.0)
    assert next_delay(limited, 1, policy, TopRng()) == 60.0
    assert next_delay(SendOutcome(False, True, "http_500"), 2, policy, TopRng()) == 2.0
    assert next_delay(SendOutcome(False, True, "http_500"), 3, policy, TopRng()) is None
    assert next_delay(SendOutcome(False, False, "93000"), 1, policy, TopRng()) is None


class FakeTransport:
    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, req):
        self.requests.append(req)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    """Manual clock: sleep advances it, so every attempt signs with its own timestamp."""

    def __init__(self, ms):
        self.ms = ms
        self.slept = []

    def now(self):
        return self.ms

    def sleep(self, s):
        self.slept.append(s)
        self.ms += int(s * 1000)


def run(target, answers, policy=RetryPolicy()):
    send, clock = FakeTransport(answers), Clock(NOW_MS)
    result = deliver(target, ALERT, send, clock_ms=clock.now, sleep=clock.sleep, policy=policy, rng=TopRng())
    return result, send, clock


DING = ChatTarget(Platform.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=T", "SECtest")


def test_deliver_retries_rate_limit_and_resigns_each_attempt():
    result, send, clock = run(DING, [
        (200, {}, b'{"errcode":130101,"errmsg":"send too fast"}'),
        (200, {}, b'{"errcode":0,"errmsg":"ok"}'),
    ])
    assert (result.status, result.attempts, result.waits) == ("delivered", 2, (60.0,))
    stamps = [parse_qs(urlsplit(r.url).query)["timestamp"][0] for r in send.requests]
    assert stamps == ["1700000000000", "1700000060000"]
    assert parse_qs(urlsplit(send.requests[1].url).query)["sign"] == [dingtalk_sign("SECtest", 1_700_000_060_000)]


def test_deliver_dead_letters_permanent_errors_at_once():
    result, send, _ = run(DING, [(200, {}, b'{"errcode":310000,"errmsg":"keywords not in content"}')])
    assert (result.status, result.attempts, result.outcome.code) == ("dead_letter", 1, "310000")


def test_deliver_dead_letters_after_max_attempts_with_backoff():
    answers = [OSError("timed out")] + [(503, {}, b"")] * 3
    result, send, clock = run(ChatTarget(Platform.SLACK, "https://hooks.slack.com/x"), answers,
                              RetryPolicy(max_attempts=4, base_delay=1, max_delay=30, max_total_wait=100))
    assert (result.status, result.attempts) == ("dead_letter", 4)
    assert clock.slept == [1, 2, 4]
    assert len(send.requests) == 4


def test_deliver_hands_back_when_the_wait_budget_is_spent():
    result, send, clock = run(ChatTarget(Platform.WECOM, "https://w"),
                              [(200, {}, b'{"errcode":45009,"errmsg":"api freq out of limit"}')] * 5,
                              RetryPolicy(max_attempts=5, max_total_wait=90))
    # first wait 60 s fits the 90 s budget, a second 60 s does not: let the queue redeliver later
    assert (result.status, result.attempts, result.waits) == ("retry_later", 2, (60.0,))


def test_deliver_retries_a_network_failure_reported_as_status_0_like_an_oserror():
    # stocklink.outbound.send answers a refused / reset / timed-out request with status 0, the reason as body
    result, send, clock = run(ChatTarget(Platform.SLACK, "https://hooks.slack.com/x"),
                              [(0, {}, b"<urlopen error [Errno 111] Connection refused>"), (200, {}, b"ok")])
    assert (result.status, result.attempts, clock.slept) == ("delivered", 2, [1])
    failed, _, _ = run(ChatTarget(Platform.SLACK, "https://hooks.slack.com/x"), [(0, {}, b"timed out")] * 2,
                       RetryPolicy(max_attempts=2, base_delay=1, max_delay=30, max_total_wait=100))
    assert (failed.status, failed.outcome.code, failed.outcome.retryable, failed.outcome.message) == (
        "dead_letter", "transport_error", True, "timed out")
