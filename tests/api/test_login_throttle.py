"""Sign-in throttling through HTTP: 429 with Retry-After, per account and address, on Redis too.

Time is the throttle's injected clock, moved by the test: nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import TimeoutError as PoolTimeout

from fieldpunch.app import create_app
from fieldpunch.auth import service as auth_service
from fieldpunch.auth.throttle import LoginThrottle
from fieldpunch.config import load_settings
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, OrgKit, unique_email
from tests.limits import Clock
from tests.services import forget_redis_keys, redis_url

MAX, WINDOW = 5, 900  # the defaults


@pytest.fixture
def clock(app: Any) -> Clock:
    c = Clock()
    app.state.login_throttle.clock = c
    return c


@asynccontextmanager
async def _from(app: Any, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _token(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": password})


async def _fail(client: httpx.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        r = await _token(client, email, "wrong-password")
        assert r.status_code == 401, r.text


def _assert_429(r: httpx.Response, retry_after: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == str(retry_after)
    body = r.json()
    assert body["status"] == 429 and body["type"] == "/problems/too-many-requests"
    assert f"{retry_after} s" in body["detail"]


async def _email(org: OrgKit) -> str:
    staff = await org.person("staff")
    return str((await staff.ok("get", "/me"))["email"])


async def test_failures_lock_the_account_from_that_address_even_for_the_right_password(
    client: httpx.AsyncClient, org: OrgKit, app: Any, clock: Clock
) -> None:
    email, bystander = await _email(org), await _email(org)
    await _fail(client, email, MAX)
    _assert_429(await _token(client, email, "wrong-password"), WINDOW)
    _assert_429(await _token(client, email.upper(), PASSWORD), WINDOW)  # right, but locked
    # Other accounts from the same address, and this account from elsewhere, are unaffected.
    assert (await _token(client, bystander, PASSWORD)).status_code == 200
    async with _from(app, "203.0.113.7") as elsewhere:
        assert (await _token(elsewhere, email, PASSWORD)).status_code == 200
    clock.now += WINDOW - 1
    _assert_429(await _token(client, email, PASSWORD), 1)
    clock.now += 1
    assert (await _token(client, email, PASSWORD)).status_code == 200


async def test_a_success_resets_the_account_count(
    client: httpx.AsyncClient, org: OrgKit, clock: Clock
) -> None:
    email = await _email(org)
    await _fail(client, email, MAX - 1)
    assert (await _token(client, email, PASSWORD)).status_code == 200
    await _fail(client, email, MAX)  # a full allowance again
    _assert_429(await _token(client, email, PASSWORD), WINDOW)


async def test_unknown_emails_are_throttled_alike(client: httpx.AsyncClient, clock: Clock) -> None:
    nobody = unique_email("nobody")
    await _fail(client, nobody, MAX)
    r = await _token(client, nobody.upper(), "wrong-password")
    _assert_429(r, WINDOW)


async def test_the_address_bound_spans_accounts(
    client: httpx.AsyncClient, org: OrgKit, app: Any, clock: Clock
) -> None:
    app.state.login_throttle.ip_max_failures = 8
    email = await _email(org)
    for i in range(8):
        await _fail(client, f"spray{i}.{secrets.token_hex(3)}@example.com", 1)
    _assert_429(await _token(client, email, PASSWORD), WINDOW)
    async with _from(app, "198.51.100.1") as elsewhere:
        assert (await _token(elsewhere, email, PASSWORD)).status_code == 200


@asynccontextmanager
async def _instance(db_url: str, data_dir: Path) -> AsyncIterator[FastAPI]:
    settings = load_settings(
        database_url=db_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        redis_url=redis_url(),
        access_log=False,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.redis
async def test_instances_on_one_redis_share_the_counts(
    db_url: str, tmp_path: Path, org: OrgKit
) -> None:
    """Two app instances (two processes, in production) with Redis: failures on either count."""
    email = await _email(org)
    clock = Clock()
    namespace = f"fieldpunch:test-login:{secrets.token_hex(6)}"
    async with _instance(db_url, tmp_path / "a") as a, _instance(db_url, tmp_path / "b") as b:
        for instance in (a, b):
            throttle: LoginThrottle = instance.state.login_throttle
            throttle.clock, throttle.namespace = clock, namespace
        async with _from(a, "192.0.2.1") as on_a, _from(b, "192.0.2.1") as on_b:
            await _fail(on_a, email, 3)
            await _fail(on_b, email, MAX - 3)
            _assert_429(await _token(on_a, email, PASSWORD), WINDOW)
            clock.now += 100
            _assert_429(await _token(on_b, email, PASSWORD), WINDOW - 100)
            clock.now += WINDOW
            assert (await _token(on_b, email, PASSWORD)).status_code == 200
    await forget_redis_keys(namespace)


async def test_server_errors_are_not_counted_as_failures(
    client: httpx.AsyncClient, org: OrgKit, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A correct password that meets an exhausted pool answers 503, and is no failure."""
    email = await _email(org)

    async def no_connection(password: str, hashed: str | None) -> bool:
        raise PoolTimeout("QueuePool limit of size 20 overflow 0 reached")

    monkeypatch.setattr(auth_service, "verify_password", no_connection)
    for _ in range(MAX * 2):
        r = await _token(client, email, PASSWORD)
        assert r.status_code == 503, r.text
    monkeypatch.undo()
    assert (await _token(client, email, PASSWORD)).status_code == 200
    await _fail(client, email, MAX)  # and wrong passwords still count, from zero
    _assert_429(await _token(client, email, PASSWORD), WINDOW)


async def test_concurrent_correct_sign_ins_all_get_in(
    client: httpx.AsyncClient, org: OrgKit, clock: Clock
) -> None:
    email = await _email(org)
    answers = await asyncio.gather(*(_token(client, email, PASSWORD) for _ in range(MAX * 2)))
    assert [r.status_code for r in answers] == [200] * (MAX * 2), [r.text for r in answers]


async def test_concurrent_wrong_guesses_get_the_limit_then_429(
    client: httpx.AsyncClient, org: OrgKit, clock: Clock
) -> None:
    email = await _email(org)
    answers = await asyncio.gather(*(_token(client, email, "wrong") for _ in range(MAX * 3)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [401] * MAX + [429] * (MAX * 2)
