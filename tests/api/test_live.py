"""`WS /api/v1/live` against a real uvicorn server in the test's event loop.

Every test runs on SQLite and PostgreSQL, each with the in-process hub and with the Redis hub.
Absence ("staff never sees the other team's punch", "nothing twice") is shown with a fence: a
later event that must arrive, so whatever should not have come would have come before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy import insert, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from fieldpunch.auth import tokens
from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs import relay as relay_module
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.jobs.outbox import event_row
from fieldpunch.jobs.relay import Relay
from fieldpunch.kit.clock import utcnow
from fieldpunch.live.hub import OVERFLOW, Hub, LiveEvent
from fieldpunch.orgs.service import create_org
from tests.conftest import TEST_SECRET
from tests.factories import Api, OrgKit, unique_email
from tests.punching import punch
from tests.services import redis_url

WAIT = 10.0  # seconds: generous bound for anything that must arrive
Msg = dict[str, Any]


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Settings:
    """The conftest settings, with the hub under test and a quick keepalive."""
    return load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        access_log=False,
        redis_url=redis_url() if request.param == "redis" else None,
        live_ping_s=0.5,
        live_recheck_s=0.1,
    )


@pytest.fixture
async def live_url(app: Any) -> AsyncIterator[str]:
    """Serve the test's app (lifespan already running) over real sockets, in this loop."""
    # Listening before uvicorn starts: early connections wait in the backlog, no polling.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_config=None, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"ws://127.0.0.1:{port}/api/v1/live"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _recv(ws: ClientConnection) -> Msg:
    """The next message that is not a keepalive ping."""
    while True:
        msg: Msg = orjson.loads(await ws.recv())
        if msg["type"] != "ping":
            return msg


async def _until(ws: ClientConnection, want: Callable[[Msg], bool]) -> list[Msg]:
    """Every delta up to and including the first `want` accepts (bounded by WAIT)."""
    seen: list[Msg] = []
    async with asyncio.timeout(WAIT):
        while True:
            seen.append(msg := await _recv(ws))
            if want(msg):
                return seen


def _punch_of(punch_id: str) -> Callable[[Msg], bool]:
    return lambda m: m["type"] == "punch.created" and m["data"]["id"] == punch_id


@contextlib.asynccontextmanager
async def _feed(url: str, who: Api, **params: Any) -> AsyncIterator[tuple[ClientConnection, Msg]]:
    query = "&".join(f"{k}={v}" for k, v in {"token": who.token, **params}.items())
    async with connect(f"{url}?{query}") as ws:
        snapshot = await asyncio.wait_for(_recv(ws), WAIT)
        assert snapshot["type"] == "snapshot", snapshot
        yield ws, snapshot


