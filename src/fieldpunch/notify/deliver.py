"""Fan-out, in the caller's transaction: inbox rows, live events and one job per external send.

Nothing here touches the network. A notification that already exists (same person, same dedupe
key) is skipped with everything that would hang off it, so running a producer twice sends nothing
twice. External sends are jobs keyed by the notification (and target), run after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.config import Settings
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.jobs.queue import NewJob, enqueue_many, upsert_insert
from fieldpunch.kit.ids import new_id
from fieldpunch.notify.kinds import CHANNELS, KINDS, TEST, Channel, live_topic
from fieldpunch.notify.models import (
    Notification,
    NotificationPreference,
    PushSubscription,
    RobotTarget,
)
from fieldpunch.notify.quiet import QuietHours, release_at
from fieldpunch.orgs.models import Org
from fieldpunch.teams.models import Team
from fieldpunch.users.models import User

EMAIL_ATTEMPTS = 12  # backoff reaches the 1 h cap: about 4 h of retries
PUSH_ATTEMPTS = 8
ROBOT_ATTEMPTS = 12


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)  # "url": a link for every channel

    @property
    def url(self) -> str | None:
        url = self.data.get("url")
        return url if isinstance(url, str) else None


def notification_out(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a notification (API answers and live events)."""
    created = row["created_at"]
    read = row.get("read_at")
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": row["title"],
        "body": row["body"],
        "data": row["data"],
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "read_at": read.isoformat() if isinstance(read, datetime) else read,
    }


def channels_for(kind: str, prefs: NotificationPreference | None) -> tuple[Channel, ...]:
    if kind == TEST:
        return CHANNELS
    default = KINDS[kind].channels if kind in KINDS else ()
    if prefs is None or kind not in (prefs.channels or {}):
        return default
    return tuple(c for c in CHANNELS if c in prefs.channels[kind])


async def _team_chain(session: AsyncSession, org_id: str, team_id: str | None) -> set[str]:
    if team_id is None:
        return set()
    parents = dict(
        (await session.execute(select(Team.id, Team.parent_id).where(Team.org_id == org_id))).all()
    )
    chain: set[str] = set()
    while team_id is not None and team_id not in chain:
        chain.add(team_id)
        team_id = parents.get(team_id)
    return chain


async def robot_targets(
    session: AsyncSession, org_id: str, kind: str, about_team: str | None
) -> list[RobotTarget]:
    """Enabled robots of the org that take `kind` and whose team (if any) covers `about_team`."""
    rows = (
        await session.execute(
            select(RobotTarget)
            .where(RobotTarget.org_id == org_id, RobotTarget.enabled.is_(True))
            .order_by(RobotTarget.id)
        )
    ).scalars()
    wanted = [r for r in rows if kind in (r.kinds or [])]
    if any(r.team_id is not None for r in wanted):
        chain = await _team_chain(session, org_id, about_team)
        wanted = [r for r in wanted if r.team_id is None or r.team_id in chain]
    return wanted


async def deliver(
    session: AsyncSession,
    settings: Settings,
    *,
    org_id: str,
    message: Message,
    recipients: Sequence[str],
    key: str,
    now: datetime,
    robots: bool = False,
    about_team: str | None = None,
) -> list[str]:
    """Notify `recipients` (user ids) once per `key`; returns the ids of new notifications.

    With `robots`, the org's robots that take this kind get the message too, once per key.
    """
    users = {
        u.id: u
        for u in (
            await session.execute(
                select(User).where(
                    User.org_id == org_id, User.id.in_(set(recipients)), User.active.is_(True)
                )
            )
        ).scalars()
    }
    rows: list[dict[str, Any]] = [
        {
            "id": new_id("ntf"),
            "org_id": org_id,
            "user_id": user_id,
            "kind": message.kind,
            "title": message.title[:200],
            "body": message.body,
            "data": message.data,
            "dedupe_key": key,
            "created_at": now,
            "read_at": None,
        }
        for user_id in dict.fromkeys(recipients)
        if user_id in users
    ]
    created: set[str] = set()
    if rows:
        stmt = upsert_insert(session, Notification).values(rows)
        stmt = stmt.on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        created = set((await session.execute(stmt.returning(Notification.id))).scalars())
    new = [r for r in rows if r["id"] in created]
    await add_events(
        session,
        [
            event_row(org_id, live_topic(r["kind"]), notification_out(r), now, r["user_id"])
            for r in new
        ],
    )
    jobs = await _channel_jobs(session, settings, org_id, message.kind, new, users, now)
    if robots:  # once per key by the job's own key, whoever else was notified
        jobs += [
            NewJob(
                "notify.robot",
                {
                    "target_id": t.id,
                    "title": message.title,
                    "body": message.body,
                    "url": message.url,
                    "key": key,
                },
                org_id,
                key=f"robot:{t.id}:{key}",
                max_attempts=ROBOT_ATTEMPTS,
            )
            for t in await robot_targets(session, org_id, message.kind, about_team)
        ]
    await enqueue_many(session, jobs, now)
    return [r["id"] for r in new]


async def _channel_jobs(
    session: AsyncSession,
    settings: Settings,
    org_id: str,
    kind: str,
    new: list[dict[str, Any]],
    users: dict[str, User],
    now: datetime,
) -> list[NewJob]:
    if not new:
        return []
    user_ids = [r["user_id"] for r in new]
    prefs = {
        p.user_id: p
        for p in (
            await session.execute(
                select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
            )
        ).scalars()
    }
    subs: dict[str, list[PushSubscription]] = {}
    if settings.vapid_key:
        for s in (
            await session.execute(
                select(PushSubscription)
                .where(PushSubscription.user_id.in_(user_ids))
                .order_by(PushSubscription.id)
            )
        ).scalars():
            subs.setdefault(s.user_id, []).append(s)
    tz: ZoneInfo | None = None
    jobs: list[NewJob] = []
    for r in new:
        pref = prefs.get(r["user_id"])
        wanted = channels_for(kind, pref)
        at = now
        quiet = QuietHours.parse(pref.quiet_start, pref.quiet_end) if pref else None
        if quiet is not None and kind != TEST:
            if tz is None:
                org = await session.get(Org, org_id)
                tz = ZoneInfo(org.timezone if org else "UTC")
            at = release_at(now, tz, quiet)
        nid = r["id"]
        if "email" in wanted and settings.smtp_host and users[r["user_id"]].email:
            jobs.append(
                NewJob(
                    "notify.email",
                    {"notification_id": nid},
                    org_id,
                    at,
                    f"email:{nid}",
                    EMAIL_ATTEMPTS,
                )
            )
        if "push" in wanted:
            jobs += [
                NewJob(
                    "notify.push",
                    {"notification_id": nid, "subscription_id": s.id},
                    org_id,
                    at,
                    f"push:{nid}:{s.id}",
                    PUSH_ATTEMPTS,
                )
                for s in subs.get(r["user_id"], [])
            ]
    return jobs
