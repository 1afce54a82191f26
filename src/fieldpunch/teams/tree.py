"""Team hierarchy: a manager of a team manages its sub-teams too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.teams.models import Team


def descendants(edges: Iterable[tuple[str, str | None]], roots: Iterable[str]) -> frozenset[str]:
    """Every team reachable from `roots` through (id, parent_id) edges, roots included."""
    children: dict[str, list[str]] = defaultdict(list)
    for team_id, parent_id in edges:
        if parent_id is not None:
            children[parent_id].append(team_id)
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        t = stack.pop()
        if t not in seen:
            seen.add(t)
            stack.extend(children[t])
    return frozenset(seen)


async def subtree_ids(session: AsyncSession, org_id: str, roots: Iterable[str]) -> frozenset[str]:
    roots = list(roots)
    if not roots:
        return frozenset()
    edges = (
        await session.execute(select(Team.id, Team.parent_id).where(Team.org_id == org_id))
    ).all()
    return descendants(((e[0], e[1]) for e in edges), roots)
