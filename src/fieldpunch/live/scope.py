"""Who is watching, and which events they may see.

The same rules as the REST reads: admins and API keys see the whole org, managers their teams
(sub-teams included) and themselves, staff only themselves. An event is about one person
(`subject_user_id`); it is visible when that person is. Topic families also need their read
scope, which matters for API keys (people hold every read scope of their role).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import jwt
from starlette.requests import HTTPConnection, Request

from fieldpunch.auth.models import ApiKey
from fieldpunch.auth.principal import Principal, principal_of
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.engine import Database
from fieldpunch.live.hub import LiveEvent

# Watching needs punches:read; these families need their own read scope as well.
_TOPIC_SCOPES = {
    "anomaly.": Scope.anomalies_read,
    "correction.": Scope.corrections_read,
    "task.": Scope.tasks_read,
}
# An in-app notification or a reminder is its recipient's (the subject) alone, whoever else
# sees that person's punches.
_PERSONAL = ("notification.", "reminder")


@dataclass(frozen=True, slots=True)
class Audience:
    org_id: str
    user_id: str | None
    teams: frozenset[str] | None  # None: the whole org
    hidden_topics: tuple[str, ...]  # topic prefixes the caller lacks the scope for

    @classmethod
    def of(cls, p: Principal) -> Audience:
        hidden = tuple(prefix for prefix, scope in _TOPIC_SCOPES.items() if scope not in p.scopes)
        return cls(p.org_id, p.user_id, p.visible_teams, hidden)

    @property
    def routes(self) -> frozenset[str] | None:
        """The hub routing keys of the events this caller may see (None: the whole org)."""
        if self.teams is None:
            return None
        mine = {"u:" + self.user_id} if self.user_id else set()
        return frozenset(mine | {"t:" + t for t in self.teams})

    def sees_event(self, topic: str, user_id: str | None, team_id: str | None) -> bool:
        """Whether an event of this org about `user_id` (in `team_id`) is for this caller."""
        if self.hidden_topics and topic.startswith(self.hidden_topics):
            return False
        if topic.startswith(_PERSONAL):
            return user_id is not None and user_id == self.user_id
        if self.teams is None:
            return True
        if user_id is None:
            return False  # about nobody in particular: org-wide viewers only
        return user_id == self.user_id or (team_id is not None and team_id in self.teams)

    def sees(self, event: LiveEvent) -> bool:
        """The hub's filter: runs for every event and every feed of the org, so kept cheap."""
        return event.get("org_id") == self.org_id and self.sees_event(
            event.topic, event.subject_user_id, event.team_id
        )


async def authenticate(
    conn: HTTPConnection, db: Database, token: str
) -> tuple[Principal, datetime | None]:
    """The caller behind an access token or API key, and when that credential expires.

    Read as every request reads it (`principal_of`), so a socket asked again later learns of a
    revocation or a change of rights as an HTTP request would. Raises Unauthorized exactly where
    the REST API would answer 401.
    """
    # principal_of only needs the connection's app and state, which a WebSocket has as well.
    expires: datetime | None = None
    async with db.transaction(write=False) as session:
        principal = await principal_of(cast(Request, conn), session, token)
        if principal.api_key_id is not None:
            key = await session.get(ApiKey, principal.api_key_id)
            expires = key.expires_at if key is not None else None
    for hook in getattr(conn.state, "after_commit", ()):
        hook()  # the key's last-use stamp, as TxRoute runs it for a request
    conn.state.after_commit = []
    if principal.api_key_id is not None:
        return principal, expires
    # Verified by principal_of; read again only for its expiry.
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    return principal, datetime.fromtimestamp(int(exp), UTC)
