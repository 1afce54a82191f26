"""Visit plans through HTTP: plan, bulk, read, filter, change, cancel, delete; roles; 422s."""

from __future__ import annotations

from datetime import timedelta

from tests.api.visits.harness import customer, loc, local, plan, today, trail, week
from tests.factories import OrgKit


async def test_plan_read_change_cancel_delete(org: OrgKit) -> None:
    rep = await org.person("staff")
    shop = await customer(org.admin)
    body = plan(shop, str(rep.user_id), expected_min=45)
    made = await org.admin.ok("post", "/visits", 201, json=body)
    assert made["id"].startswith("vis_") and made["state"] == "planned" and made["planned"]
    assert made["day"] == today().isoformat() and made["expected_min"] == 45
    assert made["purpose"] == "复购洽谈" and made["duration_min"] is None
    assert await org.admin.ok("get", f"/visits/{made['id']}") == made
    assert await rep.ok("get", f"/visits/{made['id']}") == made
    moved = await org.admin.ok(
        "patch",
        f"/visits/{made['id']}",
        json={"planned_start": local(today(), 14), "planned_end": local(today(), 15)},
    )
    assert moved["planned_start"].startswith(f"{today().isoformat()}T06:00")
    cancelled = await rep.ok("post", f"/visits/{made['id']}/cancel", json={"reason": "客户出差"})
    assert cancelled["state"] == "cancelled" and cancelled["cancel_reason"] == "客户出差"
    assert cancelled["cancelled_by"] == rep.user_id
    again = await rep.post(f"/visits/{made['id']}/cancel", json={"reason": "x"})
    assert again.status_code == 409
    assert (await rep.patch(f"/visits/{made['id']}", json={"note": "x"})).status_code == 409
    second = await rep.ok("post", "/visits", 201, json=plan(shop, str(rep.user_id)))
    await rep.ok("delete", f"/visits/{second['id']}", 204)
    assert (await rep.get(f"/visits/{second['id']}")).status_code == 404
    actions = [e["action"] for e in await trail(org, subject_type="visit", subject_id=made["id"])]
    assert actions == ["visit.planned", "visit.updated", "visit.cancelled"]


async def test_bulk_plans_a_week_all_or_nothing(org: OrgKit) -> None:
    rep = await org.person("staff")
    shops = [await customer(org.admin, f"店{i}") for i in range(2)]
    days = week(today() + timedelta(days=7))
    bodies = [
        plan(s, str(rep.user_id), d, hh) for d in days for s, hh in zip(shops, (9, 14), strict=True)
    ]
    made = await rep.ok("post", "/visits/bulk", 201, json={"visits": bodies})
    assert len(made["items"]) == 10
    assert [v["day"] for v in made["items"]][::2] == [d.isoformat() for d in days]
    bad = [*bodies[:3], {**bodies[3], "customer_id": "cus_nope"}]
    assert loc(await rep.post("/visits/bulk", json={"visits": bad})) == [
        ["body", "visits", 3, "customer_id"]
    ]
    page = await rep.ok("get", "/visits", params={"from": days[0].isoformat(), "limit": 500})
    assert len(page["items"]) == 10  # the failed bulk stored nothing
    assert (await rep.post("/visits/bulk", json={"visits": []})).status_code == 422


async def test_filters(org: OrgKit) -> None:
    north = await org.team("North")
    south = await org.team("South")
    sub = await org.team("North-1", parent_id=north)
    ann = await org.person("staff", team_id=sub)
    bob = await org.person("staff", team_id=south)
    shop, mall = await customer(org.admin, "Shop"), await customer(org.admin, "Mall")
    d0, d1 = today() + timedelta(days=1), today() + timedelta(days=2)
    v1 = await org.admin.ok("post", "/visits", 201, json=plan(shop, str(ann.user_id), d0))
    v2 = await org.admin.ok("post", "/visits", 201, json=plan(mall, str(ann.user_id), d1))
    v3 = await org.admin.ok("post", "/visits", 201, json=plan(shop, str(bob.user_id), d1))
    await org.admin.ok("post", f"/visits/{v3['id']}/cancel", json={"reason": "no"})

    async def ids(**params: str) -> list[str]:
        page = await org.admin.ok("get", "/visits", params={"limit": 500, **params})
        return [v["id"] for v in page["items"] if v["id"] in {v1["id"], v2["id"], v3["id"]}]

    assert await ids() == [v1["id"], v2["id"], v3["id"]]
    assert await ids(user_id=str(ann.user_id)) == [v1["id"], v2["id"]]
    assert await ids(customer_id=shop) == [v1["id"], v3["id"]]
    assert await ids(team_id=north) == [v1["id"], v2["id"]]  # with its sub-team
    assert await ids(state="cancelled") == [v3["id"]]
    assert await ids(**{"from": d1.isoformat(), "to": d1.isoformat()}) == [v2["id"], v3["id"]]
    bad = await org.admin.get("/visits", params={"from": d1.isoformat(), "to": d0.isoformat()})
    assert loc(bad) == [["query", "to"]]


