"""Request bodies (kit/bodyguard.py): a limit per route, the caller before the body, a deadline,
and no transaction while a body arrives. Every operation of the OpenAPI document that takes a
body is walked, so a route added later is covered without a new test."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from fieldpunch.app import create_app
from fieldpunch.auth import tokens
from fieldpunch.config import Settings, load_settings
from fieldpunch.db import session as db_session
from fieldpunch.kit.bodyguard import PUBLIC_BODY_BYTES
from fieldpunch.punches import asgi_route
from tests.conftest import TEST_SECRET
from tests.factories import Api, OrgKit
from tests.punching import punch

MiB = 1024 * 1024
DEFAULT = 2048
SMALL: dict[str, float] = {
    "max_body_bytes": DEFAULT,
    "max_batch_bytes": 4096,
    "max_import_bytes": 8192,
    "body_timeout_s": 0.5,
    "body_min_rate": 1_000_000,
}
# The documented limits by operation id (docs/configuration.md), at the settings above.
LIMITS = {"create_punches": 4096, "import_cells": 8192, "upload_photo": 10 * MiB + 64 * 1024}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=SMALL)


def _operations(app: FastAPI, *, body: bool) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path with every parameter filled in, operation) of each documented operation."""
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            if body == ("requestBody" in op):
                yield method.upper(), re.sub(r"\{[^}]+\}", "x0", path), op


def _content_type(op: dict[str, Any]) -> str:
    return next(iter(op["requestBody"]["content"]))


