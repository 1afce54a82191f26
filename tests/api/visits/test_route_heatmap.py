"""A person's day as GeoJSON (validated against RFC 7946) and the H3 heat map, both databases."""

from __future__ import annotations

from datetime import timedelta

import h3
import pytest

from tests.api.visits import rfc7946
from tests.api.visits.conftest import Jobs
from tests.api.visits.harness import SHOP, Phone, base_time, customer, near
from tests.factories import OrgKit

OTHER = (31.2404, 121.4737)  # ~1.1 km north of SHOP


async def test_a_days_route_is_rfc7946_geojson(org: OrgKit, jobs: Jobs) -> None:
    rep = await Phone.of(await org.person("staff"))
    shop = await customer(org.admin, "华为")
    second = await customer(org.admin, "小米", at=OTHER)
    t0 = base_time()
    await rep.visit("visit_in", t0, near(SHOP), customer_id=shop)
    await rep.visit("visit_out", t0 + timedelta(minutes=30), near(SHOP), customer_id=shop)
    await rep.visit("visit_in", t0 + timedelta(minutes=50), near(OTHER), customer_id=second)
    await rep.visit("visit_out", t0 + timedelta(minutes=70), near(OTHER), customer_id=second)
    await jobs.run("visits.follow")
    params = {"user_id": rep.api.user_id, "date": t0.date().isoformat()}
    r = await org.admin.get("/reports/route", params=params)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    day = r.json()
    rfc7946.feature_collection(day)
    line, *points = day["features"]
    assert line["geometry"]["type"] == "LineString" and len(line["geometry"]["coordinates"]) == 4
    assert [p["properties"]["kind"] for p in points] == [
        "visit_in", "visit_out", "visit_in", "visit_out"]  # fmt: skip
    assert points[0]["properties"]["customer"] == "华为"
    assert points[0]["geometry"]["coordinates"][0] == pytest.approx(SHOP[1])
    assert 1000 < day["distance_m"] < 1300  # there and on: ~1.1 km
    assert [(s["customer"], s["duration_min"]) for s in day["stops"]] == [
        ("华为", 30.0), ("小米", 20.0)]  # fmt: skip
    assert day["minutes_at_customers"] == 50.0
    # On a Chinese map's datum: shifted a few hundred metres, still valid GeoJSON.
    gcj = await org.admin.ok("get", "/reports/route", params=params | {"crs": "gcj02"})
    rfc7946.feature_collection(gcj)
    assert gcj["crs_name"] == "gcj02"
    assert gcj["features"][1]["geometry"] != day["features"][1]["geometry"]
    # Staff see their own day only; another person's is a 404.
    other = await org.person("staff")
    assert (await other.get("/reports/route", params=params)).status_code == 404
    own = await rep.api.ok("get", "/reports/route", params=params)
    assert own["distance_m"] == day["distance_m"]
    empty = await org.admin.ok("get", "/reports/route", params=params | {"date": "2020-01-01"})
    rfc7946.feature_collection(empty)
    assert empty["features"] == [] and empty["distance_m"] == 0


async def test_heat_map_on_h3_cells(org: OrgKit, jobs: Jobs) -> None:
    rep = await Phone.of(await org.person("staff"))
    shop = await customer(org.admin, "华为")
    t0 = base_time()
    await rep.visit("visit_in", t0, near(SHOP), customer_id=shop)
    await rep.visit("visit_out", t0 + timedelta(minutes=30), near(SHOP), customer_id=shop)
    await jobs.run("visits.follow")
    day = t0.date().isoformat()
    span = {"from": day, "to": day}
    cells = await org.admin.ok(
        "get", "/reports/heatmap", params=span | {"of": "visits", "resolution": 9, "format": "json"}
    )
    assert cells["items"] == [
        {"cell": h3.latlng_to_cell(*SHOP, 9), "count": 1, "lat": pytest.approx(SHOP[0], abs=0.01),
         "lon": pytest.approx(SHOP[1], abs=0.01)}]  # fmt: skip
    r = await org.admin.get("/reports/heatmap", params=span | {"resolution": 7})
    assert r.headers["content-type"] == "application/geo+json"
    punches = r.json()
    rfc7946.feature_collection(punches)
    assert punches["total"] == 2 and punches["of"] == "punches"
    assert [f["properties"]["count"] for f in punches["features"]] == [2]
    bad = await org.admin.get("/reports/heatmap", params=span | {"resolution": 15})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "resolution"]