async def test_roles(org: OrgKit) -> None:
    team_a, team_b = await org.team("A"), await org.team("B")
    manager = await org.person("manager", team_id=team_a, managed_team_ids=[team_a])
    ann = await org.person("staff", team_id=team_a)
    bob = await org.person("staff", team_id=team_b)
    shop = await customer(org.admin)
    mine = await ann.ok("post", "/visits", 201, json=plan(shop, str(ann.user_id)))
    # Staff plan for themselves only; a manager for their teams.
    assert loc(await ann.post("/visits", json=plan(shop, str(bob.user_id)))) == [
        ["body", "user_id"]
    ]
    assert loc(await manager.post("/visits", json=plan(shop, str(bob.user_id)))) == [
        ["body", "user_id"]
    ]
    planned = await manager.ok("post", "/visits", 201, json=plan(shop, str(ann.user_id)))
    bobs = await org.admin.ok("post", "/visits", 201, json=plan(shop, str(bob.user_id)))
    # Team B's person's visit is no visit to team A's manager, nor to Ann.
    for api in (manager, ann):
        assert (await api.get(f"/visits/{bobs['id']}")).status_code == 404
        r = await api.post(f"/visits/{bobs['id']}/cancel", json={"reason": "x"})
        assert r.status_code == 404
    assert (await manager.get(f"/visits/{mine['id']}")).status_code == 200
    seen = {v["id"] for v in (await ann.ok("get", "/visits", params={"limit": 500}))["items"]}
    assert seen == {mine["id"], planned["id"]}
    # The org's outcomes and form are the admins'.
    r = await manager.put("/visit-outcomes", json={"outcomes": []})
    assert r.status_code == 403


async def test_validation_names_the_field(org: OrgKit) -> None:
    rep = await org.person("staff")
    shop = await customer(org.admin)
    me = str(rep.user_id)
    base = plan(shop, me)
    cases = [
        ({**base, "planned_end": base["planned_start"]}, ["body", "planned_end"]),
        ({**base, "planned_start": "2026-12-01T10:00:00"}, ["body", "planned_start"]),
        ({**base, "planned_end": local(today() + timedelta(days=2), 9)}, ["body", "planned_end"]),
        ({**base, "expected_min": 0}, ["body", "expected_min"]),
        ({**base, "customer_id": "cus_nope"}, ["body", "customer_id"]),
        ({**base, "colour": "red"}, ["body", "colour"]),
        ({k: v for k, v in base.items() if k != "customer_id"}, ["body", "customer_id"]),
    ]
    for body, where in cases:
        assert loc(await rep.post("/visits", json=body)) == [where], body
    made = await rep.ok("post", "/visits", 201, json=base)
    r = await rep.patch(f"/visits/{made['id']}", json={"planned_end": local(today(), 8)})
    assert loc(r) == [["body", "planned_end"]]
    assert loc(await rep.patch(f"/visits/{made['id']}", json={"outcome": "sold"})) == [
        ["body", "outcome"]
    ]
    assert loc(await rep.patch(f"/visits/{made['id']}", json={"note": None})) == [["body", "note"]]


async def test_outcomes_and_form(org: OrgKit) -> None:
    rep = await org.person("staff")
    shop = await customer(org.admin)
    outcomes = [
        {"key": "order", "label": "下单"},
        {"key": "follow_up", "label": "需跟进"},
        {"key": "nobody", "label": "无人"},
    ]
    got = await org.admin.ok("put", "/visit-outcomes", json={"outcomes": outcomes})
    assert got == {"outcomes": outcomes} == await rep.ok("get", "/visit-outcomes")
    fields = [
        {"key": "stock", "label": "库存", "type": "number", "required": True, "options": []},
        {"key": "mood", "label": "态度", "type": "choice", "required": False,
         "options": ["好", "一般", "差"]},
        {"key": "notes", "label": "纪要", "type": "text", "required": False, "options": []},
        {"key": "shelf", "label": "货架照片", "type": "photo", "required": False, "options": []},
    ]  # fmt: skip
    assert (await org.admin.ok("put", "/visit-form", json={"fields": fields}))["fields"] == fields
    assert (await rep.ok("get", "/visit-form"))["fields"] == fields
    bad_form = [
        ({"fields": [fields[0], fields[0]]}, ["body", "fields"]),
        ({"fields": [{**fields[1], "options": []}]}, ["body", "fields", 0, "options"]),
        ({"fields": [{**fields[0], "options": ["a"]}]}, ["body", "fields", 0, "options"]),
        ({"fields": [{**fields[0], "type": "video"}]}, ["body", "fields", 0, "type"]),
        ({"fields": [{**fields[0], "key": "Bad Key"}]}, ["body", "fields", 0, "key"]),
    ]
    for body, where in bad_form:
        assert loc(await org.admin.put("/visit-form", json=body)) == [where], body
    visit = await rep.ok("post", "/visits", 201, json=plan(shop, str(rep.user_id)))
    url = f"/visits/{visit['id']}"
    answers = {"stock": 12, "mood": "好", "notes": "补货"}
    done = await rep.ok(
        "patch",
        url,
        json={"answers": answers, "outcome": "order", "next_follow_up": "2026-12-24", "note": "ok"},
    )
    assert done["answers"] == answers and done["outcome"] == "order"
    assert done["next_follow_up"] == "2026-12-24" and done["note"] == "ok"
    bad_answers = [
        ({"mood": "好"}, [["body", "answers", "stock"]]),
        ({"stock": "12"}, [["body", "answers", "stock"]]),
        ({"stock": 1, "mood": "棒"}, [["body", "answers", "mood"]]),
        ({"stock": 1, "extra": "x"}, [["body", "answers", "extra"]]),
        ({"stock": 1, "shelf": "pho_nope"}, [["body", "answers", "shelf"]]),
        ({"stock": True}, [["body", "answers", "stock"]]),
    ]
    for body, where in bad_answers:
        assert loc(await rep.patch(url, json={"answers": body})) == where, body
    # An outcome that leaves the list stays on the visits that hold it.
    await org.admin.ok("put", "/visit-outcomes", json={"outcomes": outcomes[1:]})
    assert (await rep.ok("get", url))["outcome"] == "order"
