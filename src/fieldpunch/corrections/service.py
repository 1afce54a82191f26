"""补卡: requests with a monthly quota and a maximum age; approval adds a `correction` punch."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies import policies
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal, visible_rows
from fieldpunch.corrections.models import Correction
from fieldpunch.corrections.schemas import (
    CorrectionCreate,
    CorrectionDetail,
    CorrectionOut,
    DayPunch,
)
from fieldpunch.customers.models import Customer
from fieldpunch.db.scoped import get_among, ref_scoped
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.kit.canonical import digest
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Forbidden, Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.notify import decisions
from fieldpunch.photos.models import Photo
from fieldpunch.places.models import Place
from fieldpunch.punches.commit import Owner, commit_rows
from fieldpunch.punches.models import Punch
from fieldpunch.punches.rows import NewPunch
from fieldpunch.punches.schemas import PunchKind
from fieldpunch.punches.store import store_for
from fieldpunch.users.models import User

FUTURE_SLACK = timedelta(minutes=5)


async def get_visible(session: AsyncSession, p: Principal, correction_id: str) -> Correction:
    return await get_among(session, visible_rows(Correction, p), Correction, correction_id)


async def create(session: AsyncSession, p: Principal, body: CorrectionCreate) -> CorrectionOut:
    if p.user_id is None:
        raise Forbidden("a correction is requested by the person it is for")
    if body.kind in (PunchKind.clock_in, PunchKind.clock_out):
        if body.place_id is None:
            raise Invalid(["body", "place_id"], "say at which office or site the punch was missed")
        if body.customer_id is not None:  # one spot to punch at: never guess which one
            raise Invalid(
                ["body", "customer_id"], "a clock correction names a place, not a customer"
            )
        await ref_scoped(session, Place, p.org_id, body.place_id, ["body", "place_id"])
    else:
        if body.customer_id is None:
            raise Invalid(["body", "customer_id"], "a visit correction names the customer")
        if body.place_id is not None:
            raise Invalid(["body", "place_id"], "a visit correction names a customer, not a place")
        customer = await ref_scoped(
            session, Customer, p.org_id, body.customer_id, ["body", "customer_id"]
        )
        if customer is not None and customer.lat is None:
            raise Invalid(["body", "customer_id"], "this customer has no location to punch at")
    photo = await ref_scoped(session, Photo, p.org_id, body.photo_id, ["body", "photo_id"])
    if photo is not None and photo.user_id != p.user_id:
        raise Invalid(["body", "photo_id"], "evidence is a photo you took yourself")
    now = utcnow()
    policy = (await policies.load(session, p.org_id)).for_person(p.user_id, p.team_id)
    if body.at > now + FUTURE_SLACK:
        raise Invalid(["body", "at"], "a correction is for a punch in the past")
    if now - body.at > timedelta(days=policy.correction_max_age_days):
        raise Invalid(
            ["body", "at"], f"older than {policy.correction_max_age_days} days: ask an admin"
        )
    org = await store_for(session).org(p.org_id)
    local = now.astimezone(org.tz)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = (
        await session.execute(
            select(func.count())
            .select_from(Correction)
            .where(
                Correction.org_id == p.org_id,
                Correction.user_id == p.user_id,
                Correction.created_at >= month_start,
            )
        )
    ).scalar_one()
    if used >= policy.correction_monthly_quota:
        raise Conflict(
            f"the monthly quota of {policy.correction_monthly_quota} corrections is used up"
        )
    row = Correction(
        id=new_id("cor"),
        org_id=p.org_id,
        user_id=p.user_id,
        kind=body.kind.value,
        at=body.at,
        reason=body.reason,
        place_id=body.place_id,
        customer_id=body.customer_id,
        photo_id=body.photo_id,
        status="pending",
        created_at=now,
        comment="",
    )
    session.add(row)
    await session.flush()
    out = CorrectionOut.model_validate(row)
    record(
        session,
        p.org_id,
        p.actor,
        "correction.requested",
        "correction",
        row.id,
        kind=row.kind,
        at=row.at.isoformat(),
        reason=row.reason,
    )
    await add_events(
        session,
        [event_row(p.org_id, "correction.created", out.model_dump(mode="json"), now, p.user_id)],
    )
    return out


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    *,
    status: str | None,
    user_id: str | None,
) -> dict[str, Any]:
    stmt = visible_rows(Correction, p)
    if status is not None:
        stmt = stmt.where(Correction.status == status)
    if user_id is not None:
        stmt = stmt.where(Correction.user_id == user_id)
    rows = list((await session.execute(paginate(stmt, Correction.id, page))).scalars())
    return page_of(rows, page, CorrectionOut.model_validate)


async def decide(
    session: AsyncSession, p: Principal, correction_id: str, approve: bool, comment: str
) -> CorrectionOut:
    row = await get_visible(session, p, correction_id)
    if p.user_id is not None and row.user_id == p.user_id:
        raise Forbidden("someone else must decide your own correction")
    if row.status != "pending":
        raise Conflict(f"correction {row.id} is already {row.status}")
    now = utcnow()
    row.status, row.decided_at, row.decided_by, row.comment = (
        "approved" if approve else "rejected",
        now,
        p.actor,
        comment,
    )
    if approve:
        row.punch_id = await _punch_for(session, row, p.actor, now)
    record(
        session,
        p.org_id,
        p.actor,
        f"correction.{row.status}",
        "correction",
        row.id,
        comment=comment,
        punch_id=row.punch_id,
    )
    await session.flush()
    out = CorrectionOut.model_validate(row)
    await add_events(
        session,
        [event_row(p.org_id, "correction.decided", out.model_dump(mode="json"), now, row.user_id)],
    )
    await decisions.decided(session, p.org_id, "correction", [row.id], now)
    return out


async def detail(session: AsyncSession, p: Principal, correction_id: str) -> CorrectionDetail:
    row = await get_visible(session, p, correction_id)
    tz = (await store_for(session).org(row.org_id)).tz
    local = row.at.astimezone(tz)
    start = datetime.combine(local.date(), time.min, tz)
    found = await session.execute(
        select(Punch.id, Punch.kind, Punch.trusted_time, Punch.status, Punch.source)
        .where(
            Punch.org_id == row.org_id,
            Punch.user_id == row.user_id,
            Punch.trusted_time >= start,
            Punch.trusted_time < start + timedelta(days=1),
        )
        .order_by(Punch.trusted_time, Punch.id)
        .limit(200)
    )
    same_day = [DayPunch.model_validate(r._asdict()) for r in found]
    return CorrectionDetail(**CorrectionOut.model_validate(row).model_dump(), same_day=same_day)


async def _punch_for(session: AsyncSession, c: Correction, approver: str, now: datetime) -> str:
    """The approved punch: at the named place or customer, on the person's chain, detectors run."""
    person = await session.get(User, c.user_id)
    assert person is not None
    fence = (
        await session.get(Place, c.place_id)
        if c.place_id
        else await session.get(Customer, c.customer_id)
    )
    if fence is None or fence.lat is None or fence.lon is None:  # changed since the request
        what = "place" if c.place_id else "customer"
        raise Conflict(
            f"the {what} of this request no longer has a location to punch at: "
            f"reject the request, or give the {what} a location first"
        )
    store = store_for(session)
    org = await store.org(c.org_id)
    head = await store.lock_head(c.org_id, c.user_id)
    claim = {"correction_id": c.id, "kind": c.kind, "at": c.at.isoformat(), "approved_by": approver}
    row = NewPunch(
        id=new_id("pun"),
        org_id=c.org_id,
        user_id=c.user_id,
        client_id=f"correction:{c.id}",
        content_hash=digest(claim),  # what payload_hash() of the stored claim gives
        kind=c.kind,
        status="accepted",
        source="correction",
        captured_at=c.at,
        received_at=now,
        trusted_time=c.at,
        time_source="correction",
        lat=fence.lat,
        lon=fence.lon,
        accuracy_m=float(fence.radius_m),
        raw_lat=fence.lat,
        raw_lon=fence.lon,
        mock=False,
        fusion={"used": ["correction"], "rejected": []},
        place_id=c.place_id,
        customer_id=c.customer_id,
        distance_m=0.0,
        visit_id=None,
        photo_id=c.photo_id,
        note=c.reason,
        offline=False,
        device_id=None,
        signature_ok=None,
        anomalies=[],
        payload=claim,
        facts={
            "fence_id": c.place_id or c.customer_id,
            "fence_distance_m": 0.0,
            "wifi_registered": [],
            "wifi_seen": [],
            "trust": [],
        },
        names={fence.id: fence.name},
    )
    await commit_rows(store, Owner(c.org_id, c.user_id, person.team_id), org, [row], head, now)
    return row.id
