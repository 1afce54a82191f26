"""Outbox followers: a job reads the events the data's own transactions wrote, in id order,
and never misses one, without the writers knowing it exists.

A follower keeps a cursor (`outbox_cursors`): every id at or below it was handed to it. Each
read takes the events after the cursor, hands those of its topics to the handler (in the same
transaction as the cursor's move), and moves the cursor past every event that is there.

Holes: on PostgreSQL an id is taken at INSERT and visible at COMMIT, and transactions commit in
any order, so a missing id may still commit (the relay meets the same, jobs/relay.py). The
cursor reads on past a hole and remembers it (`holes`, each with the time it gives up on it:
`HOLE_GRACE` after the event that revealed it; a transaction holding an outbox id that long has
rolled back). Each read looks first for remembered holes that have since committed, so an event
is handed over once, whether it committed in order or late; handlers are idempotent all the
same (a unique key on what they write), because a crash between the handler and the cursor's
move cannot happen but a retry after a failed commit can. SQLite writers are serial: ids commit
in order there, and it has no holes.

The outbox is pruned of published events after a week (jobs/periodic.py): a follower stopped
longer than that misses what was pruned. SQLite reuses ids once the table is empty (the
column has no AUTOINCREMENT): a cursor above the newest id then starts over from zero.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxCursor, OutboxEvent
from fieldpunch.jobs.queue import upsert_insert

HOLE_GRACE = timedelta(minutes=5)
BATCH = 500
# More missing ids than this in one gap is no transaction still committing (a batch holds
# hundreds at most): such a gap is passed over, not remembered id by id.
MAX_GAP = 10_000


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    org_id: str
    topic: str
    payload: dict[str, Any]


Handler = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]
Holes = dict[int, datetime]  # a missing id → when the cursor gives up waiting for it


def advance(
    last: int,
    holes: Holes,
    filled: Iterable[int],
    rows: Sequence[tuple[int, datetime]],
    now: datetime,
) -> tuple[int, Holes]:
    """The cursor after reading `rows` ((id, created_at) after `last`, in id order) and the
    remembered holes that have now committed (`filled`): the highest id read, and the holes
    still worth waiting for at `now`, each given up `HOLE_GRACE` after the event revealing it."""
    done = set(filled)
    open_ = {i: until for i, until in holes.items() if i not in done}
    for row_id, created_at in rows:
        until = created_at + HOLE_GRACE
        if 1 < row_id - last <= MAX_GAP and until > now:
            open_.update(dict.fromkeys(range(last + 1, row_id), until))
        last = row_id
    return last, waiting(open_, now)


def waiting(holes: Holes, now: datetime) -> Holes:
    """The holes still worth looking for at `now`."""
    return {i: until for i, until in holes.items() if until > now}


def _stored(holes: Holes) -> list[list[Any]]:
    return [[i, until.isoformat()] for i, until in sorted(holes.items())]


def _loaded(raw: list[Any] | None) -> Holes:
    return {int(i): datetime.fromisoformat(until) for i, until in raw or []}


async def _cursor(session: AsyncSession, name: str, now: datetime, pg: bool) -> tuple[int, Holes]:
    """The follower's cursor, locked for this transaction (created at 0 the first time)."""
    stmt = upsert_insert(session, OutboxCursor).values(
        name=name, last_id=0, holes=[], updated_at=now
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
    read = select(OutboxCursor.last_id, OutboxCursor.holes).where(OutboxCursor.name == name)
    last, holes = (await session.execute(read.with_for_update() if pg else read)).one()
    newest = (await session.execute(select(func.max(OutboxEvent.id)))).scalar()
    if newest is not None and newest < last:
        return 0, {}  # SQLite reused ids after the table emptied: start over
    return int(last), waiting(_loaded(holes), now)


async def follow(
    db: Database,
    name: str,
    topics: frozenset[str],
    handler: Handler,
    now: Callable[[], datetime],
    batch: int = BATCH,
) -> int:
    """Hand every new event of `topics` to `handler`, a batch per transaction, until caught
    up. Returns how many events were handed over."""
    handed = 0
    columns = (
        OutboxEvent.id,
        OutboxEvent.created_at,
        OutboxEvent.org_id,
        OutboxEvent.topic,
        OutboxEvent.payload,
    )
    while True:
        async with db.transaction() as session:
            at = now()
            last, holes = await _cursor(session, name, at, db.dialect == "postgresql")
            late: Sequence[Row[Any]] = []
            if holes:
                late = (
                    await session.execute(
                        select(*columns)
                        .where(OutboxEvent.id.in_(list(holes)))
                        .order_by(OutboxEvent.id)
                    )
                ).all()
            rows = (
                await session.execute(
                    select(*columns)
                    .where(OutboxEvent.id > last)
                    .order_by(OutboxEvent.id)
                    .limit(batch)
                )
            ).all()
            events = [
                Event(r.id, r.org_id, r.topic, r.payload)
                for r in (*late, *rows)
                if r.topic in topics
            ]
            if events:
                await handler(session, events)
                handed += len(events)
            read = [(r.id, r.created_at) for r in rows]
            moved = advance(last, holes, [r.id for r in late], read, at)
            if moved != (last, holes):
                await session.execute(
                    update(OutboxCursor)
                    .where(OutboxCursor.name == name)
                    .values(last_id=moved[0], holes=_stored(moved[1]), updated_at=at)
                )
        if len(rows) < batch:
            return handed  # caught up: the next run looks again
