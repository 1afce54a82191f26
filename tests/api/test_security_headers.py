"""Security headers on every route of the OpenAPI document, and complete OPTIONS / 405 / HEAD."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldpunch.app import create_app
from fieldpunch.config import Settings, load_settings
from fieldpunch.kit.headers import SecurityHeaders
from tests.conftest import TEST_SECRET
from tests.factories import Api, OrgKit
from tests.punching import punch

BASE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
PARAM = re.compile(r"\{[^}]+\}")


def operations(app: Any) -> list[tuple[str, str]]:
    """(METHOD, path with its parameters filled) for every operation of the OpenAPI document."""
    return [
        (method.upper(), PARAM.sub("nothing_here", path))
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def assert_secure(r: httpx.Response, where: str) -> None:
    for name, value in BASE.items():
        assert r.headers.get(name) == value, f"{where}: {name} = {r.headers.get(name)}"
    csp = r.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{where}: CSP {csp!r}"
    if "/api/" in where:
        assert r.headers.get("cache-control") == "no-store", f"{where}: cache-control"


async def test_every_operation_answers_with_the_security_headers(
    app: Any, client: httpx.AsyncClient, api: Api
) -> None:
    ops = operations(app)
    assert len(ops) > 50  # the whole document, not a sample
    for method, path in ops:
        # Without a caller (401 or the public routes' own answers) and as the org's admin.
        for headers in ({}, {"Authorization": f"Bearer {api.token}"}):
            kw: dict[str, Any] = {"headers": headers}
            if method in {"POST", "PUT", "PATCH"}:
                kw["json"] = {}
            r = await client.request(method, path, **kw)
            assert r.status_code < 500, f"{method} {path}: {r.status_code} {r.text}"
            assert_secure(r, f"{method} {path} ({r.status_code})")


async def test_the_punch_route_and_an_ordinary_route_send_the_same_headers(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    """POST /punches (punches/asgi_route.py, a route of its own) goes through the same
    middleware as any FastAPI route: the same header names (the request id included), and the
    same values for all but those that differ per request or per body."""
    staff = await org.person("staff")
    punched = await staff.post("/punches", json=punch())
    me = await staff.get("/me")  # an ordinary FastAPI route, 200
    refused = await staff.post("/corrections", json={})  # an ordinary route's 422
    assert punched.status_code == 201, punched.text
    assert me.status_code == 200, me.text
    per_request = {"content-length", "x-request-id", "location"}
    for ordinary in (me, refused):
        assert set(punched.headers) - {"location"} == set(ordinary.headers)
        for name in set(punched.headers) - per_request - {"content-type"}:
            assert punched.headers[name] == ordinary.headers[name], name
    assert punched.headers["content-type"] == me.headers["content-type"] == "application/json"
    assert punched.headers["x-request-id"] != me.headers["x-request-id"]
    assert_secure(punched, "POST /api/v1/punches")


async def test_an_api_answer_is_no_store_however_its_path_is_spelt(
    client: httpx.AsyncClient, api: Api
) -> None:
    """The router matches the decoded path: `/%61pi/v1/me` is `/api/v1/me`, and its answer
    (people's data) must not be cacheable either."""
    auth = {"Authorization": f"Bearer {api.token}"}
    for path in ("/api/v1/me", "/%61pi/v1/me", "/api/v1/%6De"):
        r = await client.get(path, headers=auth)
        assert r.status_code == 200, (path, r.text)
        assert_secure(r, f"GET /api/ as {path}")


async def test_the_headers_do_not_need_raw_path() -> None:
    """`raw_path` is optional in an ASGI scope (a server may leave it out)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/v1/me", "root_path": "", "headers": []}
    await SecurityHeaders(app)(scope, None, send)  # type: ignore[arg-type]
    assert (b"cache-control", b"no-store") in sent[0]["headers"]


async def test_options_lists_every_method_and_405_does_too(client: httpx.AsyncClient) -> None:
    r = await client.options("/api/v1/users/usr_nothing")
    assert r.status_code == 204
    assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    r = await client.options("/api/v1/punches")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    r = await client.put("/api/v1/users/usr_nothing", json={})
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    assert r.headers["content-type"] == "application/problem+json"
    assert (await client.options("/api/v1/no-such-thing")).status_code == 404


async def test_head_answers_as_get_without_a_body(client: httpx.AsyncClient, api: Api) -> None:
    auth = {"Authorization": f"Bearer {api.token}"}
    got = await client.get("/api/v1/me", headers=auth)
    head = await client.head("/api/v1/me", headers=auth)
    assert (head.status_code, head.content) == (got.status_code, b"")
    assert head.headers["content-length"] == got.headers["content-length"]
    assert (await client.head("/api/v1/me")).status_code == 401


async def test_api_docs_allow_only_their_own_script(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    csp = r.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    assert inline, "the page starts Swagger UI with an inline script"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(("base_url", "hsts"), [("https://punch.example.com", True), (None, False)])
async def test_hsts_only_for_an_https_deployment(
    tmp_path: Path, settings: Settings, base_url: str | None, hsts: bool
) -> None:
    overrides = {"base_url": base_url} if base_url else {}
    app = create_app(
        load_settings(
            database_url=settings.db_url, data_dir=tmp_path, secret_key=TEST_SECRET, **overrides
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        r = await c.get("/healthz")
    assert ("strict-transport-security" in r.headers) is hsts
    if hsts:
        assert r.headers["strict-transport-security"].startswith("max-age=")
