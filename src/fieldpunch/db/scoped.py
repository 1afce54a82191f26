"""Org-scoped queries: the only way endpoints and services read org-owned rows."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.kit.errors import Invalid, NotFound

M = TypeVar("M")


def scoped(model: type[M], org_id: str) -> Select[M]:
    stmt = select(model).where(model.org_id == org_id)  # type: ignore[attr-defined]
    if hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))  # type: ignore[attr-defined]
    return stmt


async def get_scoped(
    session: AsyncSession, model: type[M], org_id: str, id_: str, *, what: str | None = None
) -> M:
    """The row of this org with this id, else 404 (another org's ids look like no id)."""
    return await get_among(session, scoped(model, org_id), model, id_, what=what)


async def get_among(
    session: AsyncSession,
    rows: Select[Any],
    model: type[M],
    id_: str,
    *,
    what: str | None = None,
) -> M:
    """The row with this id among `rows` (an org-scoped select, e.g. narrowed to what the
    caller may see: `auth.principal.visible_rows`), else 404: one not visible looks like none."""
    found = (await session.execute(rows.where(model.id == id_))).scalar_one_or_none()  # type: ignore[attr-defined]
    if found is None:
        raise NotFound(f"{what or model.__name__.lower()} {id_} not found")
    return found  # type: ignore[no-any-return]


async def ref_scoped(
    session: AsyncSession, model: type[M], org_id: str, id_: str | None, loc: list[Any]
) -> M | None:
    """Resolve an id given in a request body; unknown or foreign ids are a 422 naming the field."""
    if id_ is None:
        return None
    row = (await session.execute(scoped(model, org_id).where(model.id == id_))).scalar_one_or_none()  # type: ignore[attr-defined]
    if row is None:
        raise Invalid(loc, f"no such {model.__name__.lower()}: {id_}")
    return row
