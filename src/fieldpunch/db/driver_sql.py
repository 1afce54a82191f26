"""Hot statements as driver SQL on PostgreSQL: compiled once, run by asyncpg itself.

Executing even a cached Core statement, SQLAlchemy builds its parameters anew (every bind
looked up, extracted literals resolved), and every execution, even of driver SQL, goes through
its execution context, cursor adaptation and a greenlet switch: ~75 µs of CPU per statement on
top of asyncpg's own ~80 µs here, and a punch runs three such statements. `DriverStatement`
compiles its statement once and `run` hands SQL and values to the asyncpg connection under the
session, inside the session's transaction (the transaction's first statement goes through
SQLAlchemy, which sends BEGIN only with a statement of its own). What stays the same: the SQL,
each parameter's bind processor (UTC datetimes), the compiled literals, rows with named columns,
asyncpg's decoding (the JSON codecs SQLAlchemy registers), and errors as SQLAlchemy's exception
classes, so the app's handlers answer them as before (`_translated`). SQLite needs SQLAlchemy's
result processing (datetimes are text there): it runs the statement as usual.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Executable
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

_REQUIRED = object()  # a parameter with no compiled value: `execute` must be given it


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Per positional parameter: its name, compiled value (a literal) or _REQUIRED, processor.
    binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]


def _translated(exc: Exception, sql: str, values: Sequence[Any]) -> DBAPIError:
    """SQLAlchemy's exception class for an asyncpg error, by SQLSTATE class (the original stays
    `.orig`, with its SQLSTATE, which the app's handlers read)."""
    state = str(getattr(exc, "sqlstate", "") or "")
    kind = {"23": IntegrityError, "22": DataError, "08": OperationalError, "53": OperationalError}
    return kind.get(state[:2], DBAPIError)(sql, tuple(values), exc)


def _rows(result: Result[Any]) -> Sequence[Any]:
    """A SQLAlchemy result's rows; none for a statement that returns none (an INSERT)."""
    return [] if isinstance(result, CursorResult) and not result.returns_rows else result.all()


async def run(session: AsyncSession, sql: str, values: Sequence[Any]) -> Sequence[Any]:
    """`sql` ($n parameters) on the session's PostgreSQL connection, in its transaction.

    Rows index by position (asyncpg Records, or SQLAlchemy Rows for a first statement).
    """
    conn = await session.connection()
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
    """`statement`, compiled once; `execute` binds a dict of parameters by name."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None
        self._row: Any = None  # a namedtuple of the result's columns

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement rendered per execution cannot be compiled once")
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, _REQUIRED if bind.required else bind.value, process))
        return _Compiled(compiled.string, tuple(binds))

    async def execute(self, session: AsyncSession, params: dict[str, Any]) -> Sequence[Any]:
        """The rows, each with its columns by name (`row.seq`) and by position."""
        dialect = session.get_bind().dialect
        if dialect.name != "postgresql":
            return _rows(await session.execute(self.statement, params))
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = self._compile(dialect)
        values = []
        for name, literal, process in compiled.binds:
            value = params[name] if literal is _REQUIRED or name in params else literal
            values.append(value if process is None or value is None else process(value))
        records = await run(session, compiled.sql, values)
        if records and self._row is None:
            first = records[0]
            names = first._fields if hasattr(first, "_fields") else first.keys()
            self._row = namedtuple("Row", names)  # type: ignore[misc]
        return [self._row._make(r) for r in records]
