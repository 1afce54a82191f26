"""Teams, nested to any depth; a manager of a team sees its sub-teams too."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import Role
from fieldpunch.db.scoped import get_scoped, ref_scoped, scoped
from fieldpunch.kit.errors import Conflict, Invalid, NotFound
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.kit.schemas import apply
from fieldpunch.teams.models import Team
from fieldpunch.teams.schemas import TeamCreate, TeamOut, TeamUpdate
from fieldpunch.teams.tree import subtree_ids
from fieldpunch.users.models import User


async def _managers_see_anew(session: AsyncSession, org_id: str) -> None:
    """The team tree changed: every manager's subtree may have. A new access_version makes the
    next request of each build its caller again, in every process (auth/principal.py)."""
    await session.execute(
        sa.update(User)
        .where(User.org_id == org_id, User.role == Role.manager.value)
        # Not a change to the people themselves: their updated_at stays.
        .values(access_version=User.access_version + 1, updated_at=User.updated_at)
        .execution_options(synchronize_session=False)
    )


def _visible(p: Principal) -> frozenset[str] | None:
    """Admins see every team; managers their subtrees; staff their own team."""
    if p.visible_teams is None:
        return None
    return p.visible_teams | ({p.team_id} if p.team_id else set())


async def get_visible(session: AsyncSession, p: Principal, team_id: str) -> Team:
    team = await get_scoped(session, Team, p.org_id, team_id, what="team")
    visible = _visible(p)
    if visible is not None and team.id not in visible:
        raise NotFound(f"team {team_id} not found")
    return team


async def list_(
    session: AsyncSession, p: Principal, page: PageParams, parent_id: str | None
) -> dict[str, Any]:
    stmt = scoped(Team, p.org_id)
    if (visible := _visible(p)) is not None:
        stmt = stmt.where(Team.id.in_(visible))
    if parent_id is not None:
        stmt = stmt.where(Team.parent_id == parent_id)
    rows = list((await session.execute(paginate(stmt, Team.id, page))).scalars())
    return page_of(rows, page, TeamOut.model_validate)


async def create(session: AsyncSession, p: Principal, body: TeamCreate) -> TeamOut:
    await ref_scoped(session, Team, p.org_id, body.parent_id, ["body", "parent_id"])
    team = Team(id=new_id("team"), org_id=p.org_id, name=body.name, parent_id=body.parent_id)
    session.add(team)
    await session.flush()
    if team.parent_id is not None:
        await _managers_see_anew(session, p.org_id)  # a subtree may have grown
    record(
        session,
        p.org_id,
        p.actor,
        "team.created",
        "team",
        team.id,
        name=team.name,
        parent_id=team.parent_id,
    )
    return TeamOut.model_validate(team)


async def update(session: AsyncSession, p: Principal, team_id: str, body: TeamUpdate) -> TeamOut:
    team = await get_scoped(session, Team, p.org_id, team_id, what="team")
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise Invalid(["body", "name"], "may not be null")
    if changes.get("parent_id") is not None:
        await ref_scoped(session, Team, p.org_id, changes["parent_id"], ["body", "parent_id"])
        if changes["parent_id"] in await subtree_ids(session, p.org_id, [team.id]):
            raise Invalid(["body", "parent_id"], "a team cannot sit under itself or its sub-teams")
    before = {k: getattr(team, k) for k in changes}
    apply(team, changes)
    await session.flush()
    if "parent_id" in changes and changes["parent_id"] != before.get("parent_id"):
        await _managers_see_anew(session, p.org_id)  # a moved team changes who manages whom
    if before != changes:  # a moved team changes who manages whom: the auditor's question
        record(
            session,
            p.org_id,
            p.actor,
            "team.updated",
            "team",
            team.id,
            before=before,
            after=changes,
        )
    return TeamOut.model_validate(team)


async def delete(session: AsyncSession, p: Principal, team_id: str) -> None:
    team = await get_scoped(session, Team, p.org_id, team_id, what="team")
    if (await session.execute(select(Team.id).where(Team.parent_id == team.id).limit(1))).first():
        raise Conflict("the team has sub-teams; move or delete them first")
    if (await session.execute(select(User.id).where(User.team_id == team.id).limit(1))).first():
        raise Conflict("the team has members; move them first")
    await session.delete(team)
    await session.flush()
    record(session, p.org_id, p.actor, "team.deleted", "team", team.id, name=team.name)
    await _managers_see_anew(session, p.org_id)  # its managers lose it
