"""Per-org geofence indexes, kept in memory and rebuilt when the org's geo_version moves.

Every place or customer write bumps `orgs.geo_version` in its own transaction, so any process
(several API workers) notices a change on its next punch for that org.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.customers.models import Customer
from fieldpunch.geo.geofence_index import Fence, GeofenceIndex
from fieldpunch.orgs.models import Org
from fieldpunch.places.models import Place


@dataclass(frozen=True, slots=True)
class OrgFences:
    version: int
    index: GeofenceIndex
    names: dict[str, str]
    bssid_places: dict[str, Fence]
    bssids_by_place: dict[str, list[str]]


async def bump(session: AsyncSession, org_id: str) -> None:
    """Call in the transaction that changes a place or a customer."""
    await session.execute(
        update(Org).where(Org.id == org_id).values(geo_version=Org.geo_version + 1)
    )


async def load(session: AsyncSession, org_id: str, version: int) -> OrgFences:
    places = (
        await session.execute(
            select(
                Place.id,
                Place.name,
                Place.lat,
                Place.lon,
                Place.radius_m,
                Place.polygon,
                Place.wifi_bssids,
            ).where(Place.org_id == org_id, Place.deleted_at.is_(None))
        )
    ).all()
    customers = (
        await session.execute(
            select(
                Customer.id,
                Customer.name,
                Customer.lat,
                Customer.lon,
                Customer.radius_m,
                Customer.polygon,
            ).where(
                Customer.org_id == org_id, Customer.deleted_at.is_(None), Customer.lat.is_not(None)
            )
        )
    ).all()
    fences: list[Fence] = []
    names: dict[str, str] = {}
    bssids: dict[str, Fence] = {}
    for pid, name, lat, lon, radius, polygon, wifi in places:
        fence = Fence(pid, "place", lat, lon, radius, polygon)
        fences.append(fence)
        names[pid] = name
        for bssid in wifi or []:
            bssids[bssid] = fence
    for cid, name, lat, lon, radius, polygon in customers:
        fences.append(Fence(cid, "customer", lat, lon, radius, polygon))
        names[cid] = name
    # Building a large index takes seconds: keep it off the event loop.
    by_place: dict[str, list[str]] = {}
    for bssid, fence in bssids.items():
        by_place.setdefault(fence.id, []).append(bssid)
    index = await asyncio.to_thread(GeofenceIndex, fences)
    return OrgFences(version, index, names, bssids, by_place)


class FenceCache:
    """org_id → its current OrgFences; one rebuild at a time per org."""

    def __init__(self) -> None:
        self._by_org: dict[str, OrgFences] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, session: AsyncSession, org_id: str, version: int) -> OrgFences:
        cached = self._by_org.get(org_id)
        if cached is not None and cached.version == version:
            return cached
        async with self._locks.setdefault(org_id, asyncio.Lock()):
            cached = self._by_org.get(org_id)
            if cached is None or cached.version != version:
                cached = self._by_org[org_id] = await load(session, org_id, version)
        return cached
