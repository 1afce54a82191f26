"""The visit reports through the API, on both databases: a plan checked in and out with signed
punches, the form filled, its duration and outcome in the report; a missed plan; per customer;
customers not visited in N days; CSV and XLSX; performance; who may see what."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl

from tests.api.visits.conftest import Jobs
from tests.api.visits.harness import SHOP, Phone, base_time, customer, near, plan
from tests.api.visits.harness import today as local_today
from tests.factories import OrgKit

FOLLOW, MISSED = "visits.follow", "visits.missed"


async def _day(org: OrgKit, jobs: Jobs) -> tuple[Phone, str, str, str]:
    """A rep's day: one plan done (35 min, outcome `order`), one plan missed, one unplanned."""
    team = await org.team("华东")
    rep = await Phone.of(await org.person("staff", team))
    await org.admin.ok("put", "/visit-outcomes", json={"outcomes": [
        {"key": "order", "label": "已下单"}, {"key": "follow_up", "label": "需跟进"}]})  # fmt: skip
    shop = await customer(org.admin, "华为", owner_id=rep.api.user_id)
    far = await customer(org.admin, "小米", at=(31.30, 121.50))
    t0 = base_time()
    day = t0.date()
    done = await org.admin.ok(
        "post", "/visits", 201, json=plan(shop, str(rep.api.user_id), day, 12)
    )
    await org.admin.ok("post", "/visits", 201, json=plan(far, str(rep.api.user_id), day, 8))
    await rep.visit("visit_in", t0 + timedelta(minutes=5), near(SHOP), customer_id=shop)
    await rep.visit("visit_out", t0 + timedelta(minutes=40), near(SHOP), customer_id=shop)
    await rep.visit("visit_in", t0 + timedelta(minutes=60), near(SHOP), customer_id=shop)
    await rep.visit("visit_out", t0 + timedelta(minutes=70), near(SHOP), customer_id=shop)
    await jobs.run(FOLLOW)
    await jobs.run(MISSED)
    await rep.api.ok("patch", f"/visits/{done['id']}", json={"outcome": "order"})
    return rep, team, shop, far


async def test_visits_per_person_and_customer(org: OrgKit, jobs: Jobs) -> None:
    rep, team, shop, far = await _day(org, jobs)
    day = base_time().date().isoformat()
    span = {"from": day, "to": day}
    report = await org.admin.ok("get", "/reports/visits", params=span | {"team_id": team})
    (row,) = report["items"]
    assert row["user_id"] == rep.api.user_id
    assert {k: row[k] for k in ("total", "planned", "done", "planned_done", "unplanned",
                                "missed", "cancelled", "in_progress", "unclosed")} == {
        "total": 3, "planned": 2, "done": 2, "planned_done": 1, "unplanned": 1, "missed": 1,
        "cancelled": 0, "in_progress": 0, "unclosed": 0}  # fmt: skip
    assert row["completion_rate_pct"] == 50.0 and row["on_time_rate_pct"] == 100.0
    assert row["total_duration_min"] == 45 and row["avg_duration_min"] == 22.5
    assert row["outcome_order"] == 1 and row["outcome_follow_up"] == 0
    assert [c["key"] for c in report["columns"]][-3:] == [
        "outcome_order", "outcome_follow_up", "user_id"]  # fmt: skip
    by_customer = await org.admin.ok(
        "get", "/reports/visits", params=span | {"view": "customer", "lang": "en"}
    )
    rows = {r["customer_id"]: r for r in by_customer["items"]}
    assert (rows[shop]["done"], rows[shop]["people"], rows[far]["missed"]) == (2, 1, 1)
    assert rows[shop]["last_visit_at"].startswith(day)
    # Paged one customer at a time: the same rows, in the same order.
    seen, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = await org.admin.ok(
            "get", "/reports/visits", params=span | {"view": "customer", "limit": 1} | extra
        )
        seen += [r["customer_id"] for r in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [r["customer_id"] for r in by_customer["items"]]
    # Staff: their own only; another person is a 404.
    other = await org.person("staff")
    mine = await other.ok("get", "/reports/visits", params=span)
    assert [r["user_id"] for r in mine["items"]] == [other.user_id]
    r = await other.get("/reports/visits", params=span | {"user_id": rep.api.user_id})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    bad = await org.admin.get("/reports/visits", params={"from": day})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "to"]


async def test_not_visited_and_downloads(org: OrgKit, jobs: Jobs) -> None:
    rep, _team, shop, far = await _day(org, jobs)
    never = await customer(org.admin, "从未拜访", at=(31.20, 121.40), owner_id=rep.api.user_id)
    ask = {"view": "not_visited", "days": 3, "lang": "en"}
    page = await org.admin.ok("get", "/reports/visits", params=ask)
    ids = [r["customer_id"] for r in page["items"]]
    assert never in ids and far in ids and shop not in ids
    (row,) = [r for r in page["items"] if r["customer_id"] == never]
    me = await rep.api.ok("get", f"/users/{rep.api.user_id}")
    assert row["last_visit_at"] is None and row["owner"] == me["name"]
    owned = await org.admin.ok("get", "/reports/visits", params=ask | {"user_id": rep.api.user_id})
    assert [r["customer_id"] for r in owned["items"]] == [never]
    missing = await org.admin.get("/reports/visits", params={"view": "not_visited"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == ["query", "days"]
    # CSV and XLSX carry the JSON's rows.
    day = base_time().date().isoformat()
    span = {"from": day, "to": day, "lang": "en"}
    got = await org.admin.get("/reports/visits", params=span | {"format": "csv"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["Name", "Employee no.", "Team", "Visits"]
    assert [line[3] for line in lines[1:] if line[-1] == rep.api.user_id] == ["3"]
    got = await org.admin.get("/reports/visits", params=span | {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][3] == "Visits" and any(v[-1] == rep.api.user_id and v[3] == 3 for v in values)


async def test_performance_per_person_and_team(org: OrgKit, jobs: Jobs) -> None:
    rep, team, _shop, _far = await _day(org, jobs)
    await org.admin.ok(
        "post", "/tasks", 201, json={"title": "报价", "assignee_id": rep.api.user_id}
    )
    tasks = (await rep.api.ok("get", "/tasks", params={"mine": "true"}))["items"]
    await rep.api.ok("patch", f"/tasks/{tasks[0]['id']}", json={"status": "done"})
    day = base_time().date().isoformat()
    today = local_today().isoformat()  # the task was done now
    span = {"from": min(day, today), "to": max(day, today), "team_id": team}
    (row,) = (await org.admin.ok("get", "/reports/performance", params=span))["items"]
    assert (row["planned"], row["done"], row["customers"], row["punches"]) == (2, 2, 1, 4)
    assert row["tasks_done"] == 1
    # 12:05-12:40 and 13:00-13:10 at the customer, 20 min between.
    assert (row["customer_min"], row["travel_min"]) == (45, 20)
    (total,) = (await org.admin.ok("get", "/reports/performance", params=span | {
        "view": "team"}))["items"]  # fmt: skip
    assert total["team_id"] == team and total["people"] == 1 and total["done"] == 2
