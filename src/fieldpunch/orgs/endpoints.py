from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.orgs import service
from fieldpunch.orgs.models import Org
from fieldpunch.orgs.schemas import OrgOut, OrgUpdate

router = APIRouter(prefix="/org", tags=["organization"], route_class=TxRoute)


@router.get("")
async def get_org(session: Session, p: Annotated[Principal, need(Scope.org_read)]) -> OrgOut:
    """The caller's organization: name, time zone and settings."""
    return OrgOut.of(await session.get(Org, p.org_id))


@router.patch("")
async def update_org(
    session: Session, p: Annotated[Principal, need(Scope.org_write)], body: OrgUpdate
) -> OrgOut:
    """Change the organization's name, time zone or settings."""
    return await service.update(session, p, body)
