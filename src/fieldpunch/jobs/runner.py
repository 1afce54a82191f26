"""The job runner: claims due jobs, runs their handlers, retries, and ticks the schedules.

Over 450 lines on purpose: the claim, the lease and the fenced finish below are one protocol,
read together. The same code runs in `fieldpunch worker` and, in embedded mode, inside `serve`.

- Claims: PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so several workers take disjoint jobs;
  SQLite claims under `BEGIN IMMEDIATE` (one writer at a time), which is as exclusive.
- A claim is a lease (`locked_until`): a worker killed mid-job leaves its job to be claimed again
  when the lease runs out. Completion is fenced on (worker, attempt), so a worker that lost its
  lease cannot overwrite the outcome of the one that took over.
- Delivery is at least once: handlers are idempotent (unique keys on what they write) and
  external messages carry a stable id so receivers can drop repeats.
- Stop (SIGTERM): no new claims; running jobs get `grace_s` to finish, then are cancelled and
  handed back (queued, the attempt not counted). Nothing is lost either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select, update

from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import Job, Schedule
from fieldpunch.jobs.queue import backoff, enqueue, upsert_insert
from fieldpunch.kit.clock import utcnow

if TYPE_CHECKING:
    from fieldpunch.config import Settings

log = logging.getLogger("fieldpunch.jobs")
ACTIVE = ("queued", "running")
CANCEL_WAIT_S = 1.0


class Retry(Exception):
    """Try again later: after `after_s` (e.g. a Retry-After), else the backoff. Counts."""

    def __init__(self, reason: str, after_s: float | None = None) -> None:
        super().__init__(reason)
        self.after_s = after_s


class Fail(Exception):
    """Will never succeed (bad configuration, recipient gone): dead at once, with the reason."""


class Defer(Exception):
    """Not due yet after all: run again at `until`, without counting an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"deferred to {until.isoformat()}")
        self.until = until


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    kind: str
    payload: dict[str, Any]
    org_id: str | None
    attempts: int  # this run's attempt number (1-based): the fencing token with the worker name
    max_attempts: int
    key: str | None


@dataclass
class JobContext:
    """What a handler gets: the database (handlers open their own transactions), settings,
    a shared HTTP client, the job, and the clock (tests move it)."""

    db: Database
    settings: Settings
    http: httpx.AsyncClient
    job: Claimed
    clock: Callable[[], datetime] = utcnow

    def now(self) -> datetime:
        return self.clock()


Handler = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    handler: Handler
    timeout_s: float = 60.0


@dataclass(frozen=True, slots=True)
class PeriodicTask:
    """Enqueue one `kind` job every `interval_s`, once across all workers."""

    name: str
    kind: str
    interval_s: int
    max_attempts: int = 3


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: str  # done | queued | dead | released
    error: str | None = None
    run_at: datetime | None = None


def _advance(slot: datetime, interval: timedelta, now: datetime) -> datetime:
    """The next slot after `now` on the grid of `slot`: missed slots are skipped, not replayed."""
    if slot > now:
        return slot
    missed = (now - slot) // interval
    return slot + (missed + 1) * interval


