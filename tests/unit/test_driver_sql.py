"""A DriverStatement gives the rows a Core execution of its statement gives."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, insert, literal, select
from sqlalchemy.exc import StatementError

from fieldpunch.db.base import table_of
from fieldpunch.db.driver_sql import DriverStatement
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import Schedule

_s = table_of(Schedule)
_STMT = (
    select(literal("due").label("part"), _s.c.name, _s.c.next_run_at, _s.c.interval_s)
    .where(_s.c.name == bindparam("name"), _s.c.next_run_at <= bindparam("before"))
    .limit(5)
)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url)
    yield db
    await db.dispose()


async def test_rows_match_a_core_execution(db: Database) -> None:
    name = f"driver-sql-{secrets.token_hex(6)}"
    at = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
    async with db.transaction() as session:
        row = {"name": name, "kind": "test.driver", "interval_s": 60, "next_run_at": at}
        await session.execute(insert(_s), row)
    statement = DriverStatement(_STMT)
    shanghai = at.astimezone(ZoneInfo("Asia/Shanghai"))
    for before, expected in ((shanghai + timedelta(seconds=1), 1), (at - timedelta(hours=1), 0)):
        params = {"name": name, "before": before}  # any zone: bound as UTC by the column type
        async with db.transaction(write=False) as session:
            core = (await session.execute(_STMT, params)).all()
            driver = (await statement.execute(session, params)).all()
        assert len(core) == expected
        assert [tuple(r) for r in driver] == [tuple(r) for r in core]
        assert [r._mapping.keys() for r in driver] == [r._mapping.keys() for r in core]
    assert driver == [] and core == []
    async with db.transaction(write=False) as session:
        (found,) = (await statement.execute(session, {"name": name, "before": at})).all()
    assert found.part == "due" and found.next_run_at == at and found.next_run_at.tzinfo
    # A parameter without a value is an error, not a NULL (SQLite runs it through SQLAlchemy).
    with pytest.raises((KeyError, StatementError)):
        async with db.transaction(write=False) as session:
            await statement.execute(session, {"name": name})
