"""Violation alerts: the job kinds `alert.anomaly` (at once) and `alert.escalate` (when unreviewed).

Each runs in one transaction that writes the inbox rows, their live events and the delivery jobs
together; the dedupe key `anomaly:<id>:L<level>` makes a re-run (a worker killed after commit,
before the job was marked done) a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.alerts.hooks import ALERT_ATTEMPTS, is_live
from fieldpunch.alerts.levels import escalation_levels
from fieldpunch.alerts.models import AlertSettings
from fieldpunch.anomalies.models import Anomaly
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.runner import Defer, JobContext, JobKind
from fieldpunch.notify.deliver import Message, deliver
from fieldpunch.orgs.models import Org
from fieldpunch.punches.models import Punch
from fieldpunch.teams.models import Team
from fieldpunch.users.models import ManagedTeam, User


@dataclass(frozen=True, slots=True)
class Conf:
    enabled: bool = True
    escalate_after_min: int = 60


DEFAULTS = Conf()


async def conf_of(session: AsyncSession, org_id: str) -> Conf:
    row = await session.get(AlertSettings, org_id)
    return Conf(row.enabled, row.escalate_after_min) if row else DEFAULTS


async def write_conf(session: AsyncSession, p: Principal, conf: Conf, now: datetime) -> Conf:
    row = await session.get(AlertSettings, p.org_id)
    before = Conf(row.enabled, row.escalate_after_min) if row else DEFAULTS
    if row is None:
        row = AlertSettings(org_id=p.org_id)
        session.add(row)
    row.enabled, row.escalate_after_min = conf.enabled, conf.escalate_after_min
    row.updated_at, row.updated_by = now, p.actor
    record(
        session,
        p.org_id,
        p.actor,
        "alerts.settings_changed",
        "org",
        p.org_id,
        before=_dump(before),
        after=_dump(conf),
    )
    await session.flush()
    return conf


def _dump(conf: Conf) -> dict[str, object]:
    return {"enabled": conf.enabled, "escalate_after_min": conf.escalate_after_min}


async def levels_for(session: AsyncSession, org_id: str, person: User) -> list[frozenset[str]]:
    parents = dict(
        (await session.execute(select(Team.id, Team.parent_id).where(Team.org_id == org_id))).all()
    )
    managers: dict[str, set[str]] = {}
    rows = await session.execute(
        select(ManagedTeam.team_id, ManagedTeam.user_id)
        .join(User, User.id == ManagedTeam.user_id)
        .where(
            ManagedTeam.org_id == org_id,
            User.active.is_(True),
            User.role.in_(("manager", "admin")),
        )
    )
    for team_id, user_id in rows:
        managers.setdefault(team_id, set()).add(user_id)
    admins = set(
        (
            await session.execute(
                select(User.id).where(
                    User.org_id == org_id, User.role == "admin", User.active.is_(True)
                )
            )
        ).scalars()
    )
    return escalation_levels(person.id, person.team_id, parents, managers, admins)


def _message(
    a: Anomaly, punch: Punch, person: User, tz: ZoneInfo, base_url: str, level: int, after_min: int
) -> Message:
    rule = a.rule.replace("_", " ")
    local = punch.trusted_time.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    data: dict[str, object] = {
        "anomaly_id": a.id,
        "punch_id": punch.id,
        "user_id": person.id,
        "rule": a.rule,
        "severity": a.severity,
        "level": level,
        "url": f"{base_url}/console/anomalies/{a.id}",
    }
    if level == 1:
        return Message(
            "anomaly.critical",
            f"Critical: {rule} — {person.name}",
            f"{a.detail}\n{punch.kind.replace('_', ' ')} at {local} ({tz.key}).",
            data,
        )
    return Message(
        "anomaly.escalated",
        f"Unreviewed for {after_min * (level - 1)} min: {rule} — {person.name}",
        f"{a.detail}\n{punch.kind.replace('_', ' ')} at {local} ({tz.key}). "
        f"Nobody has reviewed it yet: escalated to level {level}.",
        data,
    )


async def _notify_level(
    ctx: JobContext, session: AsyncSession, a: Anomaly, level: int, conf: Conf
) -> None:
    """Send level `level` (1-based) and schedule the next one; nothing if it does not exist."""
    punch = await session.get(Punch, a.punch_id)
    person = await session.get(User, a.user_id)
    org = await session.get(Org, a.org_id)
    if punch is None or person is None or org is None:
        return
    levels = await levels_for(session, a.org_id, person)
    if level > len(levels):
        return
    now = ctx.now()
    message = _message(
        a,
        punch,
        person,
        ZoneInfo(org.timezone),
        ctx.settings.base_url,
        level,
        conf.escalate_after_min,
    )
    await deliver(
        session,
        ctx.settings,
        org_id=a.org_id,
        message=message,
        recipients=sorted(levels[level - 1]),
        key=f"anomaly:{a.id}:L{level}",
        now=now,
        robots=True,
        about_team=person.team_id,
    )
    if conf.escalate_after_min and level < len(levels):
        await enqueue(
            session,
            "alert.escalate",
            {"anomaly_id": a.id, "level": level + 1},
            org_id=a.org_id,
            run_at=_due(a, level + 1, conf),
            key=f"alert.escalate:{a.id}:{level + 1}",
            max_attempts=ALERT_ATTEMPTS,
            now=now,
        )


def _due(a: Anomaly, level: int, conf: Conf) -> datetime:
    return a.created_at + timedelta(minutes=conf.escalate_after_min * (level - 1))


async def alert_anomaly(ctx: JobContext) -> None:
    async with ctx.db.transaction() as session:
        a = await session.get(Anomaly, ctx.job.payload["anomaly_id"])
        if a is None or a.status != "open" or a.severity != "critical":
            return  # reviewed or superseded before we got to it
        punch = await session.get(Punch, a.punch_id)
        if punch is None or not is_live(punch.trusted_time, punch.received_at, punch.offline):
            return  # old or replayed data never alerts
        conf = await conf_of(session, a.org_id)
        if conf.enabled:
            await _notify_level(ctx, session, a, 1, conf)


async def alert_escalate(ctx: JobContext) -> None:
    level = int(ctx.job.payload["level"])
    async with ctx.db.transaction() as session:
        a = await session.get(Anomaly, ctx.job.payload["anomaly_id"])
        if a is None or a.status != "open":
            return  # reviewed in time
        conf = await conf_of(session, a.org_id)
        if not conf.enabled or not conf.escalate_after_min:
            return
        due = _due(a, level, conf)
        if due > ctx.now():
            raise Defer(due)  # the delay was lengthened since this was scheduled
        await _notify_level(ctx, session, a, level, conf)


JOB_KINDS = [
    JobKind("alert.anomaly", alert_anomaly, timeout_s=60),
    JobKind("alert.escalate", alert_escalate, timeout_s=60),
]
