"""The review queue: list, inspect and decide anomalies. Every decision is audited and chained."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies.models import Anomaly
from fieldpunch.anomalies.schemas import AnomalyDetail, AnomalyOut, Leg
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal, visible_rows
from fieldpunch.db.scoped import get_among
from fieldpunch.geo.crs import CRS, from_wgs84
from fieldpunch.geo.distance import haversine_m
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Forbidden
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.notify import decisions
from fieldpunch.punches import ledger
from fieldpunch.punches.commit import Owner, entry_row
from fieldpunch.punches.models import LedgerEntry, Punch
from fieldpunch.punches.queries import names_of
from fieldpunch.punches.schemas import PunchStatus
from fieldpunch.punches.store import store_for
from fieldpunch.punches.views import to_out
from fieldpunch.teams.tree import subtree_ids
from fieldpunch.users.models import User


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    *,
    status: str | None,
    rule: str | None,
    severity: str | None,
    team_id: str | None,
    user_id: str | None,
    start: datetime | None,
    end: datetime | None,
    crs: CRS = CRS.wgs84,
) -> dict[str, Any]:
    stmt = visible_rows(Anomaly, p)
    if status is not None:
        stmt = stmt.where(Anomaly.status == status)
    if rule is not None:
        stmt = stmt.where(Anomaly.rule == rule)
    if severity is not None:
        stmt = stmt.where(Anomaly.severity == severity)
    if user_id is not None:
        stmt = stmt.where(Anomaly.user_id == user_id)
    if team_id is not None:
        teams = await subtree_ids(session, p.org_id, [team_id])
        members = select(User.id).where(User.org_id == p.org_id, User.team_id.in_(teams))
        stmt = stmt.where(Anomaly.user_id.in_(members))
    if start is not None:
        stmt = stmt.where(Anomaly.punch_time >= start)
    if end is not None:
        stmt = stmt.where(Anomaly.punch_time < end)
    rows = list((await session.execute(paginate(stmt, Anomaly.id, page))).scalars())
    return page_of(rows, page, lambda a: anomaly_out(a, crs))


# Evidence coordinates that are fused positions (WGS-84 as stored); `raw_lat`/`raw_lon` stay
# exactly as the phone sent them, in whatever crs it used.
_POSITIONS = (("lat", "lon"), ("previous_lat", "previous_lon"))


def anomaly_out(a: Anomaly, crs: CRS) -> AnomalyOut:
    """An anomaly as answered, its evidence's positions in `crs` (named in `evidence.crs`)."""
    out = AnomalyOut.model_validate(a)
    if crs is CRS.wgs84:
        return out
    evidence = dict(out.evidence)
    for lat_key, lon_key in _POSITIONS:
        lat, lon = evidence.get(lat_key), evidence.get(lon_key)
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            x, y = from_wgs84(float(lon), float(lat), crs)
            evidence[lat_key], evidence[lon_key] = round(y, 7), round(x, 7)
    evidence["crs"] = crs.value
    return out.model_copy(update={"evidence": evidence})


async def _get(session: AsyncSession, p: Principal, anomaly_id: str) -> Anomaly:
    return await get_among(session, visible_rows(Anomaly, p), Anomaly, anomaly_id)


