"""The field-punch settings: what the field app asks for before an out-of-range punch."""

from __future__ import annotations

from typing import Any

from tests.factories import Api, OrgKit
from tests.punching import OFFICE, punch

CLIENT_SITE = (31.2304, 121.4737)  # People's Square, ~2.7 km from the Lujiazui office


async def test_field_punch_note_and_photo_settings(org: OrgKit) -> None:
    out = await org.admin.ok("get", "/org")
    assert out["field_punch_note_required"] is False
    assert out["field_punch_photo_required"] is False

    out = await org.admin.ok("patch", "/org", json={"field_punch_note_required": True})
    assert out["field_punch_note_required"] is True
    assert out["field_punch_photo_required"] is False
    assert out["require_signed_punches"] is False  # the other settings are kept

    out = await org.admin.ok("patch", "/org", json={"field_punch_photo_required": True})
    assert out["field_punch_note_required"] is True and out["field_punch_photo_required"] is True

    # Staff read them (the app decides before the tap), but only admins change them.
    staff = await org.person("staff")
    seen = await staff.ok("get", "/org")
    assert seen["field_punch_note_required"] is True
    assert (await staff.patch("/org", json={"field_punch_note_required": False})).status_code == 403
    r = await org.admin.patch("/org", json={"field_punch_note_required": None})
    assert r.status_code == 422


async def test_map_provider_setting(org: OrgKit) -> None:
    assert (await org.admin.ok("get", "/org"))["map_provider"] == "osm"
    out = await org.admin.ok("patch", "/org", json={"map_provider": "amap"})
    assert out["map_provider"] == "amap" and out["field_punch_note_required"] is False
    assert (await org.admin.ok("get", "/me"))["org"]["map_provider"] == "amap"
    staff = await org.person("staff")
    assert (await staff.ok("get", "/me"))["org"]["map_provider"] == "amap"  # every map uses it

    for bad in ("baidu", None, 3):
        r = await org.admin.patch("/org", json={"map_provider": bad})
        assert r.status_code == 422
        assert any(e["loc"] == ["body", "map_provider"] for e in r.json()["errors"]), r.json()
    assert (await org.admin.ok("patch", "/org", json={"map_provider": "tencent"}))[
        "map_provider"
    ] == "tencent"


async def _field_findings(api: Api, punch_id: str) -> list[dict[str, Any]]:
    body = await api.ok("get", f"/punches/{punch_id}")
    return [a for a in body["anomalies"] if a["rule"] == "field_evidence_missing"]


async def test_a_field_punch_without_the_required_note_is_accepted_and_flagged(
    org: OrgKit,
) -> None:
    # The app asks for the note first; a client that skips it is not refused, but it is said.
    await org.admin.ok(
        "post",
        "/places",
        201,
        json={"name": "陆家嘴办公室", "location": {"lat": OFFICE[0], "lon": OFFICE[1]}},
    )
    await org.admin.ok("patch", "/org", json={"field_punch_note_required": True})
    away, careful, inside = [await org.person("staff") for _ in range(3)]

    sent = await away.ok("post", "/punches", 201, json=punch(*CLIENT_SITE))
    assert sent["status"] == "flagged"
    (found,) = await _field_findings(away, sent["id"])
    assert found["evidence"]["missing"] == ["note"]
    assert found["evidence"]["distance_outside_m"] > 2000

    noted = await careful.ok(
        "post", "/punches", 201, json=punch(*CLIENT_SITE, note="在客户现场开会")
    )
    assert await _field_findings(careful, noted["id"]) == []

    at_office = await inside.ok("post", "/punches", 201, json=punch(*OFFICE))
    assert await _field_findings(inside, at_office["id"]) == []

    # The punch keeps what it was sent without: switching the setting off later changes nothing.
    await org.admin.ok("patch", "/org", json={"field_punch_note_required": False})
    assert len(await _field_findings(away, sent["id"])) == 1
