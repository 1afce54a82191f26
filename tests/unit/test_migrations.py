"""Migrations from empty on both databases; the models and the migrations agree."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from fieldpunch.db.migrate import alembic_config, head, upgrade
from fieldpunch.db.models import Base
from tests.services import postgres_database


async def _diff_and_tables(url: str) -> tuple[list[object], set[str], set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def inspect_sync(c):
                ctx = MigrationContext.configure(c, opts={"compare_type": True})
                return (
                    compare_metadata(ctx, Base.metadata),
                    set(inspect(c).get_table_names()),
                    set(ctx.get_current_heads()),
                )

            return await conn.run_sync(inspect_sync)
    finally:
        await engine.dispose()


def _check(url: str) -> None:
    upgrade(url)
    diff, tables, heads = asyncio.run(_diff_and_tables(url))
    assert diff == [], f"models and migrations disagree: {diff}"
    assert set(Base.metadata.tables) <= tables
    assert heads == {head()}
    command.downgrade(alembic_config(url), "base")
    _, tables, heads = asyncio.run(_diff_and_tables(url))
    assert tables <= {"alembic_version"} and not heads
    upgrade(url)  # and back up again


def test_migrations_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}")


@pytest.mark.postgres
def test_migrations_postgres() -> None:
    with postgres_database() as url:
        _check(url)


def test_day_tallies_are_filled_in_for_days_already_stored(tmp_path: Path) -> None:
    """0015 adds the tally columns and fills them in from each stored day's result."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    command.upgrade(alembic_config(url), "0014")
    edges = [
        {"state": "late", "punch": {"method": "gps"}},
        {"state": "missing", "punch": None},
        {"state": "on_time", "punch": {"method": "correction"}},
    ]
    with contextlib.closing(sqlite3.connect(tmp_path / "m.sqlite3")) as con:
        days = [
            ("2026-12-01", ["serious_late", "missing_clock_out"], 300, {"edges": edges}),
            ("2026-12-02", ["absent"], 0, {"edges": [{"state": "missing", "punch": None}]}),
        ]
        for day, statuses, worked, result in days:  # no foreign keys: SQLite's default
            con.execute(
                "INSERT INTO attendance_days (org_id, user_id, day, status, statuses, kind,"
                " holiday_name, schedule, scheduled_min, worked_min, late_min, early_leave_min,"
                " overtime_workday_min, overtime_rest_day_min, overtime_holiday_min, leave_min,"
                " leave_by_type, trip_min, out_min, field_day, complete, result, computed_at)"
                " VALUES ('org_1', 'usr_1', ?, ?, ?, 'workday', '', 'fixed', 540, ?, 40, 0,"
                " 0, 0, 0, 0, '{}', 0, 0, 0, 1, ?, '2026-12-03 00:00:00')",
                (day, statuses[0], json.dumps(statuses), worked, json.dumps(result)),
            )
        con.commit()
    upgrade(url)
    with contextlib.closing(sqlite3.connect(tmp_path / "m.sqlite3")) as con:
        rows = con.execute(
            "SELECT attended, late, serious_late, early_leave, absent, missing_punches,"
            " corrections FROM attendance_days ORDER BY day"
        ).fetchall()
    assert rows == [(1, 1, 1, 0, 0, 1, 1), (0, 0, 0, 0, 1, 0, 0)]
