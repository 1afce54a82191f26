"""Cell towers: OpenCelliD CSV import (all or none, dry run) and their use in fusion."""

from __future__ import annotations

from tests.factories import OrgKit
from tests.punching import OFFICE, punch

HEADER = (
    "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
)
GOOD = (
    f"LTE,460,0,6180,123456,0,{OFFICE[1]},{OFFICE[0]},800,42,1,1500000000,1600000000,0\n"
    "GSM,460,1,9,77,0,121.47,31.23,1500,3,1,1500000000,1600000000,0\n"
)


def _post(org: OrgKit, text: str, **params: str):
    return org.admin.post(
        "/cells/import", content=text.encode(), headers={"content-type": "text/csv"}, params=params
    )


async def test_import_dry_run_then_real(org: OrgKit) -> None:
    dry = await _post(org, HEADER + GOOD, dry_run="true")
    assert dry.status_code == 200 and dry.json() == {"rows": 2, "dry_run": True}
    assert (await org.admin.ok("get", "/cells/stats"))["count"] == 0
    real = await _post(org, HEADER + GOOD)
    assert real.json() == {"rows": 2, "dry_run": False}
    again = await _post(org, GOOD)  # same towers, no header: updated, not duplicated
    assert again.status_code == 200
    assert await org.admin.ok("get", "/cells/stats") == {
        "count": 2,
        "by_radio": {"gsm": 1, "lte": 1},
    }


async def test_one_bad_row_imports_nothing(org: OrgKit) -> None:
    bad = GOOD + "LTE,460,0,6180,999,0,121.5,95.0,800,1,1,0,0,0\nWIMAX,1,1,1,1,0,1,1,1\n"
    r = await _post(org, HEADER + bad)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors[0]["loc"] == ["body", "row", 4, "lat"] and errors[1]["loc"] == [
        "body",
        "row",
        5,
        "radio",
    ]
    assert (await org.admin.ok("get", "/cells/stats"))["count"] == 0
    staff = await org.person("staff")
    assert (await staff.post("/cells/import", content=GOOD.encode())).status_code == 403


async def test_line_ends_of_any_kind_are_rows_not_server_errors(org: OrgKit) -> None:
    # A bare CR (old Mac line end) once escaped the csv module as a 500 (found by schemathesis).
    r = await _post(org, "\r\x1e{Ç£")
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "row", 2]
    crlf = await _post(org, (HEADER + GOOD).replace("\n", "\r\n"))
    assert crlf.json() == {"rows": 2, "dry_run": False}


async def test_a_known_cell_joins_the_fusion(org: OrgKit) -> None:
    await _post(org, GOOD)
    staff = await org.person("staff")
    cells = [
        {"radio": "lte", "mcc": 460, "mnc": 0, "lac": 6180, "cid": 123456, "rssi": -80},
        {"radio": "lte", "mcc": 460, "mnc": 0, "lac": 1, "cid": 1},
    ]  # unknown: ignored
    body = await staff.ok("post", "/punches", 201, json=punch(accuracy=900, cells=cells))
    assert set(body["location"]["sources"]) == {"gps", "cell"}
