"""A visit checked in and never checked out: closed by `visits.stale` after its local day (plus
the grace) as done without a check-out, flagged `visit_unpaired` in the review queue once; a
check-out that arrives later still ends it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.worker import build_runner
from fieldpunch.visits.stale import close_after
from tests.api.visits.conftest import Jobs
from tests.api.visits.harness import SHOP, TZ, Phone, base_time, customer, near, plan
from tests.factories import OrgKit

FOLLOW, STALE = "visits.follow", "visits.stale"


async def _stale_at(db: Database, settings: Settings, now: datetime) -> None:
    """Run the stale-visit job once with the runner's clock at `now`."""
    runner = build_runner(db, settings, clock=lambda: now)
    try:
        async with db.transaction() as session:
            await enqueue(session, STALE, {}, key=f"test:stale:{secrets.token_hex(6)}", now=now)
        await runner.drain()
    finally:
        await runner.http.aclose()


async def _open_unpaired(org: OrgKit, punch_id: str) -> list[dict[str, object]]:
    page = await org.admin.ok("get", "/anomalies", params={"status": "open", "limit": 500})
    return [a for a in page["items"] if a["punch_id"] == punch_id and a["rule"] == "visit_unpaired"]


async def test_a_forgotten_check_out_is_closed_and_flagged(
    org: OrgKit, db: Database, settings: Settings, jobs: Jobs
) -> None:
    rep = await Phone.of(await org.person("staff"))
    shop = await customer(org.admin)
    t0 = base_time()
    planned = await org.admin.ok(
        "post", "/visits", 201, json=plan(shop, str(rep.api.user_id), t0.date(), 11)
    )
    url = f"/visits/{planned['id']}"
    checked_in = await rep.visit("visit_in", t0, near(SHOP), customer_id=shop)
    await jobs.run(FOLLOW)
    assert (await rep.api.ok("get", url))["state"] == "in_progress"
    # Later the same day: still in progress (the rep may check out yet).
    await _stale_at(db, settings, t0 + timedelta(hours=6))
    assert (await rep.api.ok("get", url))["state"] == "in_progress"
    assert await _open_unpaired(org, checked_in["id"]) == []
    # Past the end of its local day plus the grace: closed, without a check-out, and flagged.
    bound = close_after(t0.astimezone(TZ).date(), TZ)
    assert bound == datetime.combine(t0.date() + timedelta(days=1), datetime.min.time(), TZ) + (
        timedelta(hours=2)
    )
    await _stale_at(db, settings, bound + timedelta(minutes=1))
    closed = await rep.api.ok("get", url)
    assert closed["state"] == "done"
    assert closed["ended_at"] is None and closed["duration_min"] is None
    (finding,) = await _open_unpaired(org, checked_in["id"])
    assert finding["evidence"]["reason"] == "visit_in_never_closed"
    assert finding["evidence"]["visit_id"] == planned["id"]
    assert finding["severity"] == "warning"
    # Once: another pass changes nothing and opens nothing more.
    await _stale_at(db, settings, bound + timedelta(minutes=20))
    assert await rep.api.ok("get", url) == closed
    assert len(await _open_unpaired(org, checked_in["id"])) == 1
    # The offline queue finally sends the check-out: it still ends the visit.
    out = await rep.visit("visit_out", t0 + timedelta(minutes=45), near(SHOP), customer_id=shop)
    await jobs.run(FOLLOW)
    ended = await rep.api.ok("get", url)
    assert ended["state"] == "done" and ended["out_punch_id"] == out["id"]
    assert ended["duration_min"] == 45.0
    # The finding was explained by the late check-out: superseded, out of the review queue.
    assert await _open_unpaired(org, checked_in["id"]) == []
    page = await org.admin.ok("get", "/anomalies", params={"status": "superseded"})
    assert [
        a["evidence"]["reason"] for a in page["items"] if a["punch_id"] == checked_in["id"]
    ] == ["visit_in_never_closed"]


async def test_a_visit_before_its_bound_stays_in_progress(
    org: OrgKit, db: Database, settings: Settings, jobs: Jobs
) -> None:
    """A visit checked in less than its bound ago is never closed, whatever the hour."""
    rep = await Phone.of(await org.person("staff"))
    shop = await customer(org.admin)
    t0 = base_time()
    await rep.visit("visit_in", t0, near(SHOP), customer_id=shop)
    await jobs.run(FOLLOW)
    bound = close_after(t0.astimezone(TZ).date(), TZ)
    await _stale_at(db, settings, bound - timedelta(minutes=1))
    (visit,) = (await rep.api.ok("get", "/visits", params={"customer_id": shop}))["items"]
    assert visit["state"] == "in_progress" and visit["planned"] is False
