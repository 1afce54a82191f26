"""What a photo's EXIF says about when and where it was taken (pure, read with Pillow).

Only the two facts a reviewer checks against the punch: DateTimeOriginal (with its
OffsetTimeOriginal when the camera wrote one; EXIF 2.31) and the GPS position. Anything
malformed counts as absent: EXIF is whatever the phone, an editor or a forger wrote, and a
broken tag must never fail an upload. Browsers strip EXIF when the field app shrinks a photo,
so "no EXIF" is ordinary and recorded as such (`present: false`), never a finding.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image

_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$")
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return value.strip("\x00 ") if isinstance(value, str) else None


def taken_at(date_text: Any, offset_text: Any) -> str | None:
    """ISO 8601 of an EXIF date ("2026:12:04 12:00:05"), with its offset when it has one.

    Without an offset the time is the camera's local wall clock: left naive here, read in
    the org's zone by the detector.
    """
    text = _text(date_text)
    m = _DATE.match(text or "")
    if m is None:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g) for g in m.groups())
        t = datetime(y, mo, d, h, mi, sec)  # a wall clock: its offset, if any, comes below
    except ValueError:  # "0000:00:00 00:00:00" is what some cameras write for "unknown"
        return None
    offset = _text(offset_text)
    if offset and _OFFSET.match(offset):
        return f"{t.isoformat()}{offset}"
    return t.isoformat()


def _degrees(dms: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (float(x) for x in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    if not math.isfinite(value):
        return None
    return -value if _text(ref) == negative else value


def position(gps: dict[int, Any]) -> tuple[float, float] | None:
    """WGS-84 (lat, lon) of an EXIF GPS IFD, or None when missing or out of range."""
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # an unset GPS block, not a photo from the Gulf of Guinea
        return None
    return round(lat, 7), round(lon, 7)


def facts(exif: Image.Exif) -> dict[str, Any]:
    """`{present, taken_at, lat, lon}` of an image's EXIF (`present`: any EXIF tag at all)."""
    out: dict[str, Any] = {"present": len(exif) > 0, "taken_at": None, "lat": None, "lon": None}
    if not exif:
        return out
    try:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # a corrupt IFD is EXIF we cannot read, not a bad upload
        return out
    out["taken_at"] = taken_at(
        ifd.get(ExifTags.Base.DateTimeOriginal), ifd.get(ExifTags.Base.OffsetTimeOriginal)
    )
    where = position(gps)
    if where is not None:
        out["lat"], out["lon"] = where
    return out
