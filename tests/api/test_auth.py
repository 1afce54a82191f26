"""Signing in, tokens, /me and API keys through HTTP."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import httpx

from fieldpunch.auth import principal
from fieldpunch.auth.scopes import ROLE_SCOPES, Role
from tests.factories import PASSWORD, Api, OrgKit, login, unique_email


async def test_token_then_me(client: httpx.AsyncClient, org: OrgKit) -> None:
    me = await org.admin.ok("get", "/me")
    assert me["role"] == "admin"
    assert me["org"]["id"] == org.org_id
    assert "users:write" in me["scopes"]


async def test_wrong_password_is_401_problem(client: httpx.AsyncClient, org: OrgKit) -> None:
    me = await org.admin.ok("get", "/me")
    r = await client.post(
        "/api/v1/auth/token", data={"username": me["email"], "password": "nope-nope"}
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 401
    r = await client.post(
        "/api/v1/auth/token", data={"username": "nobody@example.com", "password": "x"}
    )
    assert r.status_code == 401


async def test_missing_form_fields_name_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/token", data={"username": "a@example.com"})
    assert r.status_code == 422
    assert any(e["loc"][-1] == "password" for e in r.json()["errors"])


async def test_no_or_bad_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


async def test_refresh_rotates_and_dies_with_password_change(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    staff = await org.person("staff")
    me = await staff.ok("get", "/me")
    tokens = (
        await client.post(
            "/api/v1/auth/token", data={"username": me["email"], "password": PASSWORD}
        )
    ).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200
    # An access token is not a refresh token.
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert r.status_code == 401
    # Changing the password signs out everywhere.
    await staff.ok(
        "patch", "/me", json={"password": "a-new-password-1", "current_password": PASSWORD}
    )
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    assert (await staff.get("/me")).status_code == 401
    assert await login(client, me["email"], "a-new-password-1")


async def test_password_change_needs_current(org: OrgKit) -> None:
    staff = await org.person("staff")
    r = await staff.patch("/me", json={"password": "another-password", "current_password": "wrong"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "current_password"]


async def test_deactivated_user_cannot_sign_in(client: httpx.AsyncClient, org: OrgKit) -> None:
    staff = await org.person("staff")
    email = (await staff.ok("get", "/me"))["email"]
    await org.admin.ok("delete", f"/users/{staff.user_id}", 204)
    assert (await staff.get("/me")).status_code == 401
    r = await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert r.status_code == 401
    # The person is kept (their history needs a name), marked inactive.
    assert (await org.admin.ok("get", f"/users/{staff.user_id}"))["active"] is False


async def test_api_key_lifecycle_and_scopes(client: httpx.AsyncClient, org: OrgKit) -> None:
    created = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "ERP", "scopes": ["customers:read"]}
    )
    assert created["key"].startswith("fpk_") and created["hint"] == created["key"][-4:]
    key = Api(client, created["key"])
    me = await key.ok("get", "/me")
    assert me["api_key_id"] == created["id"] and me["scopes"] == ["customers:read"]
    await key.ok("get", "/customers")
    r = await key.post("/customers", json={"name": "X"})
    assert r.status_code == 403 and "customers:write" in r.json()["detail"]
    assert (await key.get("/users")).status_code == 403
    listed = await org.admin.ok("get", "/api-keys")
    assert [k["id"] for k in listed["items"]] == [created["id"]]
    assert "key" not in listed["items"][0] and "secret_hash" not in listed["items"][0]
    await asyncio.gather(*principal._tasks)  # the use stamp is written after the request
    assert (await org.admin.ok("get", f"/api-keys/{created['id']}"))["last_used_at"] is not None
    await org.admin.ok("delete", f"/api-keys/{created['id']}", 204)
    assert (await key.get("/customers")).status_code == 401


async def test_api_key_tampered_secret_rejected(client: httpx.AsyncClient, org: OrgKit) -> None:
    created = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "BI", "scopes": ["users:read"]}
    )
    tampered = created["key"][:-1] + ("A" if created["key"][-1] != "A" else "B")
    assert (await Api(client, tampered).get("/users")).status_code == 401


async def test_api_keys_cannot_mint_keys_and_staff_cannot_manage(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    r = await org.admin.post("/api-keys", json={"name": "x", "scopes": ["api_keys:manage"]})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][:2] == ["body", "scopes"]
    staff = await org.person("staff")
    assert (
        await staff.post("/api-keys", json={"name": "x", "scopes": ["users:read"]})
    ).status_code == 403


async def test_health_and_request_id(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(r.headers["x-request-id"]) == 32


async def _key(api: Api, scopes: list[str]) -> Api:
    made = await api.ok("post", "/api-keys", 201, json={"name": "integration", "scopes": scopes})
    return Api(api.client, made["key"])


_STAFF_RIGHTS = [
    s
    for s in sorted(ROLE_SCOPES[Role.staff])
    if s not in {"notifications:read", "notifications:write"}
]


async def test_a_key_grants_no_more_than_it_holds(client: httpx.AsyncClient, org: OrgKit) -> None:
    key = await _key(org.admin, ["users:read", "users:write"])
    new = {"name": "Mallory", "password": "mallory-password-1"}
    for role in ("admin", "manager", "staff"):  # each role holds rights this key lacks
        r = await key.post("/users", json={**new, "email": unique_email("m"), "role": role})
        assert r.status_code == 403, r.text
        assert f"'{role}' role" in r.json()["detail"]
    admin = org.admin.user_id
    for change in ({"password": "taken-over-123"}, {"role": "staff"}, {"email": "x@example.com"}):
        assert (await key.patch(f"/users/{admin}", json=change)).status_code == 403
    assert (await key.delete(f"/users/{admin}")).status_code == 403
    assert await login(client, (await org.admin.ok("get", "/me"))["email"])  # untouched

    # A key holding every right of staff (and users:write) may make staff, no more.
    hr = await _key(org.admin, [*_STAFF_RIGHTS, "users:write"])
    made = await hr.ok(
        "post", "/users", 201, json={**new, "email": unique_email("s"), "role": "staff"}
    )
    assert (await hr.patch(f"/users/{made['id']}", json={"role": "manager"})).status_code == 403
    assert (await hr.patch(f"/users/{made['id']}", json={"role": "admin"})).status_code == 403
    r = await hr.patch(f"/users/{made['id']}", json={"password": "another-pass-1"})
    assert r.status_code == 403 and "password" in r.json()["detail"]
    await hr.ok("patch", f"/users/{made['id']}", json={"name": "Renamed"})
    staff = await org.person("staff")
    assert (
        await hr.patch(f"/users/{staff.user_id}", json={"password": "x-pass-123"})
    ).status_code == 403


async def test_managers_and_staff_cannot_create_or_promote(org: OrgKit) -> None:
    manager, staff = await org.person("manager"), await org.person("staff")
    for who in (manager, staff):
        body = {"email": unique_email("x"), "name": "X", "role": "admin"}
        assert (await who.post("/users", json=body)).status_code == 403
        assert (await who.patch(f"/users/{who.user_id}", json={"role": "admin"})).status_code == 403
        assert (
            await who.post("/api-keys", json={"name": "k", "scopes": ["audit:read"]})
        ).status_code == 403


async def test_token_and_key_answers_are_not_stored(client: httpx.AsyncClient, org: OrgKit) -> None:
    email = (await org.admin.ok("get", "/me"))["email"]
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
    )
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": signed_in.json()["refresh_token"]}
    )
    key = await org.admin.post("/api-keys", json={"name": "k", "scopes": ["users:read"]})
    for r in (signed_in, refreshed, key):
        assert r.status_code in (200, 201), r.text
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["pragma"] == "no-cache"


async def test_a_key_already_expired_is_refused(org: OrgKit) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    r = await org.admin.post(
        "/api-keys", json={"name": "k", "scopes": ["users:read"], "expires_at": past}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "expires_at"]
    assert (await org.admin.ok("get", "/api-keys"))["items"] == []


async def test_a_cursor_the_api_never_issued_is_refused(org: OrgKit) -> None:
    for _ in range(3):
        await org.admin.post("/api-keys", json={"name": "k", "scopes": ["users:read"]})
    page = await org.admin.ok("get", "/api-keys", params={"limit": 1})
    issued = page["next_cursor"]
    await org.admin.ok("get", "/api-keys", params={"limit": 1, "cursor": issued})
    forged = [
        base64.urlsafe_b64encode(b"x_y").decode(),  # any text with an underscore passed
        base64.urlsafe_b64encode(b"usr_" + b"Z" * 26).decode().rstrip("="),
        issued + "=",  # not the form the API writes
        issued + "AA",
        "!!!",
    ]
    for cursor in forged:
        for path in ("/api-keys", "/users", "/teams"):
            r = await org.admin.get(path, params={"cursor": cursor})
            assert r.status_code == 422, (path, cursor, r.text)
            assert r.json()["errors"][0]["loc"] == ["query", "cursor"]
