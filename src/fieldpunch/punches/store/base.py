"""`IntakeStore`: every read and write of the punch intake, one method each.

The intake's service calls these and nothing else that knows SQL or a dialect. The statements
are prebuilt (statements.py); what both databases run alike is here, what differs (opening an
intake: the head lock with the org's read; writing its rows) is abstract and implemented in
postgres.py and sqlite.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.devices.keys import load_p256
from fieldpunch.kit.clock import utcnow
from fieldpunch.punches import ledger
from fieldpunch.punches.models import Punch
from fieldpunch.punches.pipeline import CellKey, CellView, DeviceView
from fieldpunch.punches.store import statements as q


@dataclass(frozen=True, slots=True)
class OrgView:
    require_signed: bool
    geo_version: int
    tz: ZoneInfo
    # What the org asks of a punch outside every fence (外勤): "note", "photo" (org settings).
    field_requires: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Head:
    """A person's locked chain head, and the detectors' memory kept on it (or None)."""

    seq: int
    hash: str
    memory: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Opened:
    """What an intake reads as it takes the person's chain: the org, the named devices, whether
    the person has an active device, and the locked head."""

    org: OrgView
    devices: dict[str, DeviceView]
    has_device: bool
    head: Head


@dataclass(slots=True)
class Write:
    """Every row an intake adds, and where the person's chain head ends."""

    org_id: str
    user_id: str
    punches: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    hash: str = ledger.GENESIS
    at: datetime | None = None
    memory: dict[str, Any] | None = None


# Parsed device keys by their SPKI text: a key never changes, so this needs no invalidation
# (revocation and ownership are read from the database on every punch).
_keys: dict[str, ec.EllipticCurvePublicKey] = {}


def _public_key(spki: str) -> ec.EllipticCurvePublicKey:
    key = _keys.get(spki)
    if key is None:
        if len(_keys) > 100_000:  # bounded: forget every key rather than grow without limit
            _keys.clear()
        key = _keys[spki] = load_p256(spki)[0]
    return key


def org_view(settings: dict[str, Any] | None, geo_version: int, timezone: str) -> OrgView:
    settings = settings or {}
    requires = tuple(
        what for what in ("note", "photo") if settings.get(f"field_punch_{what}_required")
    )
    return OrgView(
        bool(settings.get("require_signed_punches")),
        int(geo_version),
        ZoneInfo(timezone),
        requires,
    )


def device_view(r: Any) -> DeviceView:
    """A device row (`device_id`, `user_id`, `public_key`, `revoked_at`) as the pipeline sees it."""
    return DeviceView(r.device_id, r.user_id, _public_key(r.public_key), r.revoked_at is not None)


