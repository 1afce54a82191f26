"""The issue's must-show on the real path: a shift assigned, punches through the API, the day
recomputed by the job, and the daily report (JSON, XLSX) and monthly summary naming the late day
(both databases)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.reports.columns import DAILY, MONTHLY
from tests.api.attendance.days_kit import (
    Jobs,
    fixed_group,
    jobs_for,
    local,
    past,
    punch_at,
    quiet_settings,
)
from tests.factories import OrgKit


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return quiet_settings(db_url, tmp_path)


@pytest.fixture
async def jobs(db: Database, settings: Settings) -> AsyncIterator[Jobs]:
    async with jobs_for(db, settings) as j:
        yield j


async def test_punch_recompute_xlsx(org: OrgKit, jobs: Jobs) -> None:
    staff = await org.person("staff", name="王五")
    assert staff.user_id
    await fixed_group(org, [staff.user_id])
    d = past()
    await punch_at(staff, "clock_in", local(d, 9, 20))
    await punch_at(staff, "clock_out", local(d, 18, 5))
    await jobs.refresh()
    span = {"from": d.isoformat(), "to": d.isoformat(), "user_id": staff.user_id}
    report = await org.admin.ok(
        "get", "/reports/attendance", params={**span, "view": "daily", "lang": "en"}
    )
    (daily,) = report["items"]
    assert daily["statuses"] == ["late"], daily
    assert daily["late_min"] == 20
    assert daily["status"] == "Late", daily
    r = await org.admin.get("/reports/attendance", params={**span, "format": "xlsx"})
    assert r.status_code == 200, r.text
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    col = {c.key: n for n, c in enumerate(DAILY)}
    (row,) = list(ws.iter_rows(min_row=3))
    assert row[col["name"]].value == "王五"
    assert row[col["status"]].value == "迟到"
    assert row[col["late_min"]].value == 20
    assert row[col["in1_time"]].value.strftime("%H:%M") == "09:20"
    month = await org.admin.ok("get", "/reports/attendance", params={**span, "view": "monthly"})
    (person,) = month["items"]
    assert set(person) == {c.key for c in MONTHLY}
    assert person["late_count"] == 1 and person["late_min"] == 20
