"""The org's visit outcomes and visit form: stored lists an admin replaces, and the check of a
visit's answers against the form (pure: `check_answers`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.kit.errors import Invalid, Loc
from fieldpunch.photos.models import Photo
from fieldpunch.visits.models import VisitField, VisitOutcome
from fieldpunch.visits.repository import VisitRepo
from fieldpunch.visits.schemas import (
    ANSWER_TEXT_MAX,
    FieldOut,
    FormOut,
    FormPut,
    OutcomeOut,
    OutcomesOut,
    OutcomesPut,
)


async def outcomes(session: AsyncSession, p: Principal) -> OutcomesOut:
    rows = await VisitRepo(session).outcomes(p.org_id)
    return OutcomesOut(outcomes=[OutcomeOut.model_validate(r) for r in rows])


async def put_outcomes(session: AsyncSession, p: Principal, body: OutcomesPut) -> OutcomesOut:
    """Replace the list; visits keep an outcome that left it (history stays as it was)."""
    rows = [o.model_dump() for o in body.outcomes]
    await VisitRepo(session).replace(VisitOutcome, p.org_id, rows)
    record(session, p.org_id, p.actor, "visit_outcomes.replaced", "org", p.org_id, outcomes=rows)
    return await outcomes(session, p)


async def form(session: AsyncSession, p: Principal) -> FormOut:
    rows = await VisitRepo(session).fields(p.org_id)
    return FormOut(fields=[FieldOut.model_validate(r) for r in rows])


async def put_form(session: AsyncSession, p: Principal, body: FormPut) -> FormOut:
    """Replace the form; answers already given stay on their visits."""
    rows = [f.model_dump() for f in body.fields]
    await VisitRepo(session).replace(VisitField, p.org_id, rows)
    record(session, p.org_id, p.actor, "visit_form.replaced", "org", p.org_id, fields=rows)
    return await form(session, p)


def check_answers(
    fields: Sequence[VisitField], answers: dict[str, Any], loc: Loc = ("body", "answers")
) -> list[tuple[Loc, str]]:
    """What is wrong with `answers` for this form: unknown keys, required fields left empty,
    values of the wrong type or outside the choices. Empty when they fit."""
    by_key = {f.key: f for f in fields}
    errors: list[tuple[Loc, str]] = [
        ((*loc, key), "no such field in the visit form") for key in answers if key not in by_key
    ]
    for f in fields:
        at = (*loc, f.key)
        value = answers.get(f.key)
        if value is None or value == "":
            if f.required:
                errors.append((at, f"required: {f.label}"))
            continue
        if f.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.append((at, "a number"))
        elif not isinstance(value, str):
            errors.append((at, "text" if f.type == "text" else f"a {f.type} value as text"))
        elif f.type == "text" and len(value) > ANSWER_TEXT_MAX:
            errors.append((at, f"at most {ANSWER_TEXT_MAX} characters"))
        elif f.type == "choice" and value not in f.options:
            errors.append((at, f"one of: {', '.join(f.options)}"))
    return errors


async def photo_errors(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    fields: Sequence[VisitField],
    answers: dict[str, Any],
) -> list[tuple[Loc, str]]:
    """Photo answers name photos the visit's person uploaded (in this org)."""
    wanted = {f.key: answers[f.key] for f in fields if f.type == "photo" and answers.get(f.key)}
    if not wanted:
        return []
    stmt = select(Photo.id).where(
        Photo.org_id == org_id, Photo.user_id == user_id, Photo.id.in_(list(wanted.values()))
    )
    found = set((await session.execute(stmt)).scalars())
    return [
        (("body", "answers", key), f"no such photo of this person: {photo}")
        for key, photo in wanted.items()
        if photo not in found
    ]


def invalid(errors: list[tuple[Loc, str]]) -> None:
    if errors:
        raise Invalid.many(errors)
