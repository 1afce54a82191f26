"""Tasks (任务): work for a person, about a customer and maybe a visit, with comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "done", "cancelled")


class Task(OrgScoped, Timestamps, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # A person's list (by due date) and a customer's or visit's tasks.
        Index("ix_tasks_org_assignee_status_due", "org_id", "assignee_id", "status", "due"),
        Index("ix_tasks_org_customer", "org_id", "customer_id"),
        Index("ix_tasks_org_visit", "org_id", "visit_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="RESTRICT")
    )
    visit_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("visits.id", ondelete="SET NULL")
    )
    assignee_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="RESTRICT")
    )
    due: Mapped[datetime | None] = mapped_column()
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(48))
    completed_at: Mapped[datetime | None] = mapped_column()


class TaskComment(OrgScoped, Base):
    __tablename__ = "task_comments"
    __table_args__ = (Index("ix_task_comments_task", "task_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(32), ForeignKey("tasks.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(48))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()


__all__ = ["PRIORITIES", "STATUSES", "Task", "TaskComment"]
