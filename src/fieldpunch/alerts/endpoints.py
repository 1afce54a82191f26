from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from fieldpunch.alerts import service
from fieldpunch.alerts.hooks import LIVE_WINDOW
from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.session import Session, TxRoute
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.schemas import In, Out

router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=TxRoute)


class AlertSettingsIn(In):
    enabled: bool = True
    escalate_after_min: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 60


class AlertSettingsOut(Out):
    enabled: bool
    escalate_after_min: int
    live_window_min: int = Field(description="Punches older than this when they arrive never alert")


def _out(conf: service.Conf) -> AlertSettingsOut:
    return AlertSettingsOut(
        enabled=conf.enabled,
        escalate_after_min=conf.escalate_after_min,
        live_window_min=int(LIVE_WINDOW.total_seconds() // 60),
    )


@router.get("/settings")
async def get_alert_settings(
    session: Session, p: Annotated[Principal, need(Scope.policy_read)]
) -> AlertSettingsOut:
    """Critical anomalies of live punches alert the person's managers at once; unreviewed after
    `escalate_after_min` (0: never), the next level up, and so on up to the admins."""
    return _out(await service.conf_of(session, p.org_id))


@router.put("/settings")
async def put_alert_settings(
    session: Session, p: Annotated[Principal, need(Scope.alerts_manage)], body: AlertSettingsIn
) -> AlertSettingsOut:
    """Replace the organization's alert settings: which anomalies alert whom, and how."""
    conf = service.Conf(body.enabled, body.escalate_after_min)
    return _out(await service.write_conf(session, p, conf, utcnow()))
