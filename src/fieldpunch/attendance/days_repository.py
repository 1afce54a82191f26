"""The attendance days' SQL: what the recompute reads and writes, the dirty queue it drains and
the days list. The one dialect difference (the upsert) is behind `upsert_insert`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.days_models import AttendanceDay
from fieldpunch.attendance.models import (
    AttendanceGroup,
    AttendanceRequest,
    CalendarDay,
    DirtyDay,
    GroupPlace,
    GroupTeam,
    GroupUser,
    RosterEntry,
    Shift,
)
from fieldpunch.db.base import table_of
from fieldpunch.jobs.queue import upsert_insert
from fieldpunch.orgs.models import Org
from fieldpunch.punches.models import Punch
from fieldpunch.teams.models import Team
from fieldpunch.users.models import User

_CHUNK = 500
# Statuses of punches that count: accepted, or flagged and approved on review. A correction's
# punch counts unless rejected: the approval of the correction was its review.
COUNTING = ("accepted", "approved")
_DAYS = table_of(AttendanceDay)
_DAY_COLUMNS = [c.name for c in _DAYS.columns]
_DIRTY = table_of(DirtyDay)
_CLEAR = delete(_DIRTY).where(
    _DIRTY.c.org_id == bindparam("o"),
    _DIRTY.c.user_id == bindparam("u"),
    _DIRTY.c.day == bindparam("d"),
    _DIRTY.c.marked_at == bindparam("m"),
)
_KEY = ("org_id", "user_id", "day")


def _chunks(rows: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


class DaysRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- the org and who is in which group ------------------------------------------------

    async def orgs(self) -> list[tuple[str, str]]:
        """(org id, time zone name) of every org."""
        return [(i, tz) for i, tz in await self.session.execute(select(Org.id, Org.timezone))]

    async def orgs_with_groups(self) -> set[str]:
        """The orgs that have an attendance group (the others have no shifts to place)."""
        rows = await self.session.execute(select(AttendanceGroup.org_id).distinct())
        return {org_id for (org_id,) in rows}

    async def org_timezone(self, org_id: str) -> str:
        name = (await self.session.execute(select(Org.timezone).where(Org.id == org_id))).scalar()
        return name or "UTC"

    async def people(self, org_id: str, user_ids: Sequence[str] | None) -> dict[str, str | None]:
        """person → team of the org's people (`user_ids`, or every active person)."""
        stmt = select(User.id, User.team_id).where(User.org_id == org_id)
        if user_ids is None:
            return {u: t for u, t in await self.session.execute(stmt.where(User.active))}
        out: dict[str, str | None] = {}
        for chunk in _chunks(list(user_ids)):
            out.update(
                {u: t for u, t in await self.session.execute(stmt.where(User.id.in_(chunk)))}
            )
        return out

    async def assignments(
        self, org_id: str
    ) -> tuple[dict[str, str], dict[str, str], dict[str, str | None]]:
        """(person → own group, team → group, team → parent team) of the org."""
        own = select(GroupUser.user_id, GroupUser.group_id).where(GroupUser.org_id == org_id)
        teams = select(GroupTeam.team_id, GroupTeam.group_id).where(GroupTeam.org_id == org_id)
        parents = select(Team.id, Team.parent_id).where(Team.org_id == org_id)
        return (
            {u: g for u, g in await self.session.execute(own)},
            {t: g for t, g in await self.session.execute(teams)},
            {t: p for t, p in await self.session.execute(parents)},
        )

    async def groups(self, org_id: str) -> dict[str, AttendanceGroup]:
        rows = await self.session.execute(
            select(AttendanceGroup).where(AttendanceGroup.org_id == org_id)
        )
        return {g.id: g for g in rows.scalars()}

    async def group_places(self, org_id: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        rows = await self.session.execute(
            select(GroupPlace.group_id, GroupPlace.place_id).where(GroupPlace.org_id == org_id)
        )
        for group_id, place_id in rows:
            out.setdefault(group_id, set()).add(place_id)
        return out

    async def shifts(self, org_id: str) -> dict[str, Shift]:
        """Every shift of the org, deleted ones too (a past day keeps its shift)."""
        rows = await self.session.execute(select(Shift).where(Shift.org_id == org_id))
        return {s.id: s for s in rows.scalars()}

    async def calendar(self, org_id: str, start: date, end: date) -> list[CalendarDay]:
        rows = await self.session.execute(
            select(CalendarDay).where(
                CalendarDay.org_id == org_id, CalendarDay.day.between(start, end)
            )
        )
        return list(rows.scalars())

    # -- the people's days, a chunk of people per statement ------------------------------
    # A month's recompute for 10,000 people read three statements per person (30,000 round
    # trips, each compiled anew): now one statement per table and chunk of people.

    async def rosters(
        self, org_id: str, user_ids: Sequence[str], start: date, end: date
    ) -> dict[str, dict[date, str | None]]:
        """person → day → shift id (None: rest) of the people's roster entries."""
        out: dict[str, dict[date, str | None]] = {}
        for chunk in _chunks(list(user_ids)):
            rows = await self.session.execute(
                select(RosterEntry.user_id, RosterEntry.day, RosterEntry.shift_id).where(
                    RosterEntry.org_id == org_id,
                    RosterEntry.user_id.in_(chunk),
                    RosterEntry.day.between(start, end),
                )
            )
            for u, d, s in rows:
                out.setdefault(u, {})[d] = s
        return out

    async def punches(
        self, org_id: str, user_ids: Sequence[str], lo: datetime, hi: datetime
    ) -> dict[str, list[Any]]:
        """person → their counting attendance punches with trusted time in [lo, hi)."""
        counting = or_(
            Punch.status.in_(COUNTING),
            and_(Punch.source == "correction", Punch.status != "rejected"),
        )
        out: dict[str, list[Any]] = {}
        for chunk in _chunks(list(user_ids)):
            rows = await self.session.execute(
                select(
                    Punch.user_id,
                    Punch.id,
                    Punch.kind,
                    Punch.trusted_time,
                    Punch.source,
                    Punch.place_id,
                    Punch.facts,
                ).where(
                    Punch.org_id == org_id,
                    Punch.user_id.in_(chunk),
                    Punch.trusted_time >= lo,
                    Punch.trusted_time < hi,
                    Punch.kind.in_(("clock_in", "clock_out")),
                    counting,
                )
            )
            for row in rows:
                out.setdefault(row.user_id, []).append(row)
        return out

    async def requests(
        self, org_id: str, user_ids: Sequence[str], lo: datetime, hi: datetime
    ) -> dict[str, list[AttendanceRequest]]:
        """person → their approved requests that overlap [lo, hi)."""
        out: dict[str, list[AttendanceRequest]] = {}
        for chunk in _chunks(list(user_ids)):
            rows = await self.session.execute(
                select(AttendanceRequest).where(
                    AttendanceRequest.org_id == org_id,
                    AttendanceRequest.user_id.in_(chunk),
                    AttendanceRequest.status == "approved",
                    AttendanceRequest.start_at < hi,
                    AttendanceRequest.end_at > lo,
                )
            )
            for r in rows.scalars():
                out.setdefault(r.user_id, []).append(r)
        return out

    async def time_away(
        self, org_id: str, kinds: Sequence[str], lo: datetime, hi: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """person → [start, end) of the org's approved requests of `kinds` overlapping [lo, hi)."""
        rows = await self.session.execute(
            select(
                AttendanceRequest.user_id, AttendanceRequest.start_at, AttendanceRequest.end_at
            ).where(
                AttendanceRequest.org_id == org_id,
                AttendanceRequest.status == "approved",
                AttendanceRequest.kind.in_(kinds),
                AttendanceRequest.start_at < hi,
                AttendanceRequest.end_at > lo,
            )
        )
        out: dict[str, list[tuple[datetime, datetime]]] = {}
        for user_id, a, b in rows:
            out.setdefault(user_id, []).append((a, b))
        return out

    async def upsert_days(self, rows: Sequence[dict[str, Any]]) -> None:
        # One statement executed for many rows (executemany): compiled once and cached, where a
        # multi-row VALUES of 28 columns was compiled again for every batch.
        if not rows:
            return
        stmt = upsert_insert(self.session, _DAYS)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={c: stmt.excluded[c] for c in _DAY_COLUMNS if c not in _KEY},
        )
        await self.session.execute(stmt, list(rows))

    async def drop_days(self, org_id: str, user_id: str, days: Sequence[date]) -> None:
        """Stored days of a person who no longer has a group (or schedule) on them."""
        if days:
            await self.session.execute(
                delete(AttendanceDay).where(
                    AttendanceDay.org_id == org_id,
                    AttendanceDay.user_id == user_id,
                    AttendanceDay.day.in_(list(days)),
                )
            )

    # -- the dirty queue ------------------------------------------------------------------

    async def dirty_batch(
        self, limit: int, marked_by: datetime
    ) -> list[tuple[str, str, date, datetime]]:
        """(org, person or EVERYONE, day, marked_at) marked by `marked_by`, oldest first; marks
        of one moment (a backfill, an expanded EVERYONE) by person, so a batch holds few people
        and their days together (the recompute reads per person)."""
        rows = await self.session.execute(
            select(DirtyDay.org_id, DirtyDay.user_id, DirtyDay.day, DirtyDay.marked_at)
            .where(DirtyDay.marked_at <= marked_by)
            .order_by(DirtyDay.marked_at, DirtyDay.org_id, DirtyDay.user_id, DirtyDay.day)
            .limit(limit)
        )
        return [(o, u, d, m) for o, u, d, m in rows]

    async def clear_dirty(self, done: Sequence[tuple[str, str, date, datetime]]) -> None:
        """Remove the marks that were read, unless marked again since (then it runs again)."""
        if done:
            params = [{"o": o, "u": u, "d": d, "m": m} for o, u, d, m in done]
            await self.session.execute(_CLEAR, params)

    async def incomplete(self, before: date) -> list[tuple[str, str, date]]:
        """(org, person, day) computed while in progress, on days before `before`."""
        rows = await self.session.execute(
            select(AttendanceDay.org_id, AttendanceDay.user_id, AttendanceDay.day).where(
                AttendanceDay.complete.is_(False), AttendanceDay.day < before
            )
        )
        return [(o, u, d) for o, u, d in rows]

    async def punch_people(self, punch_ids: Sequence[str]) -> list[tuple[str, str, str, datetime]]:
        """(punch, org, person, trusted time) of these punches (attendance ones only)."""
        out: list[tuple[str, str, str, datetime]] = []
        for chunk in _chunks(list(punch_ids)):
            rows = await self.session.execute(
                select(Punch.id, Punch.org_id, Punch.user_id, Punch.trusted_time).where(
                    Punch.id.in_(chunk), Punch.kind.in_(("clock_in", "clock_out"))
                )
            )
            out.extend((i, o, u, t) for i, o, u, t in rows)
        return out

    # -- reading --------------------------------------------------------------------------

    async def page(
        self,
        org_id: str,
        start: date,
        end: date,
        *,
        visible: ColumnElement[bool] | None,
        user_id: str | None,
        team_id: str | None,
        status: str | None,
        after: tuple[str, date] | None,
        limit: int,
    ) -> list[tuple[AttendanceDay, str]]:
        """A page of days with the person's name, by (person, day)."""
        stmt = (
            select(AttendanceDay, User.name)
            .join(User, User.id == AttendanceDay.user_id)
            .where(AttendanceDay.org_id == org_id, AttendanceDay.day.between(start, end))
        )
        for clause in (
            visible,
            None if user_id is None else AttendanceDay.user_id == user_id,
            None if team_id is None else User.team_id == team_id,
            None if status is None else AttendanceDay.status == status,
            None
            if after is None
            else tuple_(AttendanceDay.user_id, AttendanceDay.day) > tuple_(*after),
        ):
            if clause is not None:
                stmt = stmt.where(clause)
        stmt = stmt.order_by(AttendanceDay.user_id, AttendanceDay.day).limit(limit)
        return [(d, n) for d, n in await self.session.execute(stmt)]

    async def visible_user(
        self, org_id: str, user_id: str, visible: ColumnElement[bool] | None
    ) -> bool:
        stmt = select(User.id).where(User.org_id == org_id, User.id == user_id)
        if visible is not None:
            stmt = stmt.where(visible)
        return (await self.session.execute(stmt)).first() is not None

    async def team_people(self, org_id: str, team_ids: Sequence[str]) -> list[str]:
        rows = await self.session.execute(
            select(User.id).where(User.org_id == org_id, User.team_id.in_(list(team_ids)))
        )
        return list(rows.scalars())
