"""Punch intake around the pure pipeline: load → judge → ledger → store → outbox, one transaction.

Per-person ordering: the person's ledger head row is locked (SELECT … FOR UPDATE on PostgreSQL;
SQLite writers are already serial under BEGIN IMMEDIATE) before the idempotency check, so two
copies of one punch, or two punches of one person, can never interleave.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError
from sqlalchemy import (
    Executable,
    and_,
    bindparam,
    cast,
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
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.alerts import hooks as alerts
from fieldpunch.anomalies import engine, memory, policies, review
from fieldpunch.anomalies.models import Anomaly
from fieldpunch.anomalies.policy import Policy
from fieldpunch.auth.principal import Principal
from fieldpunch.cells.models import Cell
from fieldpunch.customers.models import Customer
from fieldpunch.db.base import table_of
from fieldpunch.db.driver_sql import DriverStatement, insert_rows
from fieldpunch.devices.keys import load_p256
from fieldpunch.devices.models import Device
from fieldpunch.geo.crs import CRS
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.kit.canonical import digest
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden, Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.orgs.models import Org
from fieldpunch.places.fences import FenceCache, OrgFences
from fieldpunch.punches import ledger, onestatement, pipeline
from fieldpunch.punches.models import LedgerEntry, LedgerHead, Punch
from fieldpunch.punches.pipeline import CellKey, CellView, Claim, DeviceView, Verdict
from fieldpunch.punches.schemas import BatchItemOut, PunchIn, PunchOut, PunchStatus
from fieldpunch.punches.views import to_out


@dataclass(frozen=True, slots=True)
class Intake:
    """What the pipeline needs from the application."""

    secret: str
    fences: FenceCache


def _problem(
    status: int, detail: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    slug = {409: "conflict", 422: "validation"}[status]
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": slug.title(),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def _parse(raw: Any, loc: list[str | int], punch: PunchIn | None) -> Claim | dict[str, Any]:
    if not isinstance(raw, dict):
        return _problem(422, "a punch is a JSON object", [{"loc": loc, "msg": "not an object"}])
    try:
        return pipeline.parse(raw, punch)
    except ValidationError as exc:
        errors = [{"loc": [*loc, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        return _problem(
            422,
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]),
            errors,
        )
    except Invalid as exc:
        errors = [{"loc": [*loc, *e["loc"][1:]], "msg": e["msg"]} for e in exc.errors]
        return _problem(422, exc.detail, errors)


@dataclass(frozen=True, slots=True)
class OrgView:
    require_signed: bool
    geo_version: int
    tz: ZoneInfo


# The hot path's statements are Core on the tables, built once: no ORM compile state, no
# statement construction and a cache key computed once per statement, not per execution.
_orgs = table_of(Org)
_devs = table_of(Device)
_punches = table_of(Punch)
_heads = table_of(LedgerHead)
_entries = table_of(LedgerEntry)
_anomalies = table_of(Anomaly)
_outbox = table_of(OutboxEvent)
_ORG = select(_orgs.c.settings, _orgs.c.geo_version, _orgs.c.timezone).where(
    _orgs.c.id == bindparam("org_id")
)
# The org and the one device a punch names, in one round trip (fresh on every punch: a revoke
# that has committed is seen by the next punch, in any process).
_ORG_DEVICE_COLUMNS = (
    _orgs.c.settings,
    _orgs.c.geo_version,
    _orgs.c.timezone,
    _devs.c.id.label("device_id"),
    _devs.c.user_id,
    _devs.c.public_key,
    _devs.c.revoked_at,
)
_THE_DEVICE = and_(_devs.c.org_id == _orgs.c.id, _devs.c.id == bindparam("device_id"))
_ORG_DEVICE = DriverStatement(
    select(*_ORG_DEVICE_COLUMNS)
    .select_from(_orgs.outerjoin(_devs, _THE_DEVICE))
    .where(_orgs.c.id == bindparam("org_id"))
)
_DEVICES = select(_devs.c.id, _devs.c.user_id, _devs.c.public_key, _devs.c.revoked_at).where(
    _devs.c.org_id == bindparam("org_id"), _devs.c.id.in_(bindparam("ids", expanding=True))
)
_SEEN_ONE = select(_punches.c.id, _punches.c.client_id).where(
    _punches.c.org_id == bindparam("org_id"), _punches.c.client_id == bindparam("client_id")
)
_SEEN_JUST_ONE = DriverStatement(_SEEN_ONE)
_SEEN = select(_punches.c.id, _punches.c.client_id).where(
    _punches.c.org_id == bindparam("org_id"),
    _punches.c.client_id.in_(bindparam("client_ids", expanding=True)),
)


def _seen_and_cross(seen: Any, reads: engine.CrossReads) -> Any:
    """The idempotency read and the detectors' cross-person reads in one round trip (after the
    lock): the stored punch's id and client_id ride in the cross parts' first two columns."""
    q = seen.subquery()
    return union_all(
        select(
            literal("seen").label("part"),
            q.c.id.label("device_id"),
            q.c.client_id.label("user_id"),
            *(cast(null(), _punches.c[c].type).label(c) for c in ("raw_lat", "raw_lon")),
            cast(null(), _punches.c.trusted_time.type).label("trusted_time"),
        ),
        reads.device,
        reads.coords,
    )


_SEEN_AND_CROSS = {
    True: DriverStatement(_seen_and_cross(_SEEN_ONE, engine.CROSS[True])),
    False: _seen_and_cross(_SEEN, engine.CROSS[False]),  # expanding lists: rendered per execution
}
_REASSESSED = (
    update(_punches)
    .where(_punches.c.id == bindparam("k_id"))
    .values(
        anomalies=bindparam("anomalies"),
        status=bindparam("status"),
        seq=bindparam("seq"),
        hash=bindparam("hash"),
    )
)
_SET_HEAD = (
    update(_heads)
    .where(_heads.c.org_id == bindparam("k_org_id"), _heads.c.user_id == bindparam("k_user_id"))
    .values(seq=bindparam("seq"), hash=bindparam("hash"), updated_at=bindparam("updated_at"))
)
_SET_HEAD_MEMORY = DriverStatement(_SET_HEAD.values(detector_memory=bindparam("detector_memory")))


@dataclass(frozen=True, slots=True)
class Head:
    """A person's locked chain head, and the detectors' memory kept on it (or None)."""

    seq: int
    hash: str
    memory: dict[str, Any] | None = None


def _lock_head_stmt(dialect: str) -> Executable:
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(_heads).values(
        {c: bindparam(c) for c in ("org_id", "user_id", "seq", "hash", "updated_at")}
    )
    return ins.on_conflict_do_update(
        index_elements=["org_id", "user_id"], set_={"org_id": ins.excluded.org_id}
    ).returning(_heads.c.seq, _heads.c.hash, _heads.c.detector_memory)


_LOCK_HEAD = {d: DriverStatement(_lock_head_stmt(d)) for d in ("postgresql", "sqlite")}

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


def _view(settings: dict[str, Any] | None, geo_version: int, timezone: str) -> OrgView:
    settings = settings or {}
    return OrgView(
        bool(settings.get("require_signed_punches")), int(geo_version), ZoneInfo(timezone)
    )


async def org_view(session: AsyncSession, org_id: str) -> OrgView:
    row = (await session.execute(_ORG, {"org_id": org_id})).one()
    return _view(row.settings, row.geo_version, row.timezone)


def _device(r: Any) -> DeviceView:
    return DeviceView(r.device_id, r.user_id, _public_key(r.public_key), r.revoked_at is not None)


async def _org_and_devices(
    session: AsyncSession, org_id: str, ids: set[str]
) -> tuple[OrgView, dict[str, DeviceView]]:
    """The org's view and the named devices: one statement when the claims name one device."""
    if len(ids) == 1:
        (device_id,) = ids
        (row,) = await _ORG_DEVICE.execute(session, {"org_id": org_id, "device_id": device_id})
        org = _view(row.settings, row.geo_version, row.timezone)
        return org, ({} if row.device_id is None else {row.device_id: _device(row)})
    org = await org_view(session, org_id)
    if not ids:
        return org, {}
    rows = (await session.execute(_DEVICES, {"org_id": org_id, "ids": list(ids)})).all()
    return org, {
        r.id: DeviceView(r.id, r.user_id, _public_key(r.public_key), r.revoked_at is not None)
        for r in rows
    }


