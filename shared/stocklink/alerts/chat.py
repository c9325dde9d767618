"""Chat group webhooks: request builders in each platform's native format and signing, response
classification, and retry with backoff. No network here: `deliver` takes the transport as a function.

Platform facts (checked against public docs / SDKs):
- WeCom group robot: POST the webhook URL (…/cgi-bin/webhook/send?key=…), body
  {"msgtype": "markdown", "markdown": {"content": …}}; content at most 4096 bytes UTF-8; font colours
  info / comment / warning only. Answer {"errcode": 0, "errmsg": "ok"}; 45009 = rate limited
  (20 messages a minute per robot).
- DingTalk custom robot, signed mode: query params timestamp (ms) and
  sign = urlencode(base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret))); body
  {"msgtype": "markdown", "markdown": {"title", "text"}}. errcode 0 ok; 130101 "send too fast"
  (20 a minute); 310000 = keyword / signature / IP check failed.
- Feishu / Lark custom bot, signed mode: body fields timestamp (seconds, string) and
  sign = base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=b"")) — the key is the string to sign
  and the message is empty, unlike DingTalk. Card: {"msg_type": "interactive", "card": {...}}.
  Answer {"code": 0} (older: {"StatusCode": 0}); 19021 = bad signature or timestamp older than 1 h;
  11232 = rate limited (100 a minute, 5 a second).
- Slack incoming webhook: {"text": fallback, "blocks": [...]}; answers 200 "ok", else a plain-text
  error with 400 invalid_payload, 403 action_prohibited / invalid_token, 404 channel_not_found /
  no_service, 410 channel_is_archived, 429 rate limited (Retry-After), 500 rollup_error.
Signed requests carry a timestamp the platform checks (1 hour window), so every attempt is rebuilt.

Webhook hosts (the outbound allowlist, `WEBHOOK_HOSTS`): each protocol posts only to its provider's
webhook host, as the provider issues the URL:
  WeCom    https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
  DingTalk https://oapi.dingtalk.com/robot/send?access_token=…
  Feishu   https://open.feishu.cn/open-apis/bot/v2/hook/…
  Lark     https://open.larksuite.com/open-apis/bot/v2/hook/…
  Slack    https://hooks.slack.com/services/…
StockLink has no generic "any URL" chat protocol, so no other host is needed; a self-hosted Feishu/Lark
deployment would be one more entry here.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stocklink.alerts.messages import Alert
from stocklink.outbound_policy import HostRule, OutboundRefused, error_text


class Platform(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    LARK = "lark"      # Lark is Feishu's international edition: same format and signing
    SLACK = "slack"


WEBHOOK_HOSTS: dict[Platform, HostRule] = {
    Platform.WECOM: HostRule("WeCom webhook", frozenset({"qyapi.weixin.qq.com"})),
    Platform.DINGTALK: HostRule("DingTalk webhook", frozenset({"oapi.dingtalk.com"})),
    Platform.FEISHU: HostRule("Feishu webhook", frozenset({"open.feishu.cn"})),
    Platform.LARK: HostRule("Lark webhook", frozenset({"open.larksuite.com"})),
    Platform.SLACK: HostRule("Slack webhook", frozenset({"hooks.slack.com"})),
}


@dataclass(frozen=True)
class ChatTarget:
    platform: Platform
    url: str                     # the webhook URL exactly as the platform issued it
    secret: str | None = None    # DingTalk / Feishu signed mode
    name: str = ""


@dataclass(frozen=True)
class HttpRequest:
    url: str
    headers: Mapping[str, str]
    body: bytes
    method: str = "POST"
    hosts: HostRule | None = None    # the provider's webhook hosts (WEBHOOK_HOSTS); None is refused


JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def _json(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------- signatures

def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64 HMAC-SHA256 keyed with the secret over "timestamp\\nsecret" (not yet URL-encoded)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64 HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message (Feishu's scheme)."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _with_query(url: str, extra: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    query.extend(extra.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


# ---------------------------------------------------------------- text

_EMOJI = {"red": "🔴", "orange": "🟠", "yellow": "🟡"}


def _headline(alert: Alert) -> str:
    mark = "✅" if alert.event == "recovered" else _EMOJI.get(alert.severity, "")
    return f"{mark} {alert.title}".strip()


def _where(alert: Alert) -> str:
    bits = [f"SKU {alert.sku}"]
    if alert.warehouse:
        bits.append(f"warehouse {alert.warehouse}")
    if alert.channel:
        bits.append(f"channel {alert.channel}")
    if alert.abc_class:
        bits.append(f"class {alert.abc_class}")
    return " · ".join(bits)


def _truncate_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode("utf-8", errors="ignore") + "..."


_WECOM_COLOUR = {"red": "warning", "orange": "warning", "yellow": "comment"}


def wecom_payload(alert: Alert) -> dict:
    colour = "info" if alert.event == "recovered" else _WECOM_COLOUR.get(alert.severity, "comment")
    content = (f"**{alert.title}**\n"
               f"> <font color=\"{colour}\">{alert.severity.upper()}</font> · {_where(alert)}\n"
               f"{alert.action}")
    return {"msgtype": "markdown", "markdown": {"content": _truncate_utf8(content, 4096)}}


def dingtalk_payload(alert: Alert) -> dict:
    text = f"### {_headline(alert)}\n\n{_where(alert)}\n\n{alert.action}"
    return {"msgtype": "markdown", "markdown": {"title": alert.title, "text": text}}


_FEISHU_TEMPLATE = {"red": "red", "orange": "orange", "yellow": "yellow"}


def feishu_payload(alert: Alert) -> dict:
    template = "green" if alert.event == "recovered" else _FEISHU_TEMPLATE.get(alert.severity, "blue")
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": alert.title}, "template": template},
            "elements": [
                {"tag": "div", "text": {"tag": "lark_md", "content": f"{_where(alert)}\n{alert.action}"}},
                {"tag": "note",
                 "elements": [{"tag": "plain_text", "content": f"{alert.kind} · {alert.id}"}]},
            ],
        },
    }


def _slack_escape(text: str) -> str:
    # Slack mrkdwn treats these three as control characters
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert) -> dict:
    headline = _headline(alert)
    context = _slack_escape(f"{_where(alert)} · {alert.kind} · {alert.id}")
    return {
        "text": f"{headline}: {alert.action}",   # fallback for notifications
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline[:150], "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": _slack_escape(alert.action)[:3000]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def build_request(target: ChatTarget, alert: Alert, now_ms: int) -> HttpRequest:
    """The POST for one attempt. `now_ms` is the caller's clock (epoch milliseconds)."""
    p = Platform(target.platform)
    hosts = WEBHOOK_HOSTS[p]
    if p is Platform.WECOM:
        return HttpRequest(target.url, JSON_HEADERS, _json(wecom_payload(alert)), hosts=hosts)
    if p is Platform.DINGTALK:
        url = target.url
        if target.secret:
            url = _with_query(url, {"timestamp": str(now_ms), "sign": dingtalk_sign(target.secret, now_ms)})
        return HttpRequest(url, JSON_HEADERS, _json(dingtalk_payload(alert)), hosts=hosts)
    if p in (Platform.FEISHU, Platform.LARK):
        payload = feishu_payload(alert)
        if target.secret:
            ts = now_ms // 1000
            payload = {"timestamp": str(ts), "sign": feishu_sign(target.secret, ts), **payload}
        return HttpRequest(target.url, JSON_HEADERS, _json(payload), hosts=hosts)
    if p is Platform.SLACK:
        return HttpRequest(target.url, JSON_HEADERS, _json(slack_payload(alert)), hosts=hosts)
    raise ValueError(p)


