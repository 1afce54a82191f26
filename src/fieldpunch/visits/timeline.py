"""A customer's timeline (GET /customers/{id}/timeline): its visits, tasks and task comments in
one list, newest first, paged by a (time, id) cursor; with the customer's last visit.

Each source is read newest first from the cursor on (at most a page and one more each, by the
customer's indexes) and the three are merged, so a page costs three bounded reads however long
the history. What the caller may see is the API's: visits of people they see, tasks they see
(and those tasks' comments). A visit's time is its check-in, else its planned start, else when
it was planned.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.customers.models import Customer
from fieldpunch.db.scoped import get_scoped
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.errors import Invalid
from fieldpunch.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from fieldpunch.kit.schemas import Out
from fieldpunch.tasks import repository as tasks
from fieldpunch.tasks.models import Task, TaskComment
from fieldpunch.users.models import User
from fieldpunch.visits.models import Visit
from fieldpunch.visits.repository import VisitRepo

router = APIRouter(prefix="/customers", tags=["customers"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.customers_read)]


class TimelineItem(Out):
    type: str = Field(description="visit, task or comment")
    id: str
    at: datetime = Field(description="A visit's check-in (else planned start, else creation); "
                         "a task's or comment's creation")  # fmt: skip
    user_id: str | None = Field(
        description="Who visited, the task's assignee, the comment's author"
    )
    title: str = Field(description="The visit's purpose, the task's title, the comment's text")
    state: str | None = Field(description="The visit's state or the task's status")
    detail: dict[str, Any] = Field(description="The rest: note, outcome, duration, due, task_id")


class Timeline(Out):
    customer_id: str
    last_visit_at: datetime | None = Field(description="The latest check-in there, by anyone")
    visits_done: int = Field(description="Visits done there, all time, that you may see")
    items: list[TimelineItem]
    next_cursor: str | None


def _encode(at: datetime, id_: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([at.isoformat(), id_])).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        at, id_ = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), str(id_)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid(["query", "cursor"], "not a cursor this API issued") from None


def _before(at: Any, id_: Any, cursor: tuple[datetime, str] | None) -> Any:
    if cursor is None:
        return True
    return or_(at < cursor[0], and_(at == cursor[0], id_ < cursor[1]))


async def timeline(
    session: AsyncSession, p: Principal, customer_id: str, limit: int, cursor: str | None
) -> Timeline:
    await get_scoped(session, Customer, p.org_id, customer_id, what="customer")
    after = _decode(cursor) if cursor is not None else None
    n = limit + 1
    people = p.user_filter(User.id, User.team_id)
    visits = VisitRepo.visible(p.org_id, people).where(Visit.customer_id == customer_id)
    v_at = func.coalesce(Visit.started_at, Visit.planned_start, Visit.created_at)
    v_rows = (await session.execute(
        visits.add_columns(v_at).where(_before(v_at, Visit.id, after))
        .order_by(v_at.desc(), Visit.id.desc()).limit(n)
    )).all()  # fmt: skip
    seen_tasks = tasks.visible(p.org_id, people, p.user_id).where(Task.customer_id == customer_id)
    t_rows = (await session.execute(
        seen_tasks.where(_before(Task.created_at, Task.id, after))
        .order_by(Task.created_at.desc(), Task.id.desc()).limit(n)
    )).scalars().all()  # fmt: skip
    task_ids = seen_tasks.with_only_columns(Task.id).scalar_subquery()
    c_rows = (await session.execute(
        select(TaskComment).where(
            TaskComment.org_id == p.org_id, TaskComment.task_id.in_(task_ids),
            _before(TaskComment.created_at, TaskComment.id, after),
        ).order_by(TaskComment.created_at.desc(), TaskComment.id.desc()).limit(n)
    )).scalars().all()  # fmt: skip
    items = [_visit(v, at) for v, at in v_rows] + [_task(t) for t in t_rows]
    items += [_comment(c) for c in c_rows]
    items.sort(key=lambda i: (i.at, i.id), reverse=True)
    more, items = len(items) > limit, items[:limit]
    summary = (await session.execute(
        visits.with_only_columns(
            func.max(Visit.started_at), func.count(Visit.id).filter(Visit.state == "done")
        )
    )).one()  # fmt: skip
    return Timeline(
        customer_id=customer_id,
        last_visit_at=summary[0],
        visits_done=int(summary[1] or 0),
        items=items,
        next_cursor=_encode(items[-1].at, items[-1].id) if more else None,
    )


def _visit(v: Visit, at: datetime) -> TimelineItem:
    detail = {"planned": v.planned, "note": v.note, "outcome": v.outcome,
              "duration_min": None if v.duration_s is None else round(v.duration_s / 60, 1),
              "next_follow_up": v.next_follow_up.isoformat() if v.next_follow_up else None,
              "ended_at": v.ended_at.isoformat() if v.ended_at else None}  # fmt: skip
    return TimelineItem(type="visit", id=v.id, at=at, user_id=v.user_id, title=v.purpose,
                        state=v.state, detail=detail)  # fmt: skip


def _task(t: Task) -> TimelineItem:
    detail = {"due": t.due.isoformat() if t.due else None, "priority": t.priority,
              "visit_id": t.visit_id, "created_by": t.created_by}  # fmt: skip
    return TimelineItem(type="task", id=t.id, at=t.created_at, user_id=t.assignee_id,
                        title=t.title, state=t.status, detail=detail)  # fmt: skip


def _comment(c: TaskComment) -> TimelineItem:
    return TimelineItem(type="comment", id=c.id, at=c.created_at, user_id=c.author,
                        title=c.body, state=None, detail={"task_id": c.task_id})  # fmt: skip


@router.get("/{customer_id}/timeline")
async def customer_timeline(
    session: Session,
    p: Reader,
    customer_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Timeline:
    """A customer's history, newest first: visits (plans and records), tasks and their
    comments, and the last visit's time. Only what you may see (staff: their own visits and
    tasks; managers: their teams'; admins: all)."""
    return await timeline(session, p, customer_id, limit, cursor)
