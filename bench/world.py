"""The organisation a benchmark measures: places around Shanghai and staff with enrolled device
keys and time anchors, created through the server's API (places in one bulk insert by default).

`seed` builds it on a running server; `set_rules` switches the org's anomaly rules.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.harness import sayer
from fieldpunch.devices.keys import b64url_encode

T = TypeVar("T")
SHANGHAI = (31.2304, 121.4737)
M_PER_DEG = 111_320.0
PASSWORD = "bench-password-1"  # noqa: S105 - throwaway accounts in a throwaway database
ADMIN_EMAIL = "admin@bench.example.com"
say = sayer("world")


@dataclass(frozen=True)
class WorldSize:
    """How big the organisation is and how it is made (see `fieldpunch bench ingest --help`)."""

    places: int = 10_000
    users: int = 200
    wifi_share: float = 0.30
    places_via: str = "sql"  # or "http": POST /places, 16 at a time
    login: str = "token"  # or "password": a real login per person (two Argon2id hashes)


def create_org_args(name: str = "Bench Co", email: str = ADMIN_EMAIL) -> list[str]:
    """The arguments of `fieldpunch create-org` for the benchmark's org and admin."""
    return ["create-org", "--name", name, "--admin-email", email, "--admin-password", PASSWORD]


@dataclass
class PlaceInfo:
    id: str
    lat: float
    lon: float
    radius_m: float
    bssids: list[str]


@dataclass
class Staff:
    user_id: str
    token: str
    device_id: str
    key: ec.EllipticCurvePrivateKey
    anchor_now: str
    anchor_token: str
    home: PlaceInfo  # where this person works: every punch of theirs is at (or near) it
    spot: tuple[float, float] | None = None  # their desk: punches jitter a few metres around it
    clocked_in: bool = False  # kinds alternate, as a working day does


@dataclass
class World:
    org_id: str
    places: list[PlaceInfo]
    staff: list[Staff]
    timings_s: dict[str, float] = field(default_factory=dict)


