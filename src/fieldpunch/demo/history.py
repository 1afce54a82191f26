"""Weeks of punch history for the demo company, made the way the field app makes punches.

Just over 450 lines on purpose: a person's day (events, fixes, the batch it arrives in) is one
simulation, read together; its geometry and signing live in geometry.py and signing.py.

Each field staff member enrols a real ECDSA P-256 key (`devices.service.enrol`) and signs every
punch with it (RFC 8785 JSON without `signature`, SHA-256, IEEE P1363 r‖s, base64url). The
punches then go through `punches.service.submit`, so the pipeline judges them and the ledger
chains them as if they had arrived on those days: `fieldpunch audit verify` holds for them.

A workday (Mon-Fri, org time): the phone fetches a time anchor when the app opens, clock_in at
the team's office before 09:00 (late on a few days), two to four visits at customers the person
owns, clock_out mostly just after 18:00 (a few minutes early on some days). Each punch carries
the anchor (`time_proof`), so its trusted time is when it was made, whenever it arrives. A
person's day goes in as one batch received a few seconds after its last punch: one request per
person-day keeps the default demo (30 people, two weeks) to a few seconds, where one request per
punch took three times as long.

What a reviewer should find: some late arrivals, ~3% forgotten clock_outs, a few poor fixes
(300-800 m), one or two people punching a day from a phone they never enrolled
(`unknown_device`, flagged) and one punch whose position was edited after signing
(`bad_signature`, rejected).

Deterministic for a given rng (people's days, places, times, client ids), apart from the keys
and signatures (the OS's randomness) and the dates, which count back from today.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth import timeproof
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import ROLE_SCOPES, Role
from fieldpunch.customers.models import Customer
from fieldpunch.demo import data
from fieldpunch.demo.geometry import jitter, metres, offset
from fieldpunch.demo.signing import new_key, sign, stamp
from fieldpunch.devices import service as devices
from fieldpunch.devices.schemas import DeviceCreate, Platform
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.kit.clock import utcnow
from fieldpunch.places.fences import FenceCache
from fieldpunch.places.models import Place
from fieldpunch.punches import service as punches
from fieldpunch.punches.service import Intake

TZ = ZoneInfo(data.ORG_TIMEZONE)

# Where each team clocks in: indexes into data.PLACES (陆家嘴 HQ, 徐家汇 branch).
OFFICES: dict[str, tuple[int, ...]] = {
    "sales_pd": (0,),
    "sales_px": (1,),
    "service": (0, 1),
    "marketing": (0, 1),
}
OFFICE_SSIDS = ("YunTu-LJZ", "YunTu-XJH", "YunTu-WH")  # by data.PLACES index

LATE_RATE = (0.02, 0.15)  # each person's share of late mornings lies in this range
FORGOT_CLOCK_OUT = 0.03
POOR_FIX = 0.02  # of punches: a 300-800 m network fix instead of GPS
OFFICE_WIFI = 0.6  # of office punches that report the office's access points
NETWORK_FIX = 0.25  # of punches that also carry the phone's network fix
OFFLINE_VISIT = 0.05  # of visits made without a connection (in a basement, a lift shaft ...)
CLOCK_OUT_IN_FIELD = 0.05  # of clock_outs made at the last customer instead of the office
VISIT_NOTE = 0.4
STATUS_WEIGHT = {"active": 1.0, "lead": 0.6, "inactive": 0.1}

_NOTES_OF = {"sales_pd": "sales", "sales_px": "sales", "service": "service"}
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class _Spot:
    """A fence to punch at: an office (with its Wi-Fi) or a customer."""

    id: str
    lat: float
    lon: float
    radius_m: float
    bssids: tuple[str, ...] = ()
    ssid: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class _Phone:
    device_id: str
    key: ec.EllipticCurvePrivateKey
    skew: timedelta  # its wall clock minus the true time


@dataclass
class _Person:
    principal: Principal
    team: str
    office: _Spot
    customers: list[_Spot]
    phone: _Phone
    late_rate: float


@dataclass
class _Event:
    """One punch as it happens: kind, true time, where, what the phone sees."""

    kind: str
    at: datetime  # true local time
    spot: _Spot
    customer_id: str | None = None
    note: str = ""
    offline: bool = False
    tampered: bool = False


@dataclass(frozen=True)
class _Batch:
    """Punches one phone sends in one request, and when the request arrives."""

    received_at: datetime
    person: _Person
    raws: list[dict[str, Any]]


async def seed_history(
    session: AsyncSession,
    *,
    org_id: str,
    secret: str,
    days: int,
    rng: random.Random,
    team_ids: Mapping[str, str],
    staff: Mapping[str, Sequence[str]],
    places: Sequence[Place],
    customers: Sequence[Customer],
    now: datetime | None = None,
) -> int:
    """Punch the last `days` days (not today) for every staff member; returns punches stored.

    `places` are data.PLACES' rows in that order; `staff` and `team_ids` are by team key.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    today = (now or utcnow()).astimezone(TZ).date()
    workdays = [
        d for d in (today - timedelta(days=n) for n in range(days, 0, -1)) if d.weekday() < 5
    ]
    if not workdays or not any(staff.values()):
        return 0
    maker = _Maker(rng, secret, org_id, places, customers)
    people = await maker.people(session, team_ids, staff, workdays[0])
    new_phones, tampered = maker.odd_days(people, workdays)
    batches: list[_Batch] = []
    for person in people:
        for day in workdays:
            key = (person.principal.user_id or "", day)
            phone = new_phones.get(key, person.phone)
            batches += maker.day(person, day, phone, tamper=key == tampered)
    # Arrival order: each person's punches stay in order, and ids grow with time as they would.
    batches.sort(key=lambda b: b.received_at)
    intake = Intake(secret=secret, fences=FenceCache())
    stored = 0
    for batch in batches:
        results, rows = await punches.submit(
            session,
            intake,
            batch.person.principal,
            batch.raws,
            batch=True,
            received_at=batch.received_at,
        )
        if bad := [r for r in results if r.status != 201]:
            raise RuntimeError(f"a demo punch was refused: {bad[0].problem}")
        stored += len(rows)
    # History is not news: the live feed and webhooks should not replay weeks of punches.
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.org_id == org_id, OutboxEvent.published_at.is_(None))
        .values(published_at=OutboxEvent.created_at)
    )
    return stored


