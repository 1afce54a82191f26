"""Revocation across processes: two `fieldpunch serve` on one PostgreSQL (with Redis, as in
production, and without): a change committed through one process holds on the other as soon as
the change's answer is back, although the other has just served (and cached) the old caller."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.server import sign_in, two_servers
from tests.services import postgres_database, redis_url

SECRET = "revocation-processes-secret-key-0123456789"


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "no-redis"])
def test_a_change_on_one_process_holds_on_the_other_at_once(
    tmp_path: Path, with_redis: bool
) -> None:
    extra = {"FIELDPUNCH_REDIS_URL": redis_url()} if with_redis else {}
    with (
        postgres_database() as url,
        two_servers(
            tmp_path, url, FIELDPUNCH_SECRET_KEY=SECRET, FIELDPUNCH_ACCESS_LOG="false", **extra
        ) as (a, b, _),
    ):
        boss = sign_in(a.base, "boss@acme.example.com", "s3cret-pass")
        api = f"{a.base}/api/v1"

        def person(email: str, role: str, **extra: object) -> str:
            body = {"email": email, "name": email, "role": role, "password": "pass-12345"}
            r = httpx.post(f"{api}/users", headers=boss, json={**body, **extra})
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        team = httpx.post(f"{api}/teams", headers=boss, json={"name": "North"}).json()["id"]
        admin2 = person("admin2@acme.example.com", "admin")
        member = person("field@acme.example.com", "staff", team_id=team)
        manager = person("lead@acme.example.com", "manager", managed_team_ids=[team])
        key = httpx.post(
            f"{b.base}/api/v1/api-keys",
            headers=(as_admin2 := sign_in(b.base, "admin2@acme.example.com", "pass-12345")),
            json={"name": "audit", "scopes": ["audit:read"]},
        ).json()["key"]
        as_key = {"Authorization": f"Bearer {key}"}
        as_manager = sign_in(b.base, "lead@acme.example.com", "pass-12345")

        # B serves (and caches) each caller...
        on_b = f"{b.base}/api/v1"
        assert httpx.get(f"{on_b}/audit-log", headers=as_admin2).status_code == 200
        assert httpx.get(f"{on_b}/audit-log", headers=as_key).status_code == 200
        assert httpx.get(f"{on_b}/users/{member}", headers=as_manager).status_code == 200
        # ...A commits the changes...
        r = httpx.patch(f"{api}/users/{admin2}", headers=boss, json={"role": "staff"})
        assert r.status_code == 200, r.text
        r = httpx.patch(f"{api}/users/{manager}", headers=boss, json={"managed_team_ids": []})
        assert r.status_code == 200, r.text
        # ...and B holds them at once: the demoted admin, their key, the manager's team.
        assert httpx.get(f"{on_b}/audit-log", headers=as_admin2).status_code == 401
        assert httpx.get(f"{on_b}/audit-log", headers=as_key).status_code == 401
        assert httpx.get(f"{on_b}/users/{member}", headers=as_manager).status_code == 404

        # Deactivation, the same way.
        as_member = sign_in(b.base, "field@acme.example.com", "pass-12345")
        assert httpx.get(f"{on_b}/me", headers=as_member).status_code == 200
        r = httpx.delete(f"{api}/users/{member}", headers=boss)
        assert r.status_code == 204, r.text
        assert httpx.get(f"{on_b}/me", headers=as_member).status_code == 401
        for served in (a, b):
            assert "Traceback" not in served.log_text()