# ---------------------------------------------------------------- responses

@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    retryable: bool
    code: str
    message: str = ""
    retry_after: float | None = None


RATE_LIMIT_CODES = {Platform.WECOM: {45009}, Platform.DINGTALK: {130101},
                    Platform.FEISHU: {11232}, Platform.LARK: {11232}}
BUSY_CODES = {Platform.WECOM: {-1}, Platform.DINGTALK: {-1}, Platform.FEISHU: set(), Platform.LARK: set()}
# the per-minute quotas: waiting less than this rarely helps
RATE_LIMIT_WAIT = {Platform.WECOM: 60.0, Platform.DINGTALK: 60.0, Platform.FEISHU: 1.0,
                   Platform.LARK: 1.0, Platform.SLACK: 1.0}


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    for k, v in (headers or {}).items():
        if k.lower() == "retry-after":
            try:
                return max(float(v), 0.0)
            except ValueError:
                return None
    return None


def classify_response(platform: Platform | str, status: int, body: bytes,
                      headers: Mapping[str, str] | None = None) -> SendOutcome:
    """Whether a webhook answer means delivered, retry later, or give up (dead-letter)."""
    p = Platform(platform)
    text = body.decode("utf-8", errors="replace").strip()
    if status == 429:
        return SendOutcome(False, True, "http_429", text[:200],
                           _retry_after(headers) or RATE_LIMIT_WAIT[p])
    if p is Platform.SLACK:
        if 200 <= status < 300:
            return SendOutcome(text == "ok", False, "ok" if text == "ok" else "unexpected_body", text[:200])
        return SendOutcome(False, status >= 500, text[:100] or f"http_{status}", text[:200],
                           _retry_after(headers))
    # WeCom, DingTalk and Feishu put the verdict in a JSON code, often with HTTP 200
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return SendOutcome(False, status >= 500, f"http_{status}", text[:200])
    if p in (Platform.FEISHU, Platform.LARK):
        code = data.get("code", data.get("StatusCode"))
        msg = data.get("msg", data.get("StatusMessage", ""))
    else:
        code, msg = data.get("errcode"), data.get("errmsg", "")
    if code is None:
        return SendOutcome(False, status >= 500, f"http_{status}", text[:200])
    code = int(code)
    if code == 0 and 200 <= status < 300:
        return SendOutcome(True, False, "0", str(msg))
    if code in RATE_LIMIT_CODES.get(p, ()):
        return SendOutcome(False, True, str(code), str(msg), _retry_after(headers) or RATE_LIMIT_WAIT[p])
    retryable = code in BUSY_CODES.get(p, ()) or status >= 500
    return SendOutcome(False, retryable, str(code), str(msg))


