"""Users and teams: CRUD, nesting, and who sees whom (staff / manager / admin)."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD, Api, OrgKit, unique_email


async def test_user_crud_round_trip(org: OrgKit) -> None:
    team = await org.team("Sales")
    email = unique_email("Li.Na").upper()
    created = await org.admin.ok(
        "post",
        "/users",
        201,
        json={
            "email": email,
            "name": "李娜",
            "role": "staff",
            "team_id": team,
            "phone": "+86 138 0000 0000",
            "employee_no": "E-001",
        },
    )
    assert created["email"] == email.lower()  # emails are case-insensitive logins
    assert created["id"].startswith("usr_") and created["active"] is True
    got = await org.admin.ok("get", f"/users/{created['id']}")
    assert got == created
    patched = await org.admin.ok(
        "patch", f"/users/{created['id']}", json={"name": "李娜娜", "phone": None}
    )
    assert patched["name"] == "李娜娜" and patched["phone"] is None and patched["team_id"] == team
    r = await org.admin.patch(f"/users/{created['id']}", json={"name": None})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "name"]


async def test_duplicate_email_and_employee_no_conflict(org: OrgKit) -> None:
    email = unique_email("dup")
    await org.admin.ok(
        "post",
        "/users",
        201,
        json={"email": email, "name": "A", "role": "staff", "employee_no": "7"},
    )
    r = await org.admin.post("/users", json={"email": email, "name": "B", "role": "staff"})
    assert r.status_code == 409 and r.json()["errors"][0]["loc"] == ["body", "email"]
    r = await org.admin.post(
        "/users",
        json={"email": unique_email("x"), "name": "B", "role": "staff", "employee_no": "7"},
    )
    assert r.status_code == 409


async def test_bad_input_names_the_field(org: OrgKit) -> None:
    r = await org.admin.post("/users", json={"email": "not-an-email", "name": "", "role": "boss"})
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "/problems/validation" and body["title"] and body["detail"]
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        ("body", "email"),
        ("body", "name"),
        ("body", "role"),
    }
    r = await org.admin.post(
        "/users", json={"email": "a@example.com", "name": "x", "role": "staff", "colour": "red"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "colour"]
    r = await org.admin.post(
        "/users", json={"email": "a@example.com", "name": "x\x00y", "role": "staff"}
    )
    assert r.status_code == 422
    r = await org.admin.post(
        "/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


async def test_managed_teams_only_for_managers(org: OrgKit) -> None:
    team = await org.team("Ops")
    r = await org.admin.post(
        "/users",
        json={"email": unique_email("s"), "name": "S", "role": "staff", "managed_team_ids": [team]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "managed_team_ids"]


async def test_last_admin_cannot_leave(org: OrgKit) -> None:
    r = await org.admin.patch(f"/users/{org.admin.user_id}", json={"role": "staff"})
    assert r.status_code == 409
    r = await org.admin.delete(f"/users/{org.admin.user_id}")
    assert r.status_code == 409


async def test_team_nesting_and_cycles(org: OrgKit) -> None:
    root = await org.team("Sales")
    east = await org.team("East", root)
    pudong = await org.team("Pudong", east)
    r = await org.admin.patch(f"/teams/{root}", json={"parent_id": pudong})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "parent_id"]
    r = await org.admin.patch(f"/teams/{root}", json={"parent_id": root})
    assert r.status_code == 422
    children = await org.admin.ok("get", "/teams", params={"parent_id": east})
    assert [t["id"] for t in children["items"]] == [pudong]
    assert (await org.admin.delete(f"/teams/{east}")).status_code == 409  # has a sub-team
    await org.person("staff", team_id=pudong)
    assert (await org.admin.delete(f"/teams/{pudong}")).status_code == 409  # has members
    empty = await org.team("Empty", root)
    await org.admin.ok("delete", f"/teams/{empty}", 204)
    assert (await org.admin.get(f"/teams/{empty}")).status_code == 404


async def test_visibility_staff_manager_admin(org: OrgKit) -> None:
    sales = await org.team("Sales")
    east = await org.team("East", sales)
    service = await org.team("Service")
    manager = await org.person("manager", team_id=sales, managed_team_ids=[sales])
    in_east = await org.person("staff", team_id=east)
    in_sales = await org.person("staff", team_id=sales)
    in_service = await org.person("staff", team_id=service)
    other_manager = await org.person("manager", team_id=service, managed_team_ids=[service])

    def ids(body: dict) -> set[str]:
        return {u["id"] for u in body["items"]}

    # Staff see themselves only.
    assert ids(await in_east.ok("get", "/users")) == {in_east.user_id}
    assert (await in_east.get(f"/users/{in_sales.user_id}")).status_code == 404
    # A manager sees their teams, sub-teams included, and nobody else.
    seen = ids(await manager.ok("get", "/users", params={"limit": 500}))
    assert {in_east.user_id, in_sales.user_id, manager.user_id} <= seen
    assert in_service.user_id not in seen and other_manager.user_id not in seen
    assert (await manager.get(f"/users/{in_service.user_id}")).status_code == 404
    teams = {t["id"] for t in (await manager.ok("get", "/teams"))["items"]}
    assert teams == {sales, east}
    assert (await other_manager.get(f"/users/{in_east.user_id}")).status_code == 404
    # Admins see everyone.
    assert {in_service.user_id, in_east.user_id} <= ids(
        await org.admin.ok("get", "/users", params={"limit": 500})
    )
    # Only admins change people and teams.
    assert (await manager.post("/teams", json={"name": "Mine"})).status_code == 403
    assert (await manager.patch(f"/users/{in_east.user_id}", json={"name": "x"})).status_code == 403
    assert (
        await in_east.patch(f"/users/{in_east.user_id}", json={"role": "admin"})
    ).status_code == 403


async def test_user_filters_and_pagination(org: OrgKit) -> None:
    team = await org.team("Field")
    made = [
        (
            await org.admin.ok(
                "post",
                "/users",
                201,
                json={
                    "email": unique_email(f"p{i}"),
                    "name": f"Person {i}",
                    "role": "staff",
                    "team_id": team,
                },
            )
        )["id"]
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, "team_id": team, **({"cursor": cursor} if cursor else {})}
        body = await org.admin.ok("get", "/users", params=params)
        seen += [u["id"] for u in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == made and pages == 3
    assert (await org.admin.get("/users", params={"cursor": "garbage!!"})).status_code == 422
    assert (await org.admin.get("/users", params={"limit": 501})).status_code == 422
    found = await org.admin.ok("get", "/users", params={"q": "person 3"})
    assert [u["id"] for u in found["items"]] == [made[3]]
    staff = await org.admin.ok("get", "/users", params={"role": "admin"})
    assert [u["id"] for u in staff["items"]] == [org.admin.user_id]


async def _sign_in(
    client: httpx.AsyncClient, email: str, password: str, **extra: str
) -> httpx.Response:
    data = {"username": email, "password": password, **extra}
    return await client.post("/api/v1/auth/token", data=data)


async def test_an_email_used_in_another_org_is_not_revealed(
    client: httpx.AsyncClient, org: OrgKit, other_org: OrgKit
) -> None:
    mine = await org.person("staff")
    email = (await mine.ok("get", "/me"))["email"]
    # The rival adds someone with the same email: answered like any new person, nothing told.
    body = {
        "email": email.upper(),
        "name": "Namesake",
        "role": "staff",
        "password": "rival-pass-123",
    }
    theirs = await other_org.admin.ok("post", "/users", 201, json=body)
    assert theirs["email"] == email
    await other_org.admin.ok("patch", f"/users/{theirs['id']}", json={"email": email})
    # Each signs in to their own organization: the password picks the account.
    me = Api(client, (await _sign_in(client, email, PASSWORD)).json()["access_token"])
    assert (await me.ok("get", "/me"))["org"]["id"] == org.org_id
    them = Api(client, (await _sign_in(client, email, "rival-pass-123")).json()["access_token"])
    assert (await them.ok("get", "/me"))["org"]["id"] == other_org.org_id
    assert (await _sign_in(client, email, "neither-password")).status_code == 401
    # Within one organization an email is still one person's.
    r = await org.admin.post("/users", json={"email": email, "name": "Twin", "role": "staff"})
    assert r.status_code == 409 and r.json()["errors"][0]["loc"] == ["body", "email"]


async def test_one_email_and_password_in_two_orgs_asks_which(
    client: httpx.AsyncClient, org: OrgKit, other_org: OrgKit
) -> None:
    email = unique_email("both")
    for kit in (org, other_org):
        body = {"email": email, "name": "Both", "role": "staff", "password": PASSWORD}
        await kit.admin.ok("post", "/users", 201, json=body)
    r = await _sign_in(client, email, PASSWORD)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["errors"][0]["loc"] == ["body", "org_id"]
    assert (
        org.org_id in problem["errors"][0]["msg"]
        and other_org.org_id in problem["errors"][0]["msg"]
    )
    for kit in (org, other_org):
        r = await _sign_in(client, email, PASSWORD, org_id=kit.org_id)
        assert r.status_code == 200, r.text
        me = await Api(client, r.json()["access_token"]).ok("get", "/me")
        assert me["org"]["id"] == kit.org_id
    # A wrong org_id is a wrong sign-in, like any other.
    assert (await _sign_in(client, email, PASSWORD, org_id="org_nope")).status_code == 401