async def _cells(session: AsyncSession, org_id: str, keys: set[CellKey]) -> dict[CellKey, CellView]:
    if not keys:
        return {}
    rows = (
        await session.execute(
            select(
                Cell.radio, Cell.mcc, Cell.mnc, Cell.lac, Cell.cid, Cell.lat, Cell.lon, Cell.range_m
            ).where(
                Cell.org_id == org_id,
                tuple_(Cell.radio, Cell.mcc, Cell.mnc, Cell.lac, Cell.cid).in_(list(keys)),
            )
        )
    ).all()
    return {(r.radio, r.mcc, r.mnc, r.lac, r.cid): CellView(r.lat, r.lon, r.range_m) for r in rows}


async def lock_head(session: AsyncSession, org_id: str, user_id: str) -> Head:
    """The person's chain head, row-locked until commit (one statement: upsert … RETURNING).

    ON CONFLICT DO UPDATE locks the existing row on PostgreSQL just like SELECT … FOR UPDATE;
    SQLite writers are serial anyway (BEGIN IMMEDIATE).
    """
    values = {
        "org_id": org_id,
        "user_id": user_id,
        "seq": 0,
        "hash": ledger.GENESIS,
        "updated_at": utcnow(),
    }
    (row,) = await _LOCK_HEAD[session.get_bind().dialect.name].execute(session, values)
    return Head(int(row.seq), str(row.hash), row.detector_memory)


