"""SQLite writers queue in the process, in arrival order, instead of in SQLite's busy handler."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import Schedule


@pytest.fixture
async def sdb(db_url: str) -> AsyncIterator[Database]:
    if not db_url.startswith("sqlite"):
        pytest.skip("the writer queue is SQLite's (PostgreSQL has many writers)")
    db = Database(db_url)
    yield db
    await db.dispose()


def _row(tag: str) -> dict[str, object]:
    return {
        "name": f"{tag}-{secrets.token_hex(6)}",
        "kind": "test.writers",
        "interval_s": 60,
        "next_run_at": datetime.now(UTC),
    }


async def test_writers_go_in_arrival_order(sdb: Database) -> None:
    # Open the pool's 8 lasting connections first: opening one takes a variable time, which would
    # decide the order of arrival at the first statement instead of the order of the tasks.
    opened = asyncio.Event()

    async def reader() -> None:
        async with sdb.transaction(write=False) as session:
            await session.execute(select(1))
            await opened.wait()

    readers = [asyncio.create_task(reader()) for _ in range(8)]
    await asyncio.sleep(0.5)
    opened.set()
    await asyncio.gather(*readers)
    order: list[int] = []

    async def writer(i: int) -> None:
        async with sdb.transaction() as session:
            await session.execute(insert(Schedule), [_row(f"w{i}")])
            order.append(i)
            await asyncio.sleep(0.005)  # hold the write lock a while, as a request would

    tasks = []
    for i in range(8):
        tasks.append(asyncio.create_task(writer(i)))
        await asyncio.sleep(0)  # each one asks for the lock before the next is started
    async with asyncio.timeout(10):
        await asyncio.gather(*tasks)
    assert order == list(range(8))


async def test_a_failed_writer_gives_its_place_up_and_readers_never_queue(sdb: Database) -> None:
    async def failing_writer() -> None:
        async with sdb.transaction() as session:
            await session.execute(insert(Schedule), [_row("failed")])
            raise RuntimeError("after a write, before the commit")

    with pytest.raises(RuntimeError):
        await failing_writer()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def slow_writer() -> None:
        async with sdb.transaction() as session:
            await session.execute(insert(Schedule), [_row("slow")])
            holding.set()
            await release.wait()

    task = asyncio.create_task(slow_writer())
    async with asyncio.timeout(5):  # far below busy_timeout: nobody waited for a lost place
        await holding.wait()
        async with sdb.transaction(write=False) as session:  # a reader passes a held queue
            count = select(func.count()).select_from(Schedule)
            assert (await session.execute(count)).scalar_one() >= 1
        release.set()
        await task
        async with sdb.transaction() as session:
            await session.execute(insert(Schedule), [_row("after")])
