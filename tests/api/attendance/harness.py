"""Shared by the attendance tests: bodies, the org's local today, dirty days and audit trails."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.db.engine import Database
from tests.factories import OrgKit

TZ = ZoneInfo("Asia/Shanghai")  # the test orgs' zone (tests/factories.new_org)
DAY_SHIFT = {"name": "Day", "periods": [{"start": "09:00", "end": "18:00"}]}
NIGHT_SHIFT = {"name": "Night", "periods": [{"start": "22:00", "end": "06:00"}]}


def today() -> date:
    return datetime.now(TZ).date()


async def dirty(db: Database, org_id: str) -> set[tuple[str, date, str]]:
    """The org's (person or "*", day, cause) left for the recompute."""
    async with db.transaction(write=False) as session:
        return set(await AttendanceRepo(session).dirty(org_id))


async def trail(org: OrgKit, **params: str) -> list[dict[str, Any]]:
    page = await org.admin.ok("get", "/audit-log", params={"limit": 500, **params})
    return list(page["items"])


def loc(response: Any) -> list[list[Any]]:
    """The `loc` of each error of a 422 answer."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["loc"] for e in response.json()["errors"]]
