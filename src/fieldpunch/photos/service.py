"""Photos: upload (re-encode, store, record) and read back for the people who may see them."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from fieldpunch.auth.principal import Principal
from fieldpunch.db.scoped import scoped
from fieldpunch.kit.errors import Forbidden, Invalid, NotFound, ProblemError
from fieldpunch.kit.ids import new_id
from fieldpunch.photos import imaging
from fieldpunch.photos.models import Photo
from fieldpunch.photos.schemas import PhotoOut
from fieldpunch.photos.storage import PhotoStorage
from fieldpunch.users.models import User

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp")
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class TooLarge(ProblemError):
    status, slug, title = 413, "too-large", "Payload too large"


def to_out(photo: Photo, api_prefix: str) -> PhotoOut:
    return PhotoOut(
        id=photo.id,
        user_id=photo.user_id,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        sha256=photo.sha256,
        created_at=photo.created_at,
        url=f"{api_prefix}/photos/{photo.id}/content",
    )


async def upload(session: AsyncSession, storage: PhotoStorage, p: Principal, data: bytes) -> Photo:
    if p.user_id is None:
        raise Forbidden("photos are taken by people, not by API keys")
    if not data:
        raise Invalid(["body", "file"], "the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        mb = MAX_UPLOAD_BYTES // (1024 * 1024)
        raise TooLarge(
            f"the photo is larger than {mb} MB", [{"loc": ["body", "file"], "msg": "too large"}]
        )
    try:
        encoded = await run_in_threadpool(imaging.reencode, data)
    except imaging.NotAnImage as exc:
        raise Invalid(["body", "file"], str(exc)) from None
    photo_id = new_id("pho")
    key = f"{p.org_id}/{photo_id}.{_EXT[encoded.content_type]}"
    await run_in_threadpool(storage.put, key, encoded.data)
    photo = Photo(
        id=photo_id,
        org_id=p.org_id,
        user_id=p.user_id,
        content_type=encoded.content_type,
        width=encoded.width,
        height=encoded.height,
        size_bytes=len(encoded.data),
        sha256=hashlib.sha256(encoded.data).hexdigest(),
        storage_key=key,
    )
    session.add(photo)
    await session.flush()
    return photo


def _visible_stmt(p: Principal) -> Any:
    stmt = scoped(Photo, p.org_id)
    if p.visible_teams is not None:
        stmt = stmt.join(User, User.id == Photo.user_id)
        if (visible := p.user_filter(User.id, User.team_id)) is not None:
            stmt = stmt.where(visible)
    return stmt


async def get_visible(session: AsyncSession, p: Principal, photo_id: str) -> Photo:
    """The photo when the caller may see its taker's records (own, their teams, or all)."""
    row = (await session.execute(_visible_stmt(p).where(Photo.id == photo_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"photo {photo_id} not found")
    return row  # type: ignore[no-any-return]


async def content(storage: PhotoStorage, photo: Photo) -> bytes:
    data = await run_in_threadpool(storage.get, photo.storage_key)
    if data is None:
        raise NotFound(f"photo {photo.id}: the file is missing from storage")
    return data
