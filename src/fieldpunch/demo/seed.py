"""`fieldpunch demo`: seed 上海云途贸易有限公司 through the domain services, in one transaction.

Deterministic for a given `seed` (names, phones, places, customers, the punch history's days),
apart from the ids and timestamps the services stamp, device keys and signatures. Argon2 runs
once per demo password, not once per person. The company and its punch history (history.py)
commit together, so a failed seed leaves nothing that `find_demo` could take for a demo.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth.passwords import hash_password_sync
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import ALL, Role
from fieldpunch.customers import service as customers
from fieldpunch.customers.models import Customer
from fieldpunch.customers.schemas import CustomerCreate
from fieldpunch.db.engine import Database
from fieldpunch.demo import data, geometry
from fieldpunch.demo.history import TZ, seed_history
from fieldpunch.demo.people import People
from fieldpunch.demo.rules import seed_days_and_plans, seed_rules
from fieldpunch.geo.crs import CRS
from fieldpunch.geo.schemas import GeoPolygon, PointIn
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict
from fieldpunch.orgs.models import Org
from fieldpunch.orgs.service import create_org
from fieldpunch.places import service as places
from fieldpunch.places.models import Place
from fieldpunch.places.schemas import PlaceCreate
from fieldpunch.punches.models import Punch
from fieldpunch.teams import service as teams
from fieldpunch.teams.models import Team
from fieldpunch.teams.schemas import TeamCreate
from fieldpunch.users import service as users
from fieldpunch.users.models import User
from fieldpunch.users.schemas import UserCreate

# Published on purpose: the demo prints them, and they only open the demo company.
DEMO_ADMIN_EMAIL = "admin@fieldpunch-demo.cn"
ADMIN_PASSWORD = "demo-admin-2026"  # noqa: S105
MANAGER_PASSWORD = "demo-manager-2026"  # noqa: S105
STAFF_PASSWORD = "demo-staff-2026"  # noqa: S105
STAFF_LOGINS = 2  # field staff accounts listed among the logins


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    name: str
    phone: str | None = None  # signs in too, in place of the email


@dataclass(frozen=True)
class DemoInfo:
    org_id: str
    org_name: str
    logins: list[DemoLogin]
    teams: int
    staff: int  # people with the staff role (managers and the admin not counted)
    places: int
    customers: int
    punches: int


# ---------------------------------------------------------------------------------------------
# Lookup


async def find_demo(db: Database) -> DemoInfo | None:
    """The demo organization already in this database (found by its admin's email), if any."""
    async with db.transaction(write=False) as session:
        return await _info(session)


async def _count(session: AsyncSession, stmt: Select[Any]) -> int:
    return int((await session.execute(stmt)).scalar_one())


async def _info(session: AsyncSession) -> DemoInfo | None:
    admin = (
        await session.execute(select(User).where(User.email == DEMO_ADMIN_EMAIL))
    ).scalar_one_or_none()
    if admin is None:
        return None
    org = await session.get(Org, admin.org_id)
    assert org is not None
    people = select(User).where(User.org_id == org.id, User.active.is_(True))
    by_no = (User.employee_no, User.id)
    managers = (
        await session.execute(people.where(User.role == Role.manager.value).order_by(*by_no))
    ).scalars()
    staff = (
        await session.execute(
            people.where(User.role == Role.staff.value).order_by(*by_no).limit(STAFF_LOGINS)
        )
    ).scalars()
    logins = [DemoLogin(Role.admin.value, admin.email, ADMIN_PASSWORD, admin.name)]
    logins += [DemoLogin(u.role, u.email, MANAGER_PASSWORD, u.name, u.phone) for u in managers]
    logins += [DemoLogin(u.role, u.email, STAFF_PASSWORD, u.name, u.phone) for u in staff]
    n = select(func.count())
    return DemoInfo(
        org_id=org.id,
        org_name=org.name,
        logins=logins,
        teams=await _count(session, n.select_from(Team).where(Team.org_id == org.id)),
        staff=await _count(
            session,
            n.select_from(User).where(User.org_id == org.id, User.role == Role.staff.value),
        ),
        places=await _count(
            session,
            n.select_from(Place).where(Place.org_id == org.id, Place.deleted_at.is_(None)),
        ),
        customers=await _count(
            session,
            n.select_from(Customer).where(Customer.org_id == org.id, Customer.deleted_at.is_(None)),
        ),
        punches=await _count(session, n.select_from(Punch).where(Punch.org_id == org.id)),
    )


# ---------------------------------------------------------------------------------------------
# Seeding


async def seed(
    db: Database,
    *,
    secret: str,
    employees: int = 30,
    customers: int = 200,
    days: int = 14,
    seed: int = 2026,
) -> DemoInfo:
    """Create the demo company: teams, managers, `employees` field staff, offices, customers,
    and `days` days of punches (not today) made and judged as on those days.

    `secret` is the server's signing key (settings.signing_key): the punches' time anchors are
    issued with it, as `GET /time` would have.
    """
    if employees < 0 or customers < 0 or days < 0:
        raise ValueError("employees, customers and days must not be negative")
    rng = random.Random(seed)
    # Its own stream, so the history does not shift the company's names and places.
    history_rng = random.Random(f"fieldpunch-demo-history-{seed}")
    # Off the event loop, and before the write transaction takes SQLite's lock.
    manager_hash, staff_hash = await asyncio.gather(
        asyncio.to_thread(hash_password_sync, MANAGER_PASSWORD),
        asyncio.to_thread(hash_password_sync, STAFF_PASSWORD),
    )
    async with db.transaction() as session:
        if (existing := await _info(session)) is not None:
            raise Conflict(f"the demo organization already exists ({existing.org_id})")
        new = await create_org(
            session,
            name=data.ORG_NAME,
            admin_email=DEMO_ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
            timezone=data.ORG_TIMEZONE,
            admin_name=data.ADMIN_NAME,
        )
        p = Principal(
            org_id=new.org_id,
            user_id=new.admin_user_id,
            role=Role.admin,
            team_id=None,
            scopes=ALL,
            visible_teams=None,
        )
        people = People(rng, names={data.ADMIN_NAME})
        team_ids = await _seed_teams(session, p)
        managers = await _seed_managers(session, p, people, team_ids, manager_hash)
        staff = await _seed_staff(session, p, people, team_ids, employees, staff_hash)
        place_rows = await _seed_places(session, p)
        customer_rows = await _seed_customers(session, p, people, rng, customers, staff, managers)
        now = utcnow()
        today = now.astimezone(TZ).date()
        first = today - timedelta(days=days)
        await seed_rules(session, p, team_ids, place_rows, first, today + timedelta(days=14))
        await seed_history(
            session,
            org_id=new.org_id,
            secret=secret,
            days=days,
            rng=history_rng,
            team_ids=team_ids,
            staff=staff,
            places=place_rows,
            customers=customer_rows,
            now=now,
        )
        await seed_days_and_plans(
            session,
            p,
            rng=random.Random(f"fieldpunch-demo-plans-{seed}"),
            staff=staff,
            customers=customer_rows,
            first=first,
            today=today,
            now=now,
        )
        info = await _info(session)
    assert info is not None
    return info


async def _seed_teams(session: AsyncSession, p: Principal) -> dict[str, str]:
    ids: dict[str, str] = {}
    for spec in data.TEAMS:  # parents come first
        parent = ids[spec.parent] if spec.parent else None
        ids[spec.key] = (
            await teams.create(session, p, TeamCreate(name=spec.name, parent_id=parent))
        ).id
    return ids


async def _create_user(
    session: AsyncSession, p: Principal, body: UserCreate, password_hash: str
) -> str:
    """Create through the service without a password, then set the shared precomputed hash."""
    out = await users.create(session, p, body)
    user = await session.get(User, out.id)  # in the identity map: no query
    assert user is not None
    user.password_hash = password_hash
    return out.id


async def _seed_managers(
    session: AsyncSession,
    p: Principal,
    people: People,
    team_ids: dict[str, str],
    password_hash: str,
) -> dict[str, str]:
    """One manager per team, a member of it who manages it (and so its sub-teams)."""
    managers: dict[str, str] = {}
    for spec in data.TEAMS:
        name, email, phone, no = people.employee()
        body = UserCreate(
            email=email,
            name=name,
            role=Role.manager,
            team_id=team_ids[spec.key],
            managed_team_ids=[team_ids[spec.key]],
            phone=phone,
            employee_no=no,
        )
        managers[spec.key] = await _create_user(session, p, body, password_hash)
    return managers


def _allocate(total: int) -> list[data.TeamSpec]:
    """The team of each staff member in creation order: weighted shares, interleaved."""
    weighted = [t for t in data.TEAMS if t.staff_weight > 0]
    weight_sum = sum(t.staff_weight for t in weighted)
    quotas = [total * t.staff_weight / weight_sum for t in weighted]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(weighted)), key=lambda i: counts[i] - quotas[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    order: list[data.TeamSpec] = []
    while len(order) < total:  # round robin, so the first staff are a 浦东 and a 浦西 rep
        for i, team in enumerate(weighted):
            if counts[i]:
                order.append(team)
                counts[i] -= 1
    return order


async def _seed_staff(
    session: AsyncSession,
    p: Principal,
    people: People,
    team_ids: dict[str, str],
    employees: int,
    password_hash: str,
) -> dict[str, list[str]]:
    """Field staff spread over the teams; their ids by team key."""
    staff: dict[str, list[str]] = {t.key: [] for t in data.TEAMS}
    for spec in _allocate(employees):
        name, email, phone, no = people.employee()
        body = UserCreate(
            email=email,
            name=name,
            role=Role.staff,
            team_id=team_ids[spec.key],
            phone=phone,
            employee_no=no,
        )
        staff[spec.key].append(await _create_user(session, p, body, password_hash))
    return staff


async def _seed_places(session: AsyncSession, p: Principal) -> list[Place]:
    """The offices and the warehouse, in data.PLACES order."""
    rows: list[Place] = []
    for spec in data.PLACES:
        polygon = (
            GeoPolygon(type="Polygon", coordinates=[[list(pt) for pt in spec.polygon]])
            if spec.polygon
            else None
        )
        body = PlaceCreate(
            name=spec.name,
            location=PointIn(lat=spec.lat, lon=spec.lon, crs=CRS.wgs84),
            radius_m=spec.radius_m,
            polygon=polygon,
            wifi_bssids=list(spec.wifi_bssids),
            kind=spec.kind,
            address=spec.address,
        )
        rows.append(await places.create(session, p, body, CRS.wgs84))
    return rows


# --- customers ---------------------------------------------------------------------------------


def _company(rng: random.Random, trade: data.Trade, street: data.Street, taken: set[str]) -> str:
    """上海 + 字号 + trade; a 分公司 of an existing name when the combinations run out."""
    for _ in range(20):
        name = f"上海{rng.choice(data.BRANDS)}{trade.suffix}"
        if name not in taken:
            break
    else:
        branch = street.district.removesuffix("新区").removesuffix("区")
        base, name, k = name, f"{name}{branch}分公司", 2
        while name in taken:
            name, k = f"{base}{branch}第{k}分公司", k + 1
    taken.add(name)
    return name


async def _seed_customers(
    session: AsyncSession,
    p: Principal,
    people: People,
    rng: random.Random,
    count: int,
    staff: dict[str, list[str]],
    managers: dict[str, str],
) -> list[Customer]:
    streets = data.STREETS
    # Long roads get more customers (not proportionally); 浦东 gets its share of the streets.
    street_weights = [math.sqrt(geometry.street_length(s)) for s in streets]
    pudong = sum(
        w for s, w in zip(streets, street_weights, strict=True) if s.district == data.PUDONG
    )
    boost = data.PUDONG_SHARE / (1 - data.PUDONG_SHARE) * (sum(street_weights) - pudong) / pudong
    street_weights = [
        w * boost if s.district == data.PUDONG else w
        for s, w in zip(streets, street_weights, strict=True)
    ]
    trade_weights = [t.weight for t in data.TRADES]
    statuses = [s for s, _ in data.STATUSES]
    status_weights = [w for _, w in data.STATUSES]
    everyone = [u for ids in staff.values() for u in ids]
    taken: set[str] = set()
    rows: list[Customer] = []
    for _ in range(count):
        street = rng.choices(streets, weights=street_weights)[0]
        trade = rng.choices(data.TRADES, weights=trade_weights)[0]
        status = rng.choices(statuses, weights=status_weights)[0]
        name = _company(rng, trade, street, taken)
        lat, lon, number = geometry.frontage(street, rng)

        tags = list(trade.tags)
        if status == "active" and rng.random() < 0.2:
            tags.insert(0, data.TAG_KEY)
        if status == "lead" and rng.random() < 0.5:
            tags.append(data.TAG_NEW)

        # Sales reps own the customers on their side of the river; service keeps a few.
        side = "sales_pd" if street.district == data.PUDONG else "sales_px"
        pool = staff["service"] if rng.random() < 0.15 else staff[side]
        pool = pool or staff[side] or everyone
        owner = rng.choice(pool) if pool else managers[side]

        titles = rng.sample(trade.titles, 1 if rng.random() < 0.6 else 2)
        low, high = trade.radius_m
        body = CustomerCreate(
            name=name,
            address=f"{street.name}{number}号",
            location=PointIn(lat=round(lat, 6), lon=round(lon, 6), crs=CRS.wgs84),
            radius_m=rng.randrange(low, high + 1, 10),
            owner_id=owner,
            tags=tags,
            status=status,
            contacts=[people.contact(t) for t in titles],
        )
        rows.append(await customers.create(session, p, body, CRS.wgs84))
    return rows
