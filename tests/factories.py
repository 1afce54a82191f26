"""Test factories that go through the public surface wherever they can."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from fieldpunch.db.engine import Database
from fieldpunch.orgs.service import create_org

PASSWORD = "correct-horse-battery"


@dataclass
class Api:
    """An HTTP client acting as one caller."""

    client: httpx.AsyncClient
    token: str
    user_id: str | None = None

    def _h(self, kw: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(f"/api/v1{path}", headers=self._h(kw), **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1{path}", headers=self._h(kw), **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.patch(f"/api/v1{path}", headers=self._h(kw), **kw)

    async def put(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.put(f"/api/v1{path}", headers=self._h(kw), **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(f"/api/v1{path}", headers=self._h(kw), **kw)

    async def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        r = await getattr(self, method)(path, **kw)
        assert r.status_code == status, f"{method.upper()} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None


def unique_email(tag: str) -> str:
    return f"{tag}.{secrets.token_hex(4)}@example.com"


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    r = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@dataclass
class OrgKit:
    """An organization with its admin, and helpers to add people who can sign in."""

    org_id: str
    client: httpx.AsyncClient
    admin: Api
    people: dict[str, Api] = field(default_factory=dict)

    async def team(self, name: str, parent_id: str | None = None) -> str:
        body = await self.admin.ok(
            "post", "/teams", 201, json={"name": name, "parent_id": parent_id}
        )
        return str(body["id"])

    async def person(self, role: str, team_id: str | None = None, **extra: Any) -> Api:
        email = unique_email(role)
        body = await self.admin.ok(
            "post",
            "/users",
            201,
            json={
                "email": email,
                "name": f"{role} {email[:8]}",
                "role": role,
                "password": PASSWORD,
                "team_id": team_id,
                **extra,
            },
        )
        api = Api(self.client, await login(self.client, email), body["id"])
        self.people[body["id"]] = api
        return api


async def new_org(client: httpx.AsyncClient, db: Database, name: str) -> OrgKit:
    email = unique_email("admin")
    async with db.transaction() as session:
        made = await create_org(
            session, name=name, admin_email=email, admin_password=PASSWORD, timezone="Asia/Shanghai"
        )
    admin = Api(client, await login(client, email), made.admin_user_id)
    return OrgKit(made.org_id, client, admin)
