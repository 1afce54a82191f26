"""Signing in, refreshing, and integration keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth import apikeys, rotation, tokens
from fieldpunch.auth.models import ApiKey
from fieldpunch.auth.passwords import verify_password
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    MeOut,
    OrgBrief,
    TokenOut,
)
from fieldpunch.auth.throttle import LoginThrottle
from fieldpunch.config import Settings
from fieldpunch.db.scoped import get_scoped, scoped
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Unauthorized
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.orgs.models import Org
from fieldpunch.users.models import ManagedTeam, User


def _pair(settings: Settings, user: User, refresh_token: str) -> TokenOut:
    access = tokens.TokenClaims(user.id, user.org_id, "access", user.token_version)
    return TokenOut(
        access_token=tokens.issue(settings.signing_key, access, settings.access_token_ttl_s),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_s,
    )


async def login(
    session: AsyncSession,
    settings: Settings,
    throttle: LoginThrottle,
    email: str,
    password: str,
    client_ip: str,
) -> TokenOut:
    """A password sign-in: a new refresh family. Throttled before the password is even read,
    so a correct guess during a lockout is refused like any other."""
    await throttle.attempt(email, client_ip)
    user = (
        await session.execute(select(User).where(User.email == email.strip().lower()))
    ).scalar_one_or_none()
    # An unknown email verifies a dummy hash (passwords.py): the same cost, the same answer.
    ok = await verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.active:
        raise Unauthorized("wrong email or password")
    await throttle.succeeded(email, client_ip)
    user.last_login_at = utcnow()
    return _pair(settings, user, rotation.issue(session, settings, user))


async def refresh(session: AsyncSession, settings: Settings, token: str) -> TokenOut:
    """A new access token and the family's next refresh token; `token` is used up."""
    user, next_refresh = await rotation.rotate(session, settings, token)
    return _pair(settings, user, next_refresh)


async def logout(session: AsyncSession, settings: Settings, token: str) -> None:
    await rotation.revoke(session, settings, token)


async def me(session: AsyncSession, p: Principal) -> MeOut:
    org = await session.get(Org, p.org_id)
    assert org is not None
    brief = OrgBrief.model_validate(org)
    scopes = sorted(p.scopes)
    if p.user_id is None:
        key = await get_scoped(session, ApiKey, p.org_id, p.api_key_id or "", what="api key")
        return MeOut(
            user_id=None,
            api_key_id=key.id,
            name=key.name,
            email=None,
            role=None,
            org=brief,
            team_id=None,
            managed_team_ids=[],
            scopes=scopes,
        )
    user = await get_scoped(session, User, p.org_id, p.user_id, what="user")
    managed = (
        (
            await session.execute(
                select(ManagedTeam.team_id)
                .where(ManagedTeam.user_id == user.id)
                .order_by(ManagedTeam.team_id)
            )
        )
        .scalars()
        .all()
    )
    return MeOut(
        user_id=user.id,
        api_key_id=None,
        name=user.name,
        email=user.email,
        role=p.role,
        org=brief,
        team_id=user.team_id,
        managed_team_ids=list(managed),
        scopes=scopes,
    )


async def create_key(session: AsyncSession, p: Principal, body: ApiKeyCreate) -> ApiKeyCreated:
    secret, digest, hint = apikeys.make()
    key = ApiKey(
        id=new_id("key"),
        org_id=p.org_id,
        name=body.name,
        secret_hash=digest,
        hint=hint,
        scopes=[s.value for s in body.scopes],
        created_by=p.user_id,
        expires_at=body.expires_at,
    )
    session.add(key)
    await session.flush()
    record(
        session,
        p.org_id,
        p.actor,
        "api_key.created",
        "api_key",
        key.id,
        name=key.name,
        scopes=key.scopes,
        expires=key.expires_at.isoformat() if key.expires_at else None,
    )
    return ApiKeyCreated(
        **ApiKeyOut.model_validate(key).model_dump(), key=apikeys.token_for(key.id, secret)
    )


async def list_keys(session: AsyncSession, p: Principal, page: PageParams) -> dict[str, Any]:
    rows = list(
        (await session.execute(paginate(scoped(ApiKey, p.org_id), ApiKey.id, page))).scalars()
    )
    return page_of(rows, page, ApiKeyOut.model_validate)


async def revoke_key(session: AsyncSession, p: Principal, key_id: str) -> None:
    key = await get_scoped(session, ApiKey, p.org_id, key_id, what="api key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(session, p.org_id, p.actor, "api_key.revoked", "api_key", key.id, name=key.name)
