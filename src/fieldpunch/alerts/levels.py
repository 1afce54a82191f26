"""Who hears about a person's anomaly, level by level (pure).

Level 1 is the nearest managers: those of the person's own team or, if nobody manages it, of the
nearest parent team that has managers (a manager of a team manages its sub-teams). Each
escalation goes to the managers of the next team up that has any, and finally to the admins.
Nobody is asked twice, and nobody is asked about their own punch.
"""

from __future__ import annotations

from collections.abc import Mapping, Set


def escalation_levels(
    person_id: str,
    team_id: str | None,
    parents: Mapping[str, str | None],
    managers_by_team: Mapping[str, Set[str]],
    admins: Set[str],
) -> list[frozenset[str]]:
    levels: list[frozenset[str]] = []
    told: set[str] = {person_id}
    seen: set[str] = set()
    while team_id is not None and team_id not in seen:  # `seen`: a corrupt cycle cannot hang us
        seen.add(team_id)
        level = frozenset(managers_by_team.get(team_id, frozenset()) - told)
        if level:
            levels.append(level)
            told |= level
        team_id = parents.get(team_id)
    last = frozenset(admins - told)
    if last:
        levels.append(last)
    return levels
