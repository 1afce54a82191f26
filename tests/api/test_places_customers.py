"""Places and customers: geofences, CRS in and out, filters, soft delete."""

from __future__ import annotations

import pytest

from fieldpunch.geo.crs import wgs84_to_gcj02
from fieldpunch.geo.distance import haversine_m
from tests.factories import OrgKit

LUJIAZUI = (31.2397, 121.4998)  # WGS-84 (lat, lon)


def square(lat: float, lon: float, d: float = 0.001) -> dict:
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


async def test_place_crud_wgs84(org: OrgKit) -> None:
    body = {
        "name": "HQ",
        "location": {"lat": LUJIAZUI[0], "lon": LUJIAZUI[1]},
        "radius_m": 150,
        "wifi_bssids": ["A4-5E-60-C1-22-01"],
        "kind": "office",
        "address": "世纪大道100号",
    }
    place = await org.admin.ok("post", "/places", 201, json=body)
    assert place["id"].startswith("plc_")
    assert place["location"] == {"lat": LUJIAZUI[0], "lon": LUJIAZUI[1], "crs": "wgs84"}
    assert place["wifi_bssids"] == ["a4:5e:60:c1:22:01"]
    assert await org.admin.ok("get", f"/places/{place['id']}") == place
    patched = await org.admin.ok("patch", f"/places/{place['id']}", json={"radius_m": 80})
    assert patched["radius_m"] == 80 and patched["location"] == place["location"]
    await org.admin.ok("delete", f"/places/{place['id']}", 204)
    assert (await org.admin.get(f"/places/{place['id']}")).status_code == 404
    assert place["id"] not in {p["id"] for p in (await org.admin.ok("get", "/places"))["items"]}


async def test_place_in_gcj02_is_stored_in_wgs84(org: OrgKit) -> None:
    glon, glat = wgs84_to_gcj02(LUJIAZUI[1], LUJIAZUI[0])
    place = await org.admin.ok(
        "post",
        "/places",
        201,
        json={"name": "AMap pin", "location": {"lat": glat, "lon": glon, "crs": "gcj02"}},
    )
    # The answer speaks the client's CRS back ...
    assert place["location"]["crs"] == "gcj02"
    assert haversine_m(glat, glon, place["location"]["lat"], place["location"]["lon"]) < 0.05
    # ... and storage is WGS-84, within half a metre of the true point.
    stored = await org.admin.ok("get", f"/places/{place['id']}")
    assert stored["location"]["crs"] == "wgs84"
    assert haversine_m(*LUJIAZUI, stored["location"]["lat"], stored["location"]["lon"]) < 0.5
    bd = await org.admin.ok("get", f"/places/{place['id']}", params={"crs": "bd09"})
    assert bd["location"]["crs"] == "bd09"
    assert (
        haversine_m(*LUJIAZUI, bd["location"]["lat"], bd["location"]["lon"]) > 500
    )  # BD-09 is far off
    assert (await org.admin.get("/places", params={"crs": "mercator"})).status_code == 422


async def test_polygon_follows_location_crs(org: OrgKit) -> None:
    glon, glat = wgs84_to_gcj02(LUJIAZUI[1], LUJIAZUI[0])
    place = await org.admin.ok(
        "post",
        "/places",
        201,
        params={"crs": "wgs84"},
        json={
            "name": "Campus",
            "location": {"lat": glat, "lon": glon, "crs": "gcj02"},
            "polygon": square(glat, glon),
        },
    )
    ring = place["polygon"]["coordinates"][0]
    # Converted from GCJ-02: the polygon now surrounds the true (WGS-84) point.
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lats) < LUJIAZUI[0] < max(lats) and min(lons) < LUJIAZUI[1] < max(lons)


@pytest.mark.parametrize(
    ("polygon", "why"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0.5]]]}, "closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "valid"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
        ({"type": "Point", "coordinates": [0, 0]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[200, 0], [1, 0], [1, 1], [200, 0]]]}, "lon"),
    ],
)
async def test_bad_polygons_are_422(org: OrgKit, polygon: dict, why: str) -> None:
    r = await org.admin.post(
        "/places", json={"name": "x", "location": {"lat": 1, "lon": 1}, "polygon": polygon}
    )
    assert r.status_code == 422, why
    assert r.json()["errors"][0]["loc"][:2] == ["body", "polygon"]


@pytest.mark.parametrize(
    "location",
    [{"lat": 91, "lon": 0}, {"lat": 0, "lon": -181}, {"lat": "NaN", "lon": 0}, {"lat": 1}],
)
async def test_bad_locations_are_422(org: OrgKit, location: dict) -> None:
    r = await org.admin.post("/places", json={"name": "x", "location": location})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"][:2] == ["body", "location"]


async def test_customer_crud_filters_and_permissions(org: OrgKit) -> None:
    team = await org.team("Sales")
    manager = await org.person("manager", team_id=team, managed_team_ids=[team])
    staff = await org.person("staff", team_id=team)
    body = {
        "name": "上海恒丰五金有限公司",
        "address": "南京西路1266号",
        "location": {"lat": 31.2285, "lon": 121.4532},
        "radius_m": 120,
        "owner_id": staff.user_id,
        "tags": ["重点客户", "零售"],
        "status": "active",
        "contacts": [{"name": "王经理", "title": "采购", "phone": "13800000000"}],
    }
    made = await manager.ok("post", "/customers", 201, json=body)  # managers run customers
    assert made["id"].startswith("cus_") and made["contacts"][0]["name"] == "王经理"
    lead = await org.admin.ok(
        "post", "/customers", 201, json={"name": "Lead Co", "status": "lead", "tags": ["零售"]}
    )
    assert lead["location"] is None
    assert (await staff.post("/customers", json={"name": "Mine"})).status_code == 403
    # Staff can read customers (to check in at them).
    assert {c["id"] for c in (await staff.ok("get", "/customers"))["items"]} == {
        made["id"],
        lead["id"],
    }

    async def ids(**params: str) -> set[str]:
        return {c["id"] for c in (await org.admin.ok("get", "/customers", params=params))["items"]}

    assert await ids(status="lead") == {lead["id"]}
    assert await ids(owner_id=str(staff.user_id)) == {made["id"]}
    assert await ids(tag="零售") == {made["id"], lead["id"]}
    assert await ids(tag="重点客户") == {made["id"]}
    assert await ids(q="南京西路") == {made["id"]}
    assert await ids(q="lead") == {lead["id"]}
    page = await org.admin.ok("get", "/customers", params={"tag": "零售", "limit": 1})
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = await org.admin.ok(
        "get", "/customers", params={"tag": "零售", "limit": 1, "cursor": page["next_cursor"]}
    )
    assert {page["items"][0]["id"], rest["items"][0]["id"]} == {made["id"], lead["id"]} and rest[
        "next_cursor"
    ] is None

    r = await org.admin.patch(f"/customers/{lead['id']}", json={"polygon": square(31.2, 121.4)})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "polygon"]
    moved = await org.admin.ok(
        "patch",
        f"/customers/{lead['id']}",
        json={"location": {"lat": 31.2, "lon": 121.4}, "polygon": square(31.2, 121.4)},
    )
    assert moved["polygon"]["type"] == "Polygon"
    await org.admin.ok("delete", f"/customers/{lead['id']}", 204)
    assert (await org.admin.get(f"/customers/{lead['id']}")).status_code == 404


async def test_customer_contacts_validated(org: OrgKit) -> None:
    r = await org.admin.post(
        "/customers", json={"name": "C", "contacts": [{"name": "A", "email": "nope"}]}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"][:4] == ["body", "contacts", 0, "email"]
