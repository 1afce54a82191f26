"""Refresh tokens rotate; a reused one revokes its sign-in; logout; password changes end them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from fieldpunch.auth import rotation, tokens
from fieldpunch.auth.models import RefreshToken
from fieldpunch.db.engine import Database
from fieldpunch.kit.clock import utcnow
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, Api, OrgKit


async def _sign_in(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    r = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def _logout(client: httpx.AsyncClient, token: str) -> None:
    r = await client.post("/api/v1/auth/logout", json={"refresh_token": token})
    assert r.status_code == 204, r.text
    assert r.content == b""


async def _staff(org: OrgKit) -> tuple[Api, str]:
    staff = await org.person("staff")
    return staff, (await staff.ok("get", "/me"))["email"]


async def _live_tokens(db: Database, user_id: str) -> int:
    """This person's refresh tokens that are neither used nor revoked."""
    async with db.transaction(write=False) as session:
        stmt = select(func.count()).where(
            RefreshToken.user_id == user_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        return int((await session.execute(stmt)).scalar_one())


async def _time_passes(db: Database, user_id: str, seconds: float = 3600) -> None:
    """Move this person's token uses into the past: beyond the reuse grace of a lost answer."""
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(RefreshToken).where(
                    RefreshToken.user_id == user_id, RefreshToken.used_at.is_not(None)
                )
            )
        ).scalars()
        for row in rows:
            assert row.used_at is not None
            row.used_at -= timedelta(seconds=seconds)


