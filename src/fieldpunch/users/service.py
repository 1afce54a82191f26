"""People: who they are, their role, their team and the teams they manage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.models import ApiKey
from fieldpunch.auth.passwords import hash_password, verify_password
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.rotation import sign_out_everywhere
from fieldpunch.auth.scopes import ROLE_SCOPES, Role, rights_of
from fieldpunch.db.scoped import get_scoped, ref_scoped, scoped
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Forbidden, Invalid, NotFound
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.kit.schemas import apply
from fieldpunch.teams.models import Team
from fieldpunch.users.models import ManagedTeam, User
from fieldpunch.users.schemas import MeUpdate, UserCreate, UserOut, UserUpdate


async def managed_of(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, list[str]]:
    if not user_ids:
        return {}
    rows = await session.execute(
        select(ManagedTeam.user_id, ManagedTeam.team_id)
        .where(ManagedTeam.user_id.in_(user_ids))
        .order_by(ManagedTeam.team_id)
    )
    out: dict[str, list[str]] = defaultdict(list)
    for user_id, team_id in rows:
        out[user_id].append(team_id)
    return out


def to_out(user: User, managed: list[str]) -> UserOut:
    data = {c: getattr(user, c) for c in UserOut.model_fields if c != "managed_team_ids"}
    return UserOut(**data, managed_team_ids=managed)


async def out(session: AsyncSession, user: User) -> UserOut:
    return to_out(user, (await managed_of(session, [user.id])).get(user.id, []))


async def _email_free(
    session: AsyncSession, org_id: str, email: str, except_id: str | None = None
) -> None:
    """Emails are unique within an organization; another organization's people are no concern
    of this one (naming them here would tell one tenant who is registered in another)."""
    stmt = select(User.id).where(User.org_id == org_id, User.email == email)
    if except_id:
        stmt = stmt.where(User.id != except_id)
    if (await session.execute(stmt)).first():
        raise Conflict(
            f"email {email} is already in use",
            [{"loc": ["body", "email"], "msg": "already in use"}],
        )


async def _phone_free(
    session: AsyncSession, org_id: str, phone: str | None, except_id: str | None = None
) -> None:
    """Phones are sign-in names (auth/service.py): one person per number in an organization."""
    if phone is None:
        return
    stmt = select(User.id).where(User.org_id == org_id, User.phone == phone)
    if except_id:
        stmt = stmt.where(User.id != except_id)
    if (await session.execute(stmt)).first():
        raise Conflict(
            f"phone {phone} is already in use",
            [{"loc": ["body", "phone"], "msg": "already in use"}],
        )


async def _employee_no_free(
    session: AsyncSession, org_id: str, no: str | None, except_id: str | None = None
) -> None:
    if no is None:
        return
    stmt = select(User.id).where(User.org_id == org_id, User.employee_no == no)
    if except_id:
        stmt = stmt.where(User.id != except_id)
    if (await session.execute(stmt)).first():
        raise Conflict(
            f"employee_no {no} is already in use",
            [{"loc": ["body", "employee_no"], "msg": "already in use"}],
        )


async def _set_managed(
    session: AsyncSession, user: User, team_ids: list[str], *, new: bool = False
) -> None:
    for i, team_id in enumerate(dict.fromkeys(team_ids)):
        await ref_scoped(session, Team, user.org_id, team_id, ["body", "managed_team_ids", i])
    if not new:
        await session.execute(delete(ManagedTeam).where(ManagedTeam.user_id == user.id))
    session.add_all(
        ManagedTeam(user_id=user.id, team_id=t, org_id=user.org_id) for t in dict.fromkeys(team_ids)
    )


def _may_act_on(p: Principal, role: Role, verb: str) -> None:
    """A caller gives no one more than it holds: it may give a person a role, or change a person
    who has one, only while holding every right of that role (the personal ones aside).
    People with `users:write` are admins and hold them all; a key holds what it was given, and
    never `api_keys:manage`, so a key can neither make an admin nor touch one."""
    missing = sorted(rights_of(role) - p.scopes)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise Forbidden(
            f"cannot {verb} a person with the '{role}' role without its rights: {shown}"
        )


async def _revoke_keys_beyond(
    session: AsyncSession, p: Principal, user: User, holds: frozenset[str]
) -> None:
    """Revoke the keys `user` created that hold more than `holds` (what they may still do), in
    this transaction: a key must not keep the rights its creator just lost."""
    keys = (
        await session.execute(
            scoped(ApiKey, user.org_id).where(
                ApiKey.created_by == user.id, ApiKey.revoked_at.is_(None)
            )
        )
    ).scalars()
    now = utcnow()
    for key in keys:
        if not set(key.scopes) <= holds:
            key.revoked_at = now
            record(
                session,
                p.org_id,
                p.actor,
                "api_key.revoked",
                "api_key",
                key.id,
                name=key.name,
                reason="its creator lost the rights it holds",
            )


def _check_role_teams(role: Role, managed: list[str] | None) -> None:
    if managed and role is not Role.manager:
        raise Invalid(["body", "managed_team_ids"], "only a manager manages teams")


async def create(session: AsyncSession, p: Principal, body: UserCreate) -> UserOut:
    _may_act_on(p, body.role, "create")
    email = body.email.lower()
    await _email_free(session, p.org_id, email)
    await _phone_free(session, p.org_id, body.phone)
    await _employee_no_free(session, p.org_id, body.employee_no)
    await ref_scoped(session, Team, p.org_id, body.team_id, ["body", "team_id"])
    _check_role_teams(body.role, body.managed_team_ids)
    user = User(
        id=new_id("usr"),
        org_id=p.org_id,
        email=email,
        name=body.name,
        role=body.role.value,
        password_hash=await hash_password(body.password) if body.password else None,
        team_id=body.team_id,
        phone=body.phone,
        employee_no=body.employee_no,
    )
    session.add(user)
    await session.flush()
    await _set_managed(session, user, body.managed_team_ids, new=True)
    await session.flush()
    managed = sorted(set(body.managed_team_ids))
    record(
        session,
        p.org_id,
        p.actor,
        "user.created",
        "user",
        user.id,
        email=email,
        role=user.role,
        team_id=user.team_id,
        managed_team_ids=managed,
    )
    return to_out(user, managed)


async def get_visible(session: AsyncSession, p: Principal, user_id: str) -> User:
    user = await get_scoped(session, User, p.org_id, user_id, what="user")
    if not p.sees_user(user.id, user.team_id):
        raise NotFound(f"user {user_id} not found")
    return user


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    *,
    team_id: str | None,
    role: Role | None,
    active: bool | None,
    q: str | None,
) -> dict[str, Any]:
    stmt = scoped(User, p.org_id)
    if (visible := p.user_filter(User.id, User.team_id)) is not None:
        stmt = stmt.where(visible)
    if team_id is not None:
        stmt = stmt.where(User.team_id == team_id)
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    rows = list((await session.execute(paginate(stmt, User.id, page))).scalars())
    managed = await managed_of(session, [u.id for u in rows])
    return page_of(rows, page, lambda u: to_out(u, managed.get(u.id, [])))


async def _admins_left(session: AsyncSession, org_id: str, without: str) -> int:
    stmt = (
        select(func.count())
        .select_from(User)
        .where(
            User.org_id == org_id,
            User.role == Role.admin.value,
            User.active.is_(True),
            User.id != without,
        )
    )
    return int((await session.execute(stmt)).scalar_one())


async def update(session: AsyncSession, p: Principal, user_id: str, body: UserUpdate) -> UserOut:
    # Locked (PostgreSQL; SQLite's writers are serial anyway): a key being minted by this person
    # right now either commits first, and is revoked below, or waits and sees the change.
    user = (
        await session.execute(scoped(User, p.org_id).where(User.id == user_id).with_for_update())
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    _may_act_on(p, Role(user.role), "change")
    changes = body.model_dump(exclude_unset=True)
    for required in ("email", "name", "role", "active"):
        if required in changes and changes[required] is None:
            raise Invalid(["body", required], "may not be null")
    managed = changes.pop("managed_team_ids", None)
    password = changes.pop("password", None)
    if password is not None and p.user_id is None:
        raise Forbidden("an API key cannot set a person's password: an admin, signed in, can")
    if "email" in changes:
        changes["email"] = changes["email"].lower()
        await _email_free(session, p.org_id, changes["email"], user.id)
    if "phone" in changes:
        await _phone_free(session, p.org_id, changes["phone"], user.id)
    if "employee_no" in changes:
        await _employee_no_free(session, p.org_id, changes["employee_no"], user.id)
    if "team_id" in changes:
        await ref_scoped(session, Team, p.org_id, changes["team_id"], ["body", "team_id"])
    role = Role(changes.get("role") or user.role)
    if role.value != user.role:
        _may_act_on(p, role, "give")
    _check_role_teams(role, managed)
    deactivating = changes.get("active") is False and user.active
    losing_admin = user.role == Role.admin.value and (
        role is not Role.admin or changes.get("active") is False
    )
    if losing_admin and await _admins_left(session, p.org_id, user.id) == 0:
        raise Conflict("the organization must keep at least one active admin")
    if "role" in changes:
        changes["role"] = role.value
    if password is not None or changes.get("active") is False or role.value != user.role:
        await sign_out_everywhere(session, user)
    if deactivating or role.value != user.role:
        # A key sees the whole organization, as only an admin does: whoever stops being an
        # active admin keeps none of the keys they made, whatever their scopes.
        keeps_all = changes.get("active") is not False and role is Role.admin
        holds = ROLE_SCOPES[role] if keeps_all else frozenset()
        await _revoke_keys_beyond(session, p, user, frozenset(s.value for s in holds))
    if password is not None:
        user.password_hash = await hash_password(password)
    # Who changed whose role, teams or access is what an auditor asks first; never the password.
    before = {k: getattr(user, k) for k in changes}
    after = {k: v for k, v in changes.items() if before[k] != v}
    if managed is not None:
        after["managed_team_ids"] = sorted(set(managed))
    if after or password is not None:
        record(
            session,
            p.org_id,
            p.actor,
            "user.updated",
            "user",
            user.id,
            before={k: before[k] for k in after if k in before},
            after=after,
            password_changed=password is not None,
        )
        # What this person may see may have changed (team, managed teams): callers cached
        # under the old version are not used again, in any process (auth/principal.py).
        user.access_version += 1
    apply(user, changes)
    if managed is not None or role is not Role.manager:
        await _set_managed(session, user, managed or [])
    await session.flush()
    return await out(session, user)


async def deactivate(session: AsyncSession, p: Principal, user_id: str) -> None:
    """People are never deleted (their punches keep a name); they just cannot sign in."""
    await update(session, p, user_id, UserUpdate(active=False))


async def update_me(session: AsyncSession, p: Principal, body: MeUpdate) -> UserOut:
    if p.user_id is None:
        raise NotFound("an API key has no profile")
    user = await get_scoped(session, User, p.org_id, p.user_id, what="user")
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise Invalid(["body", "name"], "may not be null")
    changes.pop("current_password", None)
    if "phone" in changes:
        await _phone_free(session, p.org_id, changes["phone"], user.id)
    if (password := changes.pop("password", None)) is not None:
        if not body.current_password or not await verify_password(
            body.current_password, user.password_hash
        ):
            raise Invalid(["body", "current_password"], "does not match your current password")
        user.password_hash = await hash_password(password)
        await sign_out_everywhere(session, user)
    apply(user, changes)
    await session.flush()
    return await out(session, user)
