"""Who is calling: a person (by access token) or an integration (by API key)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import ColumnElement, Select, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth import apikeys, tokens
from fieldpunch.auth.models import ApiKey
from fieldpunch.auth.scopes import ROLE_SCOPES, Role, Scope
from fieldpunch.db.driver_sql import DriverStatement
from fieldpunch.db.scoped import scoped
from fieldpunch.db.session import Session, after_commit
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden, Unauthorized
from fieldpunch.teams.tree import subtree_ids
from fieldpunch.users.models import ManagedTeam, User

log = logging.getLogger("fieldpunch.auth")
_bearer = HTTPBearer(auto_error=False, description="A user access token or an API key (fpk_...)")


@dataclass(frozen=True, slots=True)
class Principal:
    org_id: str
    user_id: str | None
    role: Role | None  # None for an API key
    team_id: str | None
    scopes: frozenset[Scope]
    # Teams whose members' records are visible; None means the whole org.
    visible_teams: frozenset[str] | None
    api_key_id: str | None = None
    # The person's token_version this caller was read at (None for a key): a write that must
    # not outlive a revocation compares it with the row it locks (auth/service.create_key).
    token_version: int | None = None

    @property
    def actor(self) -> str:
        return self.user_id or f"api_key:{self.api_key_id}"

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this needs the '{scope}' permission")

    def sees_all(self) -> bool:
        return self.visible_teams is None

    def sees_user(self, user_id: str, team_id: str | None) -> bool:
        if self.visible_teams is None or user_id == self.user_id:
            return True
        return team_id is not None and team_id in self.visible_teams

    def user_filter(self, user_id_col: Any, team_id_col: Any) -> ColumnElement[bool] | None:
        """A WHERE clause limiting rows to people this caller may see (None: no limit)."""
        if self.visible_teams is None:
            return None
        clauses = [user_id_col == self.user_id] if self.user_id else []
        if self.visible_teams:
            clauses.append(team_id_col.in_(self.visible_teams))
        return or_(*clauses) if clauses else user_id_col.is_(None)


def visible_rows(model: Any, p: Principal) -> Select[Any]:
    """This org's rows of a person-owned table (`model.user_id`) that the caller may see."""
    stmt = scoped(model, p.org_id)
    if p.visible_teams is not None:
        stmt = stmt.join(User, User.id == model.user_id)
        if (clause := p.user_filter(User.id, User.team_id)) is not None:
            stmt = stmt.where(clause)
    return stmt


async def principal_for_user(session: AsyncSession, user: User) -> Principal:
    return await _build(
        session, user.org_id, user.id, Role(user.role), user.team_id, user.token_version
    )


async def _build(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    role: Role,
    team_id: str | None,
    token_version: int,
) -> Principal:
    visible: frozenset[str] | None
    if role is Role.admin:
        visible = None
    elif role is Role.manager:
        roots = (
            (
                await session.execute(
                    select(ManagedTeam.team_id).where(ManagedTeam.user_id == user_id)
                )
            )
            .scalars()
            .all()
        )
        visible = await subtree_ids(session, org_id, roots)
    else:
        visible = frozenset()
    return Principal(
        org_id=org_id,
        user_id=user_id,
        role=role,
        team_id=team_id,
        scopes=ROLE_SCOPES[role],
        visible_teams=visible,
        token_version=token_version,
    )


_tasks: set[asyncio.Task[None]] = set()


def _background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(work)
    _tasks.add(task)  # keep a reference until it is done
    task.add_done_callback(_tasks.discard)


async def _touch_key(request: Request, key_id: str, at: datetime) -> None:
    """Stamp last use in a transaction of its own: a read request must not take the write lock."""
    try:
        async with request.app.state.db.transaction() as session:
            await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))
    except Exception:
        log.debug("could not stamp api key use", exc_info=True)


async def _from_api_key(request: Request, session: AsyncSession, token: str) -> Principal:
    parsed = apikeys.parse(token)
    key = await session.get(ApiKey, parsed[0]) if parsed else None
    now = utcnow()
    if (
        parsed is None
        or key is None
        or key.revoked_at is not None
        or (key.expires_at is not None and key.expires_at <= now)
        or not apikeys.matches(parsed[1], key.secret_hash)
    ):
        raise Unauthorized("invalid or revoked API key")
    # Coarse last-use stamp: at most one write a minute per key, after the request's commit.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key_id = key.id
        after_commit(request, lambda: _background(_touch_key(request, key_id, now)))
    return Principal(
        org_id=key.org_id,
        user_id=None,
        role=None,
        team_id=None,
        scopes=frozenset(Scope(s) for s in key.scopes if s in Scope._value2member_map_),
        visible_teams=None,
        api_key_id=key.id,
    )


# Revocation holds from the commit that makes it, in every process: each request reads its
# person's row (one primary-key read, as driver SQL: ~one hop), and the cache below is keyed by
# what it read. Deactivation, a password change or a new role bump token_version (the token
# fails); any other change to what a person may see (team, managed teams, the team tree under
# a manager) bumps access_version (a new key: the caller is built again). An entry is therefore
# never stale, only unreachable: nothing has to be forgotten at the right moment, in this
# process or another, and no message has to arrive first. What the cache still saves is a
# manager's subtree (the managed teams and the org's team edges) and the object itself.
_ACCESS = DriverStatement(
    select(
        User.org_id,
        User.role,
        User.team_id,
        User.active,
        User.token_version,
        User.access_version,
    ).where(User.id == bindparam("user_id"))
)
_Key = tuple[str, str, str, str | None, int, int]
_principals: dict[_Key, Principal] = {}


def _remember(key: _Key, principal: Principal) -> None:
    if len(_principals) >= 50_000:  # bounded: forget everyone rather than grow without limit
        _principals.clear()
    _principals[key] = principal


async def _from_access_token(request: Request, session: AsyncSession, token: str) -> Principal:
    claims = tokens.read(request.app.state.settings.signing_key, token, "access")
    if claims is None:
        raise Unauthorized("invalid or expired access token")
    rows = await _ACCESS.execute(session, {"user_id": claims.user_id})
    row = rows[0] if rows else None
    if (
        row is None
        or not row.active
        or row.token_version != claims.version
        or row.org_id != claims.org_id
    ):
        raise Unauthorized("invalid or expired access token")
    key: _Key = (
        claims.user_id,
        row.org_id,
        row.role,
        row.team_id,
        row.token_version,
        row.access_version,
    )
    principal = _principals.get(key)
    if principal is None:
        principal = await _build(
            session, row.org_id, claims.user_id, Role(row.role), row.team_id, row.token_version
        )
        _remember(key, principal)
    return principal


async def current_principal(
    request: Request,
    session: Session,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],  # for OpenAPI
) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    return await principal_of(request, session, token)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header (read as HTTPBearer reads it), else 401."""
    scheme, token = get_authorization_scheme_param(authorization)
    if not authorization or scheme.lower() != "bearer" or not token:
        raise Unauthorized("missing bearer token")
    return token


async def principal_of(request: Request, session: AsyncSession, token: str) -> Principal:
    """The caller a bearer token (access token or API key) stands for; kept on request.state."""
    if token.startswith(apikeys.PREFIX):
        principal = await _from_api_key(request, session, token)
    else:
        principal = await _from_access_token(request, session, token)
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def need(scope: Scope) -> Any:
    """A dependency: the caller, who must hold `scope`."""

    async def _check(caller: Caller) -> Principal:
        caller.require(scope)
        return caller

    return Depends(_check)
