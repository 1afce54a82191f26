"""PostgreSQL: every row a punch intake writes, in one statement.

A punch writes its row, its ledger entries, its anomalies and its outbox events, and moves the
person's chain head: five statements, five round trips, each costing the server more CPU than
the SQL itself. On PostgreSQL they go as one: data-modifying CTEs, each inserting its rows from
`unnest` of one array per column, around the head's UPDATE. Columns are typed from the tables;
values are bound as SQLAlchemy would bind them (UTC datetimes, JSON as json.dumps text). Row
order is kept (outbox ids follow it, as with executemany). Foreign keys are checked at the end
of the statement, when every row is in. SQLite keeps the statement-per-table path. Measured
alone against inserts per table: docs/performance.md ("Each bypass on its own").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, Table, Text
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.db import driver_sql
from fieldpunch.db.types import UTCDateTime


def _pg_type(column: Any) -> tuple[str, bool]:
    """(array element type, is JSON) of a column."""
    t = column.type
    if isinstance(t, JSON):
        return "text", True  # cast to jsonb in the SELECT
    if isinstance(t, UTCDateTime):
        return "timestamptz", False
    if isinstance(t, Boolean):
        return "bool", False
    if isinstance(t, BigInteger):
        return "int8", False
    if isinstance(t, Integer):
        return "int4", False
    if isinstance(t, Float):
        return "float8", False
    if isinstance(t, String | Text):
        return "text", False
    raise TypeError(f"no array type for {column}")


# What json.dumps refuses (datetimes, dataclasses, subclasses of str/int/dict), orjson hands to
# json.dumps too, which refuses it as before instead of storing orjson's rendering of it.
_PLAIN = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _json_text(v: Any) -> str:
    """JSON text for a jsonb column: orjson (several times faster than json.dumps), json.dumps
    for what orjson refuses (integers beyond 64 bits, keys that are not strings). jsonb keeps
    values, not text, so both store the same; None is 'null', as SQLAlchemy's JSON bind has it.
    (NaN and infinities, which no input can carry, would be null instead of an error.)"""
    try:
        return orjson.dumps(v, option=_PLAIN).decode()
    except TypeError:
        return json.dumps(v)


def _value(v: Any, is_json: bool) -> Any:
    if is_json:
        return _json_text(v)
    if isinstance(v, datetime):
        if v.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return v.astimezone(UTC)
    return v


class Plan:
    """Statements by shape (which tables, which columns), built once each."""

    def __init__(self) -> None:
        self._sql: dict[tuple[Any, ...], str] = {}
        self._flags: dict[tuple[Table, tuple[str, ...]], list[tuple[str, bool]]] = {}

    def _json_flags(self, table: Table, cols: tuple[str, ...]) -> list[tuple[str, bool]]:
        """(column, is JSON) for a table's columns, worked out once per shape."""
        key = (table, cols)
        flags = self._flags.get(key)
        if flags is None:
            flags = self._flags[key] = [(c, _pg_type(table.c[c])[1]) for c in cols]
        return flags

    def _build(self, inserts: Sequence[tuple[Table, tuple[str, ...]]]) -> str:
        parts, n = [], 0
        for i, (table, cols) in enumerate(inserts):
            types = [_pg_type(table.c[c]) for c in cols]
            arrays = ", ".join(f"${n + k + 1}::{t}[]" for k, (t, _) in enumerate(types))
            n += len(cols)
            names = ", ".join(f'"{c}"' for c in cols)
            select = ", ".join(
                f'u."{c}"::jsonb' if is_json else f'u."{c}"'
                for c, (_, is_json) in zip(cols, types, strict=True)
            )
            # Names come from our own tables; every value is bound.
            parts.append(
                f'w{i} AS (INSERT INTO "{table.name}" ({names}) SELECT {select} '  # noqa: S608
                f"FROM unnest({arrays}) WITH ORDINALITY AS u({names}, _ord) ORDER BY u._ord)"
            )
        head = (
            f"UPDATE ledger_heads SET seq = ${n + 1}::int4, hash = ${n + 2}::text, "  # noqa: S608
            f"updated_at = ${n + 3}::timestamptz, detector_memory = ${n + 4}::jsonb "
            f"WHERE org_id = ${n + 5}::text AND user_id = ${n + 6}::text"
        )
        return f"WITH {', '.join(parts)} {head}"

    async def write(
        self,
        session: AsyncSession,
        inserts: Sequence[tuple[Table, Sequence[dict[str, Any]]]],
        head: tuple[int, str, datetime, dict[str, Any] | None, str, str],
    ) -> None:
        shaped: list[tuple[Table, tuple[str, ...]]] = []
        params: list[Any] = []
        for table, rows in inserts:
            if not rows:
                continue
            cols = tuple(c for c in rows[0] if c in table.c)
            shaped.append((table, cols))
            for c, is_json in self._json_flags(table, cols):
                params.append([_value(r[c], is_json) for r in rows])
        seq, digest, at, kept, org_id, user_id = head
        params += [seq, digest, _value(at, False), None if kept is None else _json_text(kept)]
        params += [org_id, user_id]
        key = tuple(shaped)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = self._build(shaped)
        await driver_sql.run(session, sql, params)


PLAN = Plan()
