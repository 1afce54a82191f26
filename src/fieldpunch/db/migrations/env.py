"""Alembic environment: async engines, batch mode on SQLite (it cannot ALTER most things)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from fieldpunch.config import load_settings
from fieldpunch.db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().db_url


def _configure(connection: Connection | None = None) -> None:
    sqlite = (
        connection.dialect.name if connection else _url().split(":", 1)[0].split("+")[0]
    ) == "sqlite"
    context.configure(
        connection=connection,
        url=None if connection else _url(),
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        literal_binds=connection is None,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    _configure()
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