async def _closed(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(WAIT):
            while True:
                await ws.recv()
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


async def _teams(org: OrgKit) -> dict[str, Api]:
    """North (with sub-team North-1) managed by `manager`; South with its own staff."""
    north = await org.team("North")
    north_1 = await org.team("North-1", parent_id=north)
    south = await org.team("South")
    return {
        "manager": await org.person("manager", team_id=north, managed_team_ids=[north]),
        "north": await org.person("staff", team_id=north_1),
        "south": await org.person("staff", team_id=south),
    }


async def test_snapshot_is_scoped(live_url: str, org: OrgKit, other_org: OrgKit) -> None:
    people = await _teams(org)
    north, south, manager = people["north"], people["south"], people["manager"]
    mine = await north.ok("post", "/punches", 201, json=punch())
    flagged = await north.ok("post", "/punches", 201, json=_mock_location())
    await south.ok("post", "/punches", 201, json=punch())

    async with _feed(live_url, org.admin) as (_, snap):
        users = {u["user_id"]: u for u in snap["users"]}
        assert set(users) == {org.admin.user_id, *(p.user_id for p in people.values())}
        assert snap["org_id"] == org.org_id and snap["last_event_id"] > 0
        assert users[north.user_id]["latest_punch"] == flagged  # the later of the two
        assert users[north.user_id]["open_anomalies"] == len(
            mine["anomalies"] + flagged["anomalies"]
        )
        assert "mock_location" in {a["rule"] for a in flagged["anomalies"]}
        assert users[manager.user_id]["latest_punch"] is None
    async with _feed(live_url, manager) as (_, snap):  # their team and its sub-team, themselves
        assert {u["user_id"] for u in snap["users"]} == {manager.user_id, north.user_id}
    async with _feed(live_url, north) as (_, snap):  # staff: only themselves
        assert [u["user_id"] for u in snap["users"]] == [north.user_id]
        assert snap["users"][0]["open_anomalies"] > 0
    async with _feed(live_url, other_org.admin) as (_, snap):  # another org: none of these
        assert [u["user_id"] for u in snap["users"]] == [other_org.admin.user_id]


def _mock_location() -> dict[str, Any]:
    body = punch()
    body["location"]["mock"] = True
    return body


async def test_punches_arrive_as_deltas_within_scope(
    live_url: str, org: OrgKit, other_org: OrgKit
) -> None:
    people = await _teams(org)
    north, south, manager = people["north"], people["south"], people["manager"]
    rival = await other_org.person("staff")
    async with (
        _feed(live_url, manager) as (m_ws, _),
        _feed(live_url, north) as (n_ws, _),
        _feed(live_url, other_org.admin) as (o_ws, _),
        _feed(live_url, org.admin) as (a_ws, _),
    ):
        hidden = await south.ok("post", "/punches", 201, json=punch())
        seen = await north.ok("post", "/punches", 201, json=_mock_location())
        fence = await rival.ok("post", "/punches", 201, json=punch())

        got = await _until(m_ws, _punch_of(seen["id"]))
        event = got[-1]
        assert set(event) >= {"type", "id", "org_id", "at", "data", "seq"}
        assert event["id"].startswith("evt_") and event["org_id"] == org.org_id
        assert isinstance(event["seq"], int) and event["data"] == seen
        assert all(m.get("data", {}).get("id") != hidden["id"] for m in got)  # South: not theirs
        # The anomaly of that punch follows (same transaction, later seq).
        anomaly = (await _until(m_ws, lambda m: m["type"] == "anomaly.created"))[-1]
        assert anomaly["data"]["punch_id"] == seen["id"] and anomaly["seq"] > event["seq"]

        staff_view = await _until(n_ws, _punch_of(seen["id"]))
        assert [m["data"]["id"] for m in staff_view if m["type"] == "punch.created"] == [seen["id"]]
        # The other org's admin gets their own punch and nothing of this org before it.
        other = await _until(o_ws, _punch_of(fence["id"]))
        assert all(m["org_id"] == other_org.org_id for m in other)
        admin = await _until(a_ws, _punch_of(seen["id"]))
        assert [m["data"]["id"] for m in admin if m["type"] == "punch.created"] == [
            hidden["id"],
            seen["id"],
        ]


async def test_reconnect_with_last_event_id_misses_nothing_and_repeats_nothing(
    live_url: str, org: OrgKit
) -> None:
    staff = await org.person("staff")
    async with _feed(live_url, org.admin) as (ws, _):
        first = await staff.ok("post", "/punches", 201, json=punch())
        cursor = (await _until(ws, _punch_of(first["id"])))[-1]["seq"]
    missed = [(await staff.ok("post", "/punches", 201, json=punch()))["id"] for _ in range(3)]

    async with _feed(live_url, org.admin, last_event_id=cursor) as (ws, snap):
        assert snap["resumed"] is True and snap["last_event_id"] > cursor
        later = await staff.ok("post", "/punches", 201, json=punch())
        got = await _until(ws, _punch_of(later["id"]))
    punches = [m for m in got if m["type"] == "punch.created"]
    assert [m["data"]["id"] for m in punches] == [*missed, later["id"]]
    assert [m.get("replayed", False) for m in punches] == [True, True, True, False]
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(set(seqs)) and seqs[0] > cursor
    # The snapshot already reflects what was replayed.
    assert {u["user_id"]: u for u in snap["users"]}[staff.user_id]["latest_punch"]["id"] in missed


async def test_resume_during_a_stream_of_punches_is_exact(live_url: str, org: OrgKit) -> None:
    """Drop the socket while punches keep coming: across both sockets each arrives once."""
    staff = await org.person("staff")
    total = 24
    posted: list[str] = []

    async def keep_punching() -> None:
        for _ in range(total):
            posted.append((await staff.ok("post", "/punches", 201, json=punch()))["id"])

    delivered: list[Msg] = []
    writer = None
    try:
        async with _feed(live_url, org.admin) as (ws, _):
            writer = asyncio.create_task(keep_punching())
            delivered += await _until(ws, lambda m: m["type"] == "punch.created")
            delivered += await _until(ws, lambda m: m["type"] == "punch.created")
        cursor = delivered[-1]["seq"]
        # Reconnect by the auth message this time (also a way to pass last_event_id).
        async with connect(live_url) as ws:
            auth = {"type": "auth", "token": org.admin.token, "last_event_id": cursor}
            await ws.send(orjson.dumps(auth).decode())
            snapshot = await asyncio.wait_for(_recv(ws), WAIT)
            assert snapshot["resumed"] is True
            await writer
            delivered += await _until(ws, _punch_of(posted[-1]))
    finally:
        if writer is not None:
            await writer
    ids = [m["data"]["id"] for m in delivered if m["type"] == "punch.created"]
    assert ids == posted  # every punch, once, in order
    seqs = [m["seq"] for m in delivered]
    assert len(seqs) == len(set(seqs))


async def test_bad_credentials_close_with_4401(
    live_url: str, org: OrgKit, settings: Settings
) -> None:
    async with connect(f"{live_url}?token=not-a-token") as ws:
        assert await _closed(ws) == (4401, "invalid or expired access token")
    async with connect(live_url) as ws:
        await ws.send('{"type": "auth", "token": "fpk_nope.nope"}')
        assert await _closed(ws) == (4401, "invalid or revoked API key")
    async with connect(live_url) as ws:
        await ws.send("hello")
        code, reason = await _closed(ws)
        assert code == 4400 and "JSON" in reason
    async with connect(f"{live_url}?token={org.admin.token}&last_event_id=-3") as ws:
        assert (await _closed(ws))[0] == 4400
    expired = tokens.issue(
        settings.signing_key,
        tokens.TokenClaims(str(org.admin.user_id), org.org_id, "access", 1),
        -10,
    )
    async with connect(f"{live_url}?token={expired}") as ws:
        assert (await _closed(ws))[0] == 4401
    # A token that expires while connected ends the feed, with the same code. A busy machine
    # may take longer than the token's life to open the feed: then a longer-lived one is tried.
    for seconds in (1, 3, 9):
        brief = tokens.issue(
            settings.signing_key,
            tokens.TokenClaims(str(org.admin.user_id), org.org_id, "access", 1),
            seconds,
        )
        async with connect(f"{live_url}?token={brief}") as ws:
            with contextlib.suppress(ConnectionClosed):
                first = await asyncio.wait_for(_recv(ws), WAIT)
                assert first["type"] == "snapshot", first
                code, reason = await _closed(ws)
                assert code == 4401 and "expired" in reason
                break
    else:
        pytest.fail("the feed never opened before its token expired")


async def test_a_feed_ends_when_its_callers_access_is_revoked_or_changed(
    live_url: str, org: OrgKit
) -> None:
    people = await _teams(org)
    manager, north = people["manager"], people["north"]
    south = await org.team("Elsewhere")
    # Rights changed (other managed teams): the feed ends and asks to connect again.
    async with _feed(live_url, manager) as (ws, _):
        await org.admin.ok("patch", f"/users/{manager.user_id}", json={"managed_team_ids": [south]})
        code, reason = await _closed(ws)
        assert code == 4409 and "connect again" in reason
    # Deactivated: the same token may not watch any more.
    async with _feed(live_url, manager) as (ws, _):
        await org.admin.ok("patch", f"/users/{manager.user_id}", json={"active": False})
        assert (await _closed(ws))[0] == 4401
    key = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "k", "scopes": ["punches:read"]}
    )
    async with _feed(live_url, Api(org.client, key["key"])) as (ws, _):
        await org.admin.ok("delete", f"/api-keys/{key['id']}", 204)
        assert (await _closed(ws))[0] == 4401
    # Unchanged rights: the feed goes on across many rechecks and still delivers.
    async with _feed(live_url, org.admin) as (ws, _):
        # The first ping (0.5 s) comes after several rechecks (every 0.1 s).
        assert orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "ping"
        made = await north.ok("post", "/punches", 201, json=punch())
        await _until(ws, _punch_of(made["id"]))