# PostgreSQL: the chain head's upsert (the lock) and the org and device reads in one round trip.
# The reads see the database as of the statement's start, as a separate read just before the
# lock did; only the idempotency check must (and does) come after the lock.
_h_ins = pg_insert(_heads).values(
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
    .returning(_heads.c.seq, _heads.c.hash, _heads.c.detector_memory)
    .cte("head")
)
_HEAD_ORG_DEVICE = DriverStatement(
    select(_h.c.seq, _h.c.hash, _h.c.detector_memory, *_ORG_DEVICE_COLUMNS)
    .select_from(_h.join(_orgs, true()).outerjoin(_devs, _THE_DEVICE))
    .where(_orgs.c.id == bindparam("org_id"))
)


async def _lock_head_with_org(
    session: AsyncSession, org_id: str, user_id: str, device_id: str | None
) -> tuple[Head, OrgView, dict[str, DeviceView]]:
    params = {
        "h_org_id": org_id,
        "h_user_id": user_id,
        "h_updated_at": utcnow(),
        "org_id": org_id,
        "device_id": device_id,
    }
    (row,) = await _HEAD_ORG_DEVICE.execute(session, params)
    org = _view(row.settings, row.geo_version, row.timezone)
    devices = {} if row.device_id is None else {row.device_id: _device(row)}
    return Head(int(row.seq), str(row.hash), row.detector_memory), org, devices


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def ledger_content(row: dict[str, Any]) -> dict[str, Any]:
    """What a punch's ledger entry commits to: every field a forger would want to change."""
    return {
        "punch_id": row["id"],
        "client_id": row["client_id"],
        "content_hash": row["content_hash"],
        "kind": row["kind"],
        "status": row["status"],
        "source": row["source"],
        "captured_at": _iso(row["captured_at"]),
        "received_at": _iso(row["received_at"]),
        "trusted_time": _iso(row["trusted_time"]),
        "lat": row["lat"],
        "lon": row["lon"],
        "accuracy_m": row["accuracy_m"],
        "raw_lat": row["raw_lat"],
        "raw_lon": row["raw_lon"],
        "mock": row["mock"],
        "place_id": row["place_id"],
        "customer_id": row["customer_id"],
        "distance_m": row["distance_m"],
        "visit_id": row["visit_id"],
        "photo_id": row["photo_id"],
        "note": row["note"],
        "device_id": row["device_id"],
        "signature_ok": row["signature_ok"],
        "anomalies": sorted(a["rule"] for a in row["anomalies"]),
    }


def payload_hash(payload: dict[str, Any]) -> str:
    """The content hash of a stored claim: its canonical JSON without the signature."""
    return digest({k: v for k, v in payload.items() if k != "signature"})


