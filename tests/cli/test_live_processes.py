"""The live feed across processes: two `fieldpunch serve` on one PostgreSQL and one Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.server import sign_in, two_servers
from tests.services import postgres_database, redis_url

SECRET = "live-processes-secret-key-0123456789abcdef"
WAIT = 15.0  # seconds: bound for anything that must arrive
Msg = dict[str, Any]


def _punch() -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "clock_in",
        "captured_at": datetime.now(UTC).isoformat(),
        "location": {"lat": 31.2397, "lon": 121.4998, "accuracy_m": 12.0},
    }


def _until(ws: ClientConnection, want: Callable[[Msg], bool]) -> list[Msg]:
    """Every message (pings aside) up to the first `want` accepts; each read is bounded."""
    seen: list[Msg] = []
    while True:
        msg = json.loads(ws.recv(timeout=WAIT))
        if msg["type"] == "ping":
            continue
        seen.append(msg)
        if want(msg):
            return seen


def _punch_of(punch_id: str) -> Callable[[Msg], bool]:
    return lambda m: m["type"] == "punch.created" and m["data"]["id"] == punch_id


def _ws(base: str, token: str, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": token, **params}.items())
    return base.replace("http://", "ws://") + f"/api/v1/live?{query}"


def test_a_punch_sent_to_one_process_reaches_a_socket_on_the_other(tmp_path: Path) -> None:
    with (
        postgres_database() as url,
        two_servers(
            tmp_path,
            url,
            FIELDPUNCH_REDIS_URL=redis_url(),
            FIELDPUNCH_SECRET_KEY=SECRET,
            FIELDPUNCH_ACCESS_LOG="false",
        ) as (a, b, made),
    ):
        h = sign_in(a.base, "boss@acme.example.com", "s3cret-pass")
        admin = h["Authorization"].removeprefix("Bearer ")  # the live feed takes it as ?token=
        user = httpx.post(
            f"{a.base}/api/v1/users",
            headers=h,
            json={
                "email": "field@acme.example.com",
                "name": "Field",
                "role": "staff",
                "password": "field-pass-123",
            },
        )
        assert user.status_code == 201, user.text
        sh = sign_in(b.base, "field@acme.example.com", "field-pass-123")

        with connect(_ws(b.base, admin)) as on_b, connect(_ws(a.base, admin)) as on_a:
            assert json.loads(on_b.recv(timeout=WAIT))["type"] == "snapshot"
            assert json.loads(on_a.recv(timeout=WAIT))["type"] == "snapshot"
            # Sent to A: the socket on B gets it (and the one on A, each exactly once).
            first = httpx.post(f"{a.base}/api/v1/punches", headers=sh, json=_punch()).json()
            event = _until(on_b, _punch_of(first["id"]))[-1]
            assert event["data"] == first
            assert event["org_id"] == made["org_id"]
            # Sent to B: A's socket gets it; nothing twice on either.
            second = httpx.post(f"{b.base}/api/v1/punches", headers=sh, json=_punch()).json()
            for ws, expected in ((on_a, [first, second]), (on_b, [second])):
                got = _until(ws, _punch_of(second["id"]))
                created = [m["data"]["id"] for m in got if m["type"] == "punch.created"]
                assert created == [p["id"] for p in expected]
                assert len({m["seq"] for m in got}) == len(got)
            cursor = event["seq"]

        # Resume on A after what B delivered: the punch sent meanwhile (to B) is replayed.
        third = httpx.post(f"{b.base}/api/v1/punches", headers=sh, json=_punch()).json()
        with connect(_ws(a.base, admin, last_event_id=cursor)) as ws:
            snapshot = json.loads(ws.recv(timeout=WAIT))
            assert snapshot["type"] == "snapshot" and snapshot["resumed"] is True
            fourth = httpx.post(f"{b.base}/api/v1/punches", headers=sh, json=_punch()).json()
            got = _until(ws, _punch_of(fourth["id"]))
        punches = [
            (m["data"]["id"], m.get("replayed", False)) for m in got if m["type"] == "punch.created"
        ]
        assert punches == [
            (second["id"], True),
            (third["id"], True),
            (fourth["id"], False),
        ]

        # Bad credentials on either process: a close with 4401, not an HTTP error.
        with connect(_ws(b.base, "forged")) as ws:
            try:
                ws.recv(timeout=WAIT)
                raise AssertionError("the server should have closed the socket")
            except ConnectionClosed:
                pass
            assert ws.close_code == 4401
        for served in (a, b):
            assert "Traceback" not in served.log_text()
