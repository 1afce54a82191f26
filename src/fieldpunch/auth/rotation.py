"""Refresh token rotation with reuse detection (OAuth 2.0 Security BCP, section 4.14.2).

A password sign-in starts a family. `/auth/refresh` uses up the presented token and issues the
next one in the same family. A used token presented again means two parties hold the family's
tokens (a thief and the owner), and the server cannot tell which is which: the whole family is
revoked, so both must sign in again. Within `FIELDPUNCH_REFRESH_REUSE_GRACE_S` of its first use
it is taken for the holder retrying a refresh whose answer was lost, and rotates again.
Every statement here runs in the request's transaction, so the caller must let a detected reuse
commit (see `Reused`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth import tokens
from fieldpunch.auth.models import RefreshToken
from fieldpunch.config import Settings
from fieldpunch.db.scoped import scoped
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Unauthorized
from fieldpunch.kit.ids import new_id
from fieldpunch.users.models import User


class Reused(Unauthorized):
    """A used refresh token came back; its family is revoked in the current transaction, which
    must commit: answer with `.response()` instead of raising it out of the handler."""

    def __init__(self) -> None:
        super().__init__("refresh token already used: this sign-in is revoked, sign in again")


def invalid() -> Unauthorized:
    return Unauthorized("invalid or expired refresh token")


def issue(session: AsyncSession, settings: Settings, user: User, family: str | None = None) -> str:
    """A refresh token for `user` in `family` (a new family, i.e. a new sign-in, when None)."""
    claims = tokens.TokenClaims(
        user.id, user.org_id, "refresh", user.token_version, family=family or new_id("fam")
    )
    session.add(
        RefreshToken(
            id=claims.jti,
            org_id=user.org_id,
            family_id=claims.family,
            user_id=user.id,
            expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    return tokens.issue(settings.signing_key, claims, settings.refresh_token_ttl_s)


async def rotate(session: AsyncSession, settings: Settings, token: str) -> tuple[User, str]:
    """Use up `token`: its user and the family's next refresh token. Raises `Unauthorized`
    (nothing written) or `Reused` (the family revoked; commit it)."""
    claims = tokens.read(settings.signing_key, token, "refresh")
    user = await session.get(User, claims.user_id) if claims else None
    if claims is None or user is None or not user.active or user.token_version != claims.version:
        raise invalid()
    now = utcnow()
    # Claim the token in one conditional UPDATE: of two concurrent refreshes with the same
    # token, PostgreSQL makes the second wait for the first and then find it used (SQLite
    # writers are serialised anyway), so exactly one wins and the other is a reuse.
    claimed = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.org_id == claims.org_id,
            RefreshToken.id == claims.jti,
            RefreshToken.user_id == user.id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.family_id)
    )
    family = claimed.scalar_one_or_none()
    if family is not None:
        return user, issue(session, settings, user, family)
    row = (
        await session.execute(
            scoped(RefreshToken, claims.org_id).where(RefreshToken.id == claims.jti)
        )
    ).scalar_one_or_none()
    if row is None and claims.family is None:
        return user, _adopt(session, settings, user, claims.jti, now)
    if row is None or row.revoked_at is not None or row.user_id != user.id:
        raise invalid()
    if row.used_at is not None:
        if _just_used(row.used_at, now, settings.refresh_reuse_grace_s):
            # The same holder retrying a refresh whose answer it never got: one more token of
            # the family, not a revocation. (A thief this close behind the owner gets in; so
            # would the owner's retry be locked out otherwise, on every lost answer.)
            return user, issue(session, settings, user, row.family_id)
        await revoke_family(session, claims.org_id, row.family_id, now)
        raise Reused()
    raise invalid()  # expired by our clock, though its signature did not say so yet


def _just_used(used_at: datetime, now: datetime, grace_s: int) -> bool:
    if used_at.tzinfo is None:  # SQLite hands back naive UTC
        used_at = used_at.replace(tzinfo=UTC)
    return grace_s > 0 and now - used_at <= timedelta(seconds=grace_s)


def _adopt(session: AsyncSession, settings: Settings, user: User, jti: str, now: datetime) -> str:
    """A refresh token from before rotation existed (no family, no row): let it in once, as the
    start of a family, and record it as used so a second presentation counts as a reuse.
    Without this, upgrading would sign every phone out, including those offline for days."""
    family = new_id("fam")
    session.add(
        RefreshToken(
            id=jti,
            org_id=user.org_id,
            family_id=family,
            user_id=user.id,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
            used_at=now,
        )
    )
    return issue(session, settings, user, family)


async def revoke(session: AsyncSession, settings: Settings, token: str) -> None:
    """Sign out the sign-in that `token` belongs to; a token that is not ours is no error."""
    claims = tokens.read(settings.signing_key, token, "refresh")
    if claims is None:
        return  # forged or expired: there is nothing it could still be used for
    now = utcnow()
    row = (
        await session.execute(
            scoped(RefreshToken, claims.org_id).where(RefreshToken.id == claims.jti)
        )
    ).scalar_one_or_none()
    if row is not None:
        await revoke_family(session, claims.org_id, row.family_id, now)
    elif claims.family is None and await session.get(User, claims.user_id) is not None:
        # A token from before rotation: record it revoked, or it could still be adopted.
        session.add(
            RefreshToken(
                id=claims.jti,
                org_id=claims.org_id,
                family_id=new_id("fam"),
                user_id=claims.user_id,
                expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
                revoked_at=now,
            )
        )


async def revoke_family(
    session: AsyncSession, org_id: str, family_id: str, now: datetime | None = None
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.org_id == org_id,
            RefreshToken.family_id == family_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=now or utcnow())
    )


async def sign_out_everywhere(session: AsyncSession, user: User) -> None:
    """End every sign-in of `user`: a password change or reset, deactivation, a new role.

    The token_version bump already makes every outstanding token fail its check; revoking the
    families as well keeps the table telling the truth (and holds if the version were reset).
    """
    user.token_version += 1
    await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.org_id == user.org_id,
            RefreshToken.user_id == user.id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


async def prune(session: AsyncSession, now: datetime) -> None:
    """Forget expired tokens: their signatures have expired too, so no row can matter any more."""
    await session.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now))
