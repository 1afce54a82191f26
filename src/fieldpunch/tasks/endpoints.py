"""Tasks over HTTP: /tasks and their comments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.kit.schemas import AwareTime, Out
from fieldpunch.tasks import service
from fieldpunch.tasks.schemas import (
    CommentCreate,
    CommentOut,
    Priority,
    Status,
    TaskCreate,
    TaskOut,
    TaskUpdate,
)

Reader = Annotated[Principal, need(Scope.tasks_read)]
Writer = Annotated[Principal, need(Scope.tasks_write)]
Short = Annotated[str | None, Query(max_length=40)]

router = APIRouter(prefix="/tasks", tags=["tasks"], route_class=TxRoute)


class CommentList(Out):
    items: list[CommentOut]


@router.get("", response_model=Page[TaskOut])
async def list_tasks(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    mine: Annotated[bool, Query(description="Only tasks assigned to you")] = False,
    assignee_id: Short = None,
    customer_id: Short = None,
    visit_id: Short = None,
    status: Status | None = None,
    priority: Priority | None = None,
    due_before: Annotated[AwareTime | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Due before now, open or in progress")] = False,
) -> dict[str, Any]:
    """Tasks you may see (assigned to people you see, or created by you), by id; a person's
    list is `?assignee_id=` (yours: `?mine=true`)."""
    due: datetime | None = due_before
    return await service.list_(
        session, p, page, mine=mine, overdue=overdue, assignee_id=assignee_id,
        customer_id=customer_id, visit_id=visit_id, status=status, priority=priority,
        due_before=due,
    )  # fmt: skip


@router.post("", status_code=201)
async def create_task(session: Session, p: Writer, body: TaskCreate) -> TaskOut:
    """Add a task about a customer (and maybe one of its visits) for a person."""
    return service.to_out(await service.create(session, p, body))


@router.get("/{task_id}")
async def get_task(session: Session, p: Reader, task_id: str) -> TaskOut:
    """One task."""
    return service.to_out(await service.get_visible(session, p, task_id))


@router.patch("/{task_id}")
async def update_task(session: Session, p: Writer, task_id: str, body: TaskUpdate) -> TaskOut:
    """Change a task: its status (done stamps `completed_at`), assignee, due date, ..."""
    return service.to_out(await service.update(session, p, task_id, body))


@router.delete(
    "/{task_id}",
    status_code=204,
    response_class=Response,
    responses={403: answer("Staff delete only the tasks they created")},
)
async def delete_task(session: Session, p: Writer, task_id: str) -> None:
    """Delete a task and its comments."""
    await service.delete(session, p, task_id)


@router.get("/{task_id}/comments")
async def list_task_comments(session: Session, p: Reader, task_id: str) -> CommentList:
    """A task's comments, oldest first."""
    return CommentList(items=await service.comments(session, p, task_id))


@router.post("/{task_id}/comments", status_code=201)
async def comment_task(
    session: Session, p: Writer, task_id: str, body: CommentCreate
) -> CommentOut:
    """Comment on a task you may see."""
    return CommentOut.model_validate(await service.comment(session, p, task_id, body.body))
