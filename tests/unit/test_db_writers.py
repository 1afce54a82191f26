"""SQLite writers queue in the process, in arrival order, instead of in SQLite's busy handler."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

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
    opened, all_open = asyncio.Event(), asyncio.Event()
    open_count = 0

    async def reader() -> None:
        nonlocal open_count
        async with sdb.transaction(write=False) as session:
            await session.execute(select(1))
            open_count += 1
            if open_count == 8:
                all_open.set()
            await opened.wait()

    readers = [asyncio.create_task(reader()) for _ in range(8)]
    async with asyncio.timeout(10):
        await all_open.wait()
    opened.set()
    await asyncio.gather(*readers)

    # A writer asks for its place as soon as it has a connection: the pool's checkout, then the
    # engine's "begin" (the queue), with no turn of the loop in between.
    asked = [asyncio.Event() for _ in range(8)]
    asking = iter(asked)

    def ask(*_: Any) -> None:
        next(asking).set()

    pool = sdb.engine.sync_engine.pool
    event.listen(pool, "checkout", ask)
    order: list[int] = []

    async def writer(i: int) -> None:
        async with sdb.transaction() as session:
            await session.execute(insert(Schedule), [_row(f"w{i}")])
            order.append(i)
            await asked[-1].wait()  # hold the write lock until every writer is queued behind

    tasks = []
    async with asyncio.timeout(10):
        for i in range(8):
            tasks.append(asyncio.create_task(writer(i)))
            await asked[i].wait()  # each one asks for the lock before the next is started
        await asyncio.gather(*tasks)
    event.remove(pool, "checkout", ask)
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
