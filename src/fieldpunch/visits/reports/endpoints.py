"""GET /reports/visits and /reports/performance (thin: service.py does the work), and the
route and heat map (geo_endpoints.py) under the same /reports prefix."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from fieldpunch.reports.columns import Lang
from fieldpunch.reports.downloads import csv_response, xlsx_response
from fieldpunch.reports.schemas import Format
from fieldpunch.visits.reports import downloads, service
from fieldpunch.visits.reports.columns import PerformanceView, VisitView
from fieldpunch.visits.reports.schemas import VisitReport

Reader = Annotated[Principal, need(Scope.visits_read)]
Short = Annotated[str | None, Query(max_length=40)]
From = Annotated[date | None, Query(alias="from", description="First local date")]
To = Annotated[date | None, Query(description="Last local date (at most 366 days on)")]
Month = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, instead of from and to")
]
LangQ = Annotated[
    Lang | None,
    Query(description="zh or en; default: the org's language (zh for Asia/* time zones)"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="JSON rows per page")]
Cursor = Annotated[str | None, Query(max_length=400)]
FormatQ = Annotated[Format, Query(alias="format")]

router = APIRouter(prefix="/reports", tags=["reports"], route_class=TxRoute)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON (`format=json`), or a CSV or XLSX download",
        "content": {downloads.CSV_TYPE: {}, downloads.XLSX_TYPE: {}},
    },
    404: answer("`team_id` or `user_id` names no team or person the caller may see"),
}


async def _answer(
    request: Request, session: Any, p: Principal, ask: service.Ask, fmt: Format, limit: int,
    cursor: str | None,
) -> Any:  # fmt: skip
    report = await service.prepare(session, p, ask)
    if fmt is Format.json:
        return await service.page(session, report, limit, cursor)
    if fmt is Format.csv:
        return csv_response(request.app.state.db, downloads.download(report))
    return await xlsx_response(session, downloads.download(report))


@router.get("/visits", response_model=VisitReport, responses=_RESPONSES)
async def visits_report(
    request: Request,
    session: Session,
    p: Reader,
    view: Annotated[
        VisitView,
        Query(
            description="person (员工拜访统计), customer (客户拜访统计), "
            "not_visited (未拜访客户: no check-in in the last `days` days)"
        ),
    ] = VisitView.person,
    format_: FormatQ = Format.json,
    from_: From = None,
    to: To = None,
    month: Month = None,
    team_id: Short = None,
    user_id: Short = None,
    days: Annotated[
        int | None,
        Query(
            ge=1,
            le=service.MAX_NOT_VISITED_DAYS,
            description="not_visited: N, the days counted back from today (today included)",
        ),
    ] = None,
    status: Annotated[
        str | None, Query(max_length=32, description="not_visited: the customers' status")
    ] = None,
    lang: LangQ = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """Visits over a range of local dates (`month`, or `from` and `to`; this month when
    neither), per person (every active person in scope, with none too) or per customer
    visited: planned, done, unplanned, missed, cancelled, in progress, not checked out,
    completion and on-time rates, time at customers and average visit, and one column per
    org outcome. `not_visited`: customers with no check-in in the last `days` days (or never),
    by owner (`user_id`) or the owners' team (`team_id`). Staff see their own, managers their
    teams', admins all. JSON pages by `cursor`; CSV and XLSX stream the whole range.
    Definitions: docs/visits.md."""
    ask = service.Ask("visits", view.value, from_, to, month, team_id, user_id, lang, days,
                      status)  # fmt: skip
    return await _answer(request, session, p, ask, format_, limit, cursor)


@router.get("/performance", response_model=VisitReport, responses=_RESPONSES)
async def performance_report(
    request: Request,
    session: Session,
    p: Reader,
    view: Annotated[
        PerformanceView, Query(description="person (员工外勤绩效) or team (团队外勤绩效)")
    ] = PerformanceView.person,
    format_: FormatQ = Format.json,
    from_: From = None,
    to: To = None,
    month: Month = None,
    team_id: Short = None,
    user_id: Short = None,
    lang: LangQ = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """Field performance over a range: planned vs done visits, completion and on-time rates,
    customers covered, tasks done, punches and the share with anomalies, time at customers vs
    travelling between them. Per person (active people in scope) or per team (each person
    counted in their own team; answered whole). Same scopes as /reports/visits."""
    ask = service.Ask("performance", view.value, from_, to, month, team_id, user_id, lang)
    return await _answer(request, session, p, ask, format_, limit, cursor)