class IntakeStore(ABC):
    """The punch intake's repository, bound to one session (one transaction)."""

    dialect: str

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @abstractmethod
    async def open(self, org_id: str, user_id: str, device_ids: set[str]) -> Opened:
        """The org, the devices named and the person's chain head, locked until commit."""

    @abstractmethod
    async def write(self, w: Write) -> None:
        """Insert every row of `w` (punches, ledger entries, anomalies, outbox events, in that
        order) and move the person's chain head to (`w.seq`, `w.hash`, `w.memory`)."""

    async def org(self, org_id: str) -> OrgView:
        row = (await self.session.execute(q.ORG, {"org_id": org_id})).one()
        return org_view(row.settings, row.geo_version, row.timezone)

    async def lock_head(self, org_id: str, user_id: str) -> Head:
        """The person's chain head, row-locked until commit (created at genesis if missing)."""
        values = {
            "org_id": org_id,
            "user_id": user_id,
            "seq": 0,
            "hash": ledger.GENESIS,
            "updated_at": utcnow(),
        }
        (row,) = await q.LOCK_HEAD[self.dialect].execute(self.session, values)
        return Head(int(row.seq), str(row.hash), row.detector_memory)

    async def set_head(self, org_id: str, user_id: str, seq: int, hash_: str, at: datetime) -> None:
        """Move a locked head (its detectors' memory goes stale: seq moves on without it)."""
        params = {"k_org_id": org_id, "k_user_id": user_id, "seq": seq, "hash": hash_}
        await self.session.execute(q.SET_HEAD, {**params, "updated_at": at})

    async def _open_apart(self, org_id: str, user_id: str, ids: set[str]) -> Opened:
        """`open` as two reads and the lock: one read unless the claims name several devices."""
        if len(ids) == 1:
            (device_id,) = ids
            params = {"org_id": org_id, "device_id": device_id, "person_id": user_id}
            (row,) = await q.ORG_DEVICE.execute(self.session, params)
            devices = {} if row.device_id is None else {row.device_id: device_view(row)}
        else:
            params = {"org_id": org_id, "person_id": user_id}
            (row,) = await q.ORG_PERSON.execute(self.session, params)
            found: list[Any] = []
            if ids:
                named = {"org_id": org_id, "ids": list(ids)}
                found = list(await self.session.execute(q.DEVICES, named))
            devices = {
                r.id: DeviceView(
                    r.id, r.user_id, _public_key(r.public_key), r.revoked_at is not None
                )
                for r in found
            }
        org = org_view(row.settings, row.geo_version, row.timezone)
        head = await self.lock_head(org_id, user_id)
        return Opened(org, devices, bool(row.has_device), head)

    async def cells(self, org_id: str, keys: set[CellKey]) -> dict[CellKey, CellView]:
        if not keys:
            return {}
        rows = await self.session.execute(q.CELLS, {"org_id": org_id, "keys": list(keys)})
        return {
            (r.radio, r.mcc, r.mnc, r.lac, r.cid): CellView(r.lat, r.lon, r.range_m) for r in rows
        }

    async def customer_exists(self, org_id: str, customer_id: str) -> bool:
        params = {"org_id": org_id, "customer_id": customer_id}
        return (await self.session.execute(q.CUSTOMER, params)).first() is not None

    async def seen(self, org_id: str, client_ids: list[str]) -> list[str]:
        """Ids of stored punches with these client_ids (idempotency)."""
        if len(client_ids) == 1:
            one = {"org_id": org_id, "client_id": client_ids[0]}
            return [r.id for r in await q.SEEN_ONE.execute(self.session, one)]
        many = {"org_id": org_id, "client_ids": client_ids}
        return [r.id for r in await self.session.execute(q.SEEN, many)]

    async def seen_and_cross(
        self, client_ids: list[str], params: dict[str, Any], single: bool
    ) -> tuple[list[str], list[Any]]:
        """`seen` and both cross-person reads (`params`: engine.cross_params) in one round trip:
        the ids, and the cross rows for engine.take_cross."""
        if single:
            rows = await q.SEEN_AND_CROSS[True].execute(
                self.session, {**params, "client_id": client_ids[0]}
            )
        else:
            rows = list(
                await self.session.execute(
                    q.SEEN_AND_CROSS[False], {**params, "client_ids": client_ids}
                )
            )
        ids = [r.device_id for r in rows if r.part == "seen"]
        return ids, [r for r in rows if r.part != "seen"]

    async def cross(self, params: dict[str, Any], single: bool) -> Sequence[Any]:
        """The cross-person reads `params` asks for (engine.cross_params), tagged by `part`."""
        reads = q.CROSS[single]
        wanted = [
            part
            for key, part in (("device_since", reads.device), ("coords_since", reads.coords))
            if key in params
        ]
        if not wanted:
            return []
        stmt = wanted[0] if len(wanted) == 1 else reads.both
        return list(await self.session.execute(stmt, params))

    async def window(
        self, org_id: str, user_id: str, start: datetime, end: datetime
    ) -> Sequence[Any]:
        """The person's latest stored punches in [start, end] and their latest trusted time
        (parts `window` and `latest`: engine.window_of)."""
        params = {"org_id": org_id, "user_id": user_id, "start": start, "end": end}
        return list(await self.session.execute(q.WINDOW, params))

    async def window_and_cross(self, params: dict[str, Any], single: bool) -> Sequence[Any]:
        """`window` and both cross-person reads in one round trip."""
        return list(await self.session.execute(q.WINDOW_AND_CROSS[single], params))

    async def punches(self, ids: list[str]) -> dict[str, Punch]:
        """Whole stored punches by client_id (for replays, which are rare)."""
        found = await self.session.execute(q.STORED, {"ids": ids})
        return {row.client_id: row for row in found.scalars()}

    async def reassess(
        self, punch_id: str, anomalies: list[dict[str, Any]], status: str, seq: int, hash_: str
    ) -> None:
        """A stored punch's new findings and status, on the ledger at `seq`."""
        params = {"k_id": punch_id, "anomalies": anomalies, "status": status}
        await self.session.execute(q.REASSESSED, {**params, "seq": seq, "hash": hash_})
