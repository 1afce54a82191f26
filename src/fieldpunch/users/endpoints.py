from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Role, Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.users import service
from fieldpunch.users.schemas import UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], route_class=TxRoute)

Reader = Annotated[Principal, need(Scope.users_read)]
Writer = Annotated[Principal, need(Scope.users_write)]


@router.get("", response_model=Page[UserOut])
async def list_users(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    team_id: Annotated[str | None, Query(max_length=40)] = None,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="name or email contains")] = None,
) -> dict[str, object]:
    return await service.list_(session, p, page, team_id=team_id, role=role, active=active, q=q)


@router.post("", status_code=201)
async def create_user(session: Session, p: Writer, body: UserCreate) -> UserOut:
    return await service.create(session, p, body)


@router.get("/{user_id}")
async def get_user(session: Session, p: Reader, user_id: str) -> UserOut:
    return await service.out(session, await service.get_visible(session, p, user_id))


@router.patch("/{user_id}")
async def update_user(session: Session, p: Writer, user_id: str, body: UserUpdate) -> UserOut:
    return await service.update(session, p, user_id, body)


@router.delete("/{user_id}", status_code=204, response_class=Response)
async def deactivate_user(session: Session, p: Writer, user_id: str) -> None:
    """Deactivate: the person can no longer sign in; their history stays."""
    await service.deactivate(session, p, user_id)
