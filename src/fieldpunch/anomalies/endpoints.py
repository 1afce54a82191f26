from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from fieldpunch.anomalies import policies, policy_service, service
from fieldpunch.anomalies.schemas import (
    AnomalyDetail,
    AnomalyOut,
    BulkDecision,
    Decision,
    PolicyDoc,
)
from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.scoped import get_scoped
from fieldpunch.db.session import Session, TxRoute, after_commit
from fieldpunch.geo.crs import CRS
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import Page, PageParams
from fieldpunch.kit.schemas import AwareTime
from fieldpunch.teams import service as teams
from fieldpunch.teams.models import Team
from fieldpunch.users import service as users

router = APIRouter(route_class=TxRoute)  # tags per route: anomalies, policy
Reader = Annotated[Principal, need(Scope.anomalies_read)]
Reviewer = Annotated[Principal, need(Scope.anomalies_review)]
PolicyReader = Annotated[Principal, need(Scope.policy_read)]
PolicyWriter = Annotated[Principal, need(Scope.policy_write)]
Short = Annotated[str | None, Query(max_length=40)]
OVERRIDE_EXAMPLE = '{"max_speed_kmh": 150, "rules": {"duplicate": {"enabled": false}}}'
Override = Annotated[dict[str, Any], Body(description=f"Partial settings, e.g. {OVERRIDE_EXAMPLE}")]


def _published(request: Request) -> None:
    after_commit(request, request.app.state.relay.kick)


def _fresh_after_commit(request: Request, p: Principal) -> None:
    """Drop the cached policies again once the change is visible to other transactions."""
    after_commit(request, lambda: policies.invalidate(p.org_id))


@router.get("/anomalies", response_model=Page[AnomalyOut], tags=["anomalies"])
async def list_anomalies(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    status: Annotated[str | None, Query(pattern="^(open|approved|rejected|superseded)$")] = None,
    rule: Short = None,
    severity: Annotated[str | None, Query(pattern="^(info|warning|critical)$")] = None,
    team_id: Short = None,
    user_id: Short = None,
    from_: Annotated[AwareTime | None, Query(alias="from", description="punch time ≥")] = None,
    to: Annotated[AwareTime | None, Query(description="punch time <")] = None,
    crs: CRS = CRS.wgs84,
) -> dict[str, Any]:
    """The review queue (`?status=open`): managers see their teams, staff their own.

    Positions in `evidence` (`lat`/`lon`, `previous_lat`/`previous_lon`) are given in `crs`;
    `raw_lat`/`raw_lon` are always as the phone sent them.
    """
    return await service.list_(
        session,
        p,
        page,
        status=status,
        rule=rule,
        severity=severity,
        team_id=team_id,
        user_id=user_id,
        start=from_,
        end=to,
        crs=crs,
    )


@router.get("/anomalies/{anomaly_id}", tags=["anomalies"])
async def get_anomaly(
    session: Session, p: Reader, anomaly_id: str, crs: CRS = CRS.wgs84
) -> AnomalyDetail:
    """An anomaly with its evidence, the punch, the previous punch and the leg between them."""
    return await service.detail(session, p, anomaly_id, crs)


@router.post(
    "/anomalies/{anomaly_id}/resolve",
    responses={409: answer("Already resolved")},
    tags=["anomalies"],
)
async def resolve_anomaly(
    request: Request, session: Session, p: Reviewer, anomaly_id: str, body: Decision
) -> AnomalyOut:
    """Decide one anomaly: `approve` (the punch counts) or `reject`, with a comment."""
    out = (await service.resolve(session, p, [anomaly_id], body.decision, body.comment))[0]
    _published(request)
    return out


@router.post(
    "/anomalies/resolve",
    tags=["anomalies"],
    responses={
        404: answer("One of the anomalies is not found (nothing was resolved)"),
        409: answer("One of the anomalies is already resolved (nothing was resolved)"),
    },
)
async def resolve_anomalies(
    request: Request, session: Session, p: Reviewer, body: BulkDecision
) -> list[AnomalyOut]:
    """Decide many at once: all or none (one that is not open refuses the whole batch)."""
    out = await service.resolve(session, p, body.ids, body.decision, body.comment)
    _published(request)
    return out


@router.get("/policy", tags=["policy"])
async def get_org_policy(session: Session, p: PolicyReader) -> PolicyDoc:
    """The organization's anomaly policy: its override and the effective thresholds."""
    return await policy_service.read(session, p, "org", p.org_id)


@router.put("/policy", tags=["policy"])
async def put_org_policy(
    request: Request, session: Session, p: PolicyWriter, body: Override
) -> PolicyDoc:
    """Replace the organization's override of the default policy (`{}` removes it); applies to
    punches from now on."""
    _fresh_after_commit(request, p)
    return await policy_service.write(session, p, "org", p.org_id, body)


@router.get("/policy/teams/{team_id}", tags=["policy"])
async def get_team_policy(session: Session, p: PolicyReader, team_id: str) -> PolicyDoc:
    """A team's override of the organization's anomaly policy."""
    await teams.get_visible(session, p, team_id)  # a team one cannot see is a 404 here too
    return await policy_service.read(session, p, "team", team_id)


@router.put("/policy/teams/{team_id}", tags=["policy"])
async def put_team_policy(
    request: Request, session: Session, p: PolicyWriter, team_id: str, body: Override
) -> PolicyDoc:
    """Replace a team's override of the anomaly policy (`{}` removes it)."""
    _fresh_after_commit(request, p)
    await get_scoped(session, Team, p.org_id, team_id, what="team")
    return await policy_service.write(session, p, "team", team_id, body)


@router.get("/policy/users/{user_id}", tags=["policy"])
async def get_user_policy(session: Session, p: PolicyReader, user_id: str) -> PolicyDoc:
    """A person's override and the policy that applies to them (person → teams → org → defaults)."""
    await users.get_visible(session, p, user_id)
    return await policy_service.read(session, p, "user", user_id)


@router.put("/policy/users/{user_id}", tags=["policy"])
async def put_user_policy(
    request: Request, session: Session, p: PolicyWriter, user_id: str, body: Override
) -> PolicyDoc:
    """Replace one person's override of the anomaly policy (`{}` removes it)."""
    _fresh_after_commit(request, p)
    await users.get_visible(session, p, user_id)
    return await policy_service.write(session, p, "user", user_id, body)
