"""`PunchFacts.photo` values as the intake builds them (photos/evidence.py), for the pure tests."""

from __future__ import annotations

from typing import Any

from tests.unit.anomalies.tracks import OFFICE


def photo(
    *,
    user_id: str = "u-li-lei",
    exif: dict[str, Any] | None = None,
    reuse: dict[str, Any] | None = None,
    cited_by: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": "pho-1",
        "found": True,
        "user_id": user_id,
        "exif": exif or {"present": False, "taken_at": None, "lat": None, "lon": None},
        "reuse": reuse or {"days": 90, "compared": 0, "photo_id": None},
        "cited_by": cited_by,
    }


def near(distance: int) -> dict[str, Any]:
    return {
        "days": 90,
        "compared": 12,
        "photo_id": "pho-0",
        "distance": distance,
        "user_id": "u-li-lei",
        "created_at": "2026-02-20T02:00:00+00:00",
        "punch_id": "p-old",
        "visit_id": "v-old",
    }


def exif(taken_at: str | None = None, where: tuple[float, float] | None = None) -> dict[str, Any]:
    return {
        "present": True,
        "taken_at": taken_at,
        "lat": where[0] if where else None,
        "lon": where[1] if where else None,
    }


# The tracks' punches are at 09:00 Shanghai on 2 March 2026, at the office.
SIMILAR_PHOTO = photo(reuse=near(2))
OLD_PHOTO = photo(exif=exif("2026-03-02T06:00:00+08:00", OFFICE))
