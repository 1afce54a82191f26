"""Async engines for SQLite (embedded) and PostgreSQL, with one session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

WRITE_OPTION = "fieldpunch_write"


def _sqlite_setup(engine: AsyncEngine) -> None:
    """WAL, busy timeout, foreign keys; writers take the lock at BEGIN.

    A deferred transaction that reads and then writes can fail at once with SQLITE_BUSY
    when another writer committed in between; BEGIN IMMEDIATE waits (busy_timeout) instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=8, max_overflow=8, **kwargs)
        _sqlite_setup(engine)
        return engine
    # No pre-ping: it costs two round trips per request on the hot path. Connections are
    # recycled hourly instead; after a database restart a request may fail once per pooled
    # connection, which clients retry (punches are idempotent).
    return create_async_engine(url, pool_size=20, max_overflow=20, pool_recycle=3600, **kwargs)


class Database:
    """Holds the engine and the two session factories (read, write)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **kwargs)
        self.dialect = self.engine.dialect.name
        writer = self.engine.execution_options(**{WRITE_OPTION: True})
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write = async_sessionmaker(writer, expire_on_commit=False)
        # One consistent view across many statements (PostgreSQL's default, read committed,
        # sees each commit as it lands; a SQLite read transaction in WAL is a snapshot anyway).
        snap = self.engine
        if self.dialect == "postgresql":
            snap = self.engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        self._snapshot = async_sessionmaker(snap, expire_on_commit=False)

    def session(self, write: bool = True) -> AsyncSession:
        return (self._write if write else self._read)()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A read-only session that sees the database as of its first statement."""
        async with self._snapshot() as session:
            try:
                yield session
            finally:
                await session.rollback()

    @asynccontextmanager
    async def transaction(self, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends cleanly, else rolls back."""
        async with self.session(write) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
