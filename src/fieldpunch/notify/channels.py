"""The external channels as job kinds: `notify.email`, `notify.push`, `notify.robot`.

Each reads what to send from the database when it runs (a deleted person or subscription means
nothing to send) and leaves the retry policy to the runner: Retry for what time can fix, Fail
for what it cannot. Every repeat carries the same id: the Message-ID (email), the notification id
in the payload and the Topic header (push), the job id in `X-Fieldpunch-Delivery` (robots).
"""

from __future__ import annotations

import json
import logging
import time
from typing import cast

import aiosmtplib
import httpx
from sqlalchemy import delete, select, update

from fieldpunch.jobs.runner import Fail, JobContext, JobKind, Retry
from fieldpunch.notify import email, outbound, robots, webpush
from fieldpunch.notify.kinds import KINDS
from fieldpunch.notify.models import Notification, PushSubscription, RobotTarget
from fieldpunch.users.models import User

log = logging.getLogger("fieldpunch.notify")
PUSH_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Opera, Samsung
    ".push.services.mozilla.com",  # Firefox
    ".push.apple.com",  # Safari
    ".notify.windows.com",  # Edge on Windows
)


async def send_email(ctx: JobContext) -> None:
    nid = ctx.job.payload["notification_id"]
    async with ctx.db.transaction(write=False) as session:
        found = (
            await session.execute(
                select(Notification, User)
                .join(User, User.id == Notification.user_id)
                .where(Notification.id == nid)
            )
        ).first()
    if found is None or not found[1].active:
        return  # the person or the notification is gone: nothing to deliver
    n, user = found
    if not ctx.settings.smtp_host:
        raise Fail("email is not configured (FIELDPUNCH_SMTP_HOST)")
    msg = email.build(
        ctx.settings,
        notification_id=n.id,
        to_email=user.email,
        to_name=user.name,
        title=n.title,
        body=n.body,
        url=n.data.get("url") if isinstance(n.data.get("url"), str) else None,
        created_at=n.created_at,
    )
    try:
        await email.send(ctx.settings, msg)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if codes and all(code >= 500 for code in codes):
            raise Fail(f"recipient refused: {exc.recipients[0]}") from None
        raise Retry(f"recipient refused for now: {exc}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise Retry(f"SMTP: {type(exc).__name__}: {exc}") from None


def _push_payload(n: Notification) -> bytes:
    """What the service worker gets; `id` doubles as the notification tag, so a repeat replaces."""
    body = n.body
    data = {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": body,
        "url": n.data.get("url"),
        "created_at": n.created_at.isoformat(),
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    while len(raw) > webpush.MAX_PLAINTEXT and body:
        body = body[: max(0, len(body) - (len(raw) - webpush.MAX_PLAINTEXT) - 3)]
        data["body"] = body + "…"
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return raw


async def send_push(ctx: JobContext) -> None:
    payload = ctx.job.payload
    async with ctx.db.transaction(write=False) as session:
        n = await session.get(Notification, payload["notification_id"])
        sub = await session.get(PushSubscription, payload["subscription_id"])
    if n is None or sub is None:
        return  # unsubscribed or deleted since
    if (sub.org_id, sub.user_id) != (n.org_id, n.user_id):
        return  # the browser changed hands since: its new owner is not this message's reader
    key = ctx.settings.vapid_key
    if not key:
        raise Fail("web push is not configured (FIELDPUNCH_VAPID_PRIVATE_KEY)")
    if why := outbound.refusal(sub.endpoint, PUSH_HOSTS, ctx.settings.allowed_hosts):
        raise Fail(f"push endpoint not allowed: {why}")
    subject = ctx.settings.vapid_subject or (
        ctx.settings.base_url
        if ctx.settings.base_url.startswith("https://")
        else f"mailto:{ctx.settings.smtp_from}"
    )
    req = webpush.build_request(
        sub.endpoint,
        sub.p256dh,
        sub.auth,
        _push_payload(n),
        webpush.load_private_key(key),
        subject,
        topic=n.id[:32],
        urgency="high" if n.kind in KINDS and KINDS[n.kind].urgent else "normal",
    )
    try:
        r = await ctx.http.post(req.url, content=req.body, headers=req.headers)
    except httpx.HTTPError as exc:
        raise Retry(f"push service: {type(exc).__name__}: {exc}") from None
    if r.status_code in (404, 410):
        # The browser unsubscribed or the subscription expired: forget it (RFC 8030 §7.3).
        async with ctx.db.transaction() as session:
            await session.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
        return
    if r.status_code == 429 or r.status_code >= 500:
        after = r.headers.get("retry-after", "")
        raise Retry(f"push service HTTP {r.status_code}", float(after) if after.isdigit() else None)
    if r.status_code >= 300:
        raise Fail(f"push service HTTP {r.status_code}: {r.text[:200]}")
    async with ctx.db.transaction() as session:
        await session.execute(
            update(PushSubscription)
            .where(PushSubscription.id == sub.id)
            .values(last_success_at=ctx.now())
        )


async def _robot_status(ctx: JobContext, target_id: str, error: str | None) -> None:
    values: dict[str, object] = {"last_error": error}
    if error is None:
        values["last_sent_at"] = ctx.now()
    async with ctx.db.transaction() as session:
        await session.execute(
            update(RobotTarget).where(RobotTarget.id == target_id).values(**values)
        )


async def send_robot(ctx: JobContext) -> None:
    p = ctx.job.payload
    async with ctx.db.transaction(write=False) as session:
        target = await session.get(RobotTarget, p["target_id"])
    if target is None or not target.enabled:
        return
    if target.provider not in robots.PROVIDERS:
        raise Fail(f"unknown robot provider {target.provider!r}")
    provider = cast(robots.Provider, target.provider)
    if why := outbound.refusal(
        target.url, robots.VENDOR_HOSTS[provider], ctx.settings.allowed_hosts
    ):
        await _robot_status(ctx, target.id, f"webhook not allowed: {why}")
        raise Fail(f"robot webhook not allowed: {why}")
    req = robots.build(
        provider,
        target.url,
        robots.RobotMessage(p["title"], p["body"], p.get("url")),
        target.secret,
        time.time(),
    )
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        # The same for every attempt: a receiver that reads it can drop repeats.
        "X-Fieldpunch-Delivery": ctx.job.id,
    }
    body = json.dumps(req.json, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        r = await ctx.http.post(req.url, content=body, headers=headers)
        robots.check_answer(provider, r.status_code, r.content, r.headers.get("retry-after"))
    except httpx.HTTPError as exc:
        await _robot_status(ctx, target.id, f"{type(exc).__name__}: {exc}"[:500])
        raise Retry(f"{target.provider}: {type(exc).__name__}: {exc}") from None
    except robots.RobotRejected as exc:
        await _robot_status(ctx, target.id, str(exc)[:500])
        if exc.retry:
            raise Retry(str(exc), exc.after_s) from None
        raise Fail(str(exc)) from None
    await _robot_status(ctx, target.id, None)


JOB_KINDS = [
    JobKind("notify.email", send_email, timeout_s=60),
    JobKind("notify.push", send_push, timeout_s=30),
    JobKind("notify.robot", send_robot, timeout_s=30),
]
