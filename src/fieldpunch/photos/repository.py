"""The photos' SQL: every statement the photo services and the punch intake's photo read run."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.customers.models import Customer
from fieldpunch.orgs.models import Org
from fieldpunch.photos.models import Photo
from fieldpunch.places.models import Place
from fieldpunch.punches.models import Punch
from fieldpunch.users.models import User


class PhotoRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def recent_hashes(self, org_id: str, since: datetime) -> list[tuple[str, int]]:
        """(id, pHash) of the org's photos uploaded since `since`, newest first."""
        stmt = (
            select(Photo.id, Photo.phash)
            .where(Photo.org_id == org_id, Photo.created_at >= since, Photo.phash.is_not(None))
            .order_by(Photo.created_at.desc(), Photo.id.desc())
        )
        rows = (await self.session.execute(stmt)).all()
        return [(r[0], r[1]) for r in rows if r[1] is not None]

    async def brief(self, org_id: str, photo_id: str) -> Any:
        """Who uploaded a photo and when."""
        stmt = select(Photo.id, Photo.user_id, Photo.created_at).where(
            Photo.org_id == org_id, Photo.id == photo_id
        )
        return (await self.session.execute(stmt)).first()

    async def evidence(self, org_id: str, ids: Iterable[str]) -> dict[str, Any]:
        """The detectors' view of photos by id: uploader, EXIF facts, nearest earlier photo."""
        stmt = select(Photo.id, Photo.user_id, Photo.exif, Photo.reuse).where(
            Photo.org_id == org_id, Photo.id.in_(list(set(ids)))
        )
        return {r.id: r for r in (await self.session.execute(stmt)).all()}

    async def first_citing(self, org_id: str, photo_ids: Iterable[str]) -> dict[str, Any]:
        """The earliest stored punch (by trusted time) citing each photo (ix_punches_org_photo)."""
        ids = list(set(photo_ids))
        if not ids:
            return {}
        stmt = (
            select(
                Punch.photo_id,
                Punch.id,
                Punch.user_id,
                Punch.visit_id,
                Punch.customer_id,
                Punch.trusted_time,
            )
            .where(Punch.org_id == org_id, Punch.photo_id.in_(ids))
            .order_by(Punch.trusted_time, Punch.id)
        )
        first: dict[str, Any] = {}
        for r in (await self.session.execute(stmt)).all():
            first.setdefault(r.photo_id, r)
        return first

    async def stamp(self, org_id: str, punch_id: str) -> Any:
        """What a watermark shows of a punch: time, kind, position, person, place/customer."""
        stmt = (
            select(
                Punch.id,
                Punch.kind,
                Punch.trusted_time,
                Punch.lat,
                Punch.lon,
                Punch.accuracy_m,
                User.name.label("person"),
                Customer.name.label("customer"),
                Place.name.label("place"),
            )
            .join(User, User.id == Punch.user_id)
            .outerjoin(Customer, Customer.id == Punch.customer_id)
            .outerjoin(Place, Place.id == Punch.place_id)
            .where(Punch.org_id == org_id, Punch.id == punch_id)
        )
        return (await self.session.execute(stmt)).first()

    async def person(self, user_id: str) -> str:
        name = await self.session.scalar(select(User.name).where(User.id == user_id))
        return name or user_id

    async def org_tz(self, org_id: str) -> ZoneInfo:
        name = await self.session.scalar(select(Org.timezone).where(Org.id == org_id))
        return ZoneInfo(name or "UTC")
