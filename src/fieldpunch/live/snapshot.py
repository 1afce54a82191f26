"""What a feed sends first: the snapshot, the replay after `last_event_id`, and the seam.

Read in one consistent view of the database (`Database.snapshot()`), after the feed subscribed
to the hub. Every event that view contains is reflected in the snapshot, so:

- a replayed event (id in `(last_event_id, last_event_id of the snapshot]`) is sent flagged
  `"replayed": true` (history for the client's log, already counted in the snapshot);
- a live event the view already contained is skipped (`skip`), and so is one at or below the
  client's `last_event_id` (`floor`: another process may deliver it later than the one the
  client was on);
- everything else the hub brings is new and sent as it comes: no gap, no duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies.models import Anomaly
from fieldpunch.auth.principal import Principal
from fieldpunch.db.engine import Database
from fieldpunch.geo.crs import CRS
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.kit.clock import utcnow
from fieldpunch.live.scope import Audience
from fieldpunch.punches.models import Punch
from fieldpunch.punches.queries import names_of
from fieldpunch.punches.views import to_out
from fieldpunch.users.models import User

# Further behind than this and the client gets a fresh snapshot without the history.
REPLAY_MAX = 10_000
# Events a hub delivers right after a feed subscribed are recent: bound the seam query by ids.
SEAM_WINDOW = 10_000


@dataclass(slots=True)
class Opening:
    snapshot: dict[str, Any]
    replay: list[str] = field(default_factory=list)  # encoded deltas, in seq order
    skip: set[int] = field(default_factory=set)
    floor: int | None = None


async def read_opening(
    db: Database,
    p: Principal,
    audience: Audience,
    last_event_id: int | None,
    high_water: int | None,
) -> Opening:
    """`high_water`: the hub's highest seq when the feed subscribed (later events are above)."""
    async with db.snapshot() as session:
        cursor = int(
            (await session.execute(select(func.coalesce(func.max(OutboxEvent.id), 0)))).scalar_one()
        )
        opening = Opening(snapshot={})
        resumed = False
        # A cursor above every id was not issued by this database (or it was reset): start over.
        if last_event_id is not None and last_event_id <= cursor:
            resumed = await _replay(session, audience, last_event_id, cursor, opening)
        if not resumed:
            lo = high_water if high_water is not None else cursor - SEAM_WINDOW
            lo = max(lo, cursor - SEAM_WINDOW)
            stmt = select(OutboxEvent.id).where(
                OutboxEvent.org_id == p.org_id, OutboxEvent.id > lo, OutboxEvent.id <= cursor
            )
            opening.skip = set((await session.execute(stmt)).scalars())
        opening.snapshot = {
            "type": "snapshot",
            "at": utcnow().isoformat(),
            "org_id": p.org_id,
            "last_event_id": cursor,
            "resumed": resumed,
            "users": await _people(session, p),
        }
    return opening


async def _replay(
    session: AsyncSession, audience: Audience, after: int, cursor: int, opening: Opening
) -> bool:
    """Fill in the events after `after`; False when they cannot all be replayed."""
    oldest = (await session.execute(select(func.min(OutboxEvent.id)))).scalar()
    if oldest is not None and oldest > after + 1:
        return False  # pruned from the outbox: history lost, only a snapshot can help
    stmt = (
        select(OutboxEvent.id, OutboxEvent.subject_user_id, OutboxEvent.payload, User.team_id)
        .outerjoin(User, User.id == OutboxEvent.subject_user_id)
        .where(
            OutboxEvent.org_id == audience.org_id,
            OutboxEvent.id > after,
            OutboxEvent.id <= cursor,
        )
        .order_by(OutboxEvent.id)
        .limit(REPLAY_MAX + 1)
    )
    rows = (await session.execute(stmt)).all()
    if len(rows) > REPLAY_MAX:
        return False
    opening.floor = after
    opening.skip = {r.id for r in rows}
    for r in rows:
        if audience.sees_event(str(r.payload.get("type", "")), r.subject_user_id, r.team_id):
            delta = {**r.payload, "seq": r.id, "replayed": True}
            opening.replay.append(orjson.dumps(delta).decode())
    return True


async def _people(session: AsyncSession, p: Principal) -> list[dict[str, Any]]:
    """Each visible active person: their latest punch (by trusted time) and open anomalies."""
    latest = (
        select(Punch.id)
        .where(Punch.org_id == User.org_id, Punch.user_id == User.id)
        .order_by(Punch.trusted_time.desc(), Punch.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )  # one index probe per person (ix_punches_org_user_time), not a scan of every punch
    stmt = (
        select(User.id.label("user_id"), User.name, User.team_id, Punch)
        .outerjoin(Punch, Punch.id == latest)
        .where(User.org_id == p.org_id, User.active.is_(True))
        .order_by(User.id)
    )
    if (clause := p.user_filter(User.id, User.team_id)) is not None:
        stmt = stmt.where(clause)
    rows = (await session.execute(stmt)).all()
    open_anomalies = (
        select(Anomaly.user_id, func.count())
        .where(Anomaly.org_id == p.org_id, Anomaly.status == "open")
        .group_by(Anomaly.user_id)
    )
    counts: dict[str, int] = {u: n for u, n in (await session.execute(open_anomalies)).all()}
    punches = [r.Punch for r in rows if r.Punch is not None]
    names = await names_of(session, p.org_id, punches)
    return [
        {
            "user_id": r.user_id,
            "name": r.name,
            "team_id": r.team_id,
            "latest_punch": (
                to_out(r.Punch, CRS.wgs84, names).model_dump(mode="json")
                if r.Punch is not None
                else None
            ),
            "open_anomalies": int(counts.get(r.user_id, 0)),
        }
        for r in rows
    ]
