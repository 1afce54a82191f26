from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
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
    require_signed_punches: bool
    created_at: datetime

    @classmethod
    def of(cls, org: Any) -> OrgOut:
        flags = {"require_signed_punches": bool((org.settings or {}).get("require_signed_punches"))}
        return cls(
            id=org.id, name=org.name, timezone=org.timezone, created_at=org.created_at, **flags
        )


class OrgUpdate(In):
    name: Name | None = None
    timezone: TimeZone | None = None
    require_signed_punches: bool | None = None
