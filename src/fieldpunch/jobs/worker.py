"""Every job kind and periodic task: what `fieldpunch worker` and embedded `serve` run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fieldpunch.alerts.service import JOB_KINDS as ALERT_KINDS
from fieldpunch.attendance.freshness import KINDS as ATTENDANCE_KINDS
from fieldpunch.attendance.freshness import TASKS as ATTENDANCE_TASKS
from fieldpunch.attendance.reminders import ScheduleSource
from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs import periodic
from fieldpunch.jobs.runner import JobKind, PeriodicTask, Runner, worker_name
from fieldpunch.kit.clock import utcnow
from fieldpunch.notify.channels import JOB_KINDS as CHANNEL_KINDS
from fieldpunch.notify.decisions import JOB_KINDS as DECISION_KINDS
from fieldpunch.notify.reminders import SCAN_TASK, ReminderSource, scan_kind
from fieldpunch.tasks.overdue import KINDS as TASK_KINDS
from fieldpunch.tasks.overdue import TASKS as TASK_TASKS
from fieldpunch.visits.follow import KINDS as VISIT_KINDS
from fieldpunch.visits.follow import TASKS as VISIT_TASKS
from fieldpunch.visits.stale import KINDS as STALE_VISIT_KINDS
from fieldpunch.visits.stale import TASKS as STALE_VISIT_TASKS


def job_kinds(reminders: ReminderSource | None = None) -> list[JobKind]:
    # Reminders read shifts, visits and leave through their source (tests pass their own).
    return [
        *periodic.KINDS,
        *CHANNEL_KINDS,
        *ALERT_KINDS,
        *DECISION_KINDS,
        *ATTENDANCE_KINDS,
        *VISIT_KINDS,
        *STALE_VISIT_KINDS,
        *TASK_KINDS,
        scan_kind(reminders or ScheduleSource()),
    ]


def periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    return [
        *periodic.tasks(settings.checkpoint_interval_s),
        SCAN_TASK,
        *VISIT_TASKS,
        *STALE_VISIT_TASKS,
        *TASK_TASKS,
        *ATTENDANCE_TASKS,
    ]


def build_runner(
    db: Database,
    settings: Settings,
    *,
    role: str = "worker",
    after_job: Callable[[], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
    reminders: ReminderSource | None = None,
) -> Runner:
    return Runner(
        db,
        settings,
        job_kinds(reminders),
        name=worker_name(role),
        schedules=periodic_tasks(settings),
        concurrency=settings.worker_concurrency,
        lease_s=settings.job_lease_s,
        poll_s=settings.worker_poll_s,
        clock=clock,
        after_job=after_job,
    )
