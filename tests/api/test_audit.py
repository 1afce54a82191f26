"""The ledger: `audit verify` passes on honest data and names the first edit, on both databases."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, update

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.punches.audit import checkpoint, verify
from fieldpunch.punches.models import LedgerEntry, LedgerHead, Punch
from tests.factories import OrgKit
from tests.punching import punch
from tests.server import env_for, run, serving


async def _verify(db: Database, settings: Settings, org_id: str) -> list[str]:
    async with db.transaction(write=False) as session:
        return (await verify(session, settings.signing_key, org_id)).broken


async def _three_punches(org: OrgKit) -> list[dict]:
    staff = await org.person("staff")
    return [await staff.ok("post", "/punches", 201, json=punch(note=f"n{i}")) for i in range(3)]


async def test_honest_ledger_verifies(db: Database, settings: Settings, org: OrgKit) -> None:
    await _three_punches(org)
    async with db.transaction() as session:
        assert await checkpoint(session, settings.signing_key, org.org_id) is not None
        assert await checkpoint(session, settings.signing_key, org.org_id) is None  # nothing moved
    assert await _verify(db, settings, org.org_id) == []


@pytest.mark.parametrize(
    ("tamper", "expect"),
    [
        ("move", "edited lat"),
        ("time", "edited trusted_time"),
        ("entry", "content does not match"),
        ("delete_row", "row was deleted"),
        ("drop_middle", "entry 2 is missing"),
        ("note", "edited note"),
        ("claim", "stored claim was edited"),
    ],
)
async def test_direct_database_edits_are_caught(
    db: Database, settings: Settings, org: OrgKit, tamper: str, expect: str
) -> None:
    made = await _three_punches(org)
    middle = made[1]
    async with db.transaction() as session:
        if tamper == "move":
            await session.execute(
                update(Punch).where(Punch.id == middle["id"]).values(lat=Punch.lat + 0.01)
            )
        elif tamper == "time":
            row = await session.get(Punch, middle["id"])
            assert row is not None
            row.trusted_time = row.trusted_time - timedelta(hours=1)
        elif tamper == "entry":
            entry = await session.get(LedgerEntry, (org.org_id, middle["user_id"], 2))
            assert entry is not None
            entry.content = {**entry.content, "lat": 0.0}
        elif tamper == "note":
            await session.execute(
                update(Punch).where(Punch.id == middle["id"]).values(note="was never here")
            )
        elif tamper == "claim":
            row = await session.get(Punch, middle["id"])
            assert row is not None
            row.payload = {**row.payload, "note": "rewritten claim"}
        elif tamper == "delete_row":
            await session.execute(delete(Punch).where(Punch.id == middle["id"]))
        elif tamper == "drop_middle":
            await session.execute(delete(Punch).where(Punch.id == middle["id"]))
            await session.execute(delete(LedgerEntry).where(LedgerEntry.ref_id == middle["id"]))
    broken = await _verify(db, settings, org.org_id)
    assert len(broken) == 1 and expect in broken[0], broken


async def test_rewritten_tail_is_caught_by_the_checkpoint(
    db: Database, settings: Settings, org: OrgKit
) -> None:
    made = await _three_punches(org)
    async with db.transaction() as session:
        await checkpoint(session, settings.signing_key, org.org_id)
    # Cut the last punch cleanly: row, entry and head all made consistent again.
    last = made[-1]
    async with db.transaction() as session:
        await session.execute(delete(Punch).where(Punch.id == last["id"]))
        await session.execute(delete(LedgerEntry).where(LedgerEntry.ref_id == last["id"]))
        await session.execute(
            update(LedgerHead)
            .where(LedgerHead.user_id == last["user_id"])
            .values(seq=2, hash=made[1]["ledger"]["hash"])
        )
    broken = await _verify(db, settings, org.org_id)
    assert len(broken) == 1 and "checkpoint" in broken[0]


def test_audit_cli_exit_codes(tmp_path: Path) -> None:
    """The operator's view: exit 0 when intact, 1 naming the entry after a direct SQL edit."""
    env = env_for(tmp_path)
    assert (
        run(
            [
                "create-org",
                "--name",
                "A",
                "--admin-email",
                "audit@example.com",
                "--admin-password",
                "audit-pass",
            ],
            env,
        ).returncode
        == 0
    )
    with serving(["serve"], env, tmp_path / "server.log") as served:
        tok = httpx.post(
            f"{served.base}/api/v1/auth/token",
            data={"username": "audit@example.com", "password": "audit-pass"},
        ).json()["access_token"]
        for _ in range(2):
            r = httpx.post(
                f"{served.base}/api/v1/punches",
                json=punch(),
                headers={"Authorization": f"Bearer {tok}"},
            )
            assert r.status_code == 201
    ok = run(["audit", "verify"], env)
    assert ok.returncode == 0 and ok.stdout.startswith("intact: 1 orgs, 1 people, 2 entries"), (
        ok.stdout
    )
    assert run(["audit", "checkpoint"], env).stdout.strip() == "1 checkpoints written"
    con = sqlite3.connect(tmp_path / "fieldpunch.sqlite3")
    con.execute("UPDATE punches SET lon = lon + 0.001 WHERE seq = 2")
    con.commit()
    con.close()
    broken = run(["audit", "verify"], env)
    assert broken.returncode == 1 and "entry 2" in broken.stdout and "edited lon" in broken.stdout
