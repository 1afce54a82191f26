"""Loading policy overrides and resolving them per person: person → team → parent teams → org."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies.models import PolicyOverride
from fieldpunch.anomalies.policy import Policy, resolve
from fieldpunch.teams.models import Team


class PolicyBook:
    """Every override of one org, read once per request; resolves a person's policy."""

    def __init__(
        self,
        overrides: dict[tuple[str, str], dict[str, Any]],
        parents: dict[str, str | None],
        org_id: str,
    ) -> None:
        self._overrides, self._parents, self._org_id = overrides, parents, org_id
        self._cache: dict[tuple[str | None, str], Policy] = {}

    def _team_chain(self, team_id: str | None) -> Iterator[str]:
        """Root first, the person's own team last (the more specific wins)."""
        chain: list[str] = []
        seen: set[str] = set()
        while team_id is not None and team_id not in seen:
            seen.add(team_id)
            chain.append(team_id)
            team_id = self._parents.get(team_id)
        return reversed(chain)

    def for_person(self, user_id: str, team_id: str | None) -> Policy:
        key = (team_id, user_id)
        if key not in self._cache:
            layers = [self._overrides.get(("org", self._org_id))]
            layers += [self._overrides.get(("team", t)) for t in self._team_chain(team_id)]
            layers.append(self._overrides.get(("user", user_id)))
            self._cache[key] = resolve(*layers)
        return self._cache[key]


# Policies change rarely and every punch needs one: keep each org's book briefly. A change made
# through this process drops it at once; other processes see it within TTL_S.
TTL_S = 5.0
_books: dict[str, tuple[float, PolicyBook]] = {}


def invalidate(org_id: str) -> None:
    _books.pop(org_id, None)


async def load(session: AsyncSession, org_id: str) -> PolicyBook:
    cached = _books.get(org_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    book = await _read(session, org_id)
    _books[org_id] = (time.monotonic() + TTL_S, book)
    return book


async def _read(session: AsyncSession, org_id: str) -> PolicyBook:
    rows = (
        await session.execute(
            select(PolicyOverride.scope, PolicyOverride.scope_id, PolicyOverride.settings).where(
                PolicyOverride.org_id == org_id
            )
        )
    ).all()
    overrides = {(r.scope, r.scope_id): r.settings for r in rows}
    parents: dict[str, str | None] = {}
    if any(scope == "team" for scope, _ in overrides):
        edges = (
            await session.execute(select(Team.id, Team.parent_id).where(Team.org_id == org_id))
        ).all()
        parents = {e.id: e.parent_id for e in edges}
    return PolicyBook(overrides, parents, org_id)
