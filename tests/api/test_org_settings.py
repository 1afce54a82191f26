"""The field-punch settings: what the field app asks for before an out-of-range punch."""

from __future__ import annotations

from tests.factories import OrgKit


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
