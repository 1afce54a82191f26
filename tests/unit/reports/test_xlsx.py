"""The streamed XLSX writer read back with openpyxl: types, styles, escapes, panes, filter."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]

from fieldpunch.reports.columns import Column, Lang
from fieldpunch.reports.xlsx import XlsxSheet, column_letter

COLUMNS = (
    Column("day", "日期", "Date", "date", 11),
    Column("at", "时间", "Time", "datetime", 17),
    Column("n", "分钟", "Minutes", "int", 10),
    Column("h", "小时", "Hours", "number", 10),
    Column("s", "文字", "Text", "text", 14),
    Column("b", "是否", "Flag", "text", 6),
)


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


def test_cells_read_back_typed(tmp_path: Path) -> None:
    sheet = XlsxSheet(tmp_path / "r.xlsx", "明细's", "标题 <A&B>", COLUMNS, Lang.zh)
    at = datetime(2026, 12, 1, 9, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    sheet.write(
        [
            {"day": date(2026, 12, 1), "at": at, "n": 12, "h": 7.5, "s": "a<b & c>\x01", "b": True},
            {"day": None, "at": None, "n": 0, "h": None, "s": "  spaced ", "b": ""},
        ]
    )
    sheet.write([])
    sheet.close()
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert ws.title == "明细's"
    assert ws["A1"].value == "标题 <A&B>" and ws["A1"].font.b and ws["A1"].font.sz == 14
    assert [c.value for c in ws[2]] == [c.zh for c in COLUMNS]
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb == "FFDDEBF7"
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:F4"
    assert ws.column_dimensions["E"].width > 14
    day, t, n, h, s, b = ws[3]
    assert day.value == datetime(2026, 12, 1) and day.number_format == "yyyy-mm-dd"
    assert t.value == datetime(2026, 12, 1, 9, 12) and t.number_format == "yyyy-mm-dd hh:mm"
    assert n.data_type == "n" and n.value == 12 and n.number_format == "0"
    assert h.value == 7.5 and h.number_format == "0.00"
    assert s.value == "a<b & c>"  # the control character dropped, the markup kept as text
    assert b.value is True
    assert [c.value for c in ws[4]] == [None, None, 0, None, "  spaced ", None]
    assert ws.max_row == 4


def test_no_rows_no_filter(tmp_path: Path) -> None:
    sheet = XlsxSheet(tmp_path / "e.xlsx", "Daily", "Empty", COLUMNS, Lang.en)
    sheet.close()
    ws = openpyxl.load_workbook(tmp_path / "e.xlsx").worksheets[0]
    assert [c.value for c in ws[2]] == [c.en for c in COLUMNS]
    assert ws.auto_filter.ref is None and ws.max_row == 2
