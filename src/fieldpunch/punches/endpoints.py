from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth import timeproof
from fieldpunch.auth.principal import Caller, Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute, after_commit
from fieldpunch.geo.crs import CRS
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.kit.schemas import AwareTime
from fieldpunch.punches import queries, service
from fieldpunch.punches.schemas import (
    BatchIn,
    BatchOut,
    PunchIn,
    PunchKind,
    PunchOut,
    PunchStatus,
    TimeOut,
)
from fieldpunch.punches.views import in_crs

router = APIRouter(tags=["punches"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.punches_read)]
Writer = Annotated[Principal, need(Scope.punches_write)]
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many punches from this person (each punch of a batch counts); "
        "nothing was stored: send them again after `Retry-After` seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        **_PROBLEM,
    }
}


def _intake(request: Request) -> service.Intake:
    return request.app.state.intake  # type: ignore[no-any-return]


def _published(request: Request) -> None:
    after_commit(request, request.app.state.relay.kick)


@router.get("/time")
async def get_time(request: Request, p: Caller) -> TimeOut:
    """Server time and a token anchoring this person's time proofs (see API.md, time_proof)."""
    if p.user_id is None:
        raise Forbidden("time anchors are issued to people")
    at = utcnow()
    now = at.replace(microsecond=at.microsecond // 1000 * 1000)  # the token covers milliseconds
    return TimeOut(
        now=now,
        token=timeproof.make(request.app.state.settings.signing_key, p.org_id, p.user_id, now),
        expires_at=now + _intake(request).anchor_ttl,
    )


async def _admit(request: Request, p: Principal, punches: int) -> None:
    """The person's punch rate limit (punches/ratelimit.py): 429 with Retry-After beyond it."""
    limiter = _intake(request).limiter
    if limiter is not None and p.user_id is not None:  # an API key is refused (403) by submit
        await limiter.admit(p.org_id, p.user_id, punches)


@router.post(
    "/punches",
    status_code=201,
    response_model=PunchOut,
    responses={
        200: {"model": PunchOut, "description": "A replay: the stored punch"},
        409: {"description": "client_id already used for other content", **_PROBLEM},
        **_TOO_MANY,
    },
)
async def create_punch(
    request: Request,
    session: Session,
    p: Writer,
    body: PunchIn,
    crs: Annotated[
        CRS | None, Query(description="CRS of the answer; default: the punch's own")
    ] = None,
) -> Response:
    """One punch: 201 with the stored punch, answered only once it is committed.

    Sending the same `client_id` again returns the stored punch (200); with other content, 409.
    The answer's coordinates are in `?crs=`, else in the `crs` of the `location` sent.
    """
    # Served by punches/asgi_route.py in front of FastAPI (the same steps and answers); this
    # route documents it and serves it when that is not installed.
    return await one_punch(request, session, p, await request.json(), body, crs)


async def one_punch(
    request: Request, session: AsyncSession, p: Principal, raw: Any, body: PunchIn, crs: CRS | None
) -> Response:
    """The answer to a single punch (`raw`, validated as `body`) by caller `p`."""
    await _admit(request, p, 1)
    results, new = await service.submit(
        session, _intake(request), p, [raw], batch=False, validated=[body]
    )
    item = results[0]
    if new:
        _published(request)
    if item.punch is not None:
        answer = in_crs(item.punch, crs or body.location.crs)
        return Response(answer.model_dump_json(), item.status, media_type="application/json")
    return JSONResponse(
        item.problem, status_code=item.status, media_type="application/problem+json"
    )


@router.post("/punches/batch", responses=_TOO_MANY)
async def create_punches(
    request: Request,
    session: Session,
    p: Writer,
    body: BatchIn,
    crs: Annotated[
        CRS | None, Query(description="CRS of the answers; default: each punch's own")
    ] = None,
) -> BatchOut:
    """Up to 1,000 punches (an offline queue, oldest first): one result per item, in order.

    Each item has the status it would have had alone (201, 200, 409 or 422) and the punch or
    the problem. Each punch's coordinates are in `?crs=`, else in the `crs` it was sent in (as
    for a single punch).
    """
    await _admit(request, p, len(body.punches))
    results, new = await service.submit(session, _intake(request), p, body.punches, batch=True)
    if new:
        _published(request)
    for item in results:
        if item.punch is not None:
            item.punch = in_crs(item.punch, crs or _sent_crs(body.punches[item.index]))
    return BatchOut(results=results)


def _sent_crs(raw: Any) -> CRS:
    """The CRS a punch as sent is written in (its `location.crs`; WGS-84 when it names none)."""
    location = raw.get("location") if isinstance(raw, dict) else None
    value = location.get("crs") if isinstance(location, dict) else None
    return CRS(value) if isinstance(value, str) and value in CRS._value2member_map_ else CRS.wgs84


@router.get("/punches", response_model=Page[PunchOut])
async def list_punches(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    user_id: Annotated[str | None, Query(max_length=40)] = None,
    from_: Annotated[AwareTime | None, Query(alias="from", description="trusted time ≥")] = None,
    to: Annotated[AwareTime | None, Query(description="trusted time <")] = None,
    kind: PunchKind | None = None,
    status: PunchStatus | None = None,
    crs: CRS = CRS.wgs84,
) -> dict[str, Any]:
    """The punches the caller may see (staff: their own), filtered; in id order."""
    return await queries.list_(
        session, p, page, crs, user_id=user_id, start=from_, end=to, kind=kind, status=status
    )


@router.get("/punches/{punch_id}")
async def get_punch(session: Session, p: Reader, punch_id: str, crs: CRS = CRS.wgs84) -> PunchOut:
    """One punch, with its location in `?crs=` (default WGS-84)."""
    return await queries.get(session, p, punch_id, crs)
