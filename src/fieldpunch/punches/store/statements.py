"""The punch intake's statements: Core on the tables, built once at import.

No ORM compile state and no statement construction per punch; the cache key of each is computed
once. `DriverStatement`s are compiled once per dialect and run by the driver (db/driver_sql.py).
Rows of the union reads are tagged by a `part` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Executable,
    and_,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fieldpunch.anomalies.engine import WINDOW_LIMIT, Stored
from fieldpunch.cells.models import Cell
from fieldpunch.customers.models import Customer
from fieldpunch.db.base import table_of
from fieldpunch.db.driver_sql import DriverStatement
from fieldpunch.devices.models import Device
from fieldpunch.orgs.models import Org
from fieldpunch.punches import ledger
from fieldpunch.punches.models import LedgerHead, Punch

orgs = table_of(Org)
devs = table_of(Device)
punches = table_of(Punch)
heads = table_of(LedgerHead)
cells = table_of(Cell)
customers = table_of(Customer)

ORG = select(orgs.c.settings, orgs.c.geo_version, orgs.c.timezone).where(
    orgs.c.id == bindparam("org_id")
)
# The org and the one device a punch names, in one round trip (fresh on every punch: a revoke
# that has committed is seen by the next punch, in any process).
_ORG_DEVICE_COLUMNS = (
    orgs.c.settings,
    orgs.c.geo_version,
    orgs.c.timezone,
    devs.c.id.label("device_id"),
    devs.c.user_id,
    devs.c.public_key,
    devs.c.revoked_at,
)
_THE_DEVICE = and_(devs.c.org_id == orgs.c.id, devs.c.id == bindparam("device_id"))
# Whether the person has an enrolled device that is not revoked: an unsigned punch from them is
# then a downgrade (`unsigned`). Rides in the org read: one probe of ix_devices_user_id.
_mine = devs.alias("mine")
_HAS_DEVICE = (
    select(_mine.c.id)
    .where(
        _mine.c.user_id == bindparam("person_id"),
        _mine.c.org_id == orgs.c.id,
        _mine.c.revoked_at.is_(None),
    )
    .exists()
    .label("has_device")
)
ORG_DEVICE = DriverStatement(
    select(*_ORG_DEVICE_COLUMNS, _HAS_DEVICE)
    .select_from(orgs.outerjoin(devs, _THE_DEVICE))
    .where(orgs.c.id == bindparam("org_id"))
)
ORG_PERSON = DriverStatement(
    select(orgs.c.settings, orgs.c.geo_version, orgs.c.timezone, _HAS_DEVICE).where(
        orgs.c.id == bindparam("org_id")
    )
)
DEVICES = select(devs.c.id, devs.c.user_id, devs.c.public_key, devs.c.revoked_at).where(
    devs.c.org_id == bindparam("org_id"), devs.c.id.in_(bindparam("ids", expanding=True))
)
CELLS = select(
    cells.c.radio,
    cells.c.mcc,
    cells.c.mnc,
    cells.c.lac,
    cells.c.cid,
    cells.c.lat,
    cells.c.lon,
    cells.c.range_m,
).where(
    cells.c.org_id == bindparam("org_id"),
    tuple_(cells.c.radio, cells.c.mcc, cells.c.mnc, cells.c.lac, cells.c.cid).in_(
        bindparam("keys", expanding=True)
    ),
)
CUSTOMER = select(customers.c.id).where(
    customers.c.org_id == bindparam("org_id"),
    customers.c.id == bindparam("customer_id"),
    customers.c.deleted_at.is_(None),
)

_SEEN_ONE = select(punches.c.id, punches.c.client_id).where(
    punches.c.org_id == bindparam("org_id"), punches.c.client_id == bindparam("client_id")
)
SEEN_ONE = DriverStatement(_SEEN_ONE)
SEEN = select(punches.c.id, punches.c.client_id).where(
    punches.c.org_id == bindparam("org_id"),
    punches.c.client_id.in_(bindparam("client_ids", expanding=True)),
)


# The detectors' cross-person reads.
def _among(col: Any, name: str, single: bool) -> Any:
    """`col` equal to the value bound to `name` (one punch), or in the list bound to it.

    An expanding IN is rendered into the SQL text on every execution: a single punch binds
    plain values.
    """
    return col == bindparam(name) if single else col.in_(bindparam(name, expanding=True))


def _on_device(other: Any, single: bool) -> Any:
    return select(punches.c.device_id, punches.c.user_id).where(
        punches.c.org_id == bindparam("org_id"),
        _among(punches.c.device_id, "devices", single),
        other,
        punches.c.trusted_time >= bindparam("device_since"),
    )


def _same_coords(single: bool) -> Any:
    p = punches.c
    at = (
        and_(p.raw_lat == bindparam("coords_lat"), p.raw_lon == bindparam("coords_lon"))
        if single
        else tuple_(p.raw_lat, p.raw_lon).in_(bindparam("coords", expanding=True))
    )
    return (
        select(p.raw_lat, p.raw_lon, p.user_id, p.trusted_time)
        .where(p.org_id == bindparam("org_id"), at)
        .where(p.trusted_time >= bindparam("coords_since"))
        .limit(10_000)
    )


@dataclass(frozen=True, slots=True)
class CrossReads:
    """The cross-person reads, for one punch (`single`) or several; rows tagged by `part`.

    `device`: other people on the device (the ids below the person's and above it, two ranges
    of ix_punches_org_device_user_time that skip the person's own punches, most of the
    device's). `coords`: identical raw coordinates. `both` in one round trip when both rules
    need them (the usual case). Parameters: `engine.cross_params`.
    """

    device: Any
    coords: Any
    both: Any
    shared: Any  # subqueries, for the window statement
    same: Any


def _cross_reads(single: bool) -> CrossReads:
    others = union_all(
        _on_device(punches.c.user_id < bindparam("user_id"), single),
        _on_device(punches.c.user_id > bindparam("user_id"), single),
    ).subquery()
    shared = select(others.c.device_id, others.c.user_id).distinct().subquery()
    same = _same_coords(single).subquery()
    p = punches.c
    device = select(
        literal("device").label("part"),
        shared.c.device_id,
        shared.c.user_id,
        cast(null(), p.raw_lat.type).label("raw_lat"),
        cast(null(), p.raw_lon.type).label("raw_lon"),
        cast(null(), p.trusted_time.type).label("trusted_time"),
    )
    coords = select(
        literal("coords").label("part"),
        cast(null(), p.device_id.type).label("device_id"),
        same.c.user_id,
        same.c.raw_lat,
        same.c.raw_lon,
        same.c.trusted_time,
    )
    return CrossReads(device, coords, union_all(device, coords), shared, same)


CROSS = {single: _cross_reads(single) for single in (True, False)}


def _seen_and_cross(seen: Any, reads: CrossReads) -> Any:
    """The idempotency read and the cross-person reads in one round trip (after the lock): the
    stored punch's id and client_id ride in the cross parts' first two columns."""
    q = seen.subquery()
    return union_all(
        select(
            literal("seen").label("part"),
            q.c.id.label("device_id"),
            q.c.client_id.label("user_id"),
            *(cast(null(), punches.c[c].type).label(c) for c in ("raw_lat", "raw_lon")),
            cast(null(), punches.c.trusted_time.type).label("trusted_time"),
        ),
        reads.device,
        reads.coords,
    )


SEEN_AND_CROSS = {
    True: DriverStatement(_seen_and_cross(_SEEN_ONE, CROSS[True])),
    False: _seen_and_cross(SEEN, CROSS[False]),  # expanding lists: rendered per execution
}

# The person's window: the columns of `Stored`, latest first, capped; and the latest trusted time
# wherever it is (is there anything after the window?).
_FIELDS: tuple[str, ...] = Stored.__slots__  # type: ignore[attr-defined]
_w = (
    select(*[punches.c[f] for f in _FIELDS])
    .where(
        punches.c.org_id == bindparam("org_id"),
        punches.c.user_id == bindparam("user_id"),
        punches.c.trusted_time >= bindparam("start"),
        punches.c.trusted_time <= bindparam("end"),
    )
    .order_by(punches.c.trusted_time.desc(), punches.c.id.desc())
    .limit(WINDOW_LIMIT)
    .subquery()
)
_l = (
    select(func.max(punches.c.trusted_time).label("trusted_time"))
    .where(punches.c.org_id == bindparam("org_id"), punches.c.user_id == bindparam("user_id"))
    .subquery()
)


def _padded(part: str, given: dict[str, Any]) -> Any:
    """A branch of a window union: Stored's columns, NULL (typed) where this part has none."""
    return select(
        literal(part).label("part"),
        *[
            given[f].label(f) if f in given else cast(null(), punches.c[f].type).label(f)
            for f in _FIELDS
        ],
    )


_WINDOW_PART = select(literal("window").label("part"), *[_w.c[f] for f in _FIELDS])
_LATEST_PART = _padded("latest", {"trusted_time": _l.c.trusted_time})
WINDOW = union_all(_WINDOW_PART, _LATEST_PART)


def _window_and_cross(reads: CrossReads) -> Any:
    """The window and both cross-person reads in one round trip."""
    return union_all(
        _WINDOW_PART,
        _LATEST_PART,
        _padded(
            "device", {"device_id": reads.shared.c.device_id, "user_id": reads.shared.c.user_id}
        ),
        _padded(
            "coords",
            {
                "user_id": reads.same.c.user_id,
                "raw_lat": reads.same.c.raw_lat,
                "raw_lon": reads.same.c.raw_lon,
                "trusted_time": reads.same.c.trusted_time,
            },
        ),
    )


WINDOW_AND_CROSS = {single: _window_and_cross(reads) for single, reads in CROSS.items()}

# Whole stored punches by id (replays: rare).
STORED = select(Punch).where(Punch.id.in_(bindparam("ids", expanding=True)))

REASSESSED = (
    update(punches)
    .where(punches.c.id == bindparam("k_id"))
    .values(
        anomalies=bindparam("anomalies"),
        status=bindparam("status"),
        seq=bindparam("seq"),
        hash=bindparam("hash"),
    )
)
SET_HEAD = (
    update(heads)
    .where(heads.c.org_id == bindparam("k_org_id"), heads.c.user_id == bindparam("k_user_id"))
    .values(seq=bindparam("seq"), hash=bindparam("hash"), updated_at=bindparam("updated_at"))
)
SET_HEAD_MEMORY = DriverStatement(SET_HEAD.values(detector_memory=bindparam("detector_memory")))


def _lock_head(dialect: str) -> Executable:
    """The person's chain head, created at genesis if missing, row-locked: upsert … RETURNING.

    ON CONFLICT DO UPDATE locks the existing row on PostgreSQL just like SELECT … FOR UPDATE;
    SQLite writers are serial anyway (BEGIN IMMEDIATE).
    """
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(heads).values(
        {c: bindparam(c) for c in ("org_id", "user_id", "seq", "hash", "updated_at")}
    )
    return ins.on_conflict_do_update(
        index_elements=["org_id", "user_id"], set_={"org_id": ins.excluded.org_id}
    ).returning(heads.c.seq, heads.c.hash, heads.c.detector_memory)


LOCK_HEAD = {d: DriverStatement(_lock_head(d)) for d in ("postgresql", "sqlite")}

# PostgreSQL: the chain head's upsert (the lock) and the org and device reads in one round trip.
# The reads see the database as of the statement's start, as a separate read just before the
# lock did; only the idempotency check must (and does) come after the lock.
_h_ins = pg_insert(heads).values(
    org_id=bindparam("h_org_id"),
    user_id=bindparam("h_user_id"),
    seq=0,
    hash=ledger.GENESIS,
    updated_at=bindparam("h_updated_at"),
)
_h = (
    _h_ins.on_conflict_do_update(
        index_elements=["org_id", "user_id"], set_={"org_id": _h_ins.excluded.org_id}
    )
    .returning(heads.c.seq, heads.c.hash, heads.c.detector_memory)
    .cte("head")
)
HEAD_ORG_DEVICE = DriverStatement(
    select(_h.c.seq, _h.c.hash, _h.c.detector_memory, *_ORG_DEVICE_COLUMNS, _HAS_DEVICE)
    .select_from(_h.join(orgs, true()).outerjoin(devs, _THE_DEVICE))
    .where(orgs.c.id == bindparam("org_id"))
)
