from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from fieldpunch.kit.schemas import Out


class ExifOut(BaseModel):
    """What a photo's own EXIF says (browsers drop EXIF when they shrink a photo: often none)."""

    present: bool = Field(description="Whether the upload carried any EXIF at all")
    taken_at: str | None = Field(
        None,
        description="DateTimeOriginal, ISO 8601; with its offset when the camera wrote "
        "OffsetTimeOriginal, else the camera's wall clock (read in the org's time zone)",
    )
    lat: float | None = Field(None, description="EXIF GPS latitude, WGS-84")
    lon: float | None = Field(None, description="EXIF GPS longitude, WGS-84")


class PhotoOut(Out):
    id: str
    user_id: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    created_at: datetime
    url: str = Field(description="The re-encoded photo: upright, no EXIF")
    watermarked_url: str = Field(
        description="The photo with its punch's trusted time, place or customer, person and "
        "position burnt into a band at the bottom (before a punch cites it: the upload's)"
    )
    original_url: str | None = Field(
        description="The upload's own bytes, EXIF included (null for photos uploaded before "
        "originals were kept)"
    )
    original_sha256: str | None = Field(description="SHA-256 of the original's bytes")
    exif: ExifOut | None = Field(
        description="What the original's EXIF says; null for photos uploaded before it was read"
    )
