"""GET /reports/route (a person's day as GeoJSON) and /reports/heatmap (H3 cells)."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope as Perm
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.geo.crs import CRS
from fieldpunch.kit.errors import NotFound
from fieldpunch.kit.openapi import answer
from fieldpunch.reports.repository import ReportsRepo
from fieldpunch.users.models import User
from fieldpunch.visits.reports import route as shapes
from fieldpunch.visits.reports import service
from fieldpunch.visits.reports.endpoints import From, Month, Short, To
from fieldpunch.visits.reports.geo_repository import GeoRepo

Reader = Annotated[Principal, need(Perm.visits_read)]
GEOJSON = "application/geo+json"

router = APIRouter(prefix="/reports", tags=["reports"], route_class=TxRoute)


class Of(StrEnum):
    visits = "visits"
    punches = "punches"


class HeatFormat(StrEnum):
    geojson = "geojson"
    json = "json"


@router.get(
    "/route",
    responses={
        200: {"description": "A GeoJSON FeatureCollection (RFC 7946)", "content": {GEOJSON: {}}},
        404: answer("`user_id` names no person the caller may see"),
    },
)
async def route_report(
    session: Session,
    p: Reader,
    user_id: Annotated[str, Query(max_length=40)],
    date_: Annotated[date, Query(alias="date", description="The local date")],
    crs: Annotated[CRS, Query(description="Datum of the positions")] = CRS.wgs84,
) -> Any:
    """A person's day as a route: their punches in order as a LineString (not rejected ones)
    and one Point per punch (kind, local time, status, customer), the distance travelled, and
    the stops (each visit's customer, check-in, check-out, minutes there). Staff: their own;
    managers: their teams'; admins all."""
    reports = ReportsRepo(session)
    visible = p.user_filter(User.id, User.team_id)
    if not await reports.visible_user(p.org_id, user_id, visible):
        raise NotFound(f"user {user_id} not found")
    tz = ZoneInfo((await reports.org(p.org_id)).timezone)
    geo = GeoRepo(session)
    since = service.midnight(date_, tz)
    until = service.midnight(date_ + timedelta(days=1), tz)
    punches = await geo.day_punches(p.org_id, user_id, since, until)
    stops = await geo.day_stops(p.org_id, user_id, date_)
    body = shapes.route(user_id, date_.isoformat(), punches, stops, tz, crs)
    return JSONResponse(body, media_type=GEOJSON)


@router.get(
    "/heatmap",
    responses={
        200: {"description": "GeoJSON cells, or JSON `{items: [{cell, count, lat, lon}]}`",
              "content": {GEOJSON: {}}},
        404: answer("`team_id` or `user_id` names no team or person the caller may see"),
    },
)  # fmt: skip
async def heatmap_report(
    session: Session,
    p: Reader,
    from_: From = None,
    to: To = None,
    month: Month = None,
    team_id: Short = None,
    user_id: Short = None,
    of: Annotated[
        Of, Query(description="punches (every punch not rejected) or visits (at their customer)")
    ] = Of.punches,
    resolution: Annotated[
        int,
        Query(ge=shapes.MIN_RESOLUTION, le=shapes.MAX_RESOLUTION, description="H3 resolution"),
    ] = 8,
    format_: Annotated[HeatFormat, Query(alias="format")] = HeatFormat.geojson,
    crs: Annotated[CRS, Query(description="Datum of the positions")] = CRS.wgs84,
) -> Any:
    """Density as H3 hexagons over a range of local dates (this month by default): punches
    (each counted where it was made) or visits started (counted at their customer), for the
    people the caller sees (`team_id`, `user_id` narrow it). GeoJSON polygons with `count`, or
    JSON cells with their centres."""
    ask = service.Ask("visits", "person", from_, to, month, team_id, user_id, None)
    r = await service.prepare(session, p, ask)
    geo = GeoRepo(session)
    points = await (geo.visit_points(r.scope) if of is Of.visits else geo.punch_points(r.scope))
    counts = shapes.cells(points, resolution)
    head = {"from": r.scope.start.isoformat(), "to": r.scope.end.isoformat(), "of": of.value,
            "resolution": resolution, "total": sum(counts.values())}  # fmt: skip
    if format_ is HeatFormat.json:
        return head | {"crs_name": crs.value, "items": shapes.cell_items(counts, crs)}
    return JSONResponse(shapes.cell_features(counts, crs) | head, media_type=GEOJSON)
