from __future__ import annotations

from datetime import datetime

from fieldpunch.kit.schemas import IdRef, In, Name, Out


class TeamCreate(In):
    name: Name
    parent_id: IdRef | None = None


class TeamUpdate(In):
    name: Name | None = None
    parent_id: IdRef | None = None


class TeamOut(Out):
    id: str
    name: str
    parent_id: str | None
    created_at: datetime
    updated_at: datetime
