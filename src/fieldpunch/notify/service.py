"""The inbox, preferences, push subscriptions and robots: rules only, no HTTP."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.config import Settings
from fieldpunch.db.scoped import M, get_scoped, ref_scoped, scoped
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.jobs.queue import enqueue
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Forbidden, Invalid, NotFound
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, encode_cursor
from fieldpunch.kit.schemas import apply
from fieldpunch.notify import outbound, webpush
from fieldpunch.notify.channels import PUSH_HOSTS
from fieldpunch.notify.deliver import (
    Message,
    channels_for,
    deliver,
)
from fieldpunch.notify.kinds import CHANNELS, KINDS, TEST
from fieldpunch.notify.models import (
    Notification,
    NotificationPreference,
    PushSubscription,
    RobotTarget,
)
from fieldpunch.notify.robots import VENDOR_HOSTS
from fieldpunch.notify.schemas import (
    KindInfo,
    NotificationOut,
    Preferences,
    PreferencesOut,
    PushSubscriptionIn,
    RobotCreate,
    RobotOut,
    RobotUpdate,
)
from fieldpunch.teams.models import Team

MAX_SUBSCRIPTIONS = 20  # per person: each browser and phone subscribes once
TEST_ATTEMPTS = 3  # a test message is for now: no hours of retries


def _person(p: Principal) -> str:
    if p.user_id is None:
        raise Forbidden("notifications belong to a person, not to an API key")
    return p.user_id


# inbox --------------------------------------------------------------------------------------------


async def inbox(
    session: AsyncSession, p: Principal, page: PageParams, unread: bool
) -> dict[str, Any]:
    """Newest first; the cursor continues to older ones."""
    user_id = _person(p)
    stmt = select(Notification).where(
        Notification.org_id == p.org_id, Notification.user_id == user_id
    )
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    if page.after is not None:
        stmt = stmt.where(Notification.id < page.after)
    rows = list(
        (
            await session.execute(stmt.order_by(Notification.id.desc()).limit(page.limit + 1))
        ).scalars()
    )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    count = await session.scalar(
        select(func.count()).where(
            Notification.org_id == p.org_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
    )
    return {
        "items": [NotificationOut.model_validate(r) for r in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
        "unread_count": count or 0,
    }


async def _own(session: AsyncSession, p: Principal, model: type[M], row_id: str, what: str) -> M:
    """The caller's own row (inbox item, push subscription): anyone else's is a 404."""
    mine = scoped(model, p.org_id).where(
        model.id == row_id,  # type: ignore[attr-defined]
        model.user_id == _person(p),  # type: ignore[attr-defined]
    )
    row = (await session.execute(mine)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


async def mark_read(session: AsyncSession, p: Principal, notification_id: str) -> NotificationOut:
    row = await _own(session, p, Notification, notification_id, "notification")
    if row.read_at is None:
        now = utcnow()
        row.read_at = now
        # Other devices of the person update their badge from this.
        await add_events(
            session,
            [event_row(p.org_id, "notification.read", {"ids": [row.id]}, now, row.user_id)],
        )
        await session.flush()
    return NotificationOut.model_validate(row)


async def mark_all_read(session: AsyncSession, p: Principal) -> int:
    user_id = _person(p)
    now = utcnow()
    result = await session.execute(
        update(Notification)
        .where(
            Notification.org_id == p.org_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
    )
    marked = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if marked:
        await add_events(
            session,
            [event_row(p.org_id, "notification.read", {"all": True}, now, user_id)],
        )
    return marked


async def send_test(session: AsyncSession, settings: Settings, p: Principal) -> NotificationOut:
    """A notification to oneself on every channel that is set up, to check them."""
    user_id = _person(p)
    now = utcnow()
    ids = await deliver(
        session,
        settings,
        org_id=p.org_id,
        message=Message(
            TEST,
            "Test notification",
            "If you read this, notifications reach you here.",
            {"url": f"{settings.base_url}/"},
        ),
        recipients=[user_id],
        key=f"test:{new_id('tst')}",
        now=now,
    )
    row = await session.get(Notification, ids[0])
    assert row is not None
    return NotificationOut.model_validate(row)


# preferences --------------------------------------------------------------------------------------


def _available(settings: Settings) -> list[str]:
    return [
        c
        for c in CHANNELS
        if (c == "email" and settings.smtp_host) or (c == "push" and settings.vapid_key)
    ]


def _prefs_out(row: NotificationPreference | None, settings: Settings) -> PreferencesOut:
    return PreferencesOut(
        channels={kind: list(channels_for(kind, row)) for kind in KINDS},
        quiet_hours=(
            {"start": row.quiet_start, "end": row.quiet_end}
            if row and row.quiet_start and row.quiet_end
            else None
        ),
        kinds=[
            KindInfo(kind=k, label=v.label, default_channels=list(v.channels))
            for k, v in KINDS.items()
        ],
        available_channels=_available(settings),  # type: ignore[arg-type]
    )


async def preferences(session: AsyncSession, settings: Settings, p: Principal) -> PreferencesOut:
    return _prefs_out(await session.get(NotificationPreference, _person(p)), settings)


async def set_preferences(
    session: AsyncSession, settings: Settings, p: Principal, body: Preferences
) -> PreferencesOut:
    user_id = _person(p)
    row = await session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(user_id=user_id, org_id=p.org_id)
        session.add(row)
    row.channels = {k: list(v) for k, v in body.channels.items()}
    row.quiet_start = body.quiet_hours.start if body.quiet_hours else None
    row.quiet_end = body.quiet_hours.end if body.quiet_hours else None
    row.updated_at = utcnow()
    await session.flush()
    return _prefs_out(row, settings)


# push subscriptions -------------------------------------------------------------------------------


def vapid_public_key(settings: Settings) -> str:
    key = settings.vapid_key
    if not key:
        raise NotFound("web push is not configured on this server (FIELDPUNCH_VAPID_PRIVATE_KEY)")
    return webpush.public_key_of(webpush.load_private_key(key))


async def subscribe(
    session: AsyncSession,
    settings: Settings,
    p: Principal,
    body: PushSubscriptionIn,
    user_agent: str,
) -> tuple[PushSubscription, bool]:
    """Store a browser's subscription for the caller; the same endpoint again updates it."""
    user_id = _person(p)
    # Kept even while this server has no VAPID key (pushes start once it has one).
    if why := outbound.refusal(body.endpoint, PUSH_HOSTS, settings.allowed_hosts):
        raise Invalid(["body", "endpoint"], f"not a known push service: {why}")
    digest = hashlib.sha256(body.endpoint.encode()).hexdigest()
    row = (
        await session.execute(
            select(PushSubscription)
            .where(PushSubscription.endpoint_hash == digest)
            .with_for_update()
        )
    ).scalar_one_or_none()
    created = row is None
    if row is None:
        row = PushSubscription(
            id=new_id("psub"), endpoint=body.endpoint, endpoint_hash=digest, created_at=utcnow()
        )
        session.add(row)
    elif (row.org_id, row.user_id) != (p.org_id, user_id) and not _same_keys(row, body):
        # Someone else's browser, unless the caller proves it is the same one: its keys (the
        # `auth` secret never leaves the browser and this server). An endpoint alone, seen in a
        # log or on a shared screen, takes nothing over, in this org or any other.
        raise Conflict(
            "this push endpoint is registered by someone else; subscribe again from the browser",
            [{"loc": ["body", "endpoint"], "msg": "registered by someone else"}],
        )
    # A browser belongs to whoever subscribed from it last (a shared tablet changes hands):
    # the same browser, proven by its keys, or the caller's own subscription with new keys.
    row.org_id, row.user_id = p.org_id, user_id
    row.p256dh, row.auth = body.keys.p256dh, body.keys.auth
    row.user_agent = user_agent[:300]
    await session.flush()
    mine = list(
        (
            await session.execute(
                select(PushSubscription)
                .where(PushSubscription.user_id == user_id)
                .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
            )
        ).scalars()
    )
    for old in mine[MAX_SUBSCRIPTIONS:]:
        await session.delete(old)
    await session.flush()
    return row, created


