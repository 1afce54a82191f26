"""Photos: upload (re-encode, keep the original, search for reuse, store, record) and read back
for the people who may see them: the re-encoded copy, the original, or the watermarked copy."""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from fieldpunch.anomalies import policies
from fieldpunch.auth.principal import Principal
from fieldpunch.db.scoped import scoped
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden, Invalid, NotFound, ProblemError
from fieldpunch.kit.ids import new_id
from fieldpunch.photos import decoding, evidence, imaging, perceptual, watermark
from fieldpunch.photos.models import Photo
from fieldpunch.photos.repository import PhotoRepo
from fieldpunch.photos.schemas import ExifOut, PhotoOut
from fieldpunch.photos.storage import PhotoStorage
from fieldpunch.users.models import User

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp")
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# The widest reuse search kept at upload: the policy's threshold may be raised up to this later.
REUSE_SEARCH_BITS = 16


class Variant(StrEnum):
    clean = "clean"  # re-encoded, upright, no EXIF (what the app shows)
    watermarked = "watermarked"  # the clean copy with the punch's time, place and person burnt in
    original = "original"  # the upload's own bytes, EXIF included (evidence)


class TooLarge(ProblemError):
    status, slug, title = 413, "too-large", "Payload too large"


class DecoderBusy(ProblemError):
    status, slug, title = 503, "busy", "Service busy"
    retry_after_s = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


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
        watermarked_url=f"{api_prefix}/photos/{photo.id}/content?variant=watermarked",
        original_url=(
            f"{api_prefix}/photos/{photo.id}/content?variant=original"
            if photo.original_key
            else None
        ),
        original_sha256=photo.original_sha256,
        exif=ExifOut.model_validate(photo.exif) if photo.exif else None,
    )


async def reencode(decoder: decoding.Decoder, p: Principal, data: bytes) -> imaging.Encoded:
    """Check and re-encode an upload (no database: call it outside any transaction)."""
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
        return await decoder.reencode(data)  # in a child process: the event loop stays free
    except imaging.NotAnImage as exc:
        raise Invalid(["body", "file"], str(exc)) from None
    except decoding.Busy as exc:
        raise DecoderBusy(f"photos are being processed, try again shortly ({exc})") from None


async def _nearest(session: AsyncSession, p: Principal, phash: int | None) -> dict[str, Any]:
    """The nearest earlier photo of the org within REUSE_SEARCH_BITS over the uploader's
    `photo_reuse_days` (the detector applies the policy's threshold at the punch)."""
    assert p.user_id is not None
    book = await policies.load(session, p.org_id)
    days = book.for_person(p.user_id, p.team_id).photo_reuse_days
    found: dict[str, Any] = {"days": days, "compared": 0, "photo_id": None}
    if phash is None:
        return found
    repo = PhotoRepo(session)
    candidates = await repo.recent_hashes(p.org_id, utcnow() - timedelta(days=days))
    found["compared"] = len(candidates)
    best = perceptual.nearest(phash, candidates, REUSE_SEARCH_BITS)
    brief = None if best is None else await repo.brief(p.org_id, best[0])
    if best is not None and brief is not None:
        found.update(
            photo_id=best[0],
            distance=best[1],
            user_id=brief.user_id,
            created_at=brief.created_at.isoformat(),
        )
    return found


async def store(
    session: AsyncSession,
    storage: PhotoStorage,
    p: Principal,
    encoded: imaging.Encoded,
    original: bytes | None = None,
) -> Photo:
    """Keep a photo: the re-encoded bytes and the upload's own (`original`, untouched) in the
    storage, its row (with the nearest earlier photo of the org) in the session."""
    assert p.user_id is not None
    photo_id = new_id("pho")
    key = f"{p.org_id}/{photo_id}.{_EXT[encoded.content_type]}"
    original_key = None
    if original is not None and encoded.original_type in _EXT:
        original_key = f"{p.org_id}/{photo_id}_original.{_EXT[encoded.original_type]}"
        await run_in_threadpool(storage.put, original_key, original)
    await run_in_threadpool(storage.put, key, encoded.data)
    reuse = await _nearest(session, p, encoded.phash)
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
        original_key=original_key,
        original_type=encoded.original_type if original_key else None,
        original_sha256=hashlib.sha256(original).hexdigest() if original_key and original else None,
        phash=encoded.phash,
        exif=encoded.exif,
        reuse=reuse,
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


async def original(storage: PhotoStorage, photo: Photo) -> tuple[bytes, str]:
    """The upload's own bytes and type (photos uploaded before originals were kept: 404)."""
    if photo.original_key is None or photo.original_type is None:
        raise NotFound(f"photo {photo.id}: no original kept (uploaded before originals were)")
    data = await run_in_threadpool(storage.get, photo.original_key)
    if data is None:
        raise NotFound(f"photo {photo.id}: the original is missing from storage")
    return data, photo.original_type


async def watermarked(
    session: AsyncSession, storage: PhotoStorage, decoder: decoding.Decoder, photo: Photo
) -> tuple[bytes, str]:
    """The watermarked copy and what it was drawn from (a punch id, or "upload"); drawn once
    per source and kept (evidence.py says why on first request)."""
    source, lines = await evidence.stamp(session, photo)
    # Drawing takes CPU, not the database: hold no connection or lock meanwhile.
    await session.commit()
    key = f"{photo.org_id}/{photo.id}_wm_{source}.jpg"
    kept = await run_in_threadpool(storage.get, key)
    if kept is not None:
        return kept, source
    clean = await content(storage, photo)
    try:
        drawn = await decoder.run(functools.partial(watermark.render, lines=lines), clean)
    except decoding.Busy as exc:
        raise DecoderBusy(f"photos are being processed, try again shortly ({exc})") from None
    await run_in_threadpool(storage.put, key, drawn)
    return drawn, source
