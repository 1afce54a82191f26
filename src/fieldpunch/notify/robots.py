"""Chat-tool robots (incoming webhooks): each vendor's message format, signing and answers.

Pure functions; `channels.py` sends what they build. Formats as the vendors document them:

- WeCom (企业微信) group robot: `{"msgtype": "markdown", "markdown": {"content": ...}}`
- DingTalk (钉钉) custom robot: `{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`,
  with a secret: `&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256(secret, "ts\\nsecret")>`
- Feishu / Lark (飞书) custom bot: `{"msg_type": "text", "content": {"text": ...}}`, with a secret
  also `"timestamp": "<s>", "sign": base64 HMAC-SHA256(key="ts\\nsecret", msg="")`
- Slack incoming webhook (and Slack-compatible ones: Mattermost, Rocket.Chat): `{"text": ...}`

WeCom, DingTalk and Feishu answer HTTP 200 with an error code in the body, so the body decides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote_plus, urlsplit

from fieldpunch.notify import outbound

Provider = Literal["wecom", "dingtalk", "feishu", "slack"]
PROVIDERS: tuple[Provider, ...] = ("wecom", "dingtalk", "feishu", "slack")

# Where each vendor's webhooks live (https on 443 only); anything else needs
# FIELDPUNCH_OUTBOUND_ALLOW_HOSTS (notify/outbound.py).
VENDOR_HOSTS: dict[Provider, tuple[str, ...]] = {
    "wecom": ("qyapi.weixin.qq.com",),
    "dingtalk": ("oapi.dingtalk.com",),
    "feishu": ("open.feishu.cn", "open.larksuite.com"),
    "slack": ("hooks.slack.com",),
}
# Error codes that mean "too fast": retry later rather than give up.
RATE_LIMITED = {"wecom": {45009}, "dingtalk": {130101, 410100}, "feishu": {9499, 11232}}
MAX_TEXT = 3800  # WeCom caps markdown at 4096 bytes; keep every vendor well inside theirs


@dataclass(frozen=True, slots=True)
class RobotMessage:
    title: str
    body: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class RobotRequest:
    url: str
    json: dict[str, Any]


class RobotRejected(Exception):
    """The vendor refused the message; `retry` says whether trying later can help."""

    def __init__(self, detail: str, *, retry: bool, after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry, self.after_s = retry, after_s


def host_allowed(url: str, provider_hosts: tuple[str, ...], extra: tuple[str, ...]) -> bool:
    """Whether `url` may be called: see `outbound.refusal` (https on 443 for vendors' hosts)."""
    return outbound.refusal(url, provider_hosts, extra) is None


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return (
        text
        if len(text.encode()) <= limit
        else text.encode()[: limit - 3].decode(errors="ignore") + "…"
    )


def _sign_dingtalk(secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def _sign_feishu(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def build(
    provider: Provider, url: str, message: RobotMessage, secret: str | None, now_s: float
) -> RobotRequest:
    """The request for one message. Signed ones carry the time, so build it at send time."""
    if provider == "wecom":
        link = f"\n[Open]({message.url})" if message.url else ""
        content = _clip(f"**{message.title}**\n{message.body}{link}")
        return RobotRequest(url, {"msgtype": "markdown", "markdown": {"content": content}})
    if provider == "dingtalk":
        link = f"\n\n[Open]({message.url})" if message.url else ""
        text = _clip(f"#### {message.title}\n\n{message.body}{link}")
        body = {"msgtype": "markdown", "markdown": {"title": message.title[:60], "text": text}}
        if secret:
            ts = int(now_s * 1000)
            sep = "&" if urlsplit(url).query else "?"
            url = f"{url}{sep}timestamp={ts}&sign={_sign_dingtalk(secret, ts)}"
        return RobotRequest(url, body)
    if provider == "feishu":
        link = f"\n{message.url}" if message.url else ""
        feishu: dict[str, Any] = {
            "msg_type": "text",
            "content": {"text": _clip(f"{message.title}\n{message.body}{link}")},
        }
        if secret:
            ts = int(now_s)
            feishu = {"timestamp": str(ts), "sign": _sign_feishu(secret, ts), **feishu}
        return RobotRequest(url, feishu)
    link = f"\n<{message.url}|Open>" if message.url else ""
    return RobotRequest(url, {"text": _clip(f"*{message.title}*\n{message.body}{link}")})


def check_answer(
    provider: Provider, status: int, body: bytes, retry_after: str | None = None
) -> None:
    """Raise RobotRejected unless the vendor accepted the message."""
    if status == 429 or status >= 500 or status == 408:
        after = float(retry_after) if retry_after and retry_after.isdigit() else None
        raise RobotRejected(f"HTTP {status}", retry=True, after_s=after)
    if status >= 300:
        raise RobotRejected(f"HTTP {status}: {body[:200].decode(errors='replace')}", retry=False)
    if provider == "slack":
        return  # 200 "ok"; Slack's errors are 4xx
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        raise RobotRejected(f"unreadable answer: {body[:200]!r}", retry=True) from None
    if not isinstance(answer, dict):
        raise RobotRejected(f"unexpected answer: {body[:200]!r}", retry=True)
    if provider == "feishu":
        code = answer.get("code", answer.get("StatusCode", 0))
        msg = answer.get("msg", answer.get("StatusMessage", ""))
    else:
        code, msg = answer.get("errcode", 0), answer.get("errmsg", "")
    if code in (0, None):
        return
    raise RobotRejected(f"{provider} error {code}: {msg}", retry=code in RATE_LIMITED[provider])