def _row(org_id: str, v: Verdict, fences: OrgFences) -> dict[str, Any]:
    p = v.claim.punch
    assert v.fused is not None
    assert v.trusted_time is not None
    match = v.place or v.customer
    return {
        "id": new_id("pun"),
        "org_id": org_id,
        "user_id": v.user_id,
        "client_id": p.client_id,
        "content_hash": v.claim.content_hash,
        "kind": p.kind.value,
        "status": v.status.value,
        "source": "app",
        "captured_at": p.captured_at,
        "received_at": v.received_at,
        "trusted_time": v.trusted_time,
        "time_source": v.time_source,
        "lat": v.fused.lat,
        "lon": v.fused.lon,
        "accuracy_m": v.fused.accuracy_m,
        "raw_lat": p.location.lat,
        "raw_lon": p.location.lon,
        "mock": p.location.mock,
        "fusion": {"used": list(v.fused.used), "rejected": list(v.fused.rejected)},
        "place_id": v.place.fence.id if v.place else None,
        "customer_id": p.customer_id,
        "distance_m": round(match.distance_m, 1) if match else None,
        "visit_id": p.visit_id,
        "photo_id": p.photo_id,
        "note": p.note,
        "offline": p.offline,
        "device_id": v.device_id,
        "signature_ok": v.signature_ok,
        "anomalies": [f.model_dump() for f in v.findings],
        "payload": v.claim.raw,
        "names": {
            k: fences.names.get(k)
            for k in (v.place.fence.id if v.place else None, p.customer_id)
            if k
        },
    }


async def submit(
    session: AsyncSession,
    intake: Intake,
    p: Principal,
    raws: list[Any],
    *,
    batch: bool,
    validated: list[PunchIn] | None = None,
    received_at: datetime | None = None,
) -> tuple[list[BatchItemOut], list[dict[str, Any]]]:
    """Judge and store punches; one result per input, in order. Also returns the new rows.

    `received_at` is for importing history (the demo); requests always use the clock.
    """
    if p.user_id is None:
        raise Forbidden("punches are made by a person, not by an API key")
    received_at = received_at or utcnow()
    results: dict[int, BatchItemOut] = {}
    claims: list[tuple[int, Claim]] = []
    for i, raw in enumerate(raws):
        parsed = _parse(
            raw, ["body", "punches", i] if batch else ["body"], validated[i] if validated else None
        )
        if isinstance(parsed, Claim):
            claims.append((i, parsed))
        else:
            results[i] = BatchItemOut(index=i, status=422, problem=parsed)
    new_rows: list[dict[str, Any]] = []
    if claims:

        def where(i: int) -> list[str | int]:
            return ["body", "punches", i] if batch else ["body"]

        new_rows = await _store(session, intake, p, claims, received_at, results, where)
    return [results[i] for i in range(len(raws))], new_rows


