"""`fieldpunch audit`: recompute every chain and check it against the rows and the checkpoints.

Catches: an edited punch (its row no longer matches its ledger entry), an edited entry (hash
mismatch), a deleted entry (sequence gap), a rewritten chain or a cut tail (the signed
checkpoint names a head the chain no longer has), a punch row with no entry at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.kit.clock import utcnow
from fieldpunch.orgs.models import Org
from fieldpunch.punches import ledger
from fieldpunch.punches.models import LedgerCheckpoint, LedgerEntry, LedgerHead, Punch
from fieldpunch.punches.rows import ledger_content, payload_hash


@dataclass
class Report:
    orgs: int = 0
    people: int = 0
    entries: int = 0
    checkpoints: int = 0
    broken: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


async def _chains(session: AsyncSession, org_id: str, report: Report, secret: str) -> str | None:
    heads = {
        r.user_id: (r.seq, r.hash)
        for r in (
            await session.execute(select(LedgerHead).where(LedgerHead.org_id == org_id))
        ).scalars()
    }
    entries = await session.stream(
        select(LedgerEntry)
        .where(LedgerEntry.org_id == org_id)
        .order_by(LedgerEntry.user_id, LedgerEntry.seq)
    )
    chains: dict[str, list[ledger.Link]] = {}
    punch_content: dict[str, dict[str, Any]] = {}
    async for (entry,) in entries:
        chains.setdefault(entry.user_id, []).append(
            ledger.Link(entry.seq, entry.prev_hash, entry.hash, entry.content)
        )
        if entry.entry_kind == "punch":
            punch_content[entry.ref_id] = dict(entry.content)
        elif entry.ref_id in punch_content:
            # Later findings and review decisions change these two fields, on the record.
            for key in ("status", "anomalies"):
                if key in entry.content:
                    punch_content[entry.ref_id][key] = entry.content[key]
        report.entries += 1
    for user_id, links in chains.items():
        report.people += 1
        if (bad := ledger.first_break(links)) is not None:
            return f"org {org_id} person {user_id} entry {bad[0]}: {bad[1]}"
        last = links[-1]
        if heads.get(user_id) != (last.seq, last.hash):
            head = heads.get(user_id)
            return f"org {org_id} person {user_id}: chain ends at {last.seq}, its head says {head}"
    for user_id, (seq, _) in heads.items():
        if seq and user_id not in chains:
            return f"org {org_id} person {user_id}: head at entry {seq} but the chain is gone"
    # Each punch row must still say what its entry committed to.
    rows = await session.stream(select(Punch).where(Punch.org_id == org_id))
    async for (row,) in rows:
        committed = punch_content.pop(row.id, None)
        if committed is None:
            return (
                f"org {org_id} punch {row.id}: no ledger entry (inserted behind the ledger's back)"
            )
        current = ledger_content(row)
        if row.source == "app" and payload_hash(row.payload) != row.content_hash:
            return (
                f"org {org_id} punch {row.id} (person {row.user_id}): its stored claim was edited"
            )
        if current != committed:
            changed = sorted(k for k in committed if committed[k] != current.get(k))
            where = f"org {org_id} punch {row.id} (person {row.user_id}, entry {row.seq})"
            return f"{where}: edited {', '.join(changed)}"
    if punch_content:
        missing = next(iter(punch_content))
        return f"org {org_id} punch {missing}: its row was deleted"
    return await _checkpoint_ok(session, org_id, chains, report, secret)


async def _checkpoint_ok(
    session: AsyncSession,
    org_id: str,
    chains: dict[str, list[ledger.Link]],
    report: Report,
    secret: str,
) -> str | None:
    cp = (
        await session.execute(
            select(LedgerCheckpoint)
            .where(LedgerCheckpoint.org_id == org_id)
            .order_by(LedgerCheckpoint.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if cp is None:
        return None
    report.checkpoints += 1
    stamp = cp.created_at.isoformat(timespec="microseconds")
    if ledger.merkle_root(ledger.head_leaves(cp.heads)) != cp.root:
        return f"org {org_id} checkpoint {cp.id}: its heads do not give its root"
    if ledger.sign_checkpoint(secret, org_id, stamp, cp.root) != cp.signature:
        return f"org {org_id} checkpoint {cp.id}: bad signature (forged or made with another key)"
    for user_id, (seq, digest) in cp.heads.items():
        links = chains.get(user_id, [])
        if len(links) < seq or links[seq - 1].hash != digest:
            where = f"org {org_id} person {user_id} entry {seq}"
            return f"{where}: differs from checkpoint {cp.id} (rewritten or cut)"
    return None


async def verify(session: AsyncSession, secret: str, org_id: str | None = None) -> Report:
    report = Report()
    stmt = select(Org.id).order_by(Org.id)
    if org_id is not None:
        stmt = stmt.where(Org.id == org_id)
    for oid in (await session.execute(stmt)).scalars():
        report.orgs += 1
        if (problem := await _chains(session, oid, report, secret)) is not None:
            report.broken.append(problem)
            break
    return report


async def checkpoint(session: AsyncSession, secret: str, org_id: str) -> LedgerCheckpoint | None:
    """Sign the org's current heads, unless nothing moved since the last checkpoint."""
    heads = {
        r.user_id: [r.seq, r.hash]
        for r in (
            await session.execute(
                select(LedgerHead).where(LedgerHead.org_id == org_id, LedgerHead.seq > 0)
            )
        ).scalars()
    }
    last = (
        await session.execute(
            select(LedgerCheckpoint.heads)
            .where(LedgerCheckpoint.org_id == org_id)
            .order_by(LedgerCheckpoint.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if not heads or last == heads:
        return None
    created_at = utcnow()
    root = ledger.merkle_root(ledger.head_leaves(heads))
    cp = LedgerCheckpoint(
        org_id=org_id,
        created_at=created_at,
        heads=heads,
        root=root,
        signature=ledger.sign_checkpoint(
            secret, org_id, created_at.isoformat(timespec="microseconds"), root
        ),
    )
    session.add(cp)
    await session.flush()
    return cp


async def checkpoint_all(session: AsyncSession, secret: str) -> int:
    """Checkpoint every org whose heads moved; returns how many were written."""
    orgs = await session.execute(
        select(LedgerHead.org_id).group_by(LedgerHead.org_id).having(func.count() > 0)
    )
    made = 0
    for org_id in orgs.scalars().all():
        made += await checkpoint(session, secret, org_id) is not None
    return made
