from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, Response, UploadFile

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.photos import service
from fieldpunch.photos.schemas import PhotoOut
from fieldpunch.photos.storage import DiskStorage, PhotoStorage

router = APIRouter(prefix="/photos", tags=["photos"], route_class=TxRoute)
# A photo is evidence attached to punches and corrections: the punch scopes govern it.
Writer = Annotated[Principal, need(Scope.punches_write)]
Reader = Annotated[Principal, need(Scope.punches_read)]
_PROBLEM: dict[int | str, dict[str, Any]] = {
    413: {"description": "Larger than 10 MB"},
    422: {"description": "Not a JPEG, PNG or WebP image"},
}
API_PREFIX = "/api/v1"


def storage_for(data_dir: Path) -> PhotoStorage:
    return DiskStorage(data_dir / "photos")


def _storage(request: Request) -> PhotoStorage:
    state = request.app.state
    if getattr(state, "photo_storage", None) is None:
        state.photo_storage = storage_for(state.settings.data_dir)
    return state.photo_storage  # type: ignore[no-any-return]


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
    """Store a photo for a visit or a correction: re-encoded as JPEG without EXIF (no GPS leak)."""
    data = await _read_limited(file)
    photo = await service.upload(session, _storage(request), p, data)
    return service.to_out(photo, API_PREFIX)


@router.get("/{photo_id}")
async def get_photo(session: Session, p: Reader, photo_id: str) -> PhotoOut:
    return service.to_out(await service.get_visible(session, p, photo_id), API_PREFIX)


@router.get(
    "/{photo_id}/content",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The image"}},
)
async def get_photo_content(
    request: Request, session: Session, p: Reader, photo_id: str
) -> Response:
    photo = await service.get_visible(session, p, photo_id)
    data = await service.content(_storage(request), photo)
    return Response(
        data,
        media_type=photo.content_type,
        headers={"Cache-Control": "private, max-age=86400, immutable", "ETag": f'"{photo.sha256}"'},
    )