async def _store(
    session: AsyncSession,
    intake: Intake,
    p: Principal,
    claims: list[tuple[int, Claim]],
    received_at: datetime,
    results: dict[int, BatchItemOut],
    where: Callable[[int], list[str | int]],
) -> list[dict[str, Any]]:
    if p.user_id is None:
        raise Forbidden("punches are made by a person")
    device_ids = {c.punch.device_id for _, c in claims if c.punch.device_id}
    if session.get_bind().dialect.name == "postgresql" and len(device_ids) <= 1:
        head, org, devices = await _lock_head_with_org(
            session, p.org_id, p.user_id, next(iter(device_ids), None)
        )
    else:
        org, devices = await _org_and_devices(session, p.org_id, device_ids)
        head = await lock_head(session, p.org_id, p.user_id)
    fences = await intake.fences.get(session, p.org_id, org.geo_version)
    cells = await _cells(
        session, p.org_id, {pipeline.cell_key(x) for _, c in claims for x in c.punch.cells}
    )

    def judge(claim: Claim) -> dict[str, Any]:
        """Trust, location, time and place of one claim, on its own."""
        assert p.user_id is not None
        v = pipeline.judge(
            claim,
            user_id=p.user_id,
            received_at=received_at,
            secret=intake.secret,
            org_id=p.org_id,
            device=devices.get(claim.punch.device_id or ""),
            require_signed=org.require_signed,
            index=fences.index,
            bssid_places=fences.bssid_places,
            cells=cells,
        )
        row = _row(p.org_id, v, fences)
        row["facts"] = engine.static_facts(v, fences.index, fences.bssids_by_place)
        return row

    # 1. Judge the first claim of each client_id.
    judged: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, claim in claims:
        if claim.punch.client_id not in judged:
            judged[claim.punch.client_id] = (i, judge(claim))
    # 2. Idempotency, after the lock: a concurrent copy of the same punch has committed by now.
    # With the detectors' cross-person reads in the same round trip when they will be needed.
    owner = Owner(p.org_id, p.user_id, p.team_id)
    policy = await _policy(session, owner)
    candidates = [row for _, row in judged.values()]
    crossing = _carries(owner, org, head, policy, candidates)
    seen, crossing = await _seen(session, owner, org, policy, list(judged), candidates, crossing)
    stored: dict[str, Punch] = {}
    if seen:  # replays are rare: load whole rows only then
        found = await session.execute(select(Punch).where(Punch.id.in_(seen)))
        stored = {row.client_id: row for row in found.scalars()}
    # 3. Answer replays and unknown customers; the rest are new.
    rows: list[dict[str, Any]] = []
    slot: dict[str, int] = {}
    fresh: dict[str, dict[str, Any]] = {}
    twins: list[tuple[int, str]] = []
    for i, claim in claims:
        cid = claim.punch.client_id
        earlier = stored.get(cid)
        if earlier is not None or cid in fresh:
            results[i] = _replay(i, claim, earlier, fresh.get(cid), p.user_id, fences, where(i))
            if results[i].status == 200 and earlier is None:
                twins.append((i, cid))  # answered once its first copy is stored
            continue
        customer_id = claim.punch.customer_id
        if customer_id and not await _known_customer(session, p.org_id, fences, customer_id):
            results[i] = BatchItemOut(
                index=i,
                status=422,
                problem=_problem(
                    422,
                    f"no such customer: {claim.punch.customer_id}",
                    [{"loc": [*where(i), "customer_id"], "msg": "no such customer"}],
                ),
            )
            continue
        first, row = judged[cid]
        if first != i:  # its first copy was refused (no such customer): judge this one
            row = judge(claim)
        rows.append(row)
        slot[row["id"]] = i
        fresh[cid] = row
    if rows:
        # The cross-person reads were bounded by the candidates: exact only if these are they.
        crossed = crossing and [r["id"] for r in rows] == [r["id"] for r in candidates]
        outs = await commit_rows(
            session, owner, org, rows, head, received_at, policy=policy, crossed=crossed
        )
        for row, out in zip(rows, outs, strict=True):
            results[slot[row["id"]]] = BatchItemOut(index=slot[row["id"]], status=201, punch=out)
    for i, cid in twins:
        results[i] = BatchItemOut(index=i, status=200, punch=results[slot[fresh[cid]["id"]]].punch)
    return rows


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose chain new punches join (the caller, or the person a correction is for)."""

    org_id: str
    user_id: str
    team_id: str | None


async def _policy(session: AsyncSession, owner: Owner) -> Policy:
    return (await policies.load(session, owner.org_id)).for_person(owner.user_id, owner.team_id)


def _steps_from_memory(locked: Head, org: OrgView, rows: list[dict[str, Any]]) -> bool:
    """Whether the head's memory is current and every new row comes after it (see `_assess`)."""
    reach = memory.upto(locked.memory, seq=locked.seq, tz=org.tz.key)
    return reach is not None and engine.follows(reach, rows)


def _carries(
    owner: Owner, org: OrgView, locked: Head, policy: Policy, rows: list[dict[str, Any]]
) -> bool:
    """Whether the detectors will step from the memory and read the cross-person facts."""
    return bool(rows) and engine.any_rule_on(policy) and _steps_from_memory(locked, org, rows)


async def _seen(
    session: AsyncSession,
    owner: Owner,
    org: OrgView,
    policy: Policy,
    client_ids: list[str],
    rows: list[dict[str, Any]],
    crossing: bool,
) -> tuple[list[str], bool]:
    """Ids of stored punches with these client_ids, and whether `rows` got their cross facts.

    When the detectors will step from the memory and need both cross-person reads (the usual
    case), those share this round trip.
    """
    if crossing:
        params = engine.cross_params(owner.org_id, owner.user_id, rows, policy)
        if engine.needs_both(params):
            single = len(rows) == 1
            if single:
                params["client_id"] = client_ids[0]
                result = await _SEEN_AND_CROSS[True].execute(session, params)
            else:
                params["client_ids"] = client_ids
                result = await session.execute(_SEEN_AND_CROSS[False], params)
            stored = engine.take_cross(rows, owner.user_id, result, org.tz)
            return [r.device_id for r in stored], True
    if len(client_ids) == 1:
        one = {"org_id": owner.org_id, "client_id": client_ids[0]}
        return [r.id for r in await _SEEN_JUST_ONE.execute(session, one)], False
    many = {"org_id": owner.org_id, "client_ids": client_ids}
    return [r.id for r in await session.execute(_SEEN, many)], False


