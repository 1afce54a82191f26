"""docs/reports.md lists every column of every view, in order, with both headers."""

from __future__ import annotations

from pathlib import Path

from fieldpunch.reports.columns import COLUMNS

DOC = Path(__file__).parents[3] / "docs" / "reports.md"


def test_every_column_is_documented_in_order() -> None:
    text = DOC.read_text(encoding="utf-8")
    for view, columns in COLUMNS.items():
        section = text.split(f"### `view={view.value}`")[1].split("###")[0]
        rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
        assert len(rows) == len(columns), view
        for n, (line, c) in enumerate(zip(rows, columns, strict=True), 1):
            cells = [x.strip() for x in line.strip("|").split("|")]
            assert cells[:5] == [str(n), f"`{c.key}`", c.zh, c.en, c.kind], line
