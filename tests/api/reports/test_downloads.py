"""The XLSX read back with openpyxl cell by cell, and the CSV as docs/reports.md documents it."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import httpx
import openpyxl  # type: ignore[import-untyped]
import pytest

from fieldpunch.db.engine import Database
from fieldpunch.reports.columns import DAILY, MONTHLY
from tests.api.reports.world import World, build
from tests.factories import OrgKit


@pytest.fixture
async def world(org: OrgKit, db: Database) -> World:
    return await build(org, db)


def _sheet(body: bytes):  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert len(book.worksheets) == 1  # one sheet per report
    return book.worksheets[0]


async def test_daily_xlsx_cell_by_cell(world: World) -> None:
    r = await world.org.admin.get(
        "/reports/attendance", params={"view": "daily", "format": "xlsx", "month": "2026-12"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    ws = _sheet(r.content)
    assert ws.title == "员工考勤明细"
    assert "员工考勤明细" in ws["A1"].value and "2026-12-01" in ws["A1"].value
    assert ws.freeze_panes == "A3"  # the title and the header stay in view
    headers = [c.value for c in ws[2]]
    assert headers == [c.zh for c in DAILY]
    assert headers[:5] == ["日期", "星期", "姓名", "工号", "部门"]
    col = {c.key: n + 1 for n, c in enumerate(DAILY)}
    assert ws.column_dimensions["A"].width > 8  # widths set
    rows = list(ws.iter_rows(min_row=3))
    assert len(rows) == 2 * 7  # two people × the stored week
    # Sorted by name: 张三 (the late one) after 李四 by code point? find by name instead.
    late = [row for row in rows if row[col["name"] - 1].value == "张三"]
    first = late[0]
    date_cell = first[col["date"] - 1]
    assert isinstance(date_cell.value, datetime) and date_cell.is_date
    assert date_cell.value == datetime(2026, 12, 1)
    assert date_cell.number_format == "yyyy-mm-dd"
    assert first[col["weekday"] - 1].value == "星期二"
    assert first[col["employee_no"] - 1].value == "E001"
    assert first[col["team"] - 1].value == "销售一部"
    assert first[col["shift"] - 1].value == "白班"
    assert first[col["status"] - 1].value == "迟到"
    late_min = first[col["late_min"] - 1]
    assert late_min.data_type == "n" and late_min.value == 12
    assert first[col["in1_time"] - 1].value == datetime(2026, 12, 1, 9, 12)
    assert first[col["in1_method"] - 1].value == "Wi-Fi"
    assert first[col["in1_result"] - 1].value == "迟到"
    worked = first[col["worked_min"] - 1]
    assert worked.data_type == "n" and worked.value > 0
    # The next day is on time, and a weekend day is rest.
    assert late[1][col["status"] - 1].value == "正常"
    assert late[1][col["late_min"] - 1].value == 0
    assert late[4][col["status"] - 1].value == "休息"


async def test_monthly_xlsx_and_english(world: World) -> None:
    r = await world.org.admin.get(
        "/reports/attendance",
        params={"view": "monthly", "format": "xlsx", "month": "2026-12", "lang": "en"},
    )
    assert r.status_code == 200, r.text
    ws = _sheet(r.content)
    assert ws.title == "Monthly attendance summary"
    assert [c.value for c in ws[2]] == [c.en for c in MONTHLY]
    col = {c.key: n for n, c in enumerate(MONTHLY)}
    by_name = {row[col["name"]].value: row for row in ws.iter_rows(min_row=3)}
    assert set(by_name) == {"张三", "李四"}
    late = by_name["张三"]
    assert late[col["scheduled_days"]].value == 5
    assert late[col["late_count"]].value == 1
    assert late[col["late_min"]].value == 12
    assert late[col["rest_days"]].value == 2
    assert by_name["李四"][col["late_count"]].value == 0


async def test_csv_columns_as_documented(world: World, client: httpx.AsyncClient) -> None:
    r = await world.org.admin.get(
        "/reports/attendance",
        params={"view": "daily", "format": "csv", "from": "2026-12-01", "to": "2026-12-07"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0] == [c.zh for c in DAILY]
    assert len(lines) == 1 + 14
    keys = [c.key for c in DAILY]
    row = dict(zip(keys, next(x for x in lines[1:] if x[2] == "张三"), strict=True))
    assert row["date"] == "2026-12-01"
    assert row["in1_time"] == "2026-12-01 09:12"
    assert row["status"] == "迟到" and row["late_min"] == "12"
    # Monthly and department CSVs too, with their documented headers.
    for view in ("monthly", "department", "exceptions"):
        r = await world.org.admin.get(
            "/reports/attendance", params={"view": view, "format": "csv", "month": "2026-12"}
        )
        assert r.status_code == 200, r.text
        assert r.content.startswith(b"\xef\xbb\xbf")
        head = r.content.decode("utf-8-sig").splitlines()[0]
        assert head.split(",")[0] in {"姓名", "部门", "日期"}
