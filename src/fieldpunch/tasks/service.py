"""Tasks: for a person, about a customer and maybe one of its visits, with comments.

Who sees a task: whoever sees its assignee (staff themselves, managers their teams, admins
all), and its creator. Staff assign tasks to themselves only, and delete only their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import Role
from fieldpunch.db.scoped import get_among
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden, Invalid, NotFound
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.tasks import repository as repo
from fieldpunch.tasks.models import Task, TaskComment
from fieldpunch.tasks.schemas import CommentOut, TaskCreate, TaskOut, TaskUpdate
from fieldpunch.users.models import User
from fieldpunch.visits import service as visits
from fieldpunch.visits.repository import VisitRepo
from fieldpunch.visits.service import utc

_NOT_NULL = ("title", "description", "priority", "status")


def to_out(t: Task, now: datetime | None = None) -> TaskOut:
    now = now or utcnow()
    overdue = t.due is not None and t.due < now and t.status in repo.OPEN
    fields = {k: getattr(t, k) for k in TaskOut.model_fields if k != "overdue"}
    return TaskOut(**fields, overdue=overdue)


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


async def _check_refs(session: AsyncSession, p: Principal, changes: dict[str, Any]) -> None:
    """Assignee one the caller may see, customer of the org, visit one the caller may see (and
    of that customer); a visit alone brings its customer. Each a 422 naming its field."""
    visit_repo = VisitRepo(session)
    if changes.get("assignee_id") is not None:
        people = await visit_repo.visible_people(
            p.org_id, [changes["assignee_id"]], p.user_filter(User.id, User.team_id)
        )
        if not people:
            raise Invalid(
                ["body", "assignee_id"], f"no such user you assign: {changes['assignee_id']}"
            )
    if changes.get("visit_id") is not None:
        try:
            visit = await visits.get_visible(session, p, changes["visit_id"])
        except NotFound:
            raise Invalid(["body", "visit_id"], f"no such visit: {changes['visit_id']}") from None
        if changes.get("customer_id") is None:
            changes["customer_id"] = visit.customer_id
        elif changes["customer_id"] != visit.customer_id:
            raise Invalid(["body", "visit_id"], "a visit to another customer")
    customer = changes.get("customer_id")
    if customer is not None and not await visit_repo.customers(p.org_id, [customer]):
        raise Invalid(["body", "customer_id"], f"no such customer: {customer}")


async def _assigned(session: AsyncSession, task: Task) -> None:
    """`task.assigned` on the live feed and webhooks (the assignee and who sees them)."""
    if task.assignee_id is not None:
        data = to_out(task).model_dump(mode="json")
        row = event_row(task.org_id, "task.assigned", data, utcnow(), task.assignee_id)
        await add_events(session, [row])


async def create(session: AsyncSession, p: Principal, body: TaskCreate) -> Task:
    data = body.model_dump()
    data["due"] = utc(data["due"])
    await _check_refs(session, p, data)
    now = utcnow()
    task = Task(id=new_id("tsk"), org_id=p.org_id, status="open", created_by=p.actor,
                created_at=now, updated_at=now, **data)  # fmt: skip
    session.add(task)
    await session.flush()
    await _assigned(session, task)
    record(
        session, p.org_id, p.actor, "task.created", "task", task.id,
        title=task.title, assignee_id=task.assignee_id, customer_id=task.customer_id,
    )  # fmt: skip
    return task


async def get_visible(session: AsyncSession, p: Principal, task_id: str) -> Task:
    rows = repo.visible(p.org_id, p.user_filter(User.id, User.team_id), p.user_id)
    return await get_among(session, rows, Task, task_id, what="task")


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    *,
    mine: bool,
    overdue: bool,
    **filters: Any,
) -> dict[str, Any]:
    """Tasks the caller may see, by id; `mine`: assigned to the caller."""
    if mine:
        filters["assignee_id"] = p.user_id or ""
    now = utcnow()
    stmt = repo.filtered(
        repo.visible(p.org_id, p.user_filter(User.id, User.team_id), p.user_id),
        overdue_at=now if overdue else None,
        **filters,
    )
    rows = list((await session.execute(paginate(stmt, Task.id, page))).scalars())
    return page_of(rows, page, lambda t: to_out(t, now))


async def update(session: AsyncSession, p: Principal, task_id: str, body: TaskUpdate) -> Task:
    task = await get_visible(session, p, task_id)
    changes = body.model_dump(exclude_unset=True)
    if "due" in changes:
        changes["due"] = utc(changes["due"])
    for key in _NOT_NULL:
        if key in changes and changes[key] is None:
            raise Invalid(["body", key], "must not be null")
    await _check_refs(session, p, changes)
    if "status" in changes and changes["status"] != task.status:
        task.completed_at = utcnow() if changes["status"] == "done" else None
    before = _json({k: getattr(task, k) for k in changes if getattr(task, k) != changes[k]})
    for key, value in changes.items():
        setattr(task, key, value)
    task.updated_at = utcnow()
    await session.flush()
    if "assignee_id" in before:
        await _assigned(session, task)
    if before:
        after = _json({k: changes[k] for k in before})
        record(
            session, p.org_id, p.actor, "task.updated", "task", task.id, before=before, after=after
        )
    return task


async def delete(session: AsyncSession, p: Principal, task_id: str) -> None:
    task = await get_visible(session, p, task_id)
    if p.role is Role.staff and task.created_by != p.actor:
        raise Forbidden("staff delete only the tasks they created")
    await session.delete(task)
    await session.flush()
    record(session, p.org_id, p.actor, "task.deleted", "task", task.id, title=task.title)


async def comment(session: AsyncSession, p: Principal, task_id: str, body: str) -> TaskComment:
    task = await get_visible(session, p, task_id)
    row = TaskComment(id=new_id("tcm"), org_id=p.org_id, task_id=task.id, author=p.actor,
                      body=body, created_at=utcnow())  # fmt: skip
    session.add(row)
    await session.flush()
    record(session, p.org_id, p.actor, "task.commented", "task", task.id, comment_id=row.id)
    return row


async def comments(session: AsyncSession, p: Principal, task_id: str) -> list[CommentOut]:
    task = await get_visible(session, p, task_id)
    return [CommentOut.model_validate(c) for c in await repo.comments(session, task.id)]
