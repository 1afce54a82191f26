"""The attendance rules' SQL: every statement the attendance services run, and nowhere else.

The one dialect difference (the upsert of `INSERT … ON CONFLICT`) is behind `_upsert`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.models import (
    EVERYONE,
    AttendanceGroup,
    AttendanceRequest,
    CalendarDay,
    DirtyDay,
    GroupPlace,
    GroupTeam,
    GroupUser,
    RosterEntry,
)
from fieldpunch.jobs.queue import upsert_insert
from fieldpunch.orgs.models import Org
from fieldpunch.places.models import Place
from fieldpunch.teams.models import Team
from fieldpunch.teams.tree import descendants
from fieldpunch.users.models import User

_CHUNK = 500  # rows per INSERT: well under SQLite's and asyncpg's bound-parameter limits


def _chunks(rows: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


class AttendanceRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _scalars(self, stmt: Select[Any]) -> list[Any]:
        return list((await self.session.execute(stmt)).scalars())

    async def _pairs(self, stmt: Any) -> dict[Any, Any]:
        return {a: b for a, b in await self.session.execute(stmt)}

    async def org_tz(self, org_id: str) -> ZoneInfo:
        name = (await self.session.execute(select(Org.timezone).where(Org.id == org_id))).scalar()
        return ZoneInfo(name or "UTC")

    # -- people ------------------------------------------------------------------------------

    async def visible_people(
        self, org_id: str, ids: Iterable[str], visible: ColumnElement[bool] | None
    ) -> set[str]:
        """Which of `ids` are people of the org the caller may see (`visible`: a user filter)."""
        wanted = list(set(ids))
        found: set[str] = set()
        for chunk in _chunks(wanted):
            stmt = select(User.id).where(User.org_id == org_id, User.id.in_(chunk))
            if visible is not None:
                stmt = stmt.where(visible)
            found.update(await self._scalars(stmt))
        return found

    async def existing(self, model: Any, org_id: str, ids: Iterable[str]) -> set[str]:
        """Which of `ids` are rows of `model` in the org (not soft-deleted)."""
        stmt = select(model.id).where(model.org_id == org_id, model.id.in_(list(set(ids))))
        if hasattr(model, "deleted_at"):
            stmt = stmt.where(model.deleted_at.is_(None))
        return set(await self._scalars(stmt))

    # -- groups --------------------------------------------------------------------------------

    async def members(self, group_ids: Sequence[str]) -> dict[str, tuple[list[str], ...]]:
        """group id → (user_ids, team_ids, place_ids), each sorted."""
        out: dict[str, tuple[list[str], ...]] = {g: ([], [], []) for g in group_ids}
        pairs: tuple[tuple[Any, Any], ...] = (
            (GroupUser, GroupUser.user_id),
            (GroupTeam, GroupTeam.team_id),
        )
        for i, (model, column) in enumerate(pairs):
            rows = await self.session.execute(
                select(model.group_id, column).where(model.group_id.in_(group_ids)).order_by(column)
            )
            for group_id, member in rows:
                out[group_id][i].append(member)
        rows = await self.session.execute(
            select(GroupPlace.group_id, GroupPlace.place_id)
            .join(Place, Place.id == GroupPlace.place_id)
            .where(GroupPlace.group_id.in_(group_ids), Place.deleted_at.is_(None))
            .order_by(GroupPlace.place_id)
        )
        for group_id, place_id in rows:
            out[group_id][2].append(place_id)
        return out

    async def taken(
        self, org_id: str, group_id: str, user_ids: Sequence[str], team_ids: Sequence[str]
    ) -> list[tuple[str, str, str]]:
        """(kind, member id, other group's name) for members already in another group."""
        out: list[tuple[str, str, str]] = []
        for kind, model, column, ids in (
            ("user", GroupUser, GroupUser.user_id, user_ids),
            ("team", GroupTeam, GroupTeam.team_id, team_ids),
        ):
            for chunk in _chunks(list(ids)):
                rows = await self.session.execute(
                    select(column, AttendanceGroup.name)
                    .join(AttendanceGroup, AttendanceGroup.id == model.group_id)
                    .where(model.org_id == org_id, column.in_(chunk), model.group_id != group_id)
                )
                out.extend((kind, member, name) for member, name in rows)
        return out

    async def set_members(
        self,
        org_id: str,
        group_id: str,
        user_ids: Sequence[str] | None,
        team_ids: Sequence[str] | None,
        place_ids: Sequence[str] | None,
    ) -> None:
        """Replace the group's people, teams or places (each left alone when None)."""
        for model, column, ids in (
            (GroupUser, "user_id", user_ids),
            (GroupTeam, "team_id", team_ids),
            (GroupPlace, "place_id", place_ids),
        ):
            if ids is None:
                continue
            await self.session.execute(delete(model).where(model.group_id == group_id))
            rows = [{"org_id": org_id, "group_id": group_id, column: i} for i in ids]
            for chunk in _chunks(rows):
                await self.session.execute(upsert_insert(self.session, model).values(chunk))

    async def people_in_groups(self, org_id: str, group_ids: Sequence[str]) -> set[str]:
        """The active people whose group (own assignment, else their nearest team's) is one of
        `group_ids` now: those whose days a change to these groups touches."""
        if not group_ids:
            return set()
        own = await self._pairs(
            select(GroupUser.user_id, GroupUser.group_id).where(GroupUser.org_id == org_id)
        )
        by_team = await self._pairs(
            select(GroupTeam.team_id, GroupTeam.group_id).where(GroupTeam.org_id == org_id)
        )
        wanted = set(group_ids)
        roots = [t for t, g in by_team.items() if g in wanted]
        parent: dict[str, str | None] = {}
        if roots:
            parent = await self._pairs(select(Team.id, Team.parent_id).where(Team.org_id == org_id))
        teams = descendants(parent.items(), roots) if roots else frozenset()
        candidates = {u for u, g in own.items() if g in wanted}
        people = select(User.id, User.team_id).where(User.org_id == org_id, User.active)
        clauses = [User.id.in_(list(candidates))] if candidates else []
        if teams:
            clauses.append(User.team_id.in_(list(teams)))
        if not clauses:
            return set()
        out: set[str] = set()
        for user_id, team_id in await self.session.execute(people.where(or_(*clauses))):
            if user_id in own:
                group = own[user_id]
            else:  # the nearest team up the tree that has a group
                group, team = None, team_id
                while team is not None and group is None:
                    group, team = by_team.get(team), parent.get(team)
            if group in wanted:
                out.add(user_id)
        return out

    async def group_using(self, org_id: str, shift_id: str) -> list[str]:
        """Ids of the groups whose fixed schedule names the shift."""
        return await self._scalars(
            select(AttendanceGroup.id).where(
                AttendanceGroup.org_id == org_id, AttendanceGroup.shift_id == shift_id
            )
        )

    async def rostered_on(self, org_id: str, shift_id: str, since: date) -> list[tuple[str, date]]:
        """(person, day) roster entries of the shift from `since` on."""
        rows = await self.session.execute(
            select(RosterEntry.user_id, RosterEntry.day).where(
                RosterEntry.org_id == org_id,
                RosterEntry.shift_id == shift_id,
                RosterEntry.day >= since,
            )
        )
        return [(u, d) for u, d in rows]

    # -- rosters -------------------------------------------------------------------------------

    async def roster_people(
        self,
        org_id: str,
        start: date,
        end: date,
        *,
        visible: ColumnElement[bool] | None,
        user_id: str | None,
        team_id: str | None,
        after: str | None,
        limit: int,
    ) -> list[str]:
        """A page of the people (by id) who have roster entries between `start` and `end`."""
        stmt = (
            select(RosterEntry.user_id)
            .distinct()
            .join(User, User.id == RosterEntry.user_id)
            .where(RosterEntry.org_id == org_id, RosterEntry.day.between(start, end))
        )
        for clause in (
            visible,
            None if user_id is None else RosterEntry.user_id == user_id,
            None if team_id is None else User.team_id == team_id,
            None if after is None else RosterEntry.user_id > after,
        ):
            if clause is not None:
                stmt = stmt.where(clause)
        return await self._scalars(stmt.order_by(RosterEntry.user_id).limit(limit))

    async def roster(
        self, org_id: str, user_ids: Sequence[str], start: date, end: date
    ) -> list[RosterEntry]:
        out: list[RosterEntry] = []
        for chunk in _chunks(list(user_ids)):
            out.extend(
                await self._scalars(
                    select(RosterEntry)
                    .where(
                        RosterEntry.org_id == org_id,
                        RosterEntry.user_id.in_(chunk),
                        RosterEntry.day.between(start, end),
                    )
                    .order_by(RosterEntry.user_id, RosterEntry.day)
                )
            )
        return out

    async def roster_cells(
        self, org_id: str, cells: Iterable[tuple[str, date]]
    ) -> dict[tuple[str, date], str | None]:
        """The stored shift (None: rest) of each (person, day) that has an entry."""
        out: dict[tuple[str, date], str | None] = {}
        for chunk in _chunks(list(cells)):
            rows = await self.session.execute(
                select(RosterEntry.user_id, RosterEntry.day, RosterEntry.shift_id).where(
                    RosterEntry.org_id == org_id,
                    tuple_(RosterEntry.user_id, RosterEntry.day).in_(chunk),
                )
            )
            out.update({(u, d): s for u, d, s in rows})
        return out

    async def put_roster(
        self,
        org_id: str,
        cells: dict[tuple[str, date], str | None],
        cleared: Sequence[tuple[str, date]],
        now: datetime,
        actor: str,
    ) -> None:
        """Set each (person, day) to its shift (None: rest); remove the `cleared` ones."""
        rows = [
            {
                "org_id": org_id,
                "user_id": u,
                "day": d,
                "shift_id": s,
                "updated_at": now,
                "updated_by": actor,
            }
            for (u, d), s in cells.items()
        ]
        for chunk in _chunks(rows):
            stmt = upsert_insert(self.session, RosterEntry).values(chunk)
            stmt = stmt.on_conflict_do_update(
                index_elements=["org_id", "user_id", "day"],
                set_={c: stmt.excluded[c] for c in ("shift_id", "updated_at", "updated_by")},
            )
            await self.session.execute(stmt)
        for part in _chunks(list(cleared)):
            await self.session.execute(
                delete(RosterEntry).where(
                    RosterEntry.org_id == org_id,
                    tuple_(RosterEntry.user_id, RosterEntry.day).in_(part),
                )
            )

    # -- calendar ------------------------------------------------------------------------------

    async def calendar(self, org_id: str, start: date, end: date) -> list[CalendarDay]:
        return await self._scalars(
            select(CalendarDay)
            .where(CalendarDay.org_id == org_id, CalendarDay.day.between(start, end))
            .order_by(CalendarDay.day)
        )

    async def replace_calendar(
        self, org_id: str, start: date, end: date, days: Sequence[dict[str, Any]]
    ) -> None:
        await self.session.execute(
            delete(CalendarDay).where(
                CalendarDay.org_id == org_id, CalendarDay.day.between(start, end)
            )
        )
        for chunk in _chunks([{"org_id": org_id, **d} for d in days]):
            await self.session.execute(upsert_insert(self.session, CalendarDay).values(chunk))

    # -- requests ------------------------------------------------------------------------------

    async def overlapping(
        self, org_id: str, user_id: str, start: datetime, end: datetime, but: str | None
    ) -> AttendanceRequest | None:
        """An approved request of the person that overlaps [start, end), other than `but`."""
        stmt = select(AttendanceRequest).where(
            AttendanceRequest.org_id == org_id,
            AttendanceRequest.user_id == user_id,
            AttendanceRequest.status == "approved",
            AttendanceRequest.start_at < end,
            AttendanceRequest.end_at > start,
        )
        if but is not None:
            stmt = stmt.where(AttendanceRequest.id != but)
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    # -- dirty days ----------------------------------------------------------------------------

    async def mark_dirty(
        self, org_id: str, cells: Iterable[tuple[str, date]], cause: str, now: datetime
    ) -> int:
        """Record person-days (or EVERYONE's days) to recompute; a day already waiting is
        stamped again, so a recompute that started before this change runs once more."""
        rows = [
            {"org_id": org_id, "user_id": u, "day": d, "marked_at": now, "cause": cause}
            for u, d in sorted(set(cells))
        ]
        for chunk in _chunks(rows):
            stmt = upsert_insert(self.session, DirtyDay).values(chunk)
            stmt = stmt.on_conflict_do_update(
                index_elements=["org_id", "day", "user_id"],
                set_={"marked_at": stmt.excluded.marked_at, "cause": stmt.excluded.cause},
            )
            await self.session.execute(stmt)
        return len(rows)

    async def dirty(self, org_id: str) -> list[tuple[str, date, str]]:
        """(person or EVERYONE, day, cause) waiting for a recompute, by day."""
        rows = await self.session.execute(
            select(DirtyDay.user_id, DirtyDay.day, DirtyDay.cause)
            .where(DirtyDay.org_id == org_id)
            .order_by(DirtyDay.day, DirtyDay.user_id)
        )
        return [(u, d, c) for u, d, c in rows]


def everyone(days: Iterable[date]) -> list[tuple[str, date]]:
    return [(EVERYONE, d) for d in days]
