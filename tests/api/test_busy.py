"""A busy database answers 503 (problem+json) with Retry-After: no free connection, a lock not
granted in time; never a hang or a 500."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url

from fieldpunch.config import Settings
from fieldpunch.db import engine
from tests.apps import app_with_org
from tests.punching import punch


async def test_no_free_connection_is_503_with_retry_after(settings: Settings) -> None:
    small = settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout_s": 0.3})
    async with app_with_org(small, "Busy") as (app, org):
        assert (await org.admin.get("/punches")).status_code == 200
        # The pool's one connection is taken (max_overflow is 0: no second one opens).
        async with app.state.db.engine.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            r = await org.admin.get("/punches")
        assert r.status_code == 503
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["retry-after"] == "1"
        assert r.json()["type"] == "/problems/busy"
        # Free again: served as before.
        assert (await org.admin.get("/punches")).status_code == 200


@contextlib.asynccontextmanager
async def _writes_locked(settings: Settings) -> AsyncIterator[None]:
    """Another process holds what a write needs: SQLite's write lock; PostgreSQL's table locks
    (the app's connections wait lock_timeout for them, set on the database for new sessions)."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        # Waits (up to 10 s) for a job runner's short write, then holds the lock itself. In a
        # thread: that job runs on this event loop, and a wait that blocked the loop would keep
        # it from ever committing (CI saw "database is locked" after the 10 s).
        holder = sqlite3.connect(
            str(url.database), isolation_level=None, timeout=10, check_same_thread=False
        )
        await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    conn = await _pg_connect(url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE customers, punches IN EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()


@pytest.fixture
def impatient(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A database that gives up on a lock after 0.3 s (SQLite's busy_timeout, PostgreSQL's
    lock_timeout), instead of 10 s or never."""
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_S", 0.3)
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        yield settings
        return
    alter = f'ALTER DATABASE "{url.database}"'
    asyncio.run(_pg(url, f"{alter} SET lock_timeout = '300ms'"))
    try:
        yield settings
    finally:
        asyncio.run(_pg(url, f"{alter} RESET lock_timeout"))


async def _pg_connect(url: URL) -> Any:
    import asyncpg  # as tests/services.py: only where PostgreSQL is there

    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )


async def _pg(url: URL, sql: str) -> None:
    conn = await _pg_connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_a_locked_database_is_503_with_retry_after(
    impatient: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """ "database is locked" (SQLite) or a lock timeout (PostgreSQL): 503 with Retry-After, the
    punch route as every route, and no error with a traceback in the log."""
    async with app_with_org(impatient, "Locked") as (_, org):
        staff = await org.person("staff")
        async with _writes_locked(impatient):
            for r in (
                await org.admin.post("/customers", json={"name": "Waiting Ltd"}),
                await staff.post("/punches", json=punch()),
            ):
                assert r.status_code == 503, r.text
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.headers["retry-after"] == "1"
                assert r.json()["type"] == "/problems/busy"
            assert (await org.admin.get("/customers")).status_code == 200  # reads go on
        # Let go: written as before.
        assert (await org.admin.post("/customers", json={"name": "Later Ltd"})).status_code == 201
        assert (await staff.post("/punches", json=punch())).status_code == 201
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("fieldpunch.errors")
    ]
    assert not errors, errors