class _Maker:
    def __init__(
        self,
        rng: random.Random,
        secret: str,
        org_id: str,
        places: Sequence[Place],
        customers: Sequence[Customer],
    ) -> None:
        self.rng, self.secret, self.org_id = rng, secret, org_id
        self.offices = [
            _Spot(p.id, p.lat, p.lon, p.radius_m, tuple(p.wifi_bssids), OFFICE_SSIDS[i])
            for i, p in enumerate(places)
        ]
        self.customers: dict[str | None, list[_Spot]] = {}
        self.leads: list[_Spot] = []
        for c in customers:
            if c.lat is None or c.lon is None:
                continue
            spot = _Spot(c.id, c.lat, c.lon, c.radius_m, weight=STATUS_WEIGHT.get(c.status, 0.5))
            self.customers.setdefault(c.owner_id, []).append(spot)
            if c.status == "lead":
                self.leads.append(spot)

    # --- people and their phones -------------------------------------------------------------

    def _skew(self) -> timedelta:
        return timedelta(milliseconds=round(self.rng.gauss(0, 1500)))

    async def people(
        self,
        session: AsyncSession,
        team_ids: Mapping[str, str],
        staff: Mapping[str, Sequence[str]],
        first_day: date,
    ) -> list[_Person]:
        """Every staff member with an enrolled phone, an office and the customers they call on."""
        people: list[_Person] = []
        for team, user_ids in staff.items():
            for user_id in user_ids:
                p = Principal(
                    org_id=self.org_id,
                    user_id=user_id,
                    role=Role.staff,
                    team_id=team_ids[team],
                    scopes=ROLE_SCOPES[Role.staff],
                    visible_teams=frozenset(),
                )
                office = self.offices[self.rng.choice(OFFICES.get(team, (0,)))]
                # Marketing owns no customers: it calls on the leads.
                mine = self.customers.get(user_id) or (self.leads if team == "marketing" else [])
                platform: Platform = "android" if self.rng.random() < 0.7 else "ios"
                key, public = new_key()
                device, _ = await devices.enrol(
                    session,
                    p,
                    DeviceCreate(
                        public_key=public,
                        platform=platform,
                        label=self.rng.choice(data.PHONES[platform]),
                    ),
                )
                # Enrolled before the history starts, on a morning at the office.
                enrolled = datetime.combine(
                    first_day - timedelta(days=self.rng.randint(1, 10)),
                    time(8, 30),
                    TZ,
                ) + timedelta(minutes=self.rng.uniform(0, 60))
                device.created_at = device.updated_at = enrolled.astimezone(UTC)
                phone = _Phone(device.id, key, self._skew())
                people.append(
                    _Person(p, team, office, list(mine), phone, self.rng.uniform(*LATE_RATE))
                )
        return people

    def odd_days(
        self, people: list[_Person], workdays: list[date]
    ) -> tuple[dict[tuple[str, date], _Phone], tuple[str, date] | None]:
        """Who punches from a phone never enrolled on which day; whose punch is edited when."""
        chosen = self.rng.sample(people, min(len(people), 3))
        tampered = None
        if chosen:  # one person's clock_in is moved onto the office after the phone signed it
            tampered = (chosen[0].principal.user_id or "", self.rng.choice(workdays))
        new_phones: dict[tuple[str, date], _Phone] = {}
        for person in chosen[1 : 1 + self.rng.choice((1, 2))]:  # a new phone, not enrolled yet
            key, _ = new_key()
            device_id = "dev_01" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(24))
            day = self.rng.choice(workdays)
            new_phones[(person.principal.user_id or "", day)] = _Phone(device_id, key, self._skew())
        return new_phones, tampered

    # --- one person's day ----------------------------------------------------------------------

    def _at(self, day: date, hour: float) -> datetime:
        return datetime.combine(day, time(0), TZ) + timedelta(hours=hour)

    def _travel(self, a: _Spot, b: _Spot) -> timedelta:
        """Door to door in Shanghai traffic: ~20 km/h plus getting in and out."""
        km = math.hypot(*metres(a.lat, a.lon, b.lat, b.lon)) / 1000
        return timedelta(minutes=min(8 + km * 3 * self.rng.uniform(0.8, 1.3), 100))

    def _pick(self, pool: list[_Spot], n: int) -> list[_Spot]:
        pool = list(pool)
        picked: list[_Spot] = []
        while pool and len(picked) < n:
            spot = self.rng.choices(pool, weights=[s.weight for s in pool])[0]
            pool.remove(spot)
            picked.append(spot)
        return picked

    def _events(self, person: _Person, day: date, tamper: bool) -> list[_Event]:
        rng = self.rng
        # The demo's shift starts at 09:00 with 5 minutes' grace (rules.py).
        if rng.random() < person.late_rate:
            start = self._at(day, rng.uniform(9 + 6 / 60, 10 + 10 / 60))
        else:
            start = self._at(day, rng.triangular(8.5, 9 + 5 / 60, 8.9))
        events = [_Event("clock_in", start, person.office, tampered=tamper)]
        # Nearest first, starting from the office.
        todo = self._pick(person.customers, rng.choice((2, 3, 3, 4)))
        route: list[_Spot] = []
        here = person.office
        while todo:
            nxt = min(todo, key=lambda s: math.hypot(*metres(here.lat, here.lon, s.lat, s.lon)))
            todo.remove(nxt)
            route.append(nxt)
            here = nxt
        t = start + timedelta(minutes=rng.uniform(20, 60))  # the morning meeting
        here, lunch = person.office, False
        notes = data.NOTES[_NOTES_OF.get(person.team, person.team)]
        for spot in route:
            if not lunch and t.hour * 60 + t.minute >= 11 * 60 + 40:
                t += timedelta(minutes=rng.uniform(40, 70))
                lunch = True
            arrive = t + self._travel(here, spot)
            if arrive.hour * 60 + arrive.minute >= 17 * 60 + 15:
                break
            leave = arrive + timedelta(minutes=rng.uniform(20, 90))
            offline = rng.random() < OFFLINE_VISIT
            note = rng.choice(notes) if rng.random() < VISIT_NOTE else ""
            events.append(_Event("visit_in", arrive, spot, spot.id, offline=offline))
            events.append(_Event("visit_out", leave, spot, spot.id, note, offline=offline))
            t, here = leave, spot
        if rng.random() < FORGOT_CLOCK_OUT:
            return events
        target = self._at(day, rng.triangular(17.9, 19.5, 18.15))  # the shift ends at 18:00
        back = t + self._travel(here, person.office)
        if here is not person.office and (
            rng.random() < CLOCK_OUT_IN_FIELD or back > self._at(day, 19.0)
        ):
            end = max(target, t + timedelta(minutes=rng.uniform(3, 15)))
            events.append(_Event("clock_out", end, here))
        else:
            end = max(target, back + timedelta(minutes=rng.uniform(5, 20)))
            events.append(_Event("clock_out", end, person.office))
        return events

    def day(self, person: _Person, day: date, phone: _Phone, *, tamper: bool) -> list[_Batch]:
        """The day's punches, signed, in the requests that carry them: an online punch is sent
        as it is made, offline ones together once back in coverage."""
        events = self._events(person, day, tamper)
        user_id = person.principal.user_id or ""
        # The app fetches a time anchor when it opens; the phone's monotonic clock runs on.
        anchor = (events[0].at - timedelta(minutes=self.rng.uniform(2, 25))).astimezone(UTC)
        anchor = anchor.replace(microsecond=anchor.microsecond // 1000 * 1000)
        anchor_elapsed = self.rng.randrange(10 * 60_000, 5 * 86_400_000)  # uptime in ms
        proof = {
            "anchor_token": timeproof.make(self.secret, self.org_id, user_id, anchor),
            "anchor_server_time": stamp(anchor),
            "anchor_elapsed_ms": anchor_elapsed,
        }
        raws: list[dict[str, Any]] = []
        for ev in events:
            elapsed = round((ev.at - anchor).total_seconds() * 1000)
            body = self._punch(ev, phone)
            body["time_proof"] = proof | {"elapsed_ms": anchor_elapsed + elapsed}
            signed = sign(phone.key, body)
            if ev.tampered:  # moved onto the office after signing: the signature no longer holds
                office = person.office
                lat, lon = jitter(self.rng, office.lat, office.lon, 8.0)
                signed["location"] = signed["location"] | {
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                }
            raws.append(signed)
        batches: list[_Batch] = []
        held: list[dict[str, Any]] = []
        for i, (ev, raw) in enumerate(zip(events, raws, strict=True)):
            held.append(raw)
            if ev.offline and i + 1 < len(events):
                continue  # sent with the next punch, made once back in coverage
            # A few seconds after an online punch; once back in coverage after an offline one.
            delay = self.rng.uniform(10, 40) * 60 if ev.offline else self.rng.uniform(0.8, 6.0)
            at = (ev.at + timedelta(seconds=delay)).astimezone(UTC)
            if batches and at <= batches[-1].received_at:  # a late offline sync: keep the order
                at = batches[-1].received_at + timedelta(milliseconds=1)
            batches.append(_Batch(at, person, held))
            held = []
        return batches

    def _punch(self, ev: _Event, phone: _Phone) -> dict[str, Any]:
        rng = self.rng
        spot = ev.spot
        body: dict[str, Any] = {
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "kind": ev.kind,
            "captured_at": stamp(ev.at + phone.skew, TZ),
        }
        poor = rng.random() < POOR_FIX and not ev.tampered
        if ev.tampered:  # really at home, a few kilometres away, and late
            bearing = rng.uniform(0, 2 * math.pi)
            far = rng.uniform(2500, 5000)
            lat, lon = offset(spot.lat, spot.lon, far * math.sin(bearing), far * math.cos(bearing))
            accuracy, source = rng.uniform(8, 25), "gps"
        elif poor:
            accuracy = rng.uniform(300, 800)
            bearing, far = rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 1.0) * accuracy
            lat, lon = offset(spot.lat, spot.lon, far * math.sin(bearing), far * math.cos(bearing))
            source = "network"
        else:
            lat, lon = jitter(rng, spot.lat, spot.lon, min(spot.radius_m * 0.3, 15.0))
            accuracy, source = rng.uniform(5, 30), "gps"
        body["location"] = {
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "accuracy_m": round(accuracy, 1),
            "crs": "wgs84",
            "source": source,
        }
        if not poor and rng.random() < NETWORK_FIX:
            net = rng.uniform(30, 80)
            nlat, nlon = jitter(rng, lat, lon, net / 2)
            body["fixes"] = [
                {"lat": round(nlat, 6), "lon": round(nlon, 6), "accuracy_m": round(net, 1)}
            ]
        if spot.bssids and not (poor or ev.tampered) and rng.random() < OFFICE_WIFI:
            seen = rng.sample(spot.bssids, rng.randint(1, min(3, len(spot.bssids))))
            body["wifi"] = [
                {"bssid": b, "ssid": spot.ssid, "rssi": rng.randint(-80, -40)} for b in seen
            ]
        elif not spot.bssids and rng.random() < 0.25:  # the customer's own access points
            body["wifi"] = [
                {"bssid": _bssid(rng), "rssi": rng.randint(-90, -50)}
                for _ in range(rng.randint(1, 2))
            ]
        if ev.customer_id:
            body["customer_id"] = ev.customer_id
        if ev.note:
            body["note"] = ev.note
        if ev.offline:
            body["offline"] = True
        body["device_id"] = phone.device_id
        return body


# --- helpers -------------------------------------------------------------------------------------


def _bssid(rng: random.Random) -> str:
    """Some access point's MAC: unicast, so the first octet is even."""
    octets = [rng.randrange(0, 256, 2), *(rng.randrange(256) for _ in range(5))]
    return ":".join(f"{o:02x}" for o in octets)
