"""Signing in by mobile number: stored normalised, unique per organization, any common spelling."""

from __future__ import annotations

import secrets

import httpx
import pytest

from fieldpunch.db.engine import Database
from fieldpunch.users.phones import looks_like_phone, normalize_phone
from tests.factories import PASSWORD, OrgKit, new_org, unique_email


def _mobile() -> str:
    return "139" + "".join(secrets.choice("0123456789") for _ in range(8))


async def _token(client: httpx.AsyncClient, username: str, **extra: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD, **extra}
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(021) 5888-1234", "02158881234"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("0044 20 7946 0958", "+442079460958"),
        ("  ", None),
        (None, None),
    ],
)
def test_phones_are_stored_in_one_form(typed: str | None, stored: str | None) -> None:
    assert normalize_phone(typed) == stored


def test_a_sign_in_name_is_a_phone_when_it_is_digits() -> None:
    assert looks_like_phone("+86 138-0013-8000")
    assert not looks_like_phone("wang@example.com")
    assert not looks_like_phone("1234")  # too short to be anyone's number
    assert not looks_like_phone("abc13800138000")


async def test_sign_in_with_the_phone_in_any_spelling(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    mobile = _mobile()
    spaced = f"+86 {mobile[:3]} {mobile[3:7]}-{mobile[7:]}"
    staff = await org.person("staff", phone=spaced)
    me = await staff.ok("get", f"/users/{staff.user_id}")
    assert me["phone"] == mobile  # stored normalised

    for typed in (mobile, spaced, f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", f"+86{mobile}"):
        r = await _token(client, typed)
        assert r.status_code == 200, (typed, r.text)
        who = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert who.json()["user_id"] == staff.user_id

    wrong = await client.post(
        "/api/v1/auth/token", data={"username": mobile, "password": "not-the-password"}
    )
    assert wrong.status_code == 401
    assert (await _token(client, "13000000000")).status_code == 401  # nobody's number


async def test_a_phone_is_unique_in_its_organization(
    client: httpx.AsyncClient, org: OrgKit
) -> None:
    mobile = _mobile()
    first = await org.person("staff", phone=mobile)
    # The same number spelled differently is the same number.
    r = await org.admin.post(
        "/users",
        json={
            "email": unique_email("dup"),
            "name": "重复 号码",
            "role": "staff",
            "phone": f"+86 {mobile}",
        },
    )
    assert r.status_code == 409
    assert r.json()["errors"][0]["loc"] == ["body", "phone"]

    other = await org.person("staff")
    r = await org.admin.patch(f"/users/{other.user_id}", json={"phone": mobile})
    assert r.status_code == 409
    r = await other.patch("/me", json={"phone": mobile})
    assert r.status_code == 409
    # Keeping one's own number, or clearing it, is no conflict; a cleared number frees it.
    r = await org.admin.patch(f"/users/{first.user_id}", json={"phone": mobile})
    assert r.status_code == 200
    r = await org.admin.patch(f"/users/{first.user_id}", json={"phone": ""})
    assert r.status_code == 200 and r.json()["phone"] is None
    r = await other.patch("/me", json={"phone": mobile})
    assert r.status_code == 200 and r.json()["phone"] == mobile
    assert (await _token(client, mobile)).status_code == 200


async def test_one_number_in_two_organizations_asks_which(
    client: httpx.AsyncClient, org: OrgKit, db: Database
) -> None:
    mobile = _mobile()
    await org.person("staff", phone=mobile)
    second = await new_org(client, db, "第二家公司")
    await second.person("staff", phone=mobile)
    r = await _token(client, mobile)
    assert r.status_code == 409
    choices = {c["id"] for c in r.json()["errors"][0]["choices"]}
    assert choices == {org.org_id, second.org_id}
    assert (await _token(client, mobile, org_id=second.org_id)).status_code == 200
