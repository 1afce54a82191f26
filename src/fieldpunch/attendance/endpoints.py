"""Attendance rules over HTTP: /shifts, /attendance-groups, /rosters, /calendar, /requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from fieldpunch.attendance import calendars, groups, requests, rosters, shifts
from fieldpunch.attendance.schemas import (
    GroupCreate,
    GroupOut,
    GroupUpdate,
    ShiftCreate,
    ShiftOut,
    ShiftUpdate,
)
from fieldpunch.attendance.schemas_days import (
    CalendarDayOut,
    CalendarPut,
    RequestCreate,
    RequestDecision,
    RequestOut,
    RosterPerson,
    RosterPut,
    RosterPutOut,
)
from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams

Reader = Annotated[Principal, need(Scope.attendance_read)]
Writer = Annotated[Principal, need(Scope.attendance_write)]
Rosterer = Annotated[Principal, need(Scope.attendance_roster)]
Requester = Annotated[Principal, need(Scope.attendance_request)]
Reviewer = Annotated[Principal, need(Scope.attendance_review)]
Paging = Annotated[PageParams, Depends()]
Short = Annotated[str | None, Query(max_length=40)]

shifts_router = APIRouter(prefix="/shifts", tags=["attendance"], route_class=TxRoute)


@shifts_router.get("", response_model=Page[ShiftOut])
async def list_shifts(
    session: Session,
    p: Reader,
    page: Paging,
    q: Annotated[str | None, Query(max_length=100, description="name contains")] = None,
) -> dict[str, Any]:
    """The organization's shifts (班次)."""
    return await shifts.list_(session, p, page, q)


@shifts_router.post("", status_code=201)
async def create_shift(session: Session, p: Writer, body: ShiftCreate) -> ShiftOut:
    """Add a shift: one or two periods (an end before its start crosses midnight), grace,
    serious-late and absent thresholds, flexible start, punch windows, unpaid breaks."""
    return await shifts.create(session, p, body)


@shifts_router.get("/{shift_id}")
async def get_shift(session: Session, p: Reader, shift_id: str) -> ShiftOut:
    """One shift."""
    return ShiftOut.model_validate(await shifts.get(session, p, shift_id))


@shifts_router.patch("/{shift_id}")
async def update_shift(session: Session, p: Writer, shift_id: str, body: ShiftUpdate) -> ShiftOut:
    """Change a shift; from today on, the days of whoever works it are recomputed."""
    return await shifts.update(session, p, shift_id, body)


@shifts_router.delete(
    "/{shift_id}",
    status_code=204,
    response_class=Response,
    responses={409: answer("A group uses the shift, or the roster does from today on")},
)
async def delete_shift(session: Session, p: Writer, shift_id: str) -> None:
    """Delete a shift no group and no roster entry from today on uses."""
    await shifts.delete(session, p, shift_id)


groups_router = APIRouter(prefix="/attendance-groups", tags=["attendance"], route_class=TxRoute)
_TAKEN = answer("A person or team named is in another attendance group already")


@groups_router.get("", response_model=Page[GroupOut])
async def list_attendance_groups(
    session: Session,
    p: Reader,
    page: Paging,
    schedule: Literal["fixed", "rostered", "free"] | None = None,
) -> dict[str, Any]:
    """The organization's attendance groups (考勤组), with their people, teams and places."""
    return await groups.list_(session, p, page, schedule)


@groups_router.post("", status_code=201, responses={409: _TAKEN})
async def create_attendance_group(session: Session, p: Writer, body: GroupCreate) -> GroupOut:
    """Add a group: its schedule, people and teams (a person's own group wins over their
    team's), punch places and rules for field punches and overtime."""
    return await groups.create(session, p, body)


@groups_router.get("/{group_id}")
async def get_attendance_group(session: Session, p: Reader, group_id: str) -> GroupOut:
    """One attendance group."""
    return await groups.get(session, p, group_id)


@groups_router.patch("/{group_id}", responses={409: _TAKEN})
async def update_attendance_group(
    session: Session, p: Writer, group_id: str, body: GroupUpdate
) -> GroupOut:
    """Change a group; `user_ids`, `team_ids`, `place_ids` sent replace the lists."""
    return await groups.update(session, p, group_id, body)


@groups_router.delete("/{group_id}", status_code=204, response_class=Response)
async def delete_attendance_group(session: Session, p: Writer, group_id: str) -> None:
    """Delete a group; its people fall back to their team's group, if any."""
    await groups.delete(session, p, group_id)


rosters_router = APIRouter(prefix="/rosters", tags=["attendance"], route_class=TxRoute)


