"""Organizations: created by the operator (CLI), then run by their admins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import ALL, Role
from fieldpunch.kit.errors import Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.schemas import apply
from fieldpunch.orgs.models import Org
from fieldpunch.orgs.schemas import FLAGS, OrgOut, OrgUpdate, check_zone
from fieldpunch.users import service as users
from fieldpunch.users.schemas import UserCreate


@dataclass(frozen=True)
class NewOrg:
    org_id: str
    admin_user_id: str


async def create_org(
    session: AsyncSession,
    *,
    name: str,
    admin_email: str,
    admin_password: str,
    timezone: str,
    admin_name: str = "Administrator",
) -> NewOrg:
    """An organization with its first admin (validated like any API input)."""
    if not 1 <= len(name.strip()) <= 200:
        raise Invalid(["name"], "must be 1 to 200 characters")
    try:
        check_zone(timezone)
    except ValueError as exc:
        raise Invalid(["timezone"], str(exc)) from None
    org = Org(id=new_id("org"), name=name.strip(), timezone=timezone, settings={})
    session.add(org)
    await session.flush()
    system = Principal(
        org_id=org.id, user_id=None, role=None, team_id=None, scopes=ALL, visible_teams=None
    )
    admin = await users.create(
        session,
        system,
        UserCreate(email=admin_email, name=admin_name, role=Role.admin, password=admin_password),
    )
    return NewOrg(org.id, admin.id)


async def update(session: AsyncSession, p: Principal, body: OrgUpdate) -> OrgOut:
    org = await session.get(Org, p.org_id)
    assert org is not None
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "timezone", "map_provider", *FLAGS):
        if key in changes and changes[key] is None:
            raise Invalid(["body", key], "may not be null")
    flags = {key: changes.pop(key) for key in FLAGS if key in changes}
    if "map_provider" in changes:
        flags["map_provider"] = str(changes.pop("map_provider"))
    if flags:
        org.settings = {**(org.settings or {}), **flags}
    apply(org, changes)
    await session.flush()
    return OrgOut.of(org)
