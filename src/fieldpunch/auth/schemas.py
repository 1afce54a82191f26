from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from fieldpunch.auth.scopes import API_KEY_GRANTABLE, Role, Scope
from fieldpunch.kit.schemas import AwareTime, In, Name, Out
from fieldpunch.orgs.schemas import MapProvider


class TokenOut(Out):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token kind, not a secret
    expires_in: int


class RefreshIn(In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class OrgBrief(Out):
    id: str
    name: str
    timezone: str
    map_provider: MapProvider = Field(
        default=MapProvider.osm, description="The console's map tiles, as `GET /org` tells"
    )


class MeOut(Out):
    user_id: str | None
    api_key_id: str | None
    name: str
    email: str | None
    role: Role | None
    org: OrgBrief
    team_id: str | None
    managed_team_ids: list[str]
    scopes: list[Scope]


class ApiKeyCreate(In):
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1)]
    expires_at: AwareTime | None = None

    @field_validator("scopes")
    @classmethod
    def _grantable(cls, v: list[Scope]) -> list[Scope]:
        bad = [s.value for s in v if s not in API_KEY_GRANTABLE]
        if bad:
            raise ValueError(f"not grantable to a key: {', '.join(bad)}")
        return sorted(set(v))


class ApiKeyOut(Out):
    id: str
    name: str
    scopes: list[str]
    hint: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The bearer token; shown once, never again.")
