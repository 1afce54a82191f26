"""The job runner on both databases: idempotent enqueue, retries with backoff, dead jobs, leases,
fencing, graceful hand-back, schedules that run once, and (PostgreSQL) SKIP LOCKED claims.

Runners only claim kinds they know, so each test uses kinds of its own in the shared database.
Time is a clock the test moves; nothing waits on a sleep.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import Job, Schedule
from fieldpunch.jobs.queue import NewJob, backoff, enqueue, enqueue_many
from fieldpunch.jobs.runner import (
    Defer,
    Fail,
    JobContext,
    JobKind,
    PeriodicTask,
    Retry,
    Runner,
    _advance,
)
from tests.conftest import TEST_SECRET


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
async def jdb(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url)
    yield db
    await db.dispose()


@pytest.fixture
def jsettings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=db_url, data_dir=tmp_path, secret_key=TEST_SECRET)


def kind_name() -> str:
    return f"test.{secrets.token_hex(4)}"


def runner(
    db: Database, settings: Settings, kinds: list[JobKind], clock: Clock, **kw: object
) -> Runner:
    return Runner(db, settings, kinds, clock=clock, lease_s=30, poll_s=0.05, **kw)  # type: ignore[arg-type]


async def put(db: Database, *jobs: NewJob, now: datetime | None = None) -> list[str]:
    async with db.transaction() as session:
        return await enqueue_many(session, list(jobs), now)


async def job(db: Database, job_id: str) -> Job:
    async with db.transaction(write=False) as session:
        row = await session.get(Job, job_id)
        assert row is not None
        return row


async def test_enqueue_is_idempotent_by_key(jdb: Database) -> None:
    kind, key = kind_name(), f"k:{secrets.token_hex(4)}"
    async with jdb.transaction() as session:
        first = await enqueue(session, kind, {"n": 1}, key=key)
        again = await enqueue(session, kind, {"n": 2}, key=key)
    assert first is not None and again is None
    async with jdb.transaction() as session:
        assert await enqueue(session, kind, {"n": 3}, key=key) is None  # committed: still one
        count = await session.scalar(select(func.count()).where(Job.idempotency_key == key))
    assert count == 1 and (await job(jdb, first)).payload == {"n": 1}


async def test_retries_with_backoff_then_succeeds(jdb: Database, jsettings: Settings) -> None:
    clock, kind, calls = Clock(), kind_name(), []

    async def flaky(ctx: JobContext) -> None:
        calls.append(ctx.job.attempts)
        if len(calls) < 3:
            raise ConnectionError("endpoint down")

    r = runner(jdb, jsettings, [JobKind(kind, flaky)], clock)
    (job_id,) = await put(jdb, NewJob(kind, {}), now=clock.now)
    assert await r.drain() == 1
    row = await job(jdb, job_id)
    assert row.status == "queued" and row.attempts == 1
    assert "ConnectionError: endpoint down" in (row.last_error or "")
    # First retry after 5–10 s (equal jitter on 10 s); not before.
    assert clock.now + timedelta(seconds=5) <= row.run_at <= clock.now + timedelta(seconds=10)
    assert await r.drain() == 0
    clock.advance(seconds=10)
    assert await r.drain() == 1
    clock.advance(seconds=20)
    assert await r.drain() == 1
    row = await job(jdb, job_id)
    assert (row.status, row.attempts, calls) == ("done", 3, [1, 2, 3])
    assert row.done_at == clock.now and row.locked_by == r.name and row.locked_until is None
    await r.http.aclose()


async def test_dead_after_max_attempts_and_kept(jdb: Database, jsettings: Settings) -> None:
    clock, kind = Clock(), kind_name()

    async def broken(ctx: JobContext) -> None:
        raise ValueError(f"bad payload {ctx.job.payload}")

    r = runner(jdb, jsettings, [JobKind(kind, broken)], clock)
    (job_id,) = await put(jdb, NewJob(kind, {"x": 1}, max_attempts=3), now=clock.now)
    for _ in range(3):
        await r.drain()
        clock.advance(hours=2)
    row = await job(jdb, job_id)
    assert (row.status, row.attempts) == ("dead", 3) and "bad payload" in (row.last_error or "")
    assert await r.drain() == 0  # dead stays dead, and stays in the table
    assert r.stats.dead == 1 and r.stats.retried == 2
    await r.http.aclose()


async def test_fail_retry_after_and_defer(jdb: Database, jsettings: Settings) -> None:
    clock = Clock()
    k_fail, k_retry, k_defer = kind_name(), kind_name(), kind_name()
    later = clock.now + timedelta(hours=1)

    async def fail(ctx: JobContext) -> None:
        raise Fail("webhook URL was deleted")

    async def retry(ctx: JobContext) -> None:
        raise Retry("HTTP 429", after_s=120)

    async def defer(ctx: JobContext) -> None:
        if ctx.now() < later:
            raise Defer(later)

    r = runner(
        jdb,
        jsettings,
        [JobKind(k_fail, fail), JobKind(k_retry, retry), JobKind(k_defer, defer)],
        clock,
    )
    ids = await put(
        jdb, NewJob(k_fail, {}), NewJob(k_retry, {}), NewJob(k_defer, {}), now=clock.now
    )
    await r.drain()
    failed, retried, deferred = [await job(jdb, i) for i in ids]
    assert (failed.status, failed.attempts, failed.last_error) == (
        "dead",
        1,
        "webhook URL was deleted",
    )
    assert retried.status == "queued" and retried.run_at == clock.now + timedelta(seconds=120)
    assert (deferred.status, deferred.attempts, deferred.run_at) == ("queued", 0, later)
    clock.now = later
    await r.drain()
    assert (await job(jdb, ids[2])).status == "done"
    await r.http.aclose()


async def test_expired_lease_is_retried_and_the_late_worker_is_fenced(
    jdb: Database, jsettings: Settings
) -> None:
    """A worker that stops answering (killed, hung) loses its job when its lease runs out."""
    clock, kind, ran = Clock(), kind_name(), []

    async def work(ctx: JobContext) -> None:
        ran.append(ctx.job.attempts)

    dead = runner(jdb, jsettings, [JobKind(kind, work)], clock, name="dead-worker")
    alive = runner(jdb, jsettings, [JobKind(kind, work)], clock, name="alive-worker")
    (job_id,) = await put(jdb, NewJob(kind, {}), now=clock.now)
    (claimed,) = await dead._claim(1)  # claims, then "dies" before running it
    row = await job(jdb, job_id)
    assert (row.status, row.locked_by, row.attempts) == ("running", "dead-worker", 1)
    assert await alive.drain() == 0  # the lease holds
    clock.advance(seconds=31)
    assert await alive.drain() == 1
    row = await job(jdb, job_id)
    assert (row.status, row.locked_by, row.attempts, ran) == ("done", "alive-worker", 2, [2])
    # The first worker comes back and reports: its outcome is refused (fenced by attempt).
    await dead._run(claimed)
    assert dead.stats.lost == 1 and (await job(jdb, job_id)).status == "done"
    await dead.http.aclose()
    await alive.http.aclose()


async def test_a_job_whose_worker_keeps_dying_ends_dead(jdb: Database, jsettings: Settings) -> None:
    clock, kind = Clock(), kind_name()

    async def work(ctx: JobContext) -> None:
        return None

    r = runner(jdb, jsettings, [JobKind(kind, work)], clock)
    (job_id,) = await put(jdb, NewJob(kind, {}, max_attempts=2), now=clock.now)
    for _ in range(2):
        assert len(await r._claim(1)) == 1  # claimed; the worker "dies" each time
        clock.advance(seconds=31)
    assert await r._claim(1) == []
    row = await job(jdb, job_id)
    assert row.status == "dead" and "never finished" in (row.last_error or "")
    await r.http.aclose()


async def test_stop_hands_back_a_job_that_outlives_the_grace(
    jdb: Database, jsettings: Settings
) -> None:
    kind, started, release = kind_name(), asyncio.Event(), asyncio.Event()

    async def slow(ctx: JobContext) -> None:
        started.set()
        await release.wait()

    r = Runner(jdb, jsettings, [JobKind(kind, slow)], poll_s=0.05)
    (job_id,) = await put(jdb, NewJob(kind, {}))
    await r.start()
    await asyncio.wait_for(started.wait(), 30)
    await r.stop(grace_s=0.05)
    row = await job(jdb, job_id)
    # Back in the queue, due now, the interrupted attempt not counted.
    assert (row.status, row.attempts, row.locked_until) == ("queued", 0, None)
    assert r.stats.released == 1
    # Another worker runs it at once.
    release.set()
    other = runner(jdb, jsettings, [JobKind(kind, slow)], Clock())
    assert await other.drain() == 1 and (await job(jdb, job_id)).status == "done"
    await other.http.aclose()


async def test_stop_lets_a_running_job_finish_within_the_grace(
    jdb: Database, jsettings: Settings
) -> None:
    kind, started, release = kind_name(), asyncio.Event(), asyncio.Event()

    async def slow(ctx: JobContext) -> None:
        started.set()
        await release.wait()

    r = Runner(jdb, jsettings, [JobKind(kind, slow)], poll_s=0.05)
    (job_id,) = await put(jdb, NewJob(kind, {}))
    await r.start()
    await asyncio.wait_for(started.wait(), 30)
    stopping = asyncio.create_task(r.stop(grace_s=30))
    await asyncio.sleep(0)  # one turn of the loop: stop() has begun, no new claims from here on
    assert r._stopping
    release.set()
    await asyncio.wait_for(stopping, 30)
    assert (await job(jdb, job_id)).status == "done" and r.stats.released == 0


async def test_periodic_task_runs_once_per_slot_across_workers(
    jdb: Database, jsettings: Settings
) -> None:
    clock, kind, slots = Clock(), kind_name(), []
    name = f"sched-{secrets.token_hex(4)}"

    async def tick(ctx: JobContext) -> None:
        slots.append(ctx.job.payload["slot"])

    task = PeriodicTask(name, kind, 60)
    a = runner(jdb, jsettings, [JobKind(kind, tick)], clock, schedules=[task])
    b = runner(jdb, jsettings, [JobKind(kind, tick)], clock, schedules=[task])
    await a.sync_schedules()
    await b.sync_schedules()  # a second worker starting: no second row, no reset
    async with jdb.transaction(write=False) as session:
        first = (await session.get(Schedule, name)).next_run_at  # type: ignore[union-attr]
    assert first == clock.now + timedelta(seconds=60)
    assert await a.tick() + await b.tick() == 0  # not due yet
    clock.advance(seconds=60)
    made = await asyncio.gather(a.tick(), b.tick())
    assert sorted(made) == [0, 1]
    await a.drain()
    await b.drain()
    assert slots == [first.isoformat()]
    # Down for an hour: one run, not sixty, and the grid is kept.
    clock.advance(hours=1)
    assert await b.tick() + await a.tick() == 1
    async with jdb.transaction(write=False) as session:
        nxt = (await session.get(Schedule, name)).next_run_at  # type: ignore[union-attr]
    assert nxt == first + timedelta(seconds=61 * 60) and nxt > clock.now
    await a.http.aclose()
    await b.http.aclose()


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    for attempt, base in [(1, 10), (2, 20), (3, 40), (8, 1280), (9, 2560), (20, 3600)]:
        for _ in range(50):
            d = backoff(attempt, rng).total_seconds()
            assert base / 2 <= d <= base
    now = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=5)
    assert _advance(now + step, step, now) == now + step
    assert _advance(now, step, now) == now + step
    assert _advance(now - 3 * step - timedelta(seconds=1), step, now) == now + step - timedelta(
        seconds=1
    )


async def test_workers_never_run_one_job_twice(db_url: str, jsettings: Settings) -> None:
    """Two runners, each on its own pool, race for 300 jobs: every job runs exactly once."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: claims cannot overlap there")
    kind, runs = kind_name(), Counter[str]()
    by_worker = Counter[str]()

    async def work(ctx: JobContext) -> None:
        runs[ctx.job.id] += 1
        await asyncio.sleep(0)  # yield, so the other runner's claims interleave with ours

    dbs = [Database(db_url), Database(db_url)]
    runners = [
        Runner(db, jsettings, [JobKind(kind, work)], concurrency=8, poll_s=0.01) for db in dbs
    ]
    ids = await put(dbs[0], *[NewJob(kind, {"i": i}) for i in range(300)])
    await asyncio.gather(*(r.drain() for r in runners))
    assert len(runs) == 300 and set(runs.values()) == {1}
    async with dbs[0].transaction(write=False) as session:
        for worker, n in (
            await session.execute(
                select(Job.locked_by, func.count())
                .where(Job.id.in_(ids), Job.status == "done")
                .group_by(Job.locked_by)
            )
        ).all():
            by_worker[worker] = n
    assert sum(by_worker.values()) == 300 and len(by_worker) == 2, by_worker
    for r, db in zip(runners, dbs, strict=True):
        await r.http.aclose()
        await db.dispose()
