"""One rule for the CRS of a punch's answer, single or batched: `?crs=` when given, else the
`crs` the punch was sent in (docs/api.md, "Coordinates and crs")."""

from __future__ import annotations

from fieldpunch.geo.crs import wgs84_to_gcj02
from fieldpunch.geo.distance import haversine_m
from tests.factories import OrgKit
from tests.punching import OFFICE, punch


async def test_a_batch_answers_each_punch_in_the_crs_it_was_sent_in(org: OrgKit) -> None:
    staff = await org.person("staff")
    glon, glat = wgs84_to_gcj02(OFFICE[1], OFFICE[0])
    gcj = punch(glat, glon)
    gcj["location"]["crs"] = "gcj02"
    wgs = punch(kind="clock_out")
    body = await staff.ok("post", "/punches/batch", json={"punches": [gcj, wgs]})
    first, second = (r["punch"]["location"] for r in body["results"])
    assert first["crs"] == "gcj02" and haversine_m(glat, glon, first["lat"], first["lon"]) < 0.5
    assert second["crs"] == "wgs84"
    single = await staff.ok("post", "/punches", 200, json=gcj)  # the same rule alone
    assert single["location"]["crs"] == "gcj02"
    asked = await staff.ok(
        "post", "/punches/batch", json={"punches": [gcj]}, params={"crs": "bd09"}
    )
    assert asked["results"][0]["punch"]["location"]["crs"] == "bd09"