@rosters_router.get(
    "",
    response_model=Page[RosterPerson],
    responses={404: answer("The `user_id` or `team_id` is not one the caller may see")},
)
async def get_rosters(
    session: Session,
    p: Reader,
    page: Paging,
    from_: Annotated[date, Query(alias="from", description="First local date")],
    to: Annotated[date, Query(description="Last local date (at most 366 days on)")],
    user_id: Short = None,
    team_id: Short = None,
) -> dict[str, Any]:
    """The roster (排班) between two dates: per person (a page of them), each day's shift id
    or `rest`. Staff see their own; managers their teams'."""
    return await rosters.read(session, p, page, from_, to, user_id=user_id, team_id=team_id)


@rosters_router.put("")
async def put_rosters(session: Session, p: Rosterer, body: RosterPut) -> RosterPutOut:
    """Set shifts or rest in bulk: `fill` repeats a pattern (早-早-晚-晚-休-休) over a date
    range for some people; `entries` set single days (null clears one)."""
    return await rosters.put(session, p, body)


calendar_router = APIRouter(prefix="/calendar", tags=["attendance"], route_class=TxRoute)
Year = Annotated[int, Path(ge=1970, le=2100, description="A calendar year")]


@calendar_router.get("/{year}")
async def get_calendar(session: Session, p: Reader, year: Year) -> list[CalendarDayOut]:
    """The org's holidays, holiday rest days and make-up workdays (调休) of a year."""
    return await calendars.read(session, p, year)


@calendar_router.put("/{year}")
async def put_calendar(
    session: Session, p: Writer, year: Year, body: Annotated[CalendarPut, Body()]
) -> list[CalendarDayOut]:
    """Replace the year's calendar; dates not sent follow the plain week again."""
    return await calendars.replace(session, p, year, body)


@calendar_router.post("/{year}/china")
async def load_china_calendar(session: Session, p: Writer, year: Year) -> list[CalendarDayOut]:
    """Replace the year's calendar with China's statutory holidays, holiday rest days and
    make-up workdays (调休) from the State Council's notice; then edit it with PUT. A year
    whose notice is not held here is a 422: enter it by hand."""
    return await calendars.load_china(session, p, year)


requests_router = APIRouter(prefix="/requests", tags=["attendance"], route_class=TxRoute)
_DECIDED = answer("Already decided or cancelled")


@requests_router.post(
    "", status_code=201, responses={409: answer("Overlaps an approved request of yours")}
)
async def create_request(session: Session, p: Requester, body: RequestCreate) -> RequestOut:
    """File a leave, trip, out or overtime request for yourself; your manager decides."""
    return await requests.create(session, p, body)


@requests_router.get("", response_model=Page[RequestOut])
async def list_requests(
    session: Session,
    p: Reader,
    page: Paging,
    status: Literal["pending", "approved", "rejected", "cancelled"] | None = None,
    kind: Literal["leave", "trip", "out", "overtime"] | None = None,
    user_id: Short = None,
    mine: Annotated[bool, Query(description="Only the caller's own")] = False,
) -> dict[str, Any]:
    """Requests the caller may see: staff their own, managers their teams', admins all."""
    return await requests.list_(
        session, p, page, status=status, kind=kind, user_id=user_id, mine=mine
    )


@requests_router.get("/{request_id}")
async def get_request(session: Session, p: Reader, request_id: str) -> RequestOut:
    """One request."""
    return RequestOut.model_validate(await requests.get_visible(session, p, request_id))


@requests_router.post(
    "/{request_id}/approve",
    responses={409: answer("Already decided, or overlaps an approved request of the person")},
)
async def approve_request(
    session: Session, p: Reviewer, request_id: str, body: RequestDecision
) -> RequestOut:
    """Approve a request of someone in your teams (admins: anyone's); the days it covers are
    recomputed."""
    return await requests.decide(session, p, request_id, True, body.comment)


@requests_router.post("/{request_id}/reject", responses={409: _DECIDED})
async def reject_request(
    session: Session, p: Reviewer, request_id: str, body: RequestDecision
) -> RequestOut:
    """Reject a request, with a comment."""
    return await requests.decide(session, p, request_id, False, body.comment)


@requests_router.post(
    "/{request_id}/cancel",
    responses={409: answer("Not pending (filer) or not approved (decider), or already done")},
)
async def cancel_request(session: Session, p: Requester, request_id: str) -> RequestOut:
    """Withdraw your own pending request; a decider (`attendance:review`) may cancel an
    approved one, whose days are then recomputed."""
    return await requests.cancel(session, p, request_id)


router = APIRouter()
for _sub in (shifts_router, groups_router, rosters_router, calendar_router, requests_router):
    router.include_router(_sub)
