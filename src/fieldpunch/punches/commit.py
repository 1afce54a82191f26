"""New punches of one person, their chain head locked: detectors, ledger, store, anomalies, outbox.

Shared by the intake (service.py) and approved corrections. Every read and write goes through
the intake's store (punches/store/); the detectors are pure (anomalies/engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.alerts import hooks as alerts
from fieldpunch.anomalies import engine, memory, policies, review
from fieldpunch.anomalies.policy import Policy
from fieldpunch.jobs.outbox import event_row
from fieldpunch.punches import ledger, pipeline
from fieldpunch.punches.rows import NewPunch, ledger_content, stored_view
from fieldpunch.punches.schemas import PunchOut, PunchStatus
from fieldpunch.punches.store import Head, IntakeStore, OrgView, Write


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose chain new punches join (the caller, or the person a correction is for)."""

    org_id: str
    user_id: str
    team_id: str | None


async def policy_of(session: AsyncSession, owner: Owner) -> Policy:
    return (await policies.load(session, owner.org_id)).for_person(owner.user_id, owner.team_id)


def steps_from_memory(locked: Head, org: OrgView, rows: list[NewPunch]) -> bool:
    """Whether the head's memory is current and every new row comes after it (see `_assess`)."""
    reach = memory.upto(locked.memory, seq=locked.seq, tz=org.tz.key)
    return reach is not None and engine.follows(reach, rows)


def entry_row(
    owner: Owner,
    seq: int,
    kind: str,
    ref_id: str,
    content: dict[str, Any],
    prev: str,
    digest: str,
    at: datetime,
) -> dict[str, Any]:
    return {
        "org_id": owner.org_id,
        "user_id": owner.user_id,
        "seq": seq,
        "entry_kind": kind,
        "ref_id": ref_id,
        "content": content,
        "prev_hash": prev,
        "hash": digest,
        "created_at": at,
    }


async def commit_rows(
    store: IntakeStore,
    owner: Owner,
    org: OrgView,
    rows: list[NewPunch],
    locked: Head,
    received_at: datetime,
    *,
    policy: Policy | None = None,
    crossed: bool = False,
) -> list[PunchOut]:
    """Detectors, ledger, store, anomalies and outbox for new rows of one person (head locked).

    `crossed`: the rows' cross-person facts were read already, bounded by these very rows.
    """
    session = store.session
    policy = policy or await policy_of(session, owner)
    assessment, context = await _assess(store, owner, org, rows, locked, policy, crossed)
    w = Write(owner.org_id, owner.user_id, seq=locked.seq, hash=locked.hash)
    w.at = received_at
    outs: list[PunchOut] = []
    for row in rows:
        row.anomalies = engine.combined(row.facts["trust"], assessment.new[row.id])
        row.status = pipeline.status_for(row.anomalies, policy.reject_critical).value
        _chain(w, owner, "punch", row.id, ledger_content(row), received_at)
        row.seq, row.hash = w.seq, w.hash
        w.punches.append(row.columns())
        out = stored_view(row)
        outs.append(out)
        w.events.append(
            event_row(
                owner.org_id,
                "punch.created",
                out.model_dump(mode="json"),
                received_at,
                owner.user_id,
            )
        )
    await _reassess(store, owner, context, assessment, policy, w)
    if assessment.state is not None and assessment.upto is not None:
        w.memory = memory.dump(assessment.state, seq=w.seq, tz=org.tz.key, upto=assessment.upto)
    opened = [(r.id, r.user_id, r.trusted_time, r.anomalies) for r in rows]
    new_anomalies = review.anomaly_rows(owner.org_id, opened, received_at)
    w.anomalies += new_anomalies
    w.events += review.created_events(owner.org_id, new_anomalies, received_at)
    await store.write(w)
    await alerts.anomalies_opened(session, owner.org_id, w.anomalies, received_at)
    return outs