async def detail(session: AsyncSession, p: Principal, anomaly_id: str, crs: CRS) -> AnomalyDetail:
    a = await _get(session, p, anomaly_id)
    punch = await session.get(Punch, a.punch_id)
    assert punch is not None
    # The previous measured punch, in the detectors' order (a correction has no measured fix).
    previous = (
        await session.execute(
            select(Punch)
            .where(
                Punch.org_id == p.org_id,
                Punch.user_id == punch.user_id,
                Punch.source != "correction",
                or_(
                    Punch.trusted_time < punch.trusted_time,
                    and_(Punch.trusted_time == punch.trusted_time, Punch.id < punch.id),
                ),
            )
            .order_by(Punch.trusted_time.desc(), Punch.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    leg = None
    if previous is not None:
        metres = haversine_m(previous.lat, previous.lon, punch.lat, punch.lon)
        seconds = (punch.trusted_time - previous.trusted_time).total_seconds()
        speed = metres / seconds * 3.6 if seconds > 0 else None
        leg = Leg(
            distance_m=round(metres, 1),
            seconds=seconds,
            speed_kmh=None if speed is None else round(speed, 1),
        )
    others = (
        await session.execute(
            select(Anomaly)
            .where(Anomaly.punch_id == punch.id, Anomaly.id != a.id)
            .order_by(Anomaly.id)
        )
    ).scalars()
    names = await names_of(session, p.org_id, [punch] + ([previous] if previous else []))
    return AnomalyDetail(
        **anomaly_out(a, crs).model_dump(),
        punch=to_out(punch, crs, names),
        previous_punch=to_out(previous, crs, names) if previous else None,
        leg=leg,
        others_on_punch=[anomaly_out(o, crs) for o in others],
    )


def _punch_status(punch: Punch, anomalies: list[Anomaly]) -> str:
    """Any rejection rejects the punch; all settled and none rejected approves it."""
    if any(x.status == "rejected" for x in anomalies):
        return PunchStatus.rejected.value
    if any(x.status == "open" for x in anomalies):
        return punch.status
    return PunchStatus.approved.value


async def resolve(
    session: AsyncSession, p: Principal, ids: list[str], decision: str, comment: str
) -> list[AnomalyOut]:
    """Approve or reject open anomalies; the punch's status follows, on the person's chain."""
    rows = [await _get(session, p, i) for i in dict.fromkeys(ids)]
    for a in rows:
        if p.user_id is not None and a.user_id == p.user_id:
            raise Forbidden(f"anomaly {a.id} is about your own punch: someone else must review it")
        if a.status != "open":
            raise Conflict(f"anomaly {a.id} is already {a.status}")
    now = utcnow()
    events: list[dict[str, Any]] = []
    status = "approved" if decision == "approve" else "rejected"
    # Lock each person's chain in a fixed order, so two bulk reviews cannot deadlock.
    store = store_for(session)
    for user_id in sorted({a.user_id for a in rows}):
        locked = await store.lock_head(p.org_id, user_id)
        seq, head = locked.seq, locked.hash  # the detectors' memory goes stale: seq moves on
        owner = Owner(p.org_id, user_id, None)
        entries = []
        for a in (x for x in rows if x.user_id == user_id):
            a.status, a.resolved_at, a.resolved_by, a.comment = status, now, p.actor, comment
            punch = await session.get(Punch, a.punch_id)
            assert punch is not None
            siblings = list(
                (
                    await session.execute(select(Anomaly).where(Anomaly.punch_id == punch.id))
                ).scalars()
            )
            punch.status = _punch_status(punch, siblings)
            content = {
                "punch_id": punch.id,
                "status": punch.status,
                "anomalies": sorted(x["rule"] for x in punch.anomalies),
                "decision": status,
                "anomaly_id": a.id,
                "rule": a.rule,
                "by": p.actor,
                "comment": comment,
            }
            seq += 1
            digest = ledger.entry_hash(head, seq, content)
            entries.append(entry_row(owner, seq, "decision", punch.id, content, head, digest, now))
            punch.seq, punch.hash, head = seq, digest, digest
            record(
                session,
                p.org_id,
                p.actor,
                f"anomaly.{status}",
                "anomaly",
                a.id,
                punch_id=punch.id,
                rule=a.rule,
                comment=comment,
            )
            data = AnomalyOut.model_validate(a).model_dump(mode="json")
            events.append(event_row(p.org_id, "anomaly.resolved", data, now, user_id))
            events.append(
                event_row(
                    p.org_id,
                    "punch.updated",
                    {"id": punch.id, "status": punch.status},
                    now,
                    user_id,
                )
            )
        await session.execute(insert(LedgerEntry), entries)
        await store.set_head(p.org_id, user_id, seq, head, now)
    await add_events(session, events)
    await decisions.decided(session, p.org_id, "anomaly", [a.id for a in rows], now)
    await session.flush()
    return [AnomalyOut.model_validate(a) for a in rows]
