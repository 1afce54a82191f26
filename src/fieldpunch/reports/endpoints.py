"""GET /reports/attendance: the HR reports as JSON, CSV or XLSX (thin: service.py does the work)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from fieldpunch.attendance.values import Status
from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from fieldpunch.reports import downloads, service
from fieldpunch.reports.columns import TITLES, Lang, View
from fieldpunch.reports.schemas import AttendanceReport, Format

Reader = Annotated[Principal, need(Scope.attendance_read)]
Short = Annotated[str | None, Query(max_length=40)]

router = APIRouter(prefix="/reports", tags=["reports"], route_class=TxRoute)


def download(r: service.Report) -> downloads.Download:
    span = f"{r.start.isoformat()}_{r.end.isoformat()}"
    name = TITLES[r.view][0 if r.lang is Lang.zh else 1]
    return downloads.Download(
        ascii_name=f"attendance-{r.view.value}-{span}",
        own_name=f"{name}-{span}",
        sheet=name,
        title=r.title,
        columns=r.columns,
        lang=r.lang,
        partitions=lambda session: service.rows(session, r),
    )


@router.get(
    "/attendance",
    response_model=AttendanceReport,
    responses={
        200: {
            "description": "JSON (`format=json`), or a CSV or XLSX download",
            "content": {downloads.CSV_TYPE: {}, downloads.XLSX_TYPE: {}},
        },
        404: answer("`team_id` or `user_id` names no team or person the caller may see"),
    },
)
async def attendance(
    request: Request,
    session: Session,
    p: Reader,
    view: Annotated[
        View,
        Query(
            description="daily (员工考勤明细), monthly (月度汇总), department (部门考勤汇总), "
            "exceptions (异常与补卡)"
        ),
    ] = View.daily,
    format_: Annotated[Format, Query(alias="format")] = Format.json,
    from_: Annotated[date | None, Query(alias="from", description="First local date")] = None,
    to: Annotated[date | None, Query(description="Last local date (at most 366 days on)")] = None,
    month: Annotated[
        str | None,
        Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, instead of from and to"),
    ] = None,
    team_id: Short = None,
    user_id: Short = None,
    status: Annotated[
        Status | None,
        Query(description="Days with this one-word status (summaries: people with such a day)"),
    ] = None,
    lang: Annotated[
        Lang | None,
        Query(description="zh or en; default: the org's language (zh for Asia/* time zones)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="JSON rows per page")] = (
        DEFAULT_LIMIT
    ),
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Any:
    """The HR attendance reports from the stored days, in the org's time zone: `daily` (one row
    per person and day, each edge's punch time, place and method), `monthly` (one row per
    person), `department` (one row per team) and `exceptions` (late, early, missing, absent days
    and corrections). Range: `month`, or `from` and `to` (this month when neither). Staff see
    their own rows, managers their teams' (another team or person: 404), admins and keys with
    `attendance:read` all. JSON pages by `cursor` (the department view answers whole); CSV and
    XLSX answer the whole range as a download, streamed. Columns: docs/reports.md."""
    ask = service.Ask(
        view=view,
        start=from_,
        end=to,
        month=month,
        team_id=team_id,
        user_id=user_id,
        status=status.value if status else None,
        lang=lang,
    )
    report = await service.prepare(session, p, ask)
    if format_ is Format.json:
        return await service.page(session, report, limit, cursor)
    if format_ is Format.csv:
        return downloads.csv_response(request.app.state.db, download(report))
    return await downloads.xlsx_response(session, download(report))