def _chain(
    w: Write, owner: Owner, kind: str, ref: str, content: dict[str, Any], at: datetime
) -> None:
    """One more ledger entry on the person's chain."""
    seq = w.seq + 1
    digest = ledger.entry_hash(w.hash, seq, content)
    w.entries.append(entry_row(owner, seq, kind, ref, content, w.hash, digest, at))
    w.seq, w.hash = seq, digest


async def _assess(
    store: IntakeStore,
    owner: Owner,
    org: OrgView,
    rows: list[NewPunch],
    locked: Head,
    policy: Policy,
    crossed: bool,
) -> tuple[engine.Assessment, list[engine.Stored]]:
    """The detectors' findings for new rows, and the stored punches they were judged with.

    In trusted-time order, whatever the arrival order. New punches that follow everything the
    person has punched (the usual case) take one step each from the memory on the chain head;
    a late arrival, or no usable memory, re-folds the person's window around them.
    """
    on = engine.any_rule_on(policy)
    if locked.memory is not None and steps_from_memory(locked, org, rows):
        if on and not crossed:
            await _cross_facts(store, owner, rows, policy, org)
        # With every rule off this finds nothing, but keeps the memory current (no reads), so
        # switching detection back on needs no window.
        state = memory.state(locked.memory, user_id=owner.user_id)
        return engine.carry(state, rows, policy, org.tz), []
    if not on:  # an org that turned detection off reads nothing for it
        return engine.run(engine.Window([], complete=False), rows, policy, org.tz), []
    window = await _context(store, owner, rows, policy, org)
    return engine.run(window, rows, policy, org.tz), window.punches


async def _cross_facts(
    store: IntakeStore, owner: Owner, rows: list[NewPunch], policy: Policy, org: OrgView
) -> None:
    """Fill the cross-person facts the policy's rules use (one read for both)."""
    params = engine.cross_params(owner.org_id, owner.user_id, rows, policy)
    found = await store.cross(params, single=len(rows) == 1)
    engine.take_cross(rows, owner.user_id, found, org.tz)


async def _context(
    store: IntakeStore, owner: Owner, rows: list[NewPunch], policy: Policy, org: OrgView
) -> engine.Window:
    """Cross-person facts filled into `rows`, and the person's window around them: one read
    when all three are needed (the usual case), else one per read."""
    times = [r.trusted_time for r in rows]
    start, end = min(times) - engine.CONTEXT, max(times) + engine.CONTEXT
    params = engine.cross_params(owner.org_id, owner.user_id, rows, policy)
    if not engine.needs_both(params):
        await _cross_facts(store, owner, rows, policy, org)
        return engine.window_of(await store.window(owner.org_id, owner.user_id, start, end), end)
    params.update(start=start, end=end)  # user_id: the same person in every part
    found = await store.window_and_cross(params, single=len(rows) == 1)
    return engine.window_of(engine.take_cross(rows, owner.user_id, found, org.tz), end)


async def _reassess(
    store: IntakeStore,
    owner: Owner,
    context: list[engine.Stored],
    assessment: engine.Assessment,
    policy: Policy,
    w: Write,
) -> None:
    """Stored punches whose findings changed because of the new ones: new status, ledger, review."""
    assert w.at is not None
    by_id = {c.id: c for c in context}
    for punch_id, found in assessment.changed.items():
        punch = by_id[punch_id]
        before = {a["rule"] for a in punch.anomalies}
        punch.anomalies = engine.combined(engine.trust_findings(punch), found)
        if punch.status in (PunchStatus.accepted, PunchStatus.flagged):  # a decision stands
            punch.status = pipeline.status_for(punch.anomalies, policy.reject_critical).value
        content = {
            "punch_id": punch.id,
            "status": punch.status,
            "anomalies": sorted(a["rule"] for a in punch.anomalies),
        }
        _chain(w, owner, "reassessment", punch.id, content, w.at)
        await store.reassess(punch.id, punch.anomalies, punch.status, w.seq, w.hash)
        now = {a["rule"] for a in punch.anomalies}
        events, opened = await review.reconcile(store.session, punch, before, now, w.at)
        w.events += events
        w.anomalies += opened
