"""Who sees which rows, bad input as 422 naming the field, and JSON pages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fieldpunch.db.engine import Database
from tests.api.attendance.harness import loc
from tests.api.reports.world import World, build
from tests.factories import Api, OrgKit

URL = "/reports/attendance"
DEC = {"month": "2026-12"}


@pytest.fixture
async def world(org: OrgKit, db: Database) -> World:
    return await build(org, db)


async def _names(api: Api, **params: Any) -> set[str]:
    body = await api.ok("get", URL, params={**DEC, "limit": 500, **params})
    return {row["name"] for row in body["items"]}


async def test_each_role_sees_its_people(world: World) -> None:
    assert await _names(world.org.admin) == {"张三", "李四"}
    assert await _names(world.manager_a) == {"张三"}
    assert await _names(world.manager_a, team_id=world.team_a) == {"张三"}
    assert await _names(world.late) == {"张三"}
    assert await _names(world.fine, view="monthly") == {"李四"}
    assert await _names(world.org.admin, team_id=world.team_b) == {"李四"}
    assert await _names(world.org.admin, user_id=str(world.late.user_id)) == {"张三"}


async def test_manager_of_team_a_gets_404_for_team_b(world: World) -> None:
    r = await world.manager_a.get(URL, params={**DEC, "team_id": world.team_b})
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    r = await world.manager_a.get(URL, params={**DEC, "user_id": str(world.fine.user_id)})
    assert r.status_code == 404
    r = await world.late.get(URL, params={**DEC, "user_id": str(world.fine.user_id)})
    assert r.status_code == 404
    for fmt in ("csv", "xlsx"):  # no download starts either
        r = await world.manager_a.get(URL, params={**DEC, "team_id": world.team_b, "format": fmt})
        assert r.status_code == 404


async def test_another_org_gets_404(world: World, other_org: OrgKit) -> None:
    for params in ({"team_id": world.team_a}, {"user_id": str(world.late.user_id)}):
        r = await other_org.admin.get(URL, params={**DEC, **params})
        assert r.status_code == 404, r.text
    assert await _names(other_org.admin) == set()


async def test_an_api_key_with_attendance_read(world: World, client: httpx.AsyncClient) -> None:
    key = await world.org.admin.ok(
        "post", "/api-keys", 201, json={"name": "payroll", "scopes": ["attendance:read"]}
    )
    payroll = Api(client, key["key"])
    assert await _names(payroll, view="monthly") == {"张三", "李四"}
    other = await world.org.admin.ok(
        "post", "/api-keys", 201, json={"name": "crm", "scopes": ["customers:read"]}
    )
    r = await Api(client, other["key"]).get(URL, params=DEC)
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-12-07", "to": "2026-12-01"}, "to"),
        ({"from": "2026-01-01", "to": "2027-06-01"}, "to"),
        ({"from": "2026-12-01"}, "to"),
        ({"to": "2026-12-01"}, "from"),
        ({"month": "2026-13"}, "month"),
        ({"month": "12-2026"}, "month"),
        ({"month": "2026-12", "from": "2026-12-01"}, "from"),
        ({"view": "weekly"}, "view"),
        ({"format": "pdf"}, "format"),
        ({"status": "sleepy"}, "status"),
        ({"lang": "fr"}, "lang"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_input_names_the_field(world: World, params: dict[str, str], field: str) -> None:
    r = await world.org.admin.get(URL, params=params)
    assert ["query", field] in loc(r), r.text


async def test_json_pages_and_columns(world: World) -> None:
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {**DEC, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = await world.org.admin.ok("get", URL, params=params)
        assert body["view"] == "daily" and body["lang"] == "zh"
        assert body["timezone"] == "Asia/Shanghai"
        assert body["columns"][0] == {"key": "date", "header": "日期", "type": "date"}
        assert len(body["items"]) <= 3
        seen += [(i["user_id"], i["date"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 14
    late = next(
        i
        for i in (await world.org.admin.ok("get", URL, params={**DEC, "limit": 500}))["items"]
        if i["name"] == "张三" and i["date"] == "2026-12-01"
    )
    assert late["statuses"] == ["late"] and late["late_min"] == 12
    assert late["in1_time"] == "2026-12-01T09:12:00+08:00"
    # Monthly pages by person.
    first = await world.org.admin.ok("get", URL, params={**DEC, "view": "monthly", "limit": 1})
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = await world.org.admin.ok(
        "get", URL, params={**DEC, "view": "monthly", "limit": 1, "cursor": first["next_cursor"]}
    )
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert first["items"][0]["user_id"] != second["items"][0]["user_id"]


async def test_status_filter_department_and_exceptions(world: World) -> None:
    body = await world.org.admin.ok("get", URL, params={**DEC, "status": "late"})
    assert [(i["name"], i["date"]) for i in body["items"]] == [("张三", "2026-12-01")]
    body = await world.org.admin.ok("get", URL, params={**DEC, "view": "monthly", "status": "late"})
    assert [i["name"] for i in body["items"]] == ["张三"]
    body = await world.org.admin.ok("get", URL, params={**DEC, "view": "department"})
    teams = {i["team"]: i for i in body["items"]}
    assert set(teams) == {"销售一部", "华东区"}
    assert teams["销售一部"]["people"] == 1 and teams["销售一部"]["late_min"] == 12
    assert body["next_cursor"] is None
    body = await world.org.admin.ok("get", URL, params={**DEC, "view": "exceptions"})
    assert [(i["name"], i["exception"]) for i in body["items"]] == [("张三", "迟到")]
