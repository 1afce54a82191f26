from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

from fieldpunch.devices.keys import load_p256
from fieldpunch.kit.schemas import In, Out, ShortText


def _p256(v: str) -> str:
    load_p256(v)
    return v.strip()


PublicKey = Annotated[str, StringConstraints(min_length=40, max_length=400), AfterValidator(_p256)]
Platform = Literal["web", "android", "ios", "other"]


class DeviceCreate(In):
    public_key: PublicKey
    platform: Platform = "web"
    label: ShortText = ""


class DeviceOut(Out):
    id: str
    user_id: str
    public_key: str
    key_fingerprint: str
    platform: str
    label: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    active: bool