def _same_keys(row: PushSubscription, body: PushSubscriptionIn) -> bool:
    """Whether the request carries the stored subscription's keys (compared in constant time)."""
    return hmac.compare_digest(
        row.p256dh.encode(), body.keys.p256dh.encode()
    ) & hmac.compare_digest(row.auth.encode(), body.keys.auth.encode())


async def subscriptions(session: AsyncSession, p: Principal) -> list[PushSubscription]:
    user_id = _person(p)
    return list(
        (
            await session.execute(
                select(PushSubscription)
                .where(PushSubscription.org_id == p.org_id, PushSubscription.user_id == user_id)
                .order_by(PushSubscription.id)
            )
        ).scalars()
    )


async def unsubscribe(session: AsyncSession, p: Principal, subscription_id: str) -> None:
    row = await _own(session, p, PushSubscription, subscription_id, "push subscription")
    await session.delete(row)
    await session.flush()


# robots -------------------------------------------------------------------------------------------


def robot_out(r: RobotTarget) -> RobotOut:
    parts = urlsplit(r.url)
    tail = r.url[-4:] if len(r.url) > 12 else ""
    return RobotOut(
        id=r.id,
        name=r.name,
        provider=r.provider,  # type: ignore[arg-type]
        url_hint=f"{parts.scheme}://{parts.netloc}/…{tail}",
        has_secret=bool(r.secret),
        kinds=list(r.kinds),
        team_id=r.team_id,
        enabled=r.enabled,
        created_at=r.created_at,
        updated_at=r.updated_at,
        last_sent_at=r.last_sent_at,
        last_error=r.last_error,
    )


