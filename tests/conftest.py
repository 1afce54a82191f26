"""Fixtures: every database test runs on SQLite and on PostgreSQL (when reachable)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from fieldpunch.app import create_app
from fieldpunch.auth import passwords
from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.db.migrate import upgrade
from tests.factories import Api, OrgKit, new_org
from tests.services import postgres_database

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Argon2id at its lowest cost for the apps these tests run in-process: each person a test
    makes is hashed and signs in, and at the production cost (~0.2 s a hash on these cores) that
    was a large share of the suite. Servers the tests start as processes keep the real cost."""
    patch = pytest.MonkeyPatch()
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    patch.setattr(passwords, "_hasher", cheap)
    patch.setattr(passwords, "_DUMMY", cheap.hash("fieldpunch-timing-equaliser"))
    yield
    patch.undo()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend for the whole session; tests isolate by organization."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade(url)
        yield url
        return
    with postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=db_url, data_dir=tmp_path, secret_key=TEST_SECRET, access_log=False
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def db(app: object) -> Database:
    return app.state.db  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
async def org(client: httpx.AsyncClient, db: Database) -> OrgKit:
    return await new_org(client, db, "Acme")


@pytest.fixture
async def other_org(client: httpx.AsyncClient, db: Database) -> OrgKit:
    return await new_org(client, db, "Rival")


@pytest.fixture
def api(org: OrgKit) -> Api:
    return org.admin