def bssid(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def make_places(n: int, wifi_share: float, rng: random.Random) -> list[dict[str, Any]]:
    """Circles of 50-300 m scattered around Shanghai (normal spread ~15 km)."""
    out = []
    for i in range(n):
        lat, lon = offset(*SHANGHAI, rng.gauss(0, 15_000), rng.gauss(0, 15_000))
        wifi = [bssid(rng) for _ in range(rng.randint(1, 3))] if rng.random() < wifi_share else []
        out.append(
            {
                "name": f"Site {i:05d}",
                "kind": "site" if i % 4 else "office",
                "location": {"lat": round(lat, 7), "lon": round(lon, 7), "crs": "wgs84"},
                "radius_m": round(rng.uniform(50, 300), 1),
                "wifi_bssids": wifi,
            }
        )
    return out


async def _gather_limited(n: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs, at most n at a time; their results in order."""
    sem = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await job()

    return list(await asyncio.gather(*(one(j) for j in jobs)))


def ok(r: httpx.Response, what: str) -> dict[str, Any]:
    if r.status_code >= 300:
        raise RuntimeError(f"{what}: {r.status_code} {r.text[:500]}")
    body: dict[str, Any] = r.json()
    return body


async def _places_http(
    client: httpx.AsyncClient, admin: dict[str, str], specs: list[dict[str, Any]]
) -> list[PlaceInfo]:
    async def create(spec: dict[str, Any]) -> PlaceInfo:
        body = ok(await client.post("/api/v1/places", json=spec, headers=admin), "place")
        return PlaceInfo(
            body["id"],
            spec["location"]["lat"],
            spec["location"]["lon"],
            spec["radius_m"],
            spec["wifi_bssids"],
        )

    return await _gather_limited(16, [functools.partial(create, s) for s in specs])


async def _places_sql(
    database_url: str, org_id: str, specs: list[dict[str, Any]]
) -> list[PlaceInfo]:
    """One bulk INSERT with fieldpunch's own model and id scheme, then one geo_version bump."""
    from sqlalchemy import insert

    from fieldpunch.db.engine import Database
    from fieldpunch.kit.clock import utcnow
    from fieldpunch.kit.ids import new_id
    from fieldpunch.places.fences import bump
    from fieldpunch.places.models import Place

    db = Database(database_url)
    rows, out = [], []
    now = utcnow()
    for s in specs:
        pid = new_id("plc")
        loc = s["location"]
        rows.append(
            {
                "id": pid,
                "org_id": org_id,
                "name": s["name"],
                "kind": s["kind"],
                "address": "",
                "lat": loc["lat"],
                "lon": loc["lon"],
                "radius_m": s["radius_m"],
                "polygon": None,
                "wifi_bssids": s["wifi_bssids"],
                "created_at": now,
                "updated_at": now,
            }
        )
        out.append(PlaceInfo(pid, loc["lat"], loc["lon"], s["radius_m"], s["wifi_bssids"]))
    try:
        async with db.transaction() as session:
            for i in range(0, len(rows), 2000):
                await session.execute(insert(Place), rows[i : i + 2000])
            await bump(session, org_id)
    finally:
        await db.dispose()
    return out


def mint_token(secret: str, org_id: str, user_id: str) -> str:
    """An access token exactly as POST /auth/token would issue it (HS256 with the server's key)."""
    from fieldpunch.auth.tokens import TokenClaims, issue

    return issue(secret, TokenClaims(user_id, org_id, "access", 1), 4 * 3600)


async def seed(
    base: str,
    o: WorldSize,
    org_id: str,
    admin_email: str,
    database_url: str,
    secret: str,
    rng: random.Random,
) -> World:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        tok = ok(
            await client.post(
                "/api/v1/auth/token", data={"username": admin_email, "password": PASSWORD}
            ),
            "admin login",
        )
        admin = {"Authorization": f"Bearer {tok['access_token']}"}
        world = World(org_id, [], [])

        t = time.perf_counter()
        specs = make_places(o.places, o.wifi_share, rng)
        if o.places_via == "http":
            world.places = await _places_http(client, admin, specs)
        else:
            world.places = await _places_sql(database_url, org_id, specs)
        world.timings_s[f"places_{o.places_via}"] = round(time.perf_counter() - t, 2)
        say(f"{len(world.places)} places via {o.places_via} in {world.timings_s}")

        t = time.perf_counter()

        async def person(i: int) -> Staff:
            email = f"staff{i:04d}@bench.example.com"
            person_in: dict[str, Any] = {"email": email, "name": f"Staff {i:04d}", "role": "staff"}
            if o.login == "password":
                person_in["password"] = PASSWORD
            user = ok(await client.post("/api/v1/users", json=person_in, headers=admin), "user")
            if o.login == "password":
                login = await client.post(
                    "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
                )
                token = ok(login, "staff login")["access_token"]
            else:
                token = mint_token(secret, org_id, user["id"])
            auth = {"Authorization": f"Bearer {token}"}
            key = ec.generate_private_key(ec.SECP256R1())
            spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            device = ok(
                await client.post(
                    "/api/v1/devices",
                    json={"public_key": b64url_encode(spki), "platform": "android"},
                    headers=auth,
                ),
                "device",
            )
            anchor = ok(await client.get("/api/v1/time", headers=auth), "time anchor")
            return Staff(
                user["id"],
                token,
                device["id"],
                key,
                anchor["now"],
                anchor["token"],
                home=rng.choice(world.places),
            )

        world.staff = await _gather_limited(
            8, [functools.partial(person, i) for i in range(o.users)]
        )
        world.timings_s["users"] = round(time.perf_counter() - t, 2)
        took = world.timings_s["users"]
        say(f"{len(world.staff)} staff ({o.login} login, device, time anchor) in {took} s")
        return world


async def set_rules(base: str, admin_email: str, policy: dict[str, Any] | None) -> None:
    """The org's policy: every anomaly rule off (None), or the defaults with `policy` over them."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tok = ok(
            await client.post(
                "/api/v1/auth/token", data={"username": admin_email, "password": PASSWORD}
            ),
            "admin login",
        )
        auth = {"Authorization": f"Bearer {tok['access_token']}"}
        rules = ok(await client.get("/api/v1/policy", headers=auth), "policy")["effective"]["rules"]
        off = {"rules": {n: {**r, "enabled": False} for n, r in rules.items()}}
        body = off if policy is None else policy
        ok(await client.put("/api/v1/policy", json=body, headers=auth), "policy")


# Reporting --------------------------------------------------------------------------------------
