"""Punch intake around the pure pipeline: load → judge → idempotency → commit, one transaction.

Per-person ordering: the person's ledger head row is locked (the store's `open`) before the
idempotency check, so two copies of one punch, or two punches of one person, never interleave.
Every statement is the store's (punches/store/); this module has no SQL and no dialect branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies import engine, points
from fieldpunch.anomalies.policy import Policy
from fieldpunch.auth.principal import Principal
from fieldpunch.config import Settings
from fieldpunch.geo.crs import CRS
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden, Invalid, problem_body
from fieldpunch.photos import evidence
from fieldpunch.places.fences import FenceCache, OrgFences
from fieldpunch.punches import pipeline
from fieldpunch.punches.commit import Owner, commit_rows, policy_of, steps_from_memory
from fieldpunch.punches.models import Punch
from fieldpunch.punches.pipeline import Claim
from fieldpunch.punches.ratelimit import PunchLimiter, make_limiter
from fieldpunch.punches.rows import NewPunch, new_punch
from fieldpunch.punches.schemas import BatchItemOut, PunchIn
from fieldpunch.punches.store import IntakeStore, OrgView, store_for
from fieldpunch.punches.views import to_out


@dataclass(frozen=True, slots=True)
class Intake:
    """What the pipeline needs from the application."""

    secret: str
    fences: FenceCache
    anchor_ttl: timedelta = pipeline.DEFAULT_ANCHOR_TTL
    limiter: PunchLimiter | None = None  # None: no rate limit (history imports, the demo)

    @classmethod
    def of(cls, settings: Settings) -> Intake:
        return cls(
            secret=settings.signing_key,
            fences=FenceCache(),
            anchor_ttl=timedelta(hours=settings.time_anchor_ttl_h),
            limiter=make_limiter(settings),
        )

    async def close(self) -> None:
        if self.limiter is not None:
            await self.limiter.close()


def _parse(raw: Any, loc: list[str | int], punch: PunchIn | None) -> Claim | dict[str, Any]:
    if not isinstance(raw, dict):
        return problem_body(422, "a punch is a JSON object", [{"loc": loc, "msg": "not an object"}])
    try:
        return pipeline.parse(raw, punch)
    except ValidationError as exc:
        errors = [{"loc": [*loc, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        return problem_body(
            422,
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]),
            errors,
        )
    except Invalid as exc:
        errors = [{"loc": [*loc, *e["loc"][1:]], "msg": e["msg"]} for e in exc.errors]
        return problem_body(422, exc.detail, errors)


async def submit(
    session: AsyncSession,
    intake: Intake,
    p: Principal,
    raws: list[Any],
    *,
    batch: bool,
    validated: list[PunchIn] | None = None,
    received_at: datetime | None = None,
) -> tuple[list[BatchItemOut], list[NewPunch]]:
    """Judge and store punches; one result per input, in order. Also returns the new rows.

    `received_at` is for importing history (the demo); requests always use the clock.
    """
    if p.user_id is None:
        raise Forbidden("punches are made by a person, not by an API key")
    received_at = received_at or utcnow()

    def where(i: int) -> list[str | int]:
        return ["body", "punches", i] if batch else ["body"]

    results: dict[int, BatchItemOut] = {}
    claims: list[tuple[int, Claim]] = []
    for i, raw in enumerate(raws):
        parsed = _parse(raw, where(i), validated[i] if validated else None)
        if isinstance(parsed, Claim):
            claims.append((i, parsed))
        else:
            results[i] = BatchItemOut(index=i, status=422, problem=parsed)
    new_rows: list[NewPunch] = []
    if claims:
        new_rows = await _store(session, intake, p, claims, received_at, results, where)
    return [results[i] for i in range(len(raws))], new_rows


async def _store(
    session: AsyncSession,
    intake: Intake,
    p: Principal,
    claims: list[tuple[int, Claim]],
    received_at: datetime,
    results: dict[int, BatchItemOut],
    where: Callable[[int], list[str | int]],
) -> list[NewPunch]:
    assert p.user_id is not None
    user_id = p.user_id
    store = store_for(session)
    device_ids = {c.punch.device_id for _, c in claims if c.punch.device_id}
    opened = await store.open(p.org_id, user_id, device_ids)
    org, head = opened.org, opened.head
    fences = await intake.fences.get(session, p.org_id, org.geo_version)
    stored_points = await points.of(fences.index)
    cells = await store.cells(
        p.org_id, {pipeline.cell_key(x) for _, c in claims for x in c.punch.cells}
    )
    # The photos cited (uploaded before their punch: the id is the upload's answer), for the
    # photo detectors; punches without a photo read nothing here.
    cited = {c.punch.photo_id for _, c in claims if c.punch.photo_id}
    photos = await evidence.punch_facts(session, p.org_id, cited) if cited else {}

    def judge(claim: Claim) -> NewPunch:
        """Trust, location, time and place of one claim, on its own."""
        v = pipeline.judge(
            claim,
            user_id=user_id,
            received_at=received_at,
            secret=intake.secret,
            org_id=p.org_id,
            device=opened.devices.get(claim.punch.device_id or ""),
            require_signed=org.require_signed,
            index=fences.index,
            bssid_places=fences.bssid_places,
            cells=cells,
            anchor_ttl=intake.anchor_ttl,
            has_device=opened.has_device,
        )
        facts = engine.static_facts(v, fences.index, fences.bssids_by_place, stored_points)
        if claim.punch.photo_id:
            facts["photo"] = photos[claim.punch.photo_id]
        if missing := engine.missing_required(claim.punch, org.field_requires):
            facts["missing_required"] = missing
        return new_punch(p.org_id, v, fences, facts)

    # 1. Judge the first claim of each client_id.
    judged: dict[str, tuple[int, NewPunch]] = {}
    for i, claim in claims:
        if claim.punch.client_id not in judged:
            judged[claim.punch.client_id] = (i, judge(claim))
    # 2. Idempotency, after the lock: a concurrent copy of the same punch has committed by now.
    # With the detectors' cross-person reads in the same round trip when they will be needed.
    owner = Owner(p.org_id, user_id, p.team_id)
    policy = await policy_of(session, owner)
    candidates = [row for _, row in judged.values()]
    crossing = bool(candidates) and engine.any_rule_on(policy)
    crossing = crossing and steps_from_memory(head, org, candidates)
    seen, crossing = await _seen(store, owner, org, policy, list(judged), candidates, crossing)
    stored = await store.punches(seen) if seen else {}  # replays are rare: whole rows only then
    # 3. Answer replays and unknown customers; the rest are new.
    rows: list[NewPunch] = []
    slot: dict[str, int] = {}
    fresh: dict[str, NewPunch] = {}
    twins: list[tuple[int, str]] = []
    for i, claim in claims:
        cid = claim.punch.client_id
        earlier = stored.get(cid)
        if earlier is not None or cid in fresh:
            results[i] = _replay(i, claim, earlier, fresh.get(cid), user_id, fences, where(i))
            if results[i].status == 200 and earlier is None:
                twins.append((i, cid))  # answered once its first copy is stored
            continue
        customer_id = claim.punch.customer_id
        if customer_id and not await _known_customer(store, p.org_id, fences, customer_id):
            problem = problem_body(
                422,
                f"no such customer: {customer_id}",
                [{"loc": [*where(i), "customer_id"], "msg": "no such customer"}],
            )
            results[i] = BatchItemOut(index=i, status=422, problem=problem)
            continue
        first, row = judged[cid]
        if first != i:  # its first copy was refused (no such customer): judge this one
            row = judge(claim)
        rows.append(row)
        slot[row.id] = i
        fresh[cid] = row
    if rows:
        evidence.cite_within(rows)
        # The cross-person reads were bounded by the candidates: exact only if these are they.
        crossed = crossing and [r.id for r in rows] == [r.id for r in candidates]
        outs = await commit_rows(
            store, owner, org, rows, head, received_at, policy=policy, crossed=crossed
        )
        for row, out in zip(rows, outs, strict=True):
            results[slot[row.id]] = BatchItemOut(index=slot[row.id], status=201, punch=out)
    for i, cid in twins:
        results[i] = BatchItemOut(index=i, status=200, punch=results[slot[fresh[cid].id]].punch)
    return rows


async def _seen(
    store: IntakeStore,
    owner: Owner,
    org: OrgView,
    policy: Policy,
    client_ids: list[str],
    rows: list[NewPunch],
    crossing: bool,
) -> tuple[list[str], bool]:
    """Ids of stored punches with these client_ids, and whether `rows` got their cross facts.

    When the detectors will step from the memory and need both cross-person reads (the usual
    case), those share this round trip.
    """
    if crossing:
        params = engine.cross_params(owner.org_id, owner.user_id, rows, policy)
        if engine.needs_both(params):
            ids, cross = await store.seen_and_cross(client_ids, params, single=len(rows) == 1)
            engine.take_cross(rows, owner.user_id, cross, org.tz)
            return ids, True
    return await store.seen(owner.org_id, client_ids), False


def _replay(
    i: int,
    claim: Claim,
    earlier: Punch | None,
    fresh: NewPunch | None,
    user_id: str,
    fences: OrgFences,
    where: list[str | int],
) -> BatchItemOut:
    """The same client_id again: the stored punch when the content matches, else a conflict."""
    first = earlier if earlier is not None else fresh
    same_hash = first.content_hash if first is not None else None
    same_user = first is not None and first.user_id == user_id
    if same_hash == claim.content_hash and same_user:
        punch = to_out(earlier, CRS.wgs84, fences.names) if earlier is not None else None
        return BatchItemOut(index=i, status=200, punch=punch)
    problem = problem_body(
        409,
        f"client_id {claim.punch.client_id} was already used for a different punch",
        [{"loc": [*where, "client_id"], "msg": "already used with other content"}],
    )
    return BatchItemOut(index=i, status=409, problem=problem)


async def _known_customer(
    store: IntakeStore, org_id: str, fences: OrgFences, customer_id: str
) -> bool:
    fence = fences.index.get(customer_id)
    if fence is not None:
        return fence.kind == "customer"
    # Customers without a location are not in the index: ask the database.
    return await store.customer_exists(org_id, customer_id)
