"""Who is calling: a person (by access token) or an integration (by API key)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth import apikeys, tokens
from fieldpunch.auth.models import ApiKey
from fieldpunch.auth.scopes import ROLE_SCOPES, Role, Scope
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
    role = Role(user.role)
    visible: frozenset[str] | None
    if role is Role.admin:
        visible = None
    elif role is Role.manager:
        roots = (
            (
                await session.execute(
                    select(ManagedTeam.team_id).where(ManagedTeam.user_id == user.id)
                )
            )
            .scalars()
            .all()
        )
        visible = await subtree_ids(session, user.org_id, roots)
    else:
        visible = frozenset()
    return Principal(
        org_id=user.org_id,
        user_id=user.id,
        role=role,
        team_id=user.team_id,
        scopes=ROLE_SCOPES[role],
        visible_teams=visible,
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


# Every request needs its caller; a few seconds of memory saves a query (or three, for a
# manager) per request. A deactivation or password change bumps token_version, which the
# cache key carries, so it takes effect within CACHE_S at most.
CACHE_S = 5.0
_principals: dict[tuple[str, int], tuple[float, Principal]] = {}


def forget(user_id: str | None = None) -> None:
    """Drop cached callers after a change to people or teams (everyone when no id is given)."""
    if user_id is None:
        _principals.clear()
    else:
        for key in [k for k in _principals if k[0] == user_id]:
            _principals.pop(key, None)


def _cached(claims: tokens.TokenClaims) -> Principal | None:
    hit = _principals.get((claims.user_id, claims.version))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def _remember(claims: tokens.TokenClaims, principal: Principal) -> None:
    if len(_principals) > 50_000:  # bounded: forget everyone rather than grow without limit
        _principals.clear()
    _principals[(claims.user_id, claims.version)] = (time.monotonic() + CACHE_S, principal)


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
        claims = tokens.read(request.app.state.settings.signing_key, token, "access")
        if claims is None:
            raise Unauthorized("invalid or expired access token")
        cached = _cached(claims)
        if cached is None:
            user = await session.get(User, claims.user_id)
            if user is None or not user.active or user.token_version != claims.version:
                raise Unauthorized("invalid or expired access token")
            cached = await principal_for_user(session, user)
            _remember(claims, cached)
        principal = cached
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def need(scope: Scope) -> Any:
    """A dependency: the caller, who must hold `scope`."""

    async def _check(caller: Caller) -> Principal:
        caller.require(scope)
        return caller

    return Depends(_check)
