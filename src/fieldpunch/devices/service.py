"""Devices: a person's phones, each holding a signing key that never leaves it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal, visible_rows
from fieldpunch.db.scoped import get_among, scoped
from fieldpunch.devices.keys import load_p256
from fieldpunch.devices.models import Device
from fieldpunch.devices.schemas import DeviceCreate, DeviceOut
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Forbidden
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate


def to_out(d: Device) -> DeviceOut:
    fields = {k: getattr(d, k) for k in DeviceOut.model_fields if k != "active"}
    return DeviceOut(**fields, active=d.revoked_at is None)


async def enrol(session: AsyncSession, p: Principal, body: DeviceCreate) -> tuple[Device, bool]:
    """Enrol the caller's device; (device, created). The same key again is the same device."""
    if p.user_id is None:
        raise Forbidden("a device is enrolled by the person who carries it, not by an API key")
    _, fingerprint = load_p256(body.public_key)
    existing = (
        await session.execute(
            scoped(Device, p.org_id).where(
                Device.key_fingerprint == fingerprint, Device.revoked_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.user_id != p.user_id:
            raise Conflict(
                "this key is enrolled to someone else",
                [{"loc": ["body", "public_key"], "msg": "in use"}],
            )
        return existing, False
    device = Device(
        id=new_id("dev"),
        org_id=p.org_id,
        user_id=p.user_id,
        public_key=body.public_key,
        key_fingerprint=fingerprint,
        platform=body.platform,
        label=body.label,
    )
    session.add(device)
    await session.flush()
    record(
        session,
        p.org_id,
        p.actor,
        "device.enrolled",
        "device",
        device.id,
        user_id=device.user_id,
        platform=device.platform,
        fingerprint=fingerprint,
    )
    return device, True


async def get_visible(session: AsyncSession, p: Principal, device_id: str) -> Device:
    return await get_among(session, visible_rows(Device, p), Device, device_id)


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    *,
    user_id: str | None,
    active: bool | None,
) -> dict[str, Any]:
    stmt = visible_rows(Device, p)
    if user_id is not None:
        stmt = stmt.where(Device.user_id == user_id)
    if active is not None:
        stmt = stmt.where(Device.revoked_at.is_(None) if active else Device.revoked_at.is_not(None))
    rows = list((await session.execute(paginate(stmt, Device.id, page))).scalars())
    return page_of(rows, page, to_out)


async def revoke(session: AsyncSession, p: Principal, device_id: str) -> None:
    device = await get_visible(session, p, device_id)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        record(
            session,
            p.org_id,
            p.actor,
            "device.revoked",
            "device",
            device.id,
            user_id=device.user_id,
        )
