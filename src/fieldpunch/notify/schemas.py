from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from fieldpunch.kit.pagination import Page
from fieldpunch.kit.schemas import In, Name, Out
from fieldpunch.notify import webpush
from fieldpunch.notify.kinds import KINDS, ROBOT_KINDS, Channel
from fieldpunch.notify.robots import Provider

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class NotificationOut(Out):
    id: str
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Page[NotificationOut]):
    unread_count: int


class ReadAll(Out):
    marked: int


def _hhmm(v: str) -> str:
    if not _HHMM.match(v):
        raise ValueError("must be HH:MM (00:00 to 23:59)")
    return v


class QuietHoursIO(In):
    start: Annotated[str, AfterValidator(_hhmm)]
    end: Annotated[str, AfterValidator(_hhmm)]

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursIO:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class Preferences(In):
    """Channels per kind beyond the in-app inbox (always on), and quiet hours in the org's zone.

    During quiet hours email and push wait until they end; the inbox and live feed do not.
    A kind left out keeps its default channels.
    """

    channels: dict[str, list[Channel]] = Field(default_factory=dict)
    quiet_hours: QuietHoursIO | None = None

    @model_validator(mode="after")
    def _known(self) -> Preferences:
        for kind, chosen in self.channels.items():
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
            if len(set(chosen)) != len(chosen):
                raise ValueError(f"{kind}: a channel is listed twice")
        return self


class KindInfo(Out):
    kind: str
    label: str
    default_channels: list[Channel]


class PreferencesOut(Out):
    channels: dict[str, list[Channel]]
    quiet_hours: dict[str, str] | None
    kinds: list[KindInfo]
    available_channels: list[Channel]


def _p256dh(v: str) -> str:
    webpush.load_subscription_key(v)
    return v


def _auth(v: str) -> str:
    webpush.load_auth_secret(v)
    return v


class PushKeys(In):
    p256dh: Annotated[str, StringConstraints(max_length=100), AfterValidator(_p256dh)]
    auth: Annotated[str, StringConstraints(max_length=40), AfterValidator(_auth)]


def _url(v: str) -> str:
    try:
        parts = urlsplit(v)
        host, _ = parts.hostname, parts.port  # .port raises on a port out of range
    except ValueError as exc:  # e.g. an unbalanced "[" or "]" in the host
        raise ValueError(f"not a valid URL: {exc}") from None
    if not host:
        raise ValueError("not a valid URL: no host")
    return v


Url = Annotated[
    str,
    StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$"),
    AfterValidator(_url),
]


class PushSubscriptionIn(In):
    """`PushSubscription.toJSON()` as the browser gives it."""

    endpoint: Url
    keys: PushKeys
    expirationTime: int | None = None


class PushSubscriptionOut(Out):
    id: str
    endpoint: str
    user_agent: str
    created_at: datetime
    last_success_at: datetime | None


class VapidKey(Out):
    public_key: str


RobotKind = Literal["anomaly.critical", "anomaly.escalated"]
assert set(ROBOT_KINDS) == {"anomaly.critical", "anomaly.escalated"}
Secret = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RobotCreate(In):
    name: Name
    provider: Provider
    url: Url
    secret: Secret | None = None  # DingTalk / Feishu "signature" security setting
    kinds: Annotated[list[RobotKind], Field(min_length=1)] = ["anomaly.critical"]
    team_id: Annotated[str | None, StringConstraints(max_length=40)] = None
    enabled: bool = True


class RobotUpdate(In):
    name: Name | None = None
    url: Url | None = None
    secret: Secret | None = None
    kinds: Annotated[list[RobotKind], Field(min_length=1)] | None = None
    team_id: Annotated[str | None, StringConstraints(max_length=40)] = None
    enabled: bool | None = None


class RobotOut(Out):
    """The webhook URL and secret are credentials: only a hint of the URL is ever shown."""

    id: str
    name: str
    provider: Provider
    url_hint: str
    has_secret: bool
    kinds: list[str]
    team_id: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_sent_at: datetime | None
    last_error: str | None


class Queued(Out):
    job_id: str
