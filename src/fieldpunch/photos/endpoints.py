from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.photos import service
from fieldpunch.photos.decoding import Decoder
from fieldpunch.photos.schemas import PhotoOut
from fieldpunch.photos.storage import DiskStorage, PhotoStorage

router = APIRouter(prefix="/photos", tags=["photos"], route_class=TxRoute)
# A photo is evidence attached to punches and corrections: the punch scopes govern it.
Writer = Annotated[Principal, need(Scope.punches_write)]
Reader = Annotated[Principal, need(Scope.punches_read)]
_PROBLEM: dict[int | str, dict[str, Any]] = {
    413: {"description": "Larger than 10 MB"},
    422: {"description": "Not a JPEG, PNG or WebP image, or one with too many pixels"},
    503: {"description": "Too many photos being processed: try again after Retry-After"},
}
API_PREFIX = "/api/v1"


def storage_for(data_dir: Path) -> PhotoStorage:
    return DiskStorage(data_dir / "photos")


def _storage(request: Request) -> PhotoStorage:
    state = request.app.state
    if getattr(state, "photo_storage", None) is None:
        state.photo_storage = storage_for(state.settings.data_dir)
    return state.photo_storage  # type: ignore[no-any-return]


def _decoder(request: Request) -> Decoder:
    """The app's photo decoder, made and stopped by its lifespan (app.py)."""
    return request.app.state.photo_decoder  # type: ignore[no-any-return]


async def _read_limited(file: UploadFile) -> bytes:
    """At most the limit plus one byte, so an oversize upload is refused without reading it all."""
    return await file.read(service.MAX_UPLOAD_BYTES + 1)


@router.post("", status_code=201, responses=_PROBLEM)
async def upload_photo(
    request: Request,
    session: Session,
    p: Writer,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 10 MB")],
) -> PhotoOut:
    """Store a photo for a punch, a visit or a correction.

    Kept twice: re-encoded as an upright JPEG without EXIF (what the app shows: no GPS leak),
    and the upload's own bytes untouched (evidence, EXIF included). Its EXIF time and position
    and its perceptual hash are read for the photo detectors (`photo_exif_mismatch`,
    `photo_reused`), which judge the punch that cites the photo by `photo_id`.
    """
    data = await _read_limited(file)
    # Decoding takes up to seconds: not inside the request's transaction, which holds SQLite's
    # one write lock (everyone's punches would wait) or a pooled PostgreSQL connection. So far
    # it only looked up the caller; the photo's row is written in a transaction of its own.
    await session.commit()
    encoded = await service.reencode(_decoder(request), p, data)
    photo = await service.store(session, _storage(request), p, encoded, data)
    del data
    return service.to_out(photo, API_PREFIX)


@router.get("/{photo_id}")
async def get_photo(session: Session, p: Reader, photo_id: str) -> PhotoOut:
    """A photo's record: size, type, when and by whom it was taken."""
    return service.to_out(await service.get_visible(session, p, photo_id), API_PREFIX)


@router.get(
    "/{photo_id}/content",
    response_class=Response,
    responses={
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
            "description": "The image (the original keeps the upload's own type)",
        },
        404: {"description": "No such photo, or no original kept for it"},
        503: {"description": "Too many photos being processed: try again after Retry-After"},
    },
)
async def get_photo_content(
    request: Request,
    session: Session,
    p: Reader,
    photo_id: str,
    variant: Annotated[
        service.Variant,
        Query(
            description="`clean` (default): re-encoded, upright, no EXIF; `watermarked`: with "
            "the punch's trusted time, customer or place, person and position burnt in; "
            "`original`: the upload's own bytes, EXIF included"
        ),
    ] = service.Variant.clean,
) -> Response:
    """The photo itself."""
    photo = await service.get_visible(session, p, photo_id)
    storage = _storage(request)
    cache = "private, max-age=86400, immutable"
    if variant is service.Variant.original:
        data, media_type = await service.original(storage, photo)
        etag = photo.original_sha256 or photo.sha256
    elif variant is service.Variant.watermarked:
        data, source = await service.watermarked(session, storage, _decoder(request), photo)
        # Drawn from the upload until a punch cites the photo: then from that punch.
        cache = "private, no-cache" if source == "upload" else cache
        media_type, etag = "image/jpeg", f"{photo.sha256[:32]}-{source}"
    else:
        data, media_type = await service.content(storage, photo), photo.content_type
        etag = photo.sha256
    return Response(
        data, media_type=media_type, headers={"Cache-Control": cache, "ETag": f'"{etag}"'}
    )
