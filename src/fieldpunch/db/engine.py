"""Async engines for SQLite (embedded) and PostgreSQL, with one session per request."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from fieldpunch.db.driver_sql import sqlite_error

if TYPE_CHECKING:
    from fieldpunch.config import Settings

try:
    from sqlalchemy.util import await_
except ImportError:  # SQLAlchemy 2.0
    from sqlalchemy.util import await_only as await_

WRITE_OPTION = "fieldpunch_write"
BUSY_TIMEOUT_S = 10


class _WriterQueue:
    """This process's SQLite writers, one at a time, in arrival order.

    SQLite takes one writer at a time; under BEGIN IMMEDIATE the others wait in its busy
    handler, which sleeps and retries in coarse steps, unfairly: p99 of seconds at 32
    concurrent requests. Queued here before BEGIN IMMEDIATE (asyncio.Lock is FIFO), a writer
    finds the database lock free. Only transactions that write take a place, at their first
    statement, as BEGIN IMMEDIATE did; the place is given up when the connection comes back to
    the pool (after COMMIT or ROLLBACK) or is invalidated, closed or detached. Other processes
    on the same file still meet the busy handler; so does a writer that waited here longer
    than busy_timeout (as before this queue).
    """

    def __init__(self) -> None:
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._held: dict[Any, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}

    async def _enter(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        lock = self._lock[1]
        try:
            await asyncio.wait_for(lock.acquire(), BUSY_TIMEOUT_S)
        except TimeoutError:
            return None
        return loop, lock

    def enter(self, record: Any) -> None:
        """Wait for this connection's turn (called in SQLAlchemy's greenlet, which may await)."""
        held = await_(self._enter())
        if held is not None:
            self._held[record] = held

    def leave(self, record: Any) -> None:
        held = self._held.pop(record, None)
        if held is None:
            return
        loop, lock = held
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop:
            lock.release()
        else:  # e.g. a connection cleaned up by the garbage collector in another thread
            loop.call_soon_threadsafe(lock.release)


def _sqlite_setup(engine: AsyncEngine) -> None:
    """WAL, busy timeout, foreign keys; writers queue in-process, then take the lock at BEGIN.

    A deferred transaction that reads and then writes can fail at once with SQLITE_BUSY
    when another writer committed in between; BEGIN IMMEDIATE waits (busy_timeout) instead.
    """
    writers = _WriterQueue()

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        if write:
            writers.enter(conn.connection._connection_record)
        # Straight to aiosqlite, one hop to its thread: through SQLAlchemy's cursor adapter
        # (cursor, execute, close) every transaction paid three (docs/performance.md).
        sql = "BEGIN IMMEDIATE" if write else "BEGIN"
        try:
            await_(conn.connection.driver_connection.execute(sql))
        except (sqlite3.Error, ValueError) as exc:  # as SQLAlchemy would have raised it
            error = sqlite_error(exc, sql, ())
            if error.connection_invalidated:  # not back into the pool
                conn.invalidate(exc)
            raise error from exc

    pool = engine.sync_engine.pool
    for name in ("checkin", "invalidate", "close", "detach"):
        event.listen(pool, name, lambda _, record, *rest: writers.leave(record))


# Every ASCII digit mapped to 0, so that 19 digits in a row are one substring to find: a byte
# translation and a search, several times cheaper than a regular expression's scan (\d{19}),
# which cost more than orjson's parse (docs/performance.md, fifth round).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def json_loads(text: str) -> Any:
    """JSON columns' reader: orjson (several times faster), json wherever the two could differ.

    orjson reads an integer beyond 64 bits as a float: text with 19 digits in a row goes to
    json. SQLite's JSON is text written by json.dumps, which may hold NaN or Infinity; orjson
    rejects those (and lone surrogates), and json reads them as it always did.
    """
    digits = text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO)
    if _LONG_RUN not in digits:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def ensure_sqlite_folder(url: str) -> None:
    """Create a SQLite database file's folder (SQLite creates the file, not its folders)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


POOL_SIZE = 20
POOL_TIMEOUT_S = 30.0


def make_engine(
    url: str, pool_size: int = POOL_SIZE, pool_timeout_s: float = POOL_TIMEOUT_S, **kwargs: Any
) -> AsyncEngine:
    """The engine, with a pool of at most `pool_size` connections and no overflow.

    Requests beyond the pool wait for a connection (up to `pool_timeout_s`, then 503). Overflow
    connections are closed as soon as they are handed back, so a load just above the pool
    opened and closed a connection per request: a PostgreSQL backend started, every statement
    prepared again and its types introspected (docs/performance.md, "No pool overflow").
    """
    kwargs.setdefault("json_deserializer", json_loads)
    kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout_s)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_folder(url)
        engine = create_async_engine(url, **kwargs)
        _sqlite_setup(engine)
        return engine
    # No pre-ping: it costs two round trips per request on the hot path. Connections are
    # recycled hourly instead; after a database restart a request may fail once per pooled
    # connection, which clients retry (punches are idempotent).
    return create_async_engine(url, pool_recycle=3600, **kwargs)


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


def open_database(settings: Settings) -> Database:
    """The database of a long-running process (`serve`, `worker`), pool sized by the settings."""
    return Database(
        settings.db_url, pool_size=settings.db_pool_size, pool_timeout_s=settings.db_pool_timeout_s
    )