def worker_name(prefix: str = "worker") -> str:
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class _Stats:
    done: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    lost: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class Runner:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        kinds: Sequence[JobKind],
        *,
        name: str | None = None,
        schedules: Sequence[PeriodicTask] = (),
        concurrency: int = 4,
        lease_s: float = 120.0,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        after_job: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.settings = db, settings
        self.kinds = {k.name: k for k in kinds}
        self.name = name or worker_name()
        self.schedules = {s.name: s for s in schedules}
        self.concurrency, self.lease_s, self.poll_s = concurrency, lease_s, poll_s
        self.clock, self.after_job = clock, after_job
        self.stats = _Stats()
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(15.0), follow_redirects=False, trust_env=False
        )
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[asyncio.Task[None], Claimed] = {}
        self._backlog = False

    # lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.sync_schedules()
        self._loop_task = asyncio.create_task(self._loop(), name=f"jobs:{self.name}")

    def kick(self) -> None:
        """Look for due jobs now (e.g. after a commit that enqueued some)."""
        self._wake.set()

    async def stop(self, grace_s: float = 20.0) -> None:
        """Stop claiming; give running jobs `grace_s`, then hand the rest back to the queue."""
        self._stopping = True
        # Jobs finishing now do not poke other components, which are shutting down too (and
        # a task cancelled right after its wake-up event fired loses the cancellation to
        # Python 3.11's `asyncio.wait_for`).
        self.after_job = None
        self._wake.set()
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._running:
            _, pending = await asyncio.wait(list(self._running), timeout=grace_s)
            for task in pending:
                task.cancel()  # each hands its job back as it unwinds
            if pending:
                _, stuck = await asyncio.wait(pending, timeout=CANCEL_WAIT_S)
                # A client library that lingers on cancellation (say, a polite QUIT to an
                # SMTP server that does not answer) must not hold the shutdown: hand back here.
                for task in stuck:
                    with contextlib.suppress(Exception):
                        await self._finish(self._running[task], _Outcome("released"))
        await self.http.aclose()

    async def _loop(self) -> None:
        next_tick = 0.0
        while not self._stopping:
            self._wake.clear()
            if self.schedules and time.monotonic() >= next_tick:
                next_tick = time.monotonic() + min(self.poll_s, 1.0)
                try:
                    await self.tick()
                except Exception:
                    log.exception("schedule tick failed")
            free = self.concurrency - len(self._running)
            claimed: list[Claimed] = []
            if free > 0:
                try:
                    claimed = await self._claim(free)
                except Exception:
                    log.exception("claiming jobs failed")
            for c in claimed:
                task = asyncio.create_task(self._run(c), name=f"job:{c.kind}:{c.id}")
                self._running[task] = c
                task.add_done_callback(self._finished)
            if claimed and len(claimed) == free:
                continue  # a full batch: there may be more due right now
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await self._wake.wait()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()  # a slot is free

    # for tests and one-shot use -----------------------------------------------------------------

    async def drain(self, max_rounds: int = 1000) -> int:
        """Run every due job now, in this task, until none is due; returns how many ran."""
        ran = 0
        for _ in range(max_rounds):
            claimed = await self._claim(self.concurrency)
            if not claimed:
                return ran
            await asyncio.gather(*(self._run(c) for c in claimed))
            ran += len(claimed)
        return ran

    # claiming -----------------------------------------------------------------------------------

    def _due(self, now: datetime) -> Any:
        # Only kinds this worker can run: during a rolling upgrade an older worker leaves a new
        # kind's jobs queued for a newer one instead of failing them.
        return select(Job).where(
            Job.status.in_(ACTIVE), Job.run_at <= now, Job.kind.in_(list(self.kinds))
        )

    async def _claim(self, limit: int) -> list[Claimed]:
        now = self.clock()
        # A cheap read first: on SQLite an empty poll must not take the write lock. Skipped
        # while the last claim came back full (a backlog: there is surely more).
        if not self._backlog:
            async with self.db.transaction(write=False) as session:
                probe = self._due(now).with_only_columns(Job.id).limit(1)
                if (await session.execute(probe)).first() is None:
                    return []
        claimed: list[Claimed] = []
        async with self.db.transaction() as session:
            stmt = self._due(now).order_by(Job.run_at, Job.id).limit(limit)
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            lease_end = now + timedelta(seconds=self.lease_s)
            for job in (await session.execute(stmt)).scalars():
                if job.status == "running":
                    log.warning(
                        "job lease expired: its worker died or hung",
                        extra={"job_id": job.id, "kind": job.kind, "locked_by": job.locked_by},
                    )
                if job.attempts >= job.max_attempts:
                    # Its last attempt never reported back (e.g. it kills the worker each time).
                    job.status, job.done_at, job.locked_until = "dead", now, None
                    job.last_error = (
                        f"attempt {job.attempts} of {job.max_attempts} never finished "
                        f"(worker {job.locked_by} died or hung)"
                    )
                    self.stats.dead += 1
                    continue
                job.status, job.attempts = "running", job.attempts + 1
                job.locked_by, job.locked_until, job.run_at = self.name, lease_end, lease_end
                claimed.append(
                    Claimed(
                        job.id,
                        job.kind,
                        job.payload,
                        job.org_id,
                        job.attempts,
                        job.max_attempts,
                        job.idempotency_key,
                    )
                )
        self._backlog = len(claimed) == limit
        return claimed

    # running ------------------------------------------------------------------------------------

    async def _run(self, c: Claimed) -> None:
        try:
            outcome = await self._execute(c)
            await self._finish(c, outcome)
        except asyncio.CancelledError:
            # Stopped after the grace period: hand the job back so another worker runs it now.
            with contextlib.suppress(Exception):
                await self._finish(c, _Outcome("released"))
            raise
        except Exception:
            # The database is unreachable: the lease runs out and the job is retried.
            log.exception("could not record a job's outcome", extra={"job_id": c.id})

    async def _execute(self, c: Claimed) -> _Outcome:
        kind = self.kinds[c.kind]
        ctx = JobContext(self.db, self.settings, self.http, c, self.clock)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(min(kind.timeout_s, self.lease_s * 0.8)):
                await kind.handler(ctx)
        except Retry as exc:
            wait = timedelta(seconds=exc.after_s) if exc.after_s is not None else None
            return self._failed(c, str(exc), wait)
        except Fail as exc:
            return _Outcome("dead", str(exc))
        except Defer as exc:
            return _Outcome("deferred", None, exc.until)
        except TimeoutError:
            return self._failed(c, "timed out", None)
        except Exception as exc:
            log.warning(
                "job failed",
                exc_info=True,
                extra={"job_id": c.id, "kind": c.kind, "attempt": c.attempts},
            )
            return self._failed(c, f"{type(exc).__name__}: {exc}"[:2000], None)
        log.debug(
            "job done",
            extra={
                "job_id": c.id,
                "kind": c.kind,
                "attempt": c.attempts,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return _Outcome("done")

    def _failed(self, c: Claimed, error: str, after: timedelta | None) -> _Outcome:
        if c.attempts >= c.max_attempts:
            return _Outcome("dead", error)
        return _Outcome("queued", error, self.clock() + (after or backoff(c.attempts)))

    async def _finish(self, c: Claimed, outcome: _Outcome) -> None:
        now = self.clock()
        values: dict[str, Any] = {"locked_until": None}
        if outcome.status == "done":
            values.update(status="done", done_at=now)
        elif outcome.status == "dead":
            values.update(status="dead", done_at=now, last_error=outcome.error)
        elif outcome.status == "queued":
            values.update(status="queued", run_at=outcome.run_at, last_error=outcome.error)
        else:  # released or deferred: this attempt does not count
            values.update(status="queued", run_at=outcome.run_at or now, attempts=Job.attempts - 1)
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Job)
                .where(
                    Job.id == c.id,
                    Job.status == "running",
                    Job.locked_by == self.name,
                    Job.attempts == c.attempts,
                )
                .values(**values)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            # Our lease ran out and another worker took the job over: its outcome stands.
            self.stats.lost += 1
            log.warning("job lease lost before it finished", extra={"job_id": c.id})
            return
        self._count(c, outcome)
        if self.after_job is not None and outcome.status == "done":
            self.after_job()

    def _count(self, c: Claimed, outcome: _Outcome) -> None:
        if outcome.status == "done":
            self.stats.done += 1
            self.stats.by_kind[c.kind] = self.stats.by_kind.get(c.kind, 0) + 1
        elif outcome.status == "queued":
            self.stats.retried += 1
            log.info(
                "job will be retried",
                extra={
                    "job_id": c.id,
                    "kind": c.kind,
                    "error": outcome.error,
                    "attempt": c.attempts,
                    "run_at": outcome.run_at,
                },
            )
        elif outcome.status == "dead":
            self.stats.dead += 1
            log.error(
                "job dead",
                extra={
                    "job_id": c.id,
                    "kind": c.kind,
                    "error": outcome.error,
                    "attempts": c.attempts,
                },
            )
        elif outcome.status == "released":
            self.stats.released += 1
            log.info("job handed back at shutdown", extra={"job_id": c.id, "kind": c.kind})

    # schedules ----------------------------------------------------------------------------------

    async def sync_schedules(self) -> None:
        """Make sure every periodic task has its row (several workers may start at once)."""
        if not self.schedules:
            return
        now = self.clock()
        async with self.db.transaction() as session:
            for task in self.schedules.values():
                first = now + timedelta(seconds=task.interval_s)
                stmt = upsert_insert(session, Schedule).values(
                    name=task.name,
                    kind=task.kind,
                    interval_s=task.interval_s,
                    next_run_at=first,
                    last_run_at=None,
                )
                await session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
                row = await session.get(Schedule, task.name)
                assert row is not None
                row.kind = task.kind
                if row.interval_s != task.interval_s:
                    row.interval_s = task.interval_s
                    row.next_run_at = min(row.next_run_at, first)

    async def tick(self) -> int:
        """Enqueue the job of every due periodic task whose row this worker locks first."""
        now = self.clock()
        names = list(self.schedules)
        due = select(Schedule).where(Schedule.name.in_(names), Schedule.next_run_at <= now)
        async with self.db.transaction(write=False) as session:
            if (
                await session.execute(due.with_only_columns(Schedule.name).limit(1))
            ).first() is None:
                return 0
        made = 0
        async with self.db.transaction() as session:
            stmt = due.order_by(Schedule.name)
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            for row in (await session.execute(stmt)).scalars():
                task = self.schedules[row.name]
                slot = row.next_run_at
                # The key names the slot: even two ticks that both saw it due make one job.
                made += (
                    await enqueue(
                        session,
                        row.kind,
                        {"slot": slot.isoformat()},
                        key=f"schedule:{row.name}:{slot.isoformat()}",
                        max_attempts=task.max_attempts,
                        now=now,
                    )
                    is not None
                )
                row.last_run_at = now
                row.next_run_at = _advance(slot, timedelta(seconds=row.interval_s), now)
        if made:
            self._wake.set()
        return made