async def commit_rows(
    session: AsyncSession,
    owner: Owner,
    org: OrgView,
    rows: list[dict[str, Any]],
    locked: Head,
    received_at: datetime,
    *,
    policy: Policy | None = None,
    crossed: bool = False,
) -> list[PunchOut]:
    """Detectors, ledger, store, anomalies and outbox for new rows of one person (head locked).

    `crossed`: the rows' cross-person facts were read already, bounded by these very rows.
    """
    policy = policy or await _policy(session, owner)
    assessment, context = await _assess(session, owner, org, rows, locked, policy, crossed)
    seq, head = locked.seq, locked.hash
    entries: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    outs: list[PunchOut] = []
    for row in rows:
        row["anomalies"] = engine.combined(row["facts"]["trust"], assessment.new[row["id"]])
        row["status"] = pipeline.status_for(row["anomalies"], policy.reject_critical).value
        seq += 1
        content = ledger_content(row)
        digest = ledger.entry_hash(head, seq, content)
        entries.append(
            entry_row(owner, seq, "punch", row["id"], content, head, digest, received_at)
        )
        row.update(seq=seq, hash=digest)
        head = digest
        out = _out(row)
        outs.append(out)
        events.append(
            event_row(
                owner.org_id,
                "punch.created",
                out.model_dump(mode="json"),
                received_at,
                owner.user_id,
            )
        )
    if session.get_bind().dialect.name != "postgresql":
        await insert_rows(session, _punches, rows)  # `names` is no column: left out
    seq, head = await _reassess(
        session, owner, context, assessment, policy, seq, head, received_at, entries, events
    )
    kept = None
    if assessment.state is not None and assessment.upto is not None:
        kept = memory.dump(assessment.state, seq=seq, tz=org.tz.key, upto=assessment.upto)
    opened = [(r["id"], r["user_id"], r["trusted_time"], r["anomalies"]) for r in rows]
    if session.get_bind().dialect.name == "postgresql":
        # Everything below in one statement (punches/onestatement.py).
        anomalies = review.anomaly_rows(owner.org_id, opened, received_at)
        events += review.created_events(owner.org_id, anomalies, received_at)
        inserts = [
            (_punches, rows),
            (_entries, entries),
            (_anomalies, anomalies),
            (_outbox, events),
        ]
        await onestatement.PLAN.write(
            session, inserts, (seq, head, received_at, kept, owner.org_id, owner.user_id)
        )
        await alerts.anomalies_opened(session, owner.org_id, anomalies, received_at)
        return outs
    await insert_rows(session, _entries, entries)
    await _SET_HEAD_MEMORY.execute(
        session,
        {
            "k_org_id": owner.org_id,
            "k_user_id": owner.user_id,
            "seq": seq,
            "hash": head,
            "updated_at": received_at,
            "detector_memory": kept,
        },
    )
    events += await review.open_anomalies(session, owner.org_id, opened, received_at)
    await add_events(session, events)
    return outs


async def _assess(
    session: AsyncSession,
    owner: Owner,
    org: OrgView,
    rows: list[dict[str, Any]],
    locked: Head,
    policy: Policy,
    crossed: bool,
) -> tuple[engine.Assessment, list[engine.Stored]]:
    """The detectors' findings for new rows, and the stored punches they were judged with.

    In trusted-time order, whatever the arrival order. New punches that follow everything the
    person has punched (the usual case) take one step each from the memory on the chain head;
    a late arrival, or no usable memory, re-folds the person's window around them.
    """
    on = engine.any_rule_on(policy)
    if locked.memory is not None and _steps_from_memory(locked, org, rows):
        if on and not crossed:
            await engine.cross_facts(session, owner.org_id, owner.user_id, rows, policy, org.tz)
        # With every rule off this finds nothing, but keeps the memory current (no reads), so
        # switching detection back on needs no window.
        state = memory.state(locked.memory, user_id=owner.user_id)
        return engine.carry(state, rows, policy, org.tz), []
    if not on:  # an org that turned detection off reads nothing for it
        return engine.run(engine.Window([], complete=False), rows, policy, org.tz), []
    window = await engine.context(session, owner.org_id, owner.user_id, rows, policy, org.tz)
    return engine.run(window, rows, policy, org.tz), window.punches


