from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from fieldpunch.auth.principal import Principal, need
from fieldpunch.auth.scopes import Scope
from fieldpunch.config import Settings
from fieldpunch.db.session import Session, TxRoute, after_commit
from fieldpunch.kit.openapi import answer
from fieldpunch.kit.pagination import PageParams
from fieldpunch.notify import service
from fieldpunch.notify.schemas import (
    NotificationOut,
    NotificationPage,
    Preferences,
    PreferencesOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    Queued,
    ReadAll,
    RobotCreate,
    RobotOut,
    RobotUpdate,
    VapidKey,
)

router = APIRouter(tags=["notifications"], route_class=TxRoute)
robots_router = APIRouter(prefix="/robots", tags=["robots"], route_class=TxRoute)
Reader = Annotated[Principal, need(Scope.notifications_read)]
Writer = Annotated[Principal, need(Scope.notifications_write)]
Admin = Annotated[Principal, need(Scope.alerts_manage)]


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _published(request: Request) -> None:
    """Wake the outbox relay (live events) and the in-process job runner, if any."""
    after_commit(request, request.app.state.relay.kick)
    runner = getattr(request.app.state, "jobs", None)
    if runner is not None:
        after_commit(request, runner.kick)


@router.get("/notifications", response_model=NotificationPage)
async def list_notifications(
    session: Session,
    p: Reader,
    page: Annotated[PageParams, Depends()],
    unread: Annotated[bool, Query(description="Only those not read yet")] = False,
) -> dict[str, Any]:
    """The caller's inbox, newest first, with the count of unread ones."""
    return await service.inbox(session, p, page, unread)


@router.post("/notifications/read-all")
async def read_all_notifications(request: Request, session: Session, p: Writer) -> ReadAll:
    """Mark every notification of the caller as read."""
    marked = await service.mark_all_read(session, p)
    _published(request)
    return ReadAll(marked=marked)


@router.post("/notifications/{notification_id}/read")
async def read_notification(
    request: Request, session: Session, p: Writer, notification_id: str
) -> NotificationOut:
    """Mark one read (again: no change)."""
    out = await service.mark_read(session, p, notification_id)
    _published(request)
    return out


@router.post("/me/notifications/test", status_code=201)
async def send_test_notification(request: Request, session: Session, p: Writer) -> NotificationOut:
    """Send oneself a test notification on every channel set up (inbox, email, push)."""
    out = await service.send_test(session, _settings(request), p)
    _published(request)
    return out


@router.get("/me/notification-preferences")
async def get_notification_preferences(
    request: Request, session: Session, p: Reader
) -> PreferencesOut:
    """The caller's notification preferences: channels per kind, quiet hours."""
    return await service.preferences(session, _settings(request), p)


@router.put("/me/notification-preferences")
async def put_notification_preferences(
    request: Request, session: Session, p: Writer, body: Preferences
) -> PreferencesOut:
    """Replace the caller's notification preferences."""
    return await service.set_preferences(session, _settings(request), p, body)


@router.get(
    "/push/vapid-public-key",
    responses={404: answer("Web Push is not set up on this server (no VAPID key)")},
)
async def get_vapid_public_key(request: Request, p: Reader) -> VapidKey:
    """The `applicationServerKey` for `pushManager.subscribe()`; 404 when push is not set up."""
    return VapidKey(public_key=service.vapid_public_key(_settings(request)))


@router.get("/me/push-subscriptions")
async def list_push_subscriptions(session: Session, p: Reader) -> list[PushSubscriptionOut]:
    """The caller's Web Push subscriptions (one per browser)."""
    return [PushSubscriptionOut.model_validate(s) for s in await service.subscriptions(session, p)]


@router.post(
    "/me/push-subscriptions",
    status_code=201,
    responses={409: answer("The endpoint is someone else's and the keys differ")},
)
async def create_push_subscription(
    request: Request, response: Response, session: Session, p: Writer, body: PushSubscriptionIn
) -> PushSubscriptionOut:
    """Register this browser for web push (201; the same endpoint again: 200, updated).

    An endpoint registered by another person moves to the caller only with the same keys
    (`p256dh` and the `auth` secret: the same browser changing hands); else 409.
    """
    row, created = await service.subscribe(
        session, _settings(request), p, body, request.headers.get("user-agent", "")
    )
    if not created:
        response.status_code = 200
    return PushSubscriptionOut.model_validate(row)


@router.delete("/me/push-subscriptions/{subscription_id}", status_code=204)
async def delete_push_subscription(session: Session, p: Writer, subscription_id: str) -> None:
    """Remove one of the caller's Web Push subscriptions."""
    await service.unsubscribe(session, p, subscription_id)


@robots_router.get("")
async def list_robots(session: Session, p: Admin) -> list[RobotOut]:
    """Chat-tool robots (WeCom, DingTalk, Feishu, Slack) that receive alerts."""
    return await service.robots(session, p)


@robots_router.post("", status_code=201)
async def create_robot(request: Request, session: Session, p: Admin, body: RobotCreate) -> RobotOut:
    """Add a group-chat robot (WeCom, DingTalk, Feishu, Slack webhook) that receives alerts."""
    return await service.create_robot(session, _settings(request), p, body)


@robots_router.get("/{robot_id}")
async def get_robot(session: Session, p: Admin, robot_id: str) -> RobotOut:
    """One alert robot (without its secret)."""
    return service.robot_out(await service.get_robot(session, p, robot_id))


@robots_router.patch("/{robot_id}")
async def update_robot(
    request: Request, session: Session, p: Admin, robot_id: str, body: RobotUpdate
) -> RobotOut:
    """Change an alert robot's name, URL, secret or the alerts it receives."""
    return await service.update_robot(session, _settings(request), p, robot_id, body)


@robots_router.delete("/{robot_id}", status_code=204)
async def delete_robot(session: Session, p: Admin, robot_id: str) -> None:
    """Delete an alert robot."""
    await service.delete_robot(session, p, robot_id)


@robots_router.post("/{robot_id}/test", status_code=202)
async def test_robot(request: Request, session: Session, p: Admin, robot_id: str) -> Queued:
    """Queue a test message; its outcome shows as the robot's `last_sent_at` / `last_error`."""
    job_id = await service.test_robot(session, p, robot_id)
    _published(request)
    return Queued(job_id=job_id)
