from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.corrections import service
from fieldpunch.corrections.schemas import (
    CorrectionCreate,
    CorrectionDecision,
    CorrectionDetail,
    CorrectionOut,
)
from fieldpunch.db.session import Session, TxRoute, after_commit
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams

router = APIRouter(prefix="/corrections", tags=["corrections"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.corrections_read)]
Requester = Annotated[Principal, need(Scope.corrections_request)]
Reviewer = Annotated[Principal, need(Scope.corrections_review)]


def _published(request: Request) -> None:
    after_commit(request, request.app.state.relay.kick)


@router.post(
    "",
    status_code=201,
    responses={409: answer("This month's quota of corrections is used up")},
)
async def create_correction(
    request: Request, session: Session, p: Requester, body: CorrectionCreate
) -> CorrectionOut:
    """Ask for a missing or wrong punch (补卡), within the monthly quota and maximum age."""
    out = await service.create(session, p, body)
    _published(request)
    return out


@router.get("", response_model=Page[CorrectionOut])
async def list_corrections(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None,
    user_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Correction requests the caller may see (staff: their own), filtered by `status`."""
    return await service.list_(session, p, page, status=status, user_id=user_id)


@router.get("/{correction_id}")
async def get_correction(session: Session, p: Reader, correction_id: str) -> CorrectionDetail:
    """The request, with the person's punches that day (a reviewer's context)."""
    return await service.detail(session, p, correction_id)


@router.post(
    "/{correction_id}/approve",
    responses={
        409: answer(
            "Already decided, or its place or customer no longer has a location to punch at"
        )
    },
)
async def approve_correction(
    request: Request, session: Session, p: Reviewer, correction_id: str, body: CorrectionDecision
) -> CorrectionOut:
    """Approve: a punch with `source: "correction"` joins the person's record, linked here."""
    out = await service.decide(session, p, correction_id, True, body.comment)
    _published(request)
    return out


@router.post("/{correction_id}/reject", responses={409: answer("Already decided")})
async def reject_correction(
    request: Request, session: Session, p: Reviewer, correction_id: str, body: CorrectionDecision
) -> CorrectionOut:
    """Reject a correction request, with a comment; no punch is made."""
    out = await service.decide(session, p, correction_id, False, body.comment)
    _published(request)
    return out