# ---------------------------------------------------------------- retries

@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_total_wait: float = 90.0   # in-process budget; beyond it hand back to the queue


def backoff_delay(attempt: int, policy: RetryPolicy = RetryPolicy(),
                  rng: random.Random | None = None) -> float:
    """Delay after failed attempt `attempt` (1-based): full jitter, uniform in
    [0, min(max_delay, base_delay * 2**(attempt-1))], so many senders do not retry in step."""
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


def retry_schedule(policy: RetryPolicy = RetryPolicy(), rng: random.Random | None = None) -> list[float]:
    """Delays before attempts 2..max_attempts."""
    return [backoff_delay(a, policy, rng) for a in range(1, policy.max_attempts)]


def next_delay(outcome: SendOutcome, attempt: int, policy: RetryPolicy = RetryPolicy(),
               rng: random.Random | None = None) -> float | None:
    """Seconds to wait before another attempt, or None to stop."""
    if outcome.ok or not outcome.retryable or attempt >= policy.max_attempts:
        return None
    return max(backoff_delay(attempt, policy, rng), outcome.retry_after or 0.0)


@dataclass(frozen=True)
class DeliveryResult:
    status: str                 # delivered | dead_letter | retry_later
    attempts: int
    outcome: SendOutcome
    waits: tuple[float, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.status == "delivered"


Transport = Callable[[HttpRequest], tuple[int, Mapping[str, str], bytes]]


def _attempt(target: ChatTarget, request: HttpRequest, send: Transport) -> SendOutcome:
    try:
        status, headers, body = send(request)
    except OutboundRefused as exc:   # the outbound policy: this URL will never be sent to, dead-letter it
        return SendOutcome(False, False, "outbound_refused", error_text(str(exc)))
    except OSError as exc:  # timeouts and connection errors (requests' errors subclass OSError)
        return SendOutcome(False, True, "transport_error", error_text(str(exc)))
    if status == 0:         # stocklink.outbound.send: refused, reset or timed out, the reason as body
        return SendOutcome(False, True, "transport_error", error_text(body))
    return classify_response(target.platform, status, body, headers)


def deliver(target: ChatTarget, alert: Alert, send: Transport, *, clock_ms: Callable[[], int],
            sleep: Callable[[float], None], policy: RetryPolicy = RetryPolicy(),
            rng: random.Random | None = None) -> DeliveryResult:
    """Post one alert with retries. `send` does the HTTP call; a transport failure is status 0 with the
    reason as body (stocklink.outbound.send) or an OSError (an injected transport): both retryable.
    dead_letter: permanent error or attempts used up (send it to the DLQ);
    retry_later: still retryable but the in-process wait budget is spent (let the queue redeliver)."""
    waits: list[float] = []
    attempt = 0
    while True:
        attempt += 1
        request = build_request(target, alert, clock_ms())  # fresh timestamp and signature each time
        outcome = _attempt(target, request, send)
        if outcome.ok:
            return DeliveryResult("delivered", attempt, outcome, tuple(waits))
        delay = next_delay(outcome, attempt, policy, rng)
        if delay is None:
            return DeliveryResult("dead_letter", attempt, outcome, tuple(waits))
        if sum(waits) + delay > policy.max_total_wait:
            return DeliveryResult("retry_later", attempt, outcome, tuple(waits))
        waits.append(delay)
        sleep(delay)