async def test_api_keys_need_punches_read_and_then_see_the_org(live_url: str, org: OrgKit) -> None:
    staff = await org.person("staff")
    blind = await org.admin.ok("post", "/api-keys", 201, json={"name": "b", "scopes": ["org:read"]})
    async with connect(f"{live_url}?token={blind['key']}") as ws:
        code, reason = await _closed(ws)
        assert code == 4403 and "punches:read" in reason
    reader = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "r", "scopes": ["punches:read"]}
    )
    async with _feed(live_url, Api(org.client, reader["key"])) as (ws, snap):
        assert staff.user_id in {u["user_id"] for u in snap["users"]}
        made = await staff.ok("post", "/punches", 201, json=_mock_location())
        fence = await staff.ok("post", "/punches", 201, json=punch())
        got = await _until(ws, _punch_of(fence["id"]))
    # Punches, but not the anomaly events: those need anomalies:read.
    punches = [m["data"]["id"] for m in got if m["type"] == "punch.created"]
    assert punches == [made["id"], fence["id"]]
    assert not [m for m in got if m["type"].startswith("anomaly.")]


async def test_keepalive_ping(live_url: str, org: OrgKit) -> None:
    async with _feed(live_url, org.admin) as (ws, _):
        msg = orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert msg["type"] == "ping" and msg["at"]


