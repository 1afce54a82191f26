"""A customer's timeline: visits, tasks and comments newest first, paged, with the last visit;
only what the caller may see; another org's customer is a 404."""

from __future__ import annotations

from datetime import timedelta

from tests.api.visits.conftest import Jobs
from tests.api.visits.harness import SHOP, Phone, base_time, customer, near, plan
from tests.factories import OrgKit


async def test_a_customers_timeline(org: OrgKit, other_org: OrgKit, jobs: Jobs) -> None:
    rep = await Phone.of(await org.person("staff"))
    shop = await customer(org.admin)
    t0 = base_time()
    planned = await org.admin.ok(
        "post", "/visits", 201, json=plan(shop, str(rep.api.user_id), t0.date(), 12)
    )
    checked_in = await rep.visit("visit_in", t0, near(SHOP), customer_id=shop)
    await rep.visit("visit_out", t0 + timedelta(minutes=20), near(SHOP), customer_id=shop)
    await jobs.run("visits.follow")
    body = {"title": "回访", "customer_id": shop, "assignee_id": rep.api.user_id}
    task = await rep.api.ok("post", "/tasks", 201, json=body)
    comment = await rep.api.ok("post", f"/tasks/{task['id']}/comments", 201, json={"body": "已约"})
    whole = await rep.api.ok("get", f"/customers/{shop}/timeline")
    assert [(i["type"], i["id"]) for i in whole["items"]] == [
        ("comment", comment["id"]), ("task", task["id"]), ("visit", planned["id"])]  # fmt: skip
    assert whole["last_visit_at"] == checked_in["trusted_time"] and whole["visits_done"] == 1
    visit = whole["items"][-1]
    assert visit["at"] == checked_in["trusted_time"] and visit["state"] == "done"
    assert visit["detail"]["duration_min"] == 20.0
    # Paged: one at a time, the same items in the same order.
    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = await rep.api.ok("get", f"/customers/{shop}/timeline", params=params)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in whole["items"]]
    # Another rep sees the customer but none of this rep's visits or tasks.
    other = await org.person("staff")
    theirs = await other.ok("get", f"/customers/{shop}/timeline")
    assert theirs["items"] == [] and theirs["last_visit_at"] is None
    assert (await other_org.admin.get(f"/customers/{shop}/timeline")).status_code == 404
    bad = await rep.api.get(f"/customers/{shop}/timeline", params={"cursor": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "cursor"]
