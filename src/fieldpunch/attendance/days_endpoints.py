"""The computed attendance days over HTTP: GET /attendance/days, POST /attendance/recompute."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from fieldpunch.attendance import days
from fieldpunch.attendance.days_schemas import DayOut, DayStatus, RecomputeIn, RecomputeOut
from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

Reader = Annotated[Principal, need(Scope.attendance_read)]
Writer = Annotated[Principal, need(Scope.attendance_write)]
Short = Annotated[str | None, Query(max_length=40)]

router = APIRouter(prefix="/attendance", tags=["attendance"], route_class=TxRoute)


_HIDDEN = answer("The `user_id` or `team_id` is not one the caller may see")


@router.get("/days", response_model=Page[DayOut], responses={404: _HIDDEN})
async def list_days(
    session: Session,
    p: Reader,
    from_: Annotated[date, Query(alias="from", description="First local date")],
    to: Annotated[date, Query(description="Last local date (at most 366 days on)")],
    user_id: Short = None,
    team_id: Short = None,
    status: Annotated[DayStatus | None, Query(description="The day's one-word status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Computed days, one row per person and local date (the attendance report's daily rows),
    by person then date: statuses, minutes, each edge with the punch that decided it, and when
    it was computed. Staff see their own, managers their teams', admins everyone's."""
    return await days.list_days(
        session,
        p,
        limit,
        cursor,
        from_,
        to,
        user_id=user_id,
        team_id=team_id,
        status=status,
    )


@router.post("/recompute", status_code=202, responses={404: _HIDDEN})
async def recompute(session: Session, p: Writer, body: RecomputeIn) -> RecomputeOut:
    """Leave days for the recompute job: one person's (`user_id`), a team's (`team_id`) or
    everyone's in a group, from `from` to `to`. For rule changes made outside the API or a
    backfill; the days change when the job has run (within seconds with a worker running)."""
    return await days.request_recompute(session, p, body)
