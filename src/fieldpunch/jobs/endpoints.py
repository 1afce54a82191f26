"""The org's background jobs, for admins: what was delivered, what failed and why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute, after_commit
from fieldpunch.jobs.models import Job
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, NotFound
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams, page_of, paginate
from fieldpunch.kit.schemas import Out

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=TxRoute)
Admin = Annotated[Principal, need(Scope.alerts_manage)]
Status = Literal["queued", "running", "done", "dead"]


class JobOut(Out):
    id: str
    kind: str
    status: Status
    payload: dict[str, Any]
    run_at: datetime
    attempts: int
    max_attempts: int
    last_error: str | None
    locked_by: str | None
    created_at: datetime
    done_at: datetime | None


@router.get("", response_model=Page[JobOut])
async def list_jobs(
    session: Session,
    p: Admin,
    page: Annotated[PageParams, Depends()],
    status: Status | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Oldest first. `?status=dead` lists what gave up after its last attempt."""
    stmt = select(Job).where(Job.org_id == p.org_id)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    rows = list((await session.execute(paginate(stmt, Job.id, page))).scalars())
    return page_of(rows, page, JobOut.model_validate)


@router.post(
    "/{job_id}/retry",
    response_model=JobOut,
    responses={409: answer("Only a dead job is retried by hand")},
)
async def retry_job(request: Request, session: Session, p: Admin, job_id: str) -> Any:
    """Give a dead job a fresh set of attempts, now."""
    job = (
        await session.execute(select(Job).where(Job.id == job_id, Job.org_id == p.org_id))
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.status != "dead":
        raise Conflict(f"job {job_id} is {job.status}: only dead jobs are retried by hand")
    job.status, job.attempts, job.run_at, job.done_at = "queued", 0, utcnow(), None
    await session.flush()
    runner = getattr(request.app.state, "jobs", None)
    if runner is not None:
        after_commit(request, runner.kick)
    return JobOut.model_validate(job)
