"""Shared by the visit tests: customers, plan bodies in the org's zone, 422 locations."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.factories import Api, OrgKit
from tests.keys import new_p256
from tests.punching import punch, sign

TZ = ZoneInfo("Asia/Shanghai")  # the test orgs' zone (tests/factories.new_org)
SHOP = (31.2304, 121.4737)  # People's Square, WGS-84


async def customer(
    api: Api, name: str = "华为", at: tuple[float, float] = SHOP, **extra: Any
) -> str:
    body = {"name": name, "location": {"lat": at[0], "lon": at[1]}, "radius_m": 100, **extra}
    return str((await api.ok("post", "/customers", 201, json=body))["id"])


def local(day: date, hh: int, mm: int = 0) -> str:
    return datetime.combine(day, time(hh, mm), TZ).isoformat()


def today() -> date:
    return datetime.now(TZ).date()


def plan(
    customer_id: str, user_id: str, day: date | None = None, hh: int = 10, **extra: Any
) -> dict[str, Any]:
    day = day or today()
    return {
        "customer_id": customer_id,
        "user_id": user_id,
        "planned_start": local(day, hh),
        "planned_end": local(day, hh + 1),
        "purpose": "复购洽谈",
        **extra,
    }


def week(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(5)]


def loc(response: Any) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["loc"] for e in response.json()["errors"]]


async def trail(org: OrgKit, **params: str) -> list[dict[str, Any]]:
    page = await org.admin.ok("get", "/audit-log", params={"limit": 500, **params})
    return list(page["items"])


def base_time() -> datetime:
    """A local noon at least 90 minutes and at most 25.5 hours ago, with hours to spare on both
    sides within its day (the visit tests' org accepts offline punches that old: conftest.py)."""
    now = datetime.now(TZ)
    noon = datetime.combine(now.date(), time(12), TZ)
    return noon if now - noon >= timedelta(minutes=90) else noon - timedelta(days=1)


def near(at: tuple[float, float], north_m: float = 8.0) -> tuple[float, float]:
    """A point `north_m` north of `at`: measured near a customer, not on its stored centre."""
    return at[0] + north_m / 111_320, at[1]


class Phone:
    """A person with an enrolled device, punching visits as the field app does (signed)."""

    def __init__(self, api: Api, private: Any, device_id: str) -> None:
        self.api, self.private, self.device_id = api, private, device_id

    @classmethod
    async def of(cls, api: Api) -> Phone:
        private, public = new_p256()
        body = {"public_key": public, "platform": "android"}
        device = await api.ok("post", "/devices", 201, json=body)
        return cls(api, private, device["id"])

    def body(
        self, kind: str, at: datetime, where: tuple[float, float], **extra: Any
    ) -> dict[str, Any]:
        """An offline punch (dated by the phone's clock, as a queued punch is)."""
        raw = punch(*where, kind=kind, captured_at=at, offline=True, **extra)
        return sign(self.private, raw, self.device_id)

    async def visit(
        self, kind: str, at: datetime, where: tuple[float, float], **extra: Any
    ) -> dict[str, Any]:
        return await self.api.ok("post", "/punches", 201, json=self.body(kind, at, where, **extra))  # type: ignore[no-any-return]
