"""API shapes of tasks and their comments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from fieldpunch.kit.schemas import AwareTime, IdRef, In, Name, Out

Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "in_progress", "done", "cancelled"]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
CommentText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
]


class TaskCreate(In):
    title: Name
    description: Description = ""
    customer_id: IdRef | None = None
    visit_id: IdRef | None = Field(None, description="A visit you may see (its customer's)")
    assignee_id: IdRef | None = Field(None, description="Staff assign themselves only")
    due: AwareTime | None = None
    priority: Priority = "normal"


class TaskUpdate(In):
    title: Name | None = None
    description: Description | None = None
    customer_id: IdRef | None = None
    visit_id: IdRef | None = None
    assignee_id: IdRef | None = None
    due: AwareTime | None = None
    priority: Priority | None = None
    status: Status | None = None


class TaskOut(Out):
    id: str
    title: str
    description: str
    customer_id: str | None
    visit_id: str | None
    assignee_id: str | None
    due: datetime | None
    priority: Priority
    status: Status
    overdue: bool = Field(description="Due before now and neither done nor cancelled")
    created_by: str
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CommentCreate(In):
    body: CommentText


class CommentOut(Out):
    id: str
    task_id: str
    author: str
    body: str
    created_at: datetime
