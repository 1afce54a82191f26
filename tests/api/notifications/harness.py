"""What the notification tests share: the org tree, the test's clock, the receivers' answers, and
small readers of the inbox and the jobs table. The fixtures built on them are in conftest.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import Job
from fieldpunch.jobs.runner import Claimed, JobContext, Runner
from fieldpunch.notify import robots, webpush
from tests.factories import Api, OrgKit
from tests.punching import OFFICE, punch
from tests.receivers import (
    VENDOR_PATHS,
    VENDOR_QUERY,
    HookSink,
    vendor_answer,
)

BASE_URL = "https://punch.example.com"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DINGTALK_SECRET = "SEC-dingtalk-0123456789"
FEISHU_SECRET = "feishu-secret-abcdef"


@dataclass
class Clock:
    """Real time plus an offset the test moves (jobs enqueued by requests use real time)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


PUSH_ANSWERS: dict[str, int] = {}


def answer(path: str) -> tuple[int, bytes, dict[str, str]]:
    if path.startswith("/push/"):
        return PUSH_ANSWERS.get(path, 201), b"", {}
    if path == "/cgi-bin/webhook/bad":
        return 200, b'{"errcode":93000,"errmsg":"invalid webhook url"}', {}
    if path == "/cgi-bin/webhook/busy":
        return 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}', {}
    return vendor_answer(path)


@dataclass
class Tree:
    """Region (managed by m2) ⊃ East (managed by m1) ∋ staff; plus the org admin."""

    region: str
    east: str
    m1: Api
    m2: Api
    staff: Api


async def make_tree(org: OrgKit) -> Tree:
    region = await org.team("Region")
    east = await org.team("East", parent_id=region)
    m2 = await org.person("manager", team_id=region, managed_team_ids=[region])
    m1 = await org.person("manager", team_id=east, managed_team_ids=[east])
    staff = await org.person("staff", team_id=east)
    return Tree(region, east, m1, m2, staff)


def mock_punch(**extra: Any) -> dict[str, Any]:
    body = punch(*OFFICE, **extra)
    body["location"]["mock"] = True  # the OS says the position is simulated: critical
    return body


async def read_inbox(api: Api, **params: Any) -> dict[str, Any]:
    return await api.ok("get", "/notifications", params=params)  # type: ignore[no-any-return]


async def email_of(org: OrgKit, api: Api) -> str:
    return str((await org.admin.ok("get", f"/users/{api.user_id}"))["email"])


async def org_jobs(db: Database, org_id: str, kind: str | None = None) -> list[Job]:
    async with db.transaction(write=False) as session:
        stmt = select(Job).where(Job.org_id == org_id).order_by(Job.id)
        if kind:
            stmt = stmt.where(Job.kind == kind)
        return list((await session.execute(stmt)).scalars())


async def add_robots(org: OrgKit, hooks: HookSink, kinds: Sequence[str]) -> dict[str, str]:
    made = {}
    for provider in robots.PROVIDERS:
        body: dict[str, Any] = {
            "name": f"{provider} group",
            "provider": provider,
            "url": hooks.base + VENDOR_PATHS[provider] + VENDOR_QUERY[provider],
            "kinds": list(kinds),
        }
        if provider == "dingtalk":
            body["secret"] = DINGTALK_SECRET
        if provider == "feishu":
            body["secret"] = FEISHU_SECRET
        made[provider] = (await org.admin.ok("post", "/robots", 201, json=body))["id"]
    return made


def job_context(
    db: Database, settings: Settings, runner: Runner, kind: str, payload: dict
) -> JobContext:
    job = Claimed(f"job_rerun_{secrets.token_hex(4)}", kind, payload, None, 1, 5, None)
    return JobContext(db, settings, runner.http, job, runner.clock)


def browser_subscription(endpoint: str) -> tuple[dict[str, Any], ec.EllipticCurvePrivateKey, bytes]:
    """A browser's subscription (`PushSubscription.toJSON()`) and its private key and secret."""
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = secrets.token_bytes(16)
    public = ua.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    keys = {"p256dh": webpush.b64url(public), "auth": webpush.b64url(auth)}
    return {"endpoint": endpoint, "keys": keys, "expirationTime": None}, ua, auth
