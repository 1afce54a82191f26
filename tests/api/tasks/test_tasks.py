"""Tasks through HTTP: create, read, a person's list and filters, change, comments, delete; who
sees which task; 422s naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxEvent
from tests.api.visits.harness import customer, loc, plan, trail
from tests.factories import OrgKit


async def test_task_life(org: OrgKit, db: Database) -> None:
    rep = await org.person("staff")
    shop = await customer(org.admin)
    visit = await org.admin.ok("post", "/visits", 201, json=plan(shop, str(rep.user_id)))
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    body = {
        "title": "送报价单",
        "description": "含 12 月促销",
        "visit_id": visit["id"],
        "assignee_id": rep.user_id,
        "due": due.isoformat(),
        "priority": "high",
    }
    made = await org.admin.ok("post", "/tasks", 201, json=body)
    assert made["id"].startswith("tsk_") and made["status"] == "open" and not made["overdue"]
    assert made["customer_id"] == shop  # from its visit
    assert made["due"] == due.isoformat().replace("+00:00", "Z")
    assert await rep.ok("get", f"/tasks/{made['id']}") == made
    async with db.transaction(write=False) as session:
        events = await session.execute(
            select(OutboxEvent.subject_user_id, OutboxEvent.payload).where(
                OutboxEvent.org_id == org.org_id, OutboxEvent.topic == "task.assigned"
            )
        )
        assert [(e[0], e[1]["data"]["id"]) for e in events] == [(rep.user_id, made["id"])]
    mine = await rep.ok("get", "/tasks", params={"mine": "true"})
    assert [t["id"] for t in mine["items"]] == [made["id"]]
    done = await rep.ok("patch", f"/tasks/{made['id']}", json={"status": "done"})
    assert done["status"] == "done" and done["completed_at"]
    comment = await rep.ok("post", f"/tasks/{made['id']}/comments", 201, json={"body": "已发送"})
    assert comment["author"] == rep.user_id and comment["body"] == "已发送"
    listed = await org.admin.ok("get", f"/tasks/{made['id']}/comments")
    assert listed["items"] == [comment]
    assert (await rep.delete(f"/tasks/{made['id']}")).status_code == 403  # not theirs
    await org.admin.ok("delete", f"/tasks/{made['id']}", 204)
    assert (await rep.get(f"/tasks/{made['id']}")).status_code == 404
    actions = [e["action"] for e in await trail(org, subject_type="task", subject_id=made["id"])]
    assert actions == ["task.created", "task.updated", "task.commented", "task.deleted"]


async def test_lists_filters_and_who_sees(org: OrgKit) -> None:
    team_a, team_b = await org.team("A"), await org.team("B")
    manager = await org.person("manager", team_id=team_a, managed_team_ids=[team_a])
    ann = await org.person("staff", team_id=team_a)
    bob = await org.person("staff", team_id=team_b)
    shop = await customer(org.admin)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    anns = await manager.ok(
        "post", "/tasks", 201, json={"title": "a", "assignee_id": ann.user_id, "due": past}
    )
    bobs = await org.admin.ok(
        "post", "/tasks", 201, json={"title": "b", "assignee_id": bob.user_id, "customer_id": shop}
    )
    own = await bob.ok("post", "/tasks", 201, json={"title": "self"})  # unassigned, bob's own
    assert anns["overdue"] is True

    async def ids(api: object, **params: str) -> list[str]:
        page = await api.ok("get", "/tasks", params={"limit": 500, **params})  # type: ignore[attr-defined]
        return [t["id"] for t in page["items"]]

    assert await ids(org.admin) == [anns["id"], bobs["id"], own["id"]]
    assert await ids(manager) == [anns["id"]]
    assert await ids(bob) == [bobs["id"], own["id"]]
    assert await ids(org.admin, assignee_id=str(bob.user_id)) == [bobs["id"]]
    assert await ids(org.admin, customer_id=shop) == [bobs["id"]]
    assert await ids(org.admin, overdue="true") == [anns["id"]]
    assert await ids(org.admin, status="open", priority="normal") == [
        anns["id"],
        bobs["id"],
        own["id"],
    ]
    for api in (manager, ann):
        assert (await api.get(f"/tasks/{bobs['id']}")).status_code == 404
        r = await api.post(f"/tasks/{bobs['id']}/comments", json={"body": "x"})
        assert r.status_code == 404


async def test_validation_names_the_field(org: OrgKit) -> None:
    rep = await org.person("staff")
    other = await org.person("staff")
    shop, mall = await customer(org.admin), await customer(org.admin, "Mall")
    visit = await org.admin.ok("post", "/visits", 201, json=plan(shop, str(rep.user_id)))
    cases = [
        ({}, ["body", "title"]),
        ({"title": " "}, ["body", "title"]),
        ({"title": "x", "priority": "asap"}, ["body", "priority"]),
        ({"title": "x", "due": "2026-12-01T10:00:00"}, ["body", "due"]),
        ({"title": "x", "assignee_id": other.user_id}, ["body", "assignee_id"]),
        ({"title": "x", "customer_id": "cus_nope"}, ["body", "customer_id"]),
        ({"title": "x", "visit_id": "vis_nope"}, ["body", "visit_id"]),
        ({"title": "x", "visit_id": visit["id"], "customer_id": mall}, ["body", "visit_id"]),
    ]
    for body, where in cases:
        assert loc(await rep.post("/tasks", json=body)) == [where], body
    made = await rep.ok("post", "/tasks", 201, json={"title": "x"})
    assert loc(await rep.patch(f"/tasks/{made['id']}", json={"status": None})) == [
        ["body", "status"]
    ]
    assert loc(await rep.post(f"/tasks/{made['id']}/comments", json={"body": ""})) == [
        ["body", "body"]
    ]
