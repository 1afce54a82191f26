from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, StringConstraints

from fieldpunch.kit.schemas import In, Name, Out


def check_zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown IANA time zone: {v}") from None
    return v


TimeZone = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_zone)
]


class OrgOut(Out):
    id: str
    name: str
    timezone: str
    created_at: datetime


class OrgUpdate(In):
    name: Name | None = None
    timezone: TimeZone | None = None