def _check_url(settings: Settings, provider: str, url: str) -> None:
    hosts = VENDOR_HOSTS[provider]  # type: ignore[index]
    if why := outbound.refusal(url, hosts, settings.allowed_hosts):
        allowed = outbound.describe(hosts, settings.allowed_hosts)
        raise Invalid(["body", "url"], f"{why}; a {provider} webhook must be on {allowed}")


async def robots(session: AsyncSession, p: Principal) -> list[RobotOut]:
    rows = (
        await session.execute(
            select(RobotTarget).where(RobotTarget.org_id == p.org_id).order_by(RobotTarget.id)
        )
    ).scalars()
    return [robot_out(r) for r in rows]


async def get_robot(session: AsyncSession, p: Principal, robot_id: str) -> RobotTarget:
    return await get_scoped(session, RobotTarget, p.org_id, robot_id, what="robot")


async def create_robot(
    session: AsyncSession, settings: Settings, p: Principal, body: RobotCreate
) -> RobotOut:
    _check_url(settings, body.provider, body.url)
    await ref_scoped(session, Team, p.org_id, body.team_id, ["body", "team_id"])
    now = utcnow()
    row = RobotTarget(
        id=new_id("rbt"),
        org_id=p.org_id,
        name=body.name,
        provider=body.provider,
        url=body.url,
        secret=body.secret,
        kinds=list(dict.fromkeys(body.kinds)),
        team_id=body.team_id,
        enabled=body.enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    record(
        session,
        p.org_id,
        p.actor,
        "robot.created",
        "robot",
        row.id,
        name=row.name,
        provider=row.provider,
    )
    await session.flush()
    return robot_out(row)


async def update_robot(
    session: AsyncSession, settings: Settings, p: Principal, robot_id: str, body: RobotUpdate
) -> RobotOut:
    row = await get_robot(session, p, robot_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "url", "kinds", "enabled"):
        if key in changes and changes[key] is None:
            raise Invalid(["body", key], "may not be null")
    if "url" in changes:
        _check_url(settings, row.provider, changes["url"])
    if changes.get("team_id") is not None:
        await ref_scoped(session, Team, p.org_id, changes["team_id"], ["body", "team_id"])
    if "kinds" in changes:
        changes["kinds"] = list(dict.fromkeys(changes["kinds"]))
    apply(row, changes)
    row.updated_at = utcnow()
    record(
        session,
        p.org_id,
        p.actor,
        "robot.updated",
        "robot",
        row.id,
        fields=sorted(k for k in changes if k not in ("url", "secret"))
        + [k for k in ("url", "secret") if k in changes],
    )
    await session.flush()
    return robot_out(row)


async def delete_robot(session: AsyncSession, p: Principal, robot_id: str) -> None:
    row = await get_robot(session, p, robot_id)
    record(session, p.org_id, p.actor, "robot.deleted", "robot", row.id, name=row.name)
    await session.delete(row)
    await session.flush()


async def test_robot(session: AsyncSession, p: Principal, robot_id: str) -> str:
    """Queue a test message to one robot; answers the job id (its outcome shows on the robot)."""
    row = await get_robot(session, p, robot_id)
    job_id = await enqueue(
        session,
        "notify.robot",
        {
            "target_id": row.id,
            "title": "fieldpunch test message",
            "body": f"Robot “{row.name}” is connected: alerts will arrive here.",
            "url": None,
            "key": "test",
        },
        org_id=p.org_id,
        max_attempts=TEST_ATTEMPTS,
    )
    assert job_id is not None
    return job_id
