"""A photo as evidence for its punch: the facts the photo detectors judge, and the watermark.

When each fact is known decides where it is worked out. A punch cites its photo by the id the
upload answered, so the photo is always stored before the punch that cites it, even from an
offline queue (the field app uploads the queued photo first, then signs the punch with its id).

* At upload (nothing about the punch known yet): the EXIF facts, the pHash, and the nearest
  earlier photo of the org (`reuse`, searched over the uploader's `photo_reuse_days`). Stored
  on the photo row, so the search runs once per photo, never inside a punch's transaction.
* At the punch's intake (the photo known): `punch_facts` reads the cited photo rows and the
  earliest punches citing them or their nearest match (two indexed reads, only for punches
  with a photo) into the punch's facts; the pure detectors (anomalies/detectors/photos.py)
  judge them against the trusted time and position, and every later re-fold sees the same.
* The watermark needs the punch's trusted time and matched customer, so it is drawn from the
  first punch citing the photo, on the first request for it, in the decoder's child processes,
  and stored (photos/service.py). Before any punch cites the photo, the watermark shows the
  upload's time and person, and is stored under another key, so a later punch gets its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.photos.models import Photo
from fieldpunch.photos.repository import PhotoRepo

KINDS = {
    "clock_in": "上班打卡 Clock in",
    "clock_out": "下班打卡 Clock out",
    "visit_in": "拜访签到 Visit in",
    "visit_out": "拜访签退 Visit out",
}


def _cite(row: Any) -> dict[str, Any]:
    return {
        "punch_id": row.id,
        "user_id": row.user_id,
        "visit_id": row.visit_id,
        "customer_id": row.customer_id,
        "trusted_time": row.trusted_time.isoformat(),
    }


async def punch_facts(
    session: AsyncSession, org_id: str, photo_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """`PunchFacts.photo` for each cited photo id (see the module's text)."""
    repo = PhotoRepo(session)
    ids = set(photo_ids)
    rows = await repo.evidence(org_id, ids)
    matched = {r.reuse["photo_id"] for r in rows.values() if r.reuse and r.reuse.get("photo_id")}
    cites = await repo.first_citing(org_id, ids | matched)
    out: dict[str, dict[str, Any]] = {}
    for pid in ids:
        row = rows.get(pid)
        if row is None:  # an id the org never issued: nothing to judge
            out[pid] = {"id": pid, "found": False}
            continue
        reuse = dict(row.reuse) if row.reuse else None
        if reuse and reuse.get("photo_id") in cites:
            earlier = cites[reuse["photo_id"]]
            reuse.update(punch_id=earlier.id, visit_id=earlier.visit_id)
        out[pid] = {
            "id": pid,
            "found": True,
            "user_id": row.user_id,
            "exif": row.exif,
            "reuse": reuse,
            "cited_by": _cite(cites[pid]) if pid in cites else None,
        }
    return out


def cite_within(rows: Sequence[Any]) -> None:
    """Two new punches of one request citing one photo: their facts were read before either
    was stored, so neither saw the other. Each after the first (in trusted-time order) is
    given the first as the punch that cited the photo before it, as a stored one would be."""
    first: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: (r.trusted_time, r.id)):
        photo = row.facts.get("photo")
        if not row.photo_id or not photo or not photo.get("found"):
            continue
        earlier = first.setdefault(row.photo_id, row)
        if earlier is not row and photo.get("cited_by") is None:
            row.facts["photo"] = {**photo, "cited_by": _cite(earlier)}  # a copy: rows share it


def _when(t: datetime, tz: ZoneInfo) -> str:
    """ "2026-12-04 12:00:05+08:00 Asia/Shanghai": the wall clock, its offset and its zone."""
    return f"{t.astimezone(tz).isoformat(sep=' ', timespec='seconds')} {tz.key}"


async def stamp(session: AsyncSession, photo: Photo) -> tuple[str, list[str]]:
    """(what it is drawn from, the lines) of a photo's watermark: its first punch, else upload."""
    repo = PhotoRepo(session)
    tz = await repo.org_tz(photo.org_id)
    cite = (await repo.first_citing(photo.org_id, [photo.id])).get(photo.id)
    row = None if cite is None else await repo.stamp(photo.org_id, cite.id)
    if row is None:
        return "upload", [
            f"{_when(photo.created_at, tz)} · 上传 Uploaded",
            await repo.person(photo.user_id),
            photo.id,
        ]
    where = row.customer or row.place or "外勤 Outside every fence"
    return row.id, [
        f"{_when(row.trusted_time, tz)} · {KINDS.get(row.kind, row.kind)}",
        where,
        row.person,
        f"{row.lat:.6f}, {row.lon:.6f} ±{row.accuracy_m:.0f} m (WGS-84)",
        f"{row.id} · fieldpunch",
    ]