class Pulled:
    """A request body sent in chunks that counts how many the server asked for."""

    def __init__(self, total: int, chunk: int = 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        left = self.total
        while left > 0:
            self.pulled += 1
            n = min(self.chunk, left)
            left -= n
            yield b" " * n


def _is_problem(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, (r.request.method, r.request.url, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == status and r.json()["detail"]


async def test_every_body_route_refuses_a_body_over_its_limit(
    app: FastAPI, client: httpx.AsyncClient, api: Api
) -> None:
    operations = list(_operations(app, body=True))
    assert len(operations) > 25 and {op["operationId"] for _, _, op in operations} >= set(LIMITS)
    for method, path, op in operations:
        limit = LIMITS.get(op["operationId"], DEFAULT)
        headers = {"Authorization": f"Bearer {api.token}", "Content-Type": _content_type(op)}
        # A Content-Length over the limit: refused before a byte is read.
        declared = Pulled(limit + 1)
        r = await client.request(
            method, path, content=declared, headers={**headers, "Content-Length": str(limit + 1)}
        )
        _is_problem(r, 413)
        assert r.json()["type"] == "/problems/too-large" and r.headers["connection"] == "close"
        assert declared.pulled == 0, path
        # Chunked (no length given): refused once the count passes the limit, not read further.
        size = max(1024, limit // 8)
        chunked = Pulled(limit + 4 * size, chunk=size)
        r = await client.request(method, path, content=chunked, headers=headers)
        _is_problem(r, 413)
        assert chunked.pulled == limit // size + 1, path  # the one that passed it, no more
        # At the limit exactly: through to the route, whose answer is its own (and no 5xx).
        r = await client.request(method, path, content=b" " * limit, headers=headers)
        assert r.status_code != 413 and r.status_code < 500, (path, r.status_code, r.text[:300])


async def test_no_body_is_read_without_a_genuine_token(
    app: FastAPI, client: httpx.AsyncClient, org: OrgKit
) -> None:
    """401 before the body for every operation that needs a caller: no token, a token of another
    kind (refresh), a forged one, an API key that does not exist."""
    callers = [
        (m, p, op) for m, p, op in _operations(app, body=True) if op.get("security")
    ]  # every operation but sign-in, refresh and sign-out
    assert len(callers) > 25
    forged = _token_of_another_secret()
    for authorization in (None, "Basic abc", "Bearer nonsense", forged, "Bearer fpk_x0.secret"):
        for method, path, op in callers:
            body = Pulled(1500, chunk=100)
            headers = {"Content-Type": _content_type(op)}
            if authorization:
                headers["Authorization"] = authorization
            r = await client.request(method, path, content=body, headers=headers)
            _is_problem(r, 401)
            assert r.headers["www-authenticate"] == "Bearer"
            assert body.pulled == 0, (authorization, path)
    # A genuine caller's body is read (and the route answers for itself).
    body = Pulled(10, chunk=5)
    r = await org.admin.post("/customers", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 422 and body.pulled == 2


def _token_of_another_secret() -> str:
    claims = tokens.TokenClaims(
        user_id="usr_x", org_id="org_x", kind="access", version=0, jti="j", family=None
    )
    return f"Bearer {tokens.issue('another-secret-' + 'x' * 40, claims, 60)}"


@pytest.fixture
def open_transactions(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Paths of requests whose transaction is open right now (FastAPI routes and the punch
    route both begin it through in_transaction)."""
    open_now: set[str] = set()
    inner = db_session.in_transaction

    async def watched(
        request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]
    ) -> Response:
        open_now.add(request.url.path)
        try:
            return await inner(request, handler)
        finally:
            open_now.discard(request.url.path)

    monkeypatch.setattr(db_session, "in_transaction", watched)
    monkeypatch.setattr(asgi_route, "in_transaction", watched)
    return open_now


async def test_a_slow_upload_holds_no_transaction(
    client: httpx.AsyncClient, org: OrgKit, open_transactions: set[str]
) -> None:
    """An import that arrives slowly (the issue: 25 rows over 25 s) holds no transaction, so
    no write lock: staff punches meanwhile are stored at once."""
    key = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "cells", "scopes": ["places:write"]}
    )
    staff = await org.person("staff")
    first_row, gate = asyncio.Event(), asyncio.Event()

    async def slowly() -> AsyncIterator[bytes]:
        yield b"radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated\n"
        yield b"LTE,460,0,6180,1,0,121.5,31.2,800,1,1,1500000000,1600000000\n"
        first_row.set()
        await gate.wait()  # the client is slow: nothing more until the punches are in
        yield b"GSM,460,1,9,77,0,121.47,31.23,1500,3,1,1500000000,1600000000\n"

    upload = asyncio.create_task(
        client.post(
            "/api/v1/cells/import",
            params={"dry_run": "true"},
            content=slowly(),
            headers={"Authorization": f"Bearer {key['key']}", "Content-Type": "text/csv"},
        )
    )
    try:
        await asyncio.wait_for(first_row.wait(), 10)
        assert not open_transactions
        for _ in range(3):
            made = await asyncio.wait_for(staff.post("/punches", json=punch()), 5)
            assert made.status_code == 201, made.text
        assert not open_transactions
    finally:
        gate.set()
    done = await upload
    assert done.status_code == 200 and done.json() == {"rows": 2, "dry_run": True}


async def test_a_stalled_body_is_408(client: httpx.AsyncClient, api: Api) -> None:
    stalled = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield b'{"name": "Acme'
        await stalled.wait()  # never set while the request runs
        yield b'"}'

    try:
        started = time.monotonic()
        r = await asyncio.wait_for(
            api.post("/customers", content=stalls(), headers={"Content-Type": "application/json"}),
            10,
        )
        took = time.monotonic() - started
    finally:
        stalled.set()
    _is_problem(r, 408)
    assert r.json()["type"] == "/problems/request-timeout" and r.headers["connection"] == "close"
    assert SMALL["body_timeout_s"] <= took < 5


async def test_the_body_reaches_the_route_unchanged(client: httpx.AsyncClient, api: Api) -> None:
    """Read by the guard and replayed: JSON in several chunks, a form (sign-in), multipart."""

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"name": ', b'"Chunked', b' Ltd"}'):
            yield part

    made = await api.ok(
        "post", "/customers", 201, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert made["name"] == "Chunked Ltd"
    r = await api.post("/photos", files={"file": ("a.jpg", b"not an image", "image/jpeg")})
    assert r.status_code == 422  # parsed as a form and looked at: not an image


def test_defaults() -> None:
    s = Settings()
    assert (s.max_body_bytes, s.max_batch_bytes, s.max_import_bytes) == (MiB, 4 * MiB, 64 * MiB)
    assert (s.body_timeout_s, s.body_min_rate) == (20.0, 10_000)


async def test_bodies_without_a_caller_are_small(tmp_path: Any, db_url: str) -> None:
    # At the default limits: what anyone may send without a token stays at 16 KiB.
    app = create_app(load_settings(database_url=db_url, data_dir=tmp_path, secret_key=TEST_SECRET))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for path in ("/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/no-such-route"):
            _is_problem(
                await c.post(path, content=b"a" * (PUBLIC_BODY_BYTES + 1), headers=form), 413
            )
            r = await c.post(path, content=b"a" * PUBLIC_BODY_BYTES, headers=form)
            assert r.status_code != 413 and r.status_code < 500, (path, r.text[:200])
