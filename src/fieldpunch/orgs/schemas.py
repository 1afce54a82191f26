from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints

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


# Settings kept in `orgs.settings` (JSON): off unless set.
FLAGS = ("require_signed_punches", "field_punch_note_required", "field_punch_photo_required")


class MapProvider(StrEnum):
    """The console's map tiles: the server's (WGS-84), or a Chinese provider's in GCJ-02."""

    osm = "osm"
    amap = "amap"
    tencent = "tencent"


class OrgOut(Out):
    id: str
    name: str
    timezone: str
    require_signed_punches: bool
    field_punch_note_required: bool = Field(
        description="A punch outside every fence (外勤) asks for a note before it is sent"
    )
    field_punch_photo_required: bool = Field(
        description="A punch outside every fence (外勤) asks for a photo before it is sent"
    )
    map_provider: MapProvider = Field(
        description="The console's map tiles: `osm` the server's (WGS-84), `amap` (高德) or "
        "`tencent` (腾讯) drawn in GCJ-02, positions converted for them"
    )
    created_at: datetime

    @classmethod
    def of(cls, org: Any) -> OrgOut:
        flags = {key: bool((org.settings or {}).get(key)) for key in FLAGS}
        return cls(
            id=org.id,
            name=org.name,
            timezone=org.timezone,
            map_provider=org.map_provider,
            created_at=org.created_at,
            **flags,
        )


class OrgUpdate(In):
    name: Name | None = None
    timezone: TimeZone | None = None
    require_signed_punches: bool | None = None
    field_punch_note_required: bool | None = None
    field_punch_photo_required: bool | None = None
    map_provider: MapProvider | None = None
