from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.teams import service
from fieldpunch.teams.schemas import TeamCreate, TeamOut, TeamUpdate

router = APIRouter(prefix="/teams", tags=["teams"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.teams_read)]
Writer = Annotated[Principal, need(Scope.teams_write)]


@router.get("", response_model=Page[TeamOut])
async def list_teams(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    parent_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, object]:
    """The organization's teams (a tree: `parent_id`)."""
    return await service.list_(session, p, page, parent_id)


@router.post("", status_code=201)
async def create_team(session: Session, p: Writer, body: TeamCreate) -> TeamOut:
    """Add a team, optionally under a parent team."""
    return await service.create(session, p, body)


@router.get("/{team_id}")
async def get_team(session: Session, p: Reader, team_id: str) -> TeamOut:
    """One team."""
    return TeamOut.model_validate(await service.get_visible(session, p, team_id))


@router.patch("/{team_id}")
async def update_team(session: Session, p: Writer, team_id: str, body: TeamUpdate) -> TeamOut:
    """Rename a team or move it under another (never under itself or its subteams)."""
    return await service.update(session, p, team_id, body)


@router.delete(
    "/{team_id}",
    status_code=204,
    response_class=Response,
    responses={409: answer("The team has members or sub-teams: move them first")},
)
async def delete_team(session: Session, p: Writer, team_id: str) -> None:
    """Delete a team; its members and subteams are left without it."""
    await service.delete(session, p, team_id)
