"""A DriverStatement gives the rows a Core execution of its statement gives."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Integer, String, bindparam, cast, insert, literal, select
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from fieldpunch.db.base import table_of
from fieldpunch.db.driver_sql import DriverStatement, insert_rows
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import Job, Schedule

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
            driver = await statement.execute(session, params)
        assert len(core) == expected
        assert [tuple(r) for r in driver] == [tuple(r) for r in core]
        assert [list(r._asdict()) for r in driver] == [list(r._mapping) for r in core]
    assert driver == [] and core == []
    async with db.transaction(write=False) as session:
        (found,) = await statement.execute(session, {"name": name, "before": at})
    assert found.part == "due" and found.next_run_at == at and found.next_run_at.tzinfo
    # A parameter without a value is an error, not a NULL.
    with pytest.raises((KeyError, StatementError)):
        async with db.transaction(write=False) as session:
            await statement.execute(session, {"name": name})


async def test_database_errors_are_sqlalchemy_errors_with_their_sqlstate(db: Database) -> None:
    """What the app's handlers read: a value the database refuses is a DataError (22…)."""
    if db.dialect != "postgresql":
        pytest.skip("driver SQL runs on PostgreSQL only")
    refused = DriverStatement(select(cast(bindparam("text", type_=String), Integer).label("n")))

    async def refuse() -> None:
        async with db.transaction(write=False) as session:
            await session.execute(select(literal(1)))  # begun: the next one goes to asyncpg
            await refused.execute(session, {"text": "not a number"})

    with pytest.raises(DataError) as caught:
        await refuse()
    assert caught.value.orig.sqlstate.startswith("22")  # type: ignore[union-attr]
    async with db.transaction(write=False) as session:  # the pool's connection still works
        assert [tuple(r) for r in await refused.execute(session, {"text": "7"})] == [(7,)]


async def test_runs_inside_the_session_transaction_even_as_its_first_statement(
    db: Database,
) -> None:
    """SQLAlchemy begins lazily: run first, a statement must still roll back with the rest."""
    name = f"driver-sql-{secrets.token_hex(6)}"
    row = {"name": name, "kind": "test.driver", "interval_s": 60, "next_run_at": datetime.now(UTC)}
    insert_one = DriverStatement(insert(_s).values(**{k: bindparam(k) for k in row}))

    async def write_then_fail() -> None:
        async with db.transaction() as session:
            await insert_one.execute(session, row)  # the first statement of the transaction
            await insert_one.execute(session, row | {"name": f"{name}-2"})  # and a later one
            raise LookupError("roll back")

    with pytest.raises(LookupError):
        await write_then_fail()
    async with db.transaction(write=False) as session:
        left = (await session.execute(select(_s.c.name).where(_s.c.name.like(f"{name}%")))).all()
    assert left == []


_j = table_of(Job)


def _job(key: str, **extra: object) -> dict[str, object]:
    shanghai = ZoneInfo("Asia/Shanghai")
    return {
        "id": f"job_{secrets.token_hex(8)}",
        "org_id": None,
        "kind": "test.driver",
        "payload": {"名字": "陆家嘴", "n": 2**40, "x": 0.1, "ok": True, "list": [None, {"a": []}]},
        "status": "done",  # no worker ever picks it up
        "run_at": datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=shanghai),
        "attempts": 1,
        "max_attempts": 3,
        "last_error": None,
        "locked_by": None,
        "locked_until": None,
        "idempotency_key": key,
        "created_at": datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
        "done_at": None,
    } | extra


async def test_insert_rows_stores_what_a_core_insert_stores(db: Database) -> None:
    tag = secrets.token_hex(6)
    async with db.transaction() as session:
        await session.execute(insert(_j), [_job(f"{tag}-core")])
        await insert_rows(session, _j, [_job(f"{tag}-driver-{i}", attempts=i) for i in range(3)])
    async with db.transaction(write=False) as session:
        stmt = select(_j).where(_j.c.idempotency_key.like(f"{tag}-%")).order_by(_j.c.attempts)
        rows = [r._asdict() for r in (await session.execute(stmt)).all()]
    core = next(r for r in rows if r["idempotency_key"].endswith("-core"))
    driver = [r for r in rows if "-driver-" in r["idempotency_key"]]
    assert [r["attempts"] for r in driver] == [0, 1, 2]
    for row in driver:
        same = {k for k in row if k not in ("id", "idempotency_key", "attempts")}
        assert {k: row[k] for k in same} == {k: core[k] for k in same}
    assert core["run_at"] == _job("")["run_at"] and core["run_at"].tzinfo is not None


async def test_a_driver_statement_meets_a_duplicate_key_as_an_integrity_error(db: Database) -> None:
    row = {"name": f"dup-{secrets.token_hex(6)}", "kind": "test.driver", "interval_s": 60}
    row["next_run_at"] = datetime.now(UTC)
    insert_one = DriverStatement(insert(_s).values(**{k: bindparam(k) for k in row}))

    async def twice() -> None:
        async with db.transaction() as session:
            await insert_one.execute(session, row)
            await insert_one.execute(session, row)

    with pytest.raises(IntegrityError):
        await twice()
    async with db.transaction(write=False) as session:  # rolled back, and the pool still works
        assert (
            await session.execute(select(_s.c.name).where(_s.c.name == row["name"]))
        ).all() == []


async def test_a_duplicate_key_is_an_integrity_error_on_both_databases(db: Database) -> None:
    row = _job(f"dup-{secrets.token_hex(6)}")
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await insert_rows(session, _j, [row, row | {"id": f"job_{secrets.token_hex(8)}"}])
    async with db.transaction(write=False) as session:  # nothing of it stayed
        found = await session.execute(select(_j.c.id).where(_j.c.id == row["id"]))
        assert found.all() == []