async def test_lost_redis_connection_closes_feeds_and_they_resume(
    live_url: str, org: OrgKit, settings: Settings, app: Any
) -> None:
    if settings.redis_url is None:
        pytest.skip("the in-process hub has no connection to lose")
    staff = await org.person("staff")
    async with _feed(live_url, org.admin) as (ws, _):
        before = await staff.ok("post", "/punches", 201, json=punch())
        cursor = (await _until(ws, _punch_of(before["id"])))[-1]["seq"]
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        try:
            ids = [
                c["id"]
                for c in await redis.client_list()
                if c.get("name") == app.state.hub.listener_name
            ]
            assert len(ids) == 1
            await redis.client_kill_filter(_id=ids[0])
        finally:
            await redis.aclose()
        assert (await _closed(ws))[0] == 1012
    during = await staff.ok("post", "/punches", 201, json=punch())
    # The listener reconnects on its own (a feed opened meanwhile waits for it).
    async with _feed(live_url, org.admin, last_event_id=cursor) as (ws, snap):
        assert snap["resumed"] is True
        after = await staff.ok("post", "/punches", 201, json=punch())
        got = await _until(ws, _punch_of(after["id"]))
    assert [m["data"]["id"] for m in got if m["type"] == "punch.created"] == [
        during["id"],
        after["id"],
    ]


# The hub and the relay on their own.


def _event(
    seq: int, org_id: str = "org_a", user: str | None = "usr_1", team: str | None = None
) -> LiveEvent:
    payload = {"type": "punch.created", "id": f"evt_{seq}", "org_id": org_id, "at": "", "data": {}}
    return LiveEvent(payload, seq, user, team)


