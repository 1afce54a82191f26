"""Real PostgreSQL / Redis for tests: used when reachable, skipped otherwise, required in CI."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_HOST = os.environ.get("FIELDPUNCH_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("FIELDPUNCH_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("FIELDPUNCH_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("FIELDPUNCH_TEST_PG_DB", "test")
REDIS_URL = os.environ.get("FIELDPUNCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def required() -> bool:
    return os.environ.get("FIELDPUNCH_REQUIRE_SERVICES") == "1"


def unavailable(what: str, why: str) -> None:
    if required():
        pytest.fail(f"{what} is required (FIELDPUNCH_REQUIRE_SERVICES=1) but unreachable: {why}")
    pytest.skip(f"{what} not reachable: {why}")


def _port_open(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return None
    except OSError as exc:
        return str(exc)


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database with a random name, dropped afterwards; yields its async URL."""
    if (why := _port_open(PG_HOST, PG_PORT)) is not None:
        unavailable("PostgreSQL", why)
    name = f"fp_test_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable("PostgreSQL", repr(exc))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def redis_url() -> str:
    host, port = "127.0.0.1", 6379
    if (why := _port_open(host, port)) is not None:
        unavailable("Redis", why)
    return REDIS_URL


async def forget_redis_keys(namespace: str) -> None:
    """Delete every Redis key under `namespace:` (what a test's throttle or limiter wrote)."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(redis_url())
    try:
        keys = [k async for k in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
