from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.devices import service
from fieldpunch.devices.schemas import DeviceCreate, DeviceOut
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams

router = APIRouter(prefix="/devices", tags=["devices"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.devices_read)]
Writer = Annotated[Principal, need(Scope.devices_write)]


@router.get("", response_model=Page[DeviceOut])
async def list_devices(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    user_id: Annotated[str | None, Query(max_length=40)] = None,
    active: bool | None = None,
) -> dict[str, object]:
    """The enrolled devices the caller may see (staff: their own)."""
    return await service.list_(session, p, page, user_id=user_id, active=active)


@router.post(
    "",
    status_code=201,
    responses={
        200: {"model": DeviceOut, "description": "Key already enrolled"},
        409: answer("The key is enrolled to someone else"),
    },
)
async def enrol_device(
    session: Session, p: Writer, body: DeviceCreate, response: Response
) -> DeviceOut:
    """Enrol the caller's device key; the same key again answers 200 with the same device."""
    device, created = await service.enrol(session, p, body)
    if not created:
        response.status_code = 200
    return service.to_out(device)


@router.get("/{device_id}")
async def get_device(session: Session, p: Reader, device_id: str) -> DeviceOut:
    """One enrolled device."""
    return service.to_out(await service.get_visible(session, p, device_id))


@router.delete("/{device_id}", status_code=204, response_class=Response)
async def revoke_device(session: Session, p: Writer, device_id: str) -> None:
    """Revoke: punches signed by this key are no longer accepted as genuine."""
    await service.revoke(session, p, device_id)