async def test_hub_cuts_a_slow_subscriber_and_drops_repeats() -> None:
    hub = Hub(queue_size=2)
    slow = hub.subscribe("org_a")
    picky = hub.subscribe("org_a", lambda e: e.subject_user_id == "usr_2")
    everyone = hub.subscribe()
    await hub.publish([_event(1), _event(2), _event(2), _event(3, user="usr_2")])
    assert slow.get_nowait() is OVERFLOW and slow.empty()  # not silently dropping the oldest
    assert picky.get_nowait().seq == 3 and picky.empty()
    assert everyone.get_nowait() is OVERFLOW  # 1, 2 and then 3 does not fit
    assert hub.high_water == 3
    await hub.publish([_event(4, org_id="org_b")])
    assert slow.empty() and picky.empty()


async def test_hub_offers_keyed_subscribers_only_their_events() -> None:
    hub = Hub()
    team = hub.subscribe("org_a", keys={"t:north", "u:usr_m"})
    whole = hub.subscribe("org_a")
    await hub.publish(
        [
            _event(1, user="usr_1", team="south"),
            _event(2, user="usr_2", team="north"),
            _event(3, user="usr_m", team="north"),  # their own, in their team: once
            _event(4, user=None),
        ]
    )
    assert [team.get_nowait().seq for _ in range(team.qsize())] == [2, 3]
    assert [whole.get_nowait().seq for _ in range(whole.qsize())] == [1, 2, 3, 4]
    hub.unsubscribe(team)
    await hub.publish([_event(5, user="usr_2", team="north")])
    assert team.empty() and whole.get_nowait().seq == 5


async def test_relay_publishes_in_id_order_across_a_late_commit(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are taken at INSERT, visible at COMMIT: a later id committed first must wait."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite writers are serial: ids commit in order")
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            made = await create_org(
                session,
                name="Relay",
                admin_email=unique_email("relay"),
                admin_password="correct-horse-battery",
                timezone="Asia/Shanghai",
            )
        hub = Hub()
        seen = hub.subscribe(made.org_id)
        relay = Relay(db, hub, gap_grace_s=WAIT)
        await relay.drain()  # whatever earlier tests left
        row = event_row(made.org_id, "punch.created", {}, utcnow(), made.admin_user_id)
        async with db.session() as slow:
            await slow.execute(insert(OutboxEvent), [row])  # takes id n, not committed
            async with db.transaction() as fast:
                later = event_row(made.org_id, "punch.created", {}, utcnow(), None)
                await fast.execute(insert(OutboxEvent), [later])  # n + 1, committed
            assert await relay.drain() == 0 and seen.empty()  # held back at the hole
            await slow.commit()
        assert await relay.drain() == 2
        got = [seen.get_nowait(), seen.get_nowait()]
        assert [e["id"] for e in got] == [row["event_id"], later["event_id"]]
        assert got[0].seq < got[1].seq and got[0].subject_user_id == made.admin_user_id
        # A hole that never fills (a rollback) is skipped once the grace has passed since it
        # was first seen (a clock of our own: the relay looks again at every kick and sweep).
        clock = [1_000.0]
        monkeypatch.setattr(relay_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
        async with db.session() as gone:
            await gone.execute(
                insert(OutboxEvent), [event_row(made.org_id, "x", {}, utcnow(), None)]
            )
            async with db.transaction() as fast:
                last = event_row(made.org_id, "punch.created", {}, utcnow(), None)
                await fast.execute(insert(OutboxEvent), [last])
            await gone.rollback()
        for _ in range(2):
            assert await relay.drain() == 0 and seen.empty()  # it may yet commit
            clock[0] += WAIT * 0.6
        assert await relay.drain() == 1 and seen.get_nowait()["id"] == last["event_id"]
        async with db.transaction() as session:
            ids = (
                await session.execute(
                    select(OutboxEvent.id).where(
                        OutboxEvent.org_id == made.org_id, OutboxEvent.published_at.is_(None)
                    )
                )
            ).all()
        assert ids == []
    finally:
        await db.dispose()