async def set_head(
    session: AsyncSession, org_id: str, user_id: str, seq: int, head: str, at: datetime
) -> None:
    await session.execute(
        _SET_HEAD,
        {"k_org_id": org_id, "k_user_id": user_id, "seq": seq, "hash": head, "updated_at": at},
    )


async def _reassess(
    session: AsyncSession,
    owner: Owner,
    context: list[engine.Stored],
    assessment: engine.Assessment,
    policy: Policy,
    seq: int,
    head: str,
    at: datetime,
    entries: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> tuple[int, str]:
    """Stored punches whose findings changed because of the new ones: new status, ledger, review."""
    by_id = {c.id: c for c in context}
    for punch_id, found in assessment.changed.items():
        punch = by_id[punch_id]
        before = {a["rule"] for a in punch.anomalies}
        punch.anomalies = engine.combined(engine.trust_findings(punch), found)
        if punch.status in (
            PunchStatus.accepted,
            PunchStatus.flagged,
        ):  # a person's decision stands
            punch.status = pipeline.status_for(punch.anomalies, policy.reject_critical).value
        content = {
            "punch_id": punch.id,
            "status": punch.status,
            "anomalies": sorted(a["rule"] for a in punch.anomalies),
        }
        seq += 1
        digest = ledger.entry_hash(head, seq, content)
        entries.append(entry_row(owner, seq, "reassessment", punch.id, content, head, digest, at))
        head = digest
        await session.execute(
            _REASSESSED,
            {
                "k_id": punch.id,
                "anomalies": punch.anomalies,
                "status": punch.status,
                "seq": seq,
                "hash": digest,
            },
        )
        now = {a["rule"] for a in punch.anomalies}
        events += await review.reconcile(session, punch, before, now, at)
    return seq, head


def entry_row(
    owner: Owner,
    seq: int,
    kind: str,
    ref_id: str,
    content: dict[str, Any],
    prev: str,
    digest: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "org_id": owner.org_id,
        "user_id": owner.user_id,
        "seq": seq,
        "entry_kind": kind,
        "ref_id": ref_id,
        "content": content,
        "prev_hash": prev,
        "hash": digest,
        "created_at": at,
    }


def _replay(
    i: int,
    claim: Claim,
    earlier: Punch | None,
    fresh: dict[str, Any] | None,
    user_id: str,
    fences: OrgFences,
    where: list[str | int],
) -> BatchItemOut:
    """The same client_id again: the stored punch when the content matches, else a conflict."""
    same_hash = (
        earlier.content_hash if earlier is not None else fresh["content_hash"] if fresh else None
    )
    same_user = (
        earlier.user_id if earlier is not None else fresh["user_id"] if fresh else None
    ) == user_id
    if same_hash == claim.content_hash and same_user:
        punch = to_out(earlier, CRS.wgs84, fences.names) if earlier is not None else None
        return BatchItemOut(index=i, status=200, punch=punch)
    return BatchItemOut(
        index=i,
        status=409,
        problem=_problem(
            409,
            f"client_id {claim.punch.client_id} was already used for a different punch",
            [{"loc": [*where, "client_id"], "msg": "already used with other content"}],
        ),
    )


def _out(row: dict[str, Any]) -> PunchOut:
    return to_out(SimpleNamespace(**row), CRS.wgs84, row["names"])


async def _known_customer(
    session: AsyncSession, org_id: str, fences: OrgFences, customer_id: str
) -> bool:
    fence = fences.index.get(customer_id)
    if fence is not None:
        return fence.kind == "customer"
    # Customers without a location are not in the index: ask the database.
    stmt = select(Customer.id).where(
        Customer.org_id == org_id, Customer.id == customer_id, Customer.deleted_at.is_(None)
    )
    return (await session.execute(stmt)).first() is not None
