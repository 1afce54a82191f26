"""Punch intake around the pure pipeline: load → judge → ledger → store → outbox, one transaction.

Per-person ordering: the person's ledger head row is locked (SELECT … FOR UPDATE on PostgreSQL;
SQLite writers are already serial under BEGIN IMMEDIATE) before the idempotency check, so two
copies of one punch, or two punches of one person, can never interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth.principal import Principal
from fieldpunch.cells.models import Cell
from fieldpunch.customers.models import Customer
from fieldpunch.devices.keys import load_p256
from fieldpunch.devices.models import Device
from fieldpunch.geo.crs import CRS
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden, Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.orgs.models import Org
from fieldpunch.places.fences import FenceCache, OrgFences
from fieldpunch.punches import ledger, pipeline
from fieldpunch.punches.models import LedgerEntry, LedgerHead, Punch
from fieldpunch.punches.pipeline import CellKey, CellView, Claim, Detector, DeviceView, Verdict
from fieldpunch.punches.schemas import BatchItemOut, PunchIn, PunchOut
from fieldpunch.punches.views import to_out


@dataclass(frozen=True, slots=True)
class Intake:
    """What the pipeline needs from the application."""

    secret: str
    fences: FenceCache
    detectors: tuple[Detector, ...] = ()


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


async def _org(session: AsyncSession, org_id: str) -> tuple[bool, int]:
    row = (
        await session.execute(select(Org.settings, Org.geo_version).where(Org.id == org_id))
    ).one()
    return bool((row.settings or {}).get("require_signed_punches", False)), int(row.geo_version)


async def _devices(session: AsyncSession, org_id: str, ids: set[str]) -> dict[str, DeviceView]:
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(Device.id, Device.user_id, Device.public_key, Device.revoked_at).where(
                Device.org_id == org_id, Device.id.in_(ids)
            )
        )
    ).all()
    return {
        r.id: DeviceView(r.id, r.user_id, load_p256(r.public_key)[0], r.revoked_at is not None)
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


async def _lock_head(session: AsyncSession, org_id: str, user_id: str) -> tuple[int, str]:
    values = {
        "org_id": org_id,
        "user_id": user_id,
        "seq": 0,
        "hash": ledger.GENESIS,
        "updated_at": utcnow(),
    }
    ins = (
        pg_insert(LedgerHead)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite_insert(LedgerHead)
    )
    await session.execute(ins.values(**values).on_conflict_do_nothing())
    stmt = select(LedgerHead.seq, LedgerHead.hash).where(
        LedgerHead.org_id == org_id, LedgerHead.user_id == user_id
    )
    row = (await session.execute(stmt.with_for_update())).one()
    return int(row.seq), str(row.hash)


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
        "place_id": row["place_id"],
        "customer_id": row["customer_id"],
        "device_id": row["device_id"],
        "signature_ok": row["signature_ok"],
        "anomalies": sorted(a["rule"] for a in row["anomalies"]),
    }


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
        new_rows = await _store(session, intake, p, claims, received_at, results)
    return [results[i] for i in range(len(raws))], new_rows


async def _store(
    session: AsyncSession,
    intake: Intake,
    p: Principal,
    claims: list[tuple[int, Claim]],
    received_at: datetime,
    results: dict[int, BatchItemOut],
) -> list[dict[str, Any]]:
    if p.user_id is None:
        raise Forbidden("punches are made by a person")
    require_signed, geo_version = await _org(session, p.org_id)
    fences = await intake.fences.get(session, p.org_id, geo_version)
    seq, head = await _lock_head(session, p.org_id, p.user_id)
    # Idempotency, after the lock: a concurrent copy of the same punch has committed by now.
    client_ids = {c.punch.client_id for _, c in claims}
    stored = {
        row.client_id: row
        for row in (
            await session.execute(
                select(Punch).where(Punch.org_id == p.org_id, Punch.client_id.in_(client_ids))
            )
        ).scalars()
    }
    devices = await _devices(
        session, p.org_id, {c.punch.device_id for _, c in claims if c.punch.device_id}
    )
    cells = await _cells(
        session, p.org_id, {pipeline.cell_key(x) for _, c in claims for x in c.punch.cells}
    )
    rows: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    fresh: dict[str, dict[str, Any]] = {}
    for i, claim in claims:
        cid = claim.punch.client_id
        earlier = stored.get(cid)
        if earlier is not None or cid in fresh:
            same_hash = earlier.content_hash if earlier is not None else fresh[cid]["content_hash"]
            same_user = (
                earlier.user_id if earlier is not None else fresh[cid]["user_id"]
            ) == p.user_id
            if same_hash == claim.content_hash and same_user:
                punch = to_out(earlier, CRS.wgs84, fences.names) if earlier is not None else None
                results[i] = BatchItemOut(index=i, status=200, punch=punch or _out(fresh[cid]))
            else:
                results[i] = BatchItemOut(
                    index=i,
                    status=409,
                    problem=_problem(
                        409,
                        f"client_id {cid} was already used for a different punch",
                        [{"loc": ["body", "client_id"], "msg": "already used with other content"}],
                    ),
                )
            continue
        customer_id = claim.punch.customer_id
        if customer_id and not await _known_customer(session, p.org_id, fences, customer_id):
            results[i] = BatchItemOut(
                index=i,
                status=422,
                problem=_problem(
                    422,
                    f"no such customer: {claim.punch.customer_id}",
                    [{"loc": ["body", "customer_id"], "msg": "no such customer"}],
                ),
            )
            continue
        v = pipeline.judge(
            claim,
            user_id=p.user_id,
            received_at=received_at,
            secret=intake.secret,
            org_id=p.org_id,
            device=devices.get(claim.punch.device_id or ""),
            require_signed=require_signed,
            index=fences.index,
            bssid_places=fences.bssid_places,
            cells=cells,
            detectors=intake.detectors,
        )
        row = _row(p.org_id, v, fences)
        names = row.pop("names")
        content = ledger_content(row)
        seq += 1
        digest = ledger.entry_hash(head, seq, content)
        entries.append(
            {
                "org_id": p.org_id,
                "user_id": p.user_id,
                "seq": seq,
                "entry_kind": "punch",
                "ref_id": row["id"],
                "content": content,
                "prev_hash": head,
                "hash": digest,
                "created_at": received_at,
            }
        )
        row.update(seq=seq, hash=digest)
        head = digest
        rows.append(row)
        fresh[cid] = {**row, "names": names}
        out = _out(fresh[cid])
        results[i] = BatchItemOut(index=i, status=201, punch=out)
        events.append(
            event_row(
                p.org_id, "punch.created", out.model_dump(mode="json"), received_at, p.user_id
            )
        )
    if rows:
        await session.execute(insert(Punch), rows)
        await session.execute(insert(LedgerEntry), entries)
        await session.execute(
            update(LedgerHead)
            .where(LedgerHead.org_id == p.org_id, LedgerHead.user_id == p.user_id)
            .values(seq=seq, hash=head, updated_at=received_at)
        )
        await add_events(session, events)
    return rows


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
