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
from fieldpunch.auth.scopes import ROLE_SCOPES, Role, Scope
from fieldpunch.auth.throttle import LoginThrottle
from fieldpunch.config import Settings
from fieldpunch.db.scoped import get_scoped, scoped
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Forbidden, Invalid, Unauthorized
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.orgs.models import Org
from fieldpunch.users.models import ManagedTeam, User
from fieldpunch.users.phones import looks_like_phone, normalize_phone


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
    org_id: str | None = None,
) -> TokenOut:
    """A password sign-in: a new refresh family. Throttled before the password is even read,
    so a correct guess during a lockout is refused like any other; only a wrong password counts.

    The name is an email or a phone number (no `@`, digits: normalised as users/phones.py
    stores them, so "+86 138-0013-8000" is 13800138000). Both are unique per organization, so
    one name may name people in several: the password picks the account (each candidate's hash
    is checked), and `org_id` picks among accounts that share one password too. No candidate,
    or no match, verifies a dummy hash: the same cost and the same answer as a wrong password.
    """
    if looks_like_phone(email):
        name = normalize_phone(email) or ""
        by_name = User.phone == name
    else:
        name = email.strip().lower()
        by_name = User.email == name
    # Throttled by the normalised name: other spellings of one number count together.
    async with throttle.attempt(name, client_ip) as attempt:
        stmt = select(User).where(by_name)
        if org_id is not None:
            stmt = stmt.where(User.org_id == org_id)
        candidates = list((await session.execute(stmt.order_by(User.id))).scalars())
        matched = [
            user
            for user in candidates
            if await verify_password(password, user.password_hash) and user.active
        ]
        if not candidates:
            await verify_password(password, None)
        if not matched:
            attempt.failed()
            raise Unauthorized("wrong email, phone or password")
        attempt.succeeded()
    if len(matched) > 1:
        raise await _which_org(session, matched)
    user = matched[0]
    user.last_login_at = utcnow()
    return _pair(settings, user, rotation.issue(session, settings, user))


async def _which_org(session: AsyncSession, matched: list[User]) -> Conflict:
    """The caller proved the password of every one of these accounts: it may know their orgs."""
    orgs = (
        await session.execute(
            select(Org.id, Org.name).where(Org.id.in_([u.org_id for u in matched])).order_by(Org.id)
        )
    ).all()
    choices = ", ".join(f"{org_id} ({name})" for org_id, name in orgs)
    listed = [{"id": org_id, "name": name} for org_id, name in orgs]
    return Conflict(
        "this email and password sign in to several organizations: send org_id as well",
        [{"loc": ["body", "org_id"], "msg": f"one of: {choices}", "choices": listed}],
    )


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
    if body.expires_at is not None and body.expires_at <= utcnow():
        raise Invalid(["body", "expires_at"], "must be in the future")
    await _creator_still_may(session, p, {s.value for s in body.scopes})
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


async def _creator_still_may(session: AsyncSession, p: Principal, scopes: set[str]) -> None:
    """Read the creator again inside this write transaction, locked (PostgreSQL; SQLite's
    writers are serial): a demotion or deactivation committed since this request read its
    caller is seen here and refuses the key, and one that comes after waits for this
    transaction, then revokes the key with the creator's others (users/service.py). Either
    way no key outlives the rights it was minted from. A key holds no more than its creator."""
    if p.user_id is None:  # keys never hold api_keys:manage; a key minting keys is refused
        raise Forbidden("an API key cannot create API keys")
    row = (
        await session.execute(
            select(User.role, User.active, User.token_version)
            .where(User.org_id == p.org_id, User.id == p.user_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None or not row.active or row.token_version != p.token_version:
        raise Unauthorized("invalid or expired access token")
    holds = {s.value for s in ROLE_SCOPES[Role(row.role)]}
    if Scope.api_keys_manage.value not in holds:
        raise Forbidden(f"this needs the '{Scope.api_keys_manage}' permission")
    if beyond := sorted(scopes - holds):
        raise Invalid(["body", "scopes"], f"more than you hold: {', '.join(beyond)}")


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
