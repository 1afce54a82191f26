from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Role, Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
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
    """The people the caller may see (a manager: their teams), in id order."""
    return await service.list_(session, p, page, team_id=team_id, role=role, active=active, q=q)


@router.post("", status_code=201, responses={409: answer("The email or employee number is taken")})
async def create_user(session: Session, p: Writer, body: UserCreate) -> UserOut:
    """Add a person to the organization (`email` unique within it)."""
    return await service.create(session, p, body)


@router.get("/{user_id}")
async def get_user(session: Session, p: Reader, user_id: str) -> UserOut:
    """One person."""
    return await service.out(session, await service.get_visible(session, p, user_id))


@router.patch(
    "/{user_id}",
    responses={409: answer("The email or employee number is taken, or the last admin would go")},
)
async def update_user(session: Session, p: Writer, user_id: str, body: UserUpdate) -> UserOut:
    """Change a person's details, role, team or managed teams."""
    return await service.update(session, p, user_id, body)


@router.delete(
    "/{user_id}",
    status_code=204,
    response_class=Response,
    responses={409: answer("The organization's last active admin cannot be deactivated")},
)
async def deactivate_user(session: Session, p: Writer, user_id: str) -> None:
    """Deactivate: the person can no longer sign in; their history stays."""
    await service.deactivate(session, p, user_id)
