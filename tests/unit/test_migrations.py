"""Migrations from empty on both databases; the models and the migrations agree."""

from __future__ import annotations

import asyncio
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
