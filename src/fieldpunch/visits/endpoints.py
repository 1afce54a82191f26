"""Visits over HTTP: /visits (plans and records), /visit-outcomes and /visit-form."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.visits import forms, service
from fieldpunch.visits.schemas import (
    FormOut,
    FormPut,
    OutcomesOut,
    OutcomesPut,
    State,
    VisitBulk,
    VisitCancel,
    VisitCreate,
    VisitList,
    VisitOut,
    VisitUpdate,
)

Reader = Annotated[Principal, need(Scope.visits_read)]
Writer = Annotated[Principal, need(Scope.visits_write)]
Configurer = Annotated[Principal, need(Scope.visits_configure)]
Short = Annotated[str | None, Query(max_length=40)]

router = APIRouter(prefix="/visits", tags=["visits"], route_class=TxRoute)


@router.get("", response_model=Page[VisitOut])
async def list_visits(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    user_id: Short = None,
    customer_id: Short = None,
    team_id: Annotated[str | None, Query(max_length=40, description="and its sub-teams")] = None,
    state: State | None = None,
    from_: Annotated[date | None, Query(alias="from", description="local date, inclusive")] = None,
    to: Annotated[date | None, Query(description="local date, inclusive")] = None,
) -> dict[str, Any]:
    """Visits you may see (staff: your own; managers: your teams'; admins: all), by id."""
    return await service.list_(
        session, p, page, user_id=user_id, customer_id=customer_id, team_id=team_id,
        state=state, start=from_, end=to,
    )  # fmt: skip


@router.post("", status_code=201)
async def create_visit(session: Session, p: Writer, body: VisitCreate) -> VisitOut:
    """Plan a visit (拜访计划): customer, person (staff: yourself), window, purpose."""
    return service.to_out(await service.create(session, p, body))


@router.post("/bulk", status_code=201)
async def plan_visits(session: Session, p: Writer, body: VisitBulk) -> VisitList:
    """Plan several visits at once (a week's), up to 500: all of them or, with a 422 naming
    the item and field at fault, none."""
    return VisitList(items=[service.to_out(v) for v in await service.bulk(session, p, body)])


@router.get("/{visit_id}")
async def get_visit(session: Session, p: Reader, visit_id: str) -> VisitOut:
    """One visit: its plan, and its record once check-in and check-out punches arrived."""
    return service.to_out(await service.get_visible(session, p, visit_id))


_CHANGED = answer("The visit is cancelled, or started (its plan no longer changes)")


@router.patch("/{visit_id}", responses={409: _CHANGED})
async def update_visit(session: Session, p: Writer, visit_id: str, body: VisitUpdate) -> VisitOut:
    """Change the plan (while planned or missed) or the record: note, outcome, next
    follow-up, the visit form's answers (all required fields)."""
    return service.to_out(await service.update(session, p, visit_id, body))


@router.delete(
    "/{visit_id}",
    status_code=204,
    response_class=Response,
    responses={409: answer("The visit started: it keeps its record")},
)
async def delete_visit(session: Session, p: Writer, visit_id: str) -> None:
    """Delete a plan that never started (a planned or missed visit)."""
    await service.delete(session, p, visit_id)


@router.post(
    "/{visit_id}/cancel",
    responses={409: answer("Only a planned or missed visit is cancelled")},
)
async def cancel_visit(session: Session, p: Writer, visit_id: str, body: VisitCancel) -> VisitOut:
    """Cancel a planned (or missed) visit, with the reason."""
    return service.to_out(await service.cancel(session, p, visit_id, body.reason))


config_router = APIRouter(tags=["visits"], route_class=TxRoute)


@config_router.get("/visit-outcomes")
async def get_visit_outcomes(session: Session, p: Reader) -> OutcomesOut:
    """The organization's visit outcomes, in order (order taken, follow-up needed, ...)."""
    return await forms.outcomes(session, p)


@config_router.put("/visit-outcomes")
async def put_visit_outcomes(session: Session, p: Configurer, body: OutcomesPut) -> OutcomesOut:
    """Replace the outcome list; visits keep an outcome that leaves it."""
    return await forms.put_outcomes(session, p, body)


@config_router.get("/visit-form")
async def get_visit_form(session: Session, p: Reader) -> FormOut:
    """The organization's visit form: its fields in order."""
    return await forms.form(session, p)


@config_router.put("/visit-form")
async def put_visit_form(session: Session, p: Configurer, body: FormPut) -> FormOut:
    """Replace the visit form: text, number, choice (with options) and photo fields, each
    required or not. Answers given before stay on their visits."""
    return await forms.put_form(session, p, body)