async def test_refresh_answers_a_new_pair_and_uses_up_the_old_token(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    _, email = await _staff(org)
    first = await _sign_in(client, email)
    r = await _refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert second["token_type"] == "bearer" and second["expires_in"] == first["expires_in"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (await Api(client, second["access_token"]).ok("get", "/me"))["email"] == email
    # The newest token goes on rotating, as long as each is used once.
    third = (await _refresh(client, second["refresh_token"])).json()
    assert (await _refresh(client, third["refresh_token"])).status_code == 200


async def test_a_reused_refresh_token_revokes_the_whole_sign_in(
    client: httpx.AsyncClient, org: OrgKit, db: Database
) -> None:
    staff, email = await _staff(org)
    assert staff.user_id is not None
    stolen = await _sign_in(client, email)
    elsewhere = await _sign_in(client, email)  # another phone: another sign-in
    owner = (await _refresh(client, stolen["refresh_token"])).json()
    await _time_passes(db, staff.user_id)
    # The thief (or the owner, whoever is second) presents the used token.
    r = await _refresh(client, stolen["refresh_token"])
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert "already used" in r.json()["detail"]
    # The revocation committed: the newest token of that sign-in is dead too ...
    assert (await _refresh(client, owner["refresh_token"])).status_code == 401
    # ... and stays dead (a third presentation changes nothing).
    assert (await _refresh(client, stolen["refresh_token"])).status_code == 401
    # The other sign-in is untouched.
    assert (await _refresh(client, elsewhere["refresh_token"])).status_code == 200
    # A password sign-in starts afresh.
    fresh = await _sign_in(client, email)
    assert (await _refresh(client, fresh["refresh_token"])).status_code == 200


async def test_a_lost_answer_may_be_retried_briefly_then_reuse_revokes(
    client: httpx.AsyncClient, org: OrgKit, db: Database
) -> None:
    staff, email = await _staff(org)
    assert staff.user_id is not None
    pair = await _sign_in(client, email)
    # Four tries at once (a phone retrying on a flaky network): exactly one claims the token,
    # the others are retries within the grace and rotate too; nobody is signed out.
    answers = await asyncio.gather(*(_refresh(client, pair["refresh_token"]) for _ in range(4)))
    assert [r.status_code for r in answers] == [200] * 4
    issued = {r.json()["refresh_token"] for r in answers}
    assert len(issued) == 4

    def family(token: str) -> str | None:
        claims = tokens.read(TEST_SECRET, token, "refresh")
        assert claims is not None
        return claims.family

    assert {family(t) for t in issued} == {family(pair["refresh_token"])}
    # Past the grace the same token is a reuse: the whole sign-in goes, every new token with it.
    await _time_passes(db, staff.user_id)
    assert (await _refresh(client, pair["refresh_token"])).status_code == 401
    for token in issued:
        assert (await _refresh(client, token)).status_code == 401


async def test_an_access_token_or_garbage_is_not_a_refresh_token(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    _, email = await _staff(org)
    pair = await _sign_in(client, email)
    for bad in (pair["access_token"], "not.a.jwt", pair["refresh_token"][:-2] + "xx"):
        r = await _refresh(client, bad)
        assert r.status_code == 401 and "invalid" in r.json()["detail"]
    # None of that touched the real sign-in.
    assert (await _refresh(client, pair["refresh_token"])).status_code == 200


async def test_logout_revokes_the_sign_in_and_is_idempotent(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    _, email = await _staff(org)
    pair = await _sign_in(client, email)
    other = await _sign_in(client, email)
    rotated = (await _refresh(client, pair["refresh_token"])).json()
    await _logout(client, rotated["refresh_token"])
    assert (await _refresh(client, rotated["refresh_token"])).status_code == 401
    await _logout(client, rotated["refresh_token"])  # again: still 204
    await _logout(client, pair["refresh_token"])  # an older token of the same sign-in
    await _logout(client, "not.a.jwt")  # nothing to revoke, nothing to tell
    assert (await _refresh(client, other["refresh_token"])).status_code == 200
    r = await client.post("/api/v1/auth/logout", json={})
    assert r.status_code == 422


async def test_password_change_and_reset_revoke_every_sign_in(
    client: httpx.AsyncClient, org: OrgKit, db: Database
) -> None:
    staff, email = await _staff(org)
    assert staff.user_id is not None
    phone, laptop = await _sign_in(client, email), await _sign_in(client, email)
    assert await _live_tokens(db, staff.user_id) >= 2
    await staff.ok(
        "patch", "/me", json={"password": "a-new-password-1", "current_password": PASSWORD}
    )
    assert await _live_tokens(db, staff.user_id) == 0
    for pair in (phone, laptop):
        assert (await _refresh(client, pair["refresh_token"])).status_code == 401
    # An admin's reset does the same.
    r = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": "a-new-password-1"}
    )
    again = r.json()
    assert await _live_tokens(db, staff.user_id) == 1
    await org.admin.ok("patch", f"/users/{staff.user_id}", json={"password": PASSWORD})
    assert await _live_tokens(db, staff.user_id) == 0
    assert (await _refresh(client, again["refresh_token"])).status_code == 401
    # Deactivation too.
    again = await _sign_in(client, email)
    await org.admin.ok("delete", f"/users/{staff.user_id}", 204)
    assert await _live_tokens(db, staff.user_id) == 0
    assert (await _refresh(client, again["refresh_token"])).status_code == 401


async def test_a_refresh_token_from_before_rotation_works_once(
    client: httpx.AsyncClient, org: OrgKit, db: Database
) -> None:
    """Tokens issued before the upgrade carry no family and have no row: the first use adopts
    them into a new sign-in (nobody is signed out by the upgrade); the second is a reuse."""
    staff, _ = await _staff(org)
    assert staff.user_id is not None
    claims = tokens.TokenClaims(staff.user_id, org.org_id, "refresh", 1)
    legacy = tokens.issue(TEST_SECRET, claims, 3600)
    adopted = await _refresh(client, legacy)
    assert adopted.status_code == 200, adopted.text
    await _time_passes(db, staff.user_id)
    r = await _refresh(client, legacy)
    assert r.status_code == 401 and "already used" in r.json()["detail"]
    assert (await _refresh(client, adopted.json()["refresh_token"])).status_code == 401
    # Logging out with an unused old token stops it from being adopted later.
    unused = tokens.issue(
        TEST_SECRET, tokens.TokenClaims(staff.user_id, org.org_id, "refresh", 1), 3600
    )
    await _logout(client, unused)
    assert (await _refresh(client, unused)).status_code == 401


async def test_expired_tokens_are_pruned(
    client: httpx.AsyncClient, org: OrgKit, db: Database
) -> None:
    staff, email = await _staff(org)
    assert staff.user_id is not None
    await _sign_in(client, email)
    async with db.transaction() as session:
        await rotation.prune(session, utcnow())
    assert await _live_tokens(db, staff.user_id) >= 1  # not yet expired: kept
    async with db.transaction() as session:
        await rotation.prune(session, utcnow() + timedelta(days=366))
    assert await _live_tokens(db, staff.user_id) == 0
