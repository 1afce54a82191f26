"""Hot statements as driver SQL: compiled once, run by the database driver itself.

Why: executing even a cached Core statement, SQLAlchemy builds its parameters anew and goes
through its execution context, cursor adaptation and a greenlet switch; on SQLite its aiosqlite
adapter makes four hops to aiosqlite's thread (cursor, execute, fetch, close) where one does.
Measured alone, A/B, well above the 5 % a bypass must earn: docs/performance.md ("Each bypass
on its own").

`DriverStatement` compiles its statement once per dialect; `run` hands SQL and values to the
asyncpg connection under the session, or to its aiosqlite connection in one hop, inside the
session's transaction (a PostgreSQL transaction's first statement goes through SQLAlchemy,
which sends BEGIN only with a statement of its own; on SQLite the engine's begin hook has sent
BEGIN when the session took its connection). What stays the same: the SQL, each parameter's
bind processor (UTC datetimes, JSON text), the compiled literals, the column types' result
processors (SQLite keeps datetimes and JSON as text), rows with named columns, and errors as
SQLAlchemy's exception classes, so the app's handlers answer them as before.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Executable, Table
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_REQUIRED = object()  # a parameter with no compiled value: `execute` must be given it


Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Per positional parameter: its name, compiled value (a literal) or _REQUIRED, processor.
    binds: tuple[tuple[str, Any, Processor], ...]
    # Per result column (SQLite only: asyncpg decodes with the codecs SQLAlchemy registers).
    results: tuple[Processor, ...]


def _translated(exc: Exception, sql: str, values: Sequence[Any]) -> DBAPIError:
    """SQLAlchemy's exception class for an asyncpg error, by SQLSTATE class (the original stays
    `.orig`, with its SQLSTATE, which the app's handlers read)."""
    state = str(getattr(exc, "sqlstate", "") or "")
    kind = {"23": IntegrityError, "22": DataError, "08": OperationalError, "53": OperationalError}
    return kind.get(state[:2], DBAPIError)(sql, tuple(values), exc)


def _rows(result: Result[Any]) -> Sequence[Any]:
    """A SQLAlchemy result's rows; none for a statement that returns none (an INSERT)."""
    return [] if isinstance(result, CursorResult) and not result.returns_rows else result.all()


def sqlite_error(exc: sqlite3.Error | ValueError, sql: str, values: Sequence[Any]) -> DBAPIError:
    """SQLAlchemy's exception for what aiosqlite raised: sqlite3's errors by their class; a
    ValueError is aiosqlite's "Connection closed", a disconnect (the caller invalidates)."""
    if isinstance(exc, sqlite3.Error):
        error = DBAPIError.instance(sql, values, exc, sqlite3.Error)
        assert isinstance(error, DBAPIError)  # a DB-API error in, a DBAPIError out
        return error
    return DBAPIError(sql, tuple(values), exc, connection_invalidated=True)


async def _on_sqlite(
    conn: AsyncConnection, sql: str, values: Sequence[Any], *, many: bool = False
) -> Sequence[Any]:
    """`sql` on the aiosqlite connection under `conn`, in one hop to its thread: the rows, or
    none for `many` (an executemany of `values`)."""
    aio = (await conn.get_raw_connection()).driver_connection
    assert aio is not None  # checked out by the session
    try:
        if many:
            await aio.executemany(sql, values)
            return []
        return await aio.execute_fetchall(sql, values)  # type: ignore[no-any-return]
    except (sqlite3.Error, ValueError) as exc:
        error = sqlite_error(exc, sql, values)
        if error.connection_invalidated:
            await conn.invalidate(exc)
        raise error from exc


def _processed(processors: Sequence[Processor], values: Iterable[Any]) -> list[Any]:
    """Each value through its column's processor (None too, as SQLAlchemy does)."""
    return [v if f is None else f(v) for f, v in zip(processors, values, strict=True)]


async def run(session: AsyncSession, sql: str, values: Sequence[Any]) -> Sequence[Any]:
    """`sql` on the session's connection, in its transaction: $n parameters on PostgreSQL, ?
    on SQLite (one hop to aiosqlite's thread).

    Rows index by position (asyncpg Records, SQLAlchemy Rows for a first statement, tuples).
    """
    conn = await session.connection()
    if conn.dialect.name == "sqlite":
        return await _on_sqlite(conn, sql, values)
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # checked out by the session
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with its own first statement, not before:
        # run by asyncpg, this one would commit on its own and take its locks with it.
        return _rows(await conn.exec_driver_sql(sql, tuple(values)))
    try:
        return await driver.fetch(sql, *values)  # type: ignore[no-any-return]
    except Exception as exc:
        if driver.is_closed():  # gone (SQLAlchemy's test too): the pool must not hand it out
            await conn.invalidate(exc)
            raise DBAPIError(sql, tuple(values), exc, connection_invalidated=True) from exc
        if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
            raise _translated(exc, sql, values) from exc
        raise


class DriverStatement:
    """`statement`, compiled once per dialect; `execute` binds a dict of parameters by name."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._columns = getattr(statement, "exported_columns", ())  # SELECT's, DML's RETURNING
        names = [c.key for c in self._columns]
        self._row: Any = namedtuple("Row", names) if names else None  # type: ignore[misc]

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement rendered per execution cannot be compiled once")
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, _REQUIRED if bind.required else bind.value, process))
        results: tuple[Processor, ...] = ()
        if dialect.name == "sqlite":
            results = tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in self._columns
            )
        return _Compiled(compiled.string, tuple(binds), results)

    async def execute(self, session: AsyncSession, params: dict[str, Any]) -> Sequence[Any]:
        """The rows, each with its columns by name (`row.seq`) and by position."""
        dialect = session.get_bind().dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        values = []
        for name, literal, process in compiled.binds:
            value = params[name] if literal is _REQUIRED or name in params else literal
            values.append(value if process is None else process(value))  # None too, as SA does
        records = await run(session, compiled.sql, values)
        if not records or self._row is None:
            return list(records)
        if compiled.results:
            records = [_processed(compiled.results, r) for r in records]
        return [self._row._make(r) for r in records]


_INSERTS: dict[tuple[Table, tuple[str, ...]], tuple[str, list[Processor]]] = {}


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (each with the same keys, every column they need) into `table`.

    Keys that are no column of `table` are left out (other things rows carry along).

    SQLite: one executemany, one hop to aiosqlite's thread; PostgreSQL: SQLAlchemy's
    executemany (its hot path writes in one statement instead: punches/store/onestatement.py).
    """
    if not rows:
        return
    columns = tuple(c for c in rows[0] if c in table.c)
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        await session.execute(table.insert(), [{c: r[c] for c in columns} for r in rows])
        return
    key = (table, columns)
    shape = _INSERTS.get(key)
    if shape is None:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608 - our tables
        processors: list[Processor] = [
            table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
        ]
        shape = _INSERTS[key] = (sql, processors)
    sql, procs = shape
    values = [_processed(procs, map(r.__getitem__, columns)) for r in rows]
    await _on_sqlite(await session.connection(), sql, values, many=True)
