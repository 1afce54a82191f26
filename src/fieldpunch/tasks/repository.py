"""The tasks' SQL: who may see which task, the filters of a list, comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.tasks.models import Task, TaskComment
from fieldpunch.users.models import User

OPEN = ("open", "in_progress")


def visible(org_id: str, user_filter: ColumnElement[bool] | None, me: str | None) -> Select[Any]:
    """The org's tasks whose assignee the caller may see, or that the caller created."""
    stmt = select(Task).where(Task.org_id == org_id)
    if user_filter is None:
        return stmt
    stmt = stmt.outerjoin(User, User.id == Task.assignee_id)
    return stmt.where(or_(user_filter, Task.created_by == (me or "")))


def filtered(
    stmt: Select[Any],
    *,
    assignee_id: str | None,
    customer_id: str | None,
    visit_id: str | None,
    status: str | None,
    priority: str | None,
    due_before: datetime | None,
    overdue_at: datetime | None,
) -> Select[Any]:
    for column, value in (
        (Task.assignee_id, assignee_id),
        (Task.customer_id, customer_id),
        (Task.visit_id, visit_id),
        (Task.status, status),
        (Task.priority, priority),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if due_before is not None:
        stmt = stmt.where(Task.due < due_before)
    if overdue_at is not None:
        stmt = stmt.where(Task.due < overdue_at, Task.status.in_(OPEN))
    return stmt


async def comments(session: AsyncSession, task_id: str) -> list[TaskComment]:
    stmt = select(TaskComment).where(TaskComment.task_id == task_id).order_by(TaskComment.id)
    return list((await session.execute(stmt)).scalars())
