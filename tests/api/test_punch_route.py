"""POST /punches answers the same through its own route as through FastAPI's route.

Two apps on one database: one as served (punches/asgi_route.py, a Starlette route mounted first
in the router), one with POST /punches left to the FastAPI route that documents it. Every
request goes to both.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from fieldpunch.app import create_app
from fieldpunch.config import Settings
from fieldpunch.punches import asgi_route
from tests.factories import Api, OrgKit
from tests.keys import new_p256
from tests.punching import punch, sign

PATH = "/api/v1/punches"


@pytest.fixture
async def apps(settings: Settings) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    fast, plain = create_app(settings), create_app(settings, asgi_punch_route=False)
    async with fast.router.lifespan_context(fast), plain.router.lifespan_context(plain):
        yield fast, plain


@pytest.fixture
async def pair(
    apps: tuple[FastAPI, FastAPI],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    fast, plain = apps
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url="http://t") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://t") as b,
    ):
        yield a, b


def _answer(r: httpx.Response) -> tuple[int, str, Any, str | None]:
    body = r.json() if r.content else None
    return r.status_code, r.headers["content-type"], body, r.headers.get("www-authenticate")


@pytest.fixture(autouse=True)
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the requests the plain ASGI route answered itself (not FastAPI behind it)."""
    calls: list[str] = []
    inner = asgi_route._punch

    async def counted(request: Any) -> Any:
        calls.append(request.url.path)
        return await inner(request)

    monkeypatch.setattr(asgi_route, "_punch", counted)
    return calls


async def _both(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
    calls: list[str],
    *,
    guarded: bool = False,
    **request: Any,
) -> tuple[int, str, Any, str | None]:
    """The answers of both apps, which must be the same; `guarded`: refused in front of both
    routes (kit/bodyguard.py), so the plain ASGI route is not reached either."""
    fast, plain = pair
    seen = len(calls)
    a = await fast.post(PATH, **request)
    assert len(calls) == seen + (0 if guarded else 1), "the plain ASGI route did not answer"
    b = await plain.post(PATH, **request)
    assert len(calls) == seen + (0 if guarded else 1), "the app without it still used it"
    assert "x-request-id" in a.headers and "x-request-id" in b.headers
    assert _answer(a) == _answer(b), request
    return _answer(a)


async def test_refusals_are_the_same(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], org: OrgKit, served: list[str]
) -> None:
    fast, _ = pair
    staff = Api(fast, (await org.person("staff")).token)
    bearer = {"Authorization": f"Bearer {staff.token}"}
    key = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "ERP", "scopes": ["punches:write"]}
    )
    reader = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "BI", "scopes": ["punches:read"]}
    )
    good = punch()
    json_type = {"Content-Type": "application/json"}
    # A body is read only for a genuine bearer token (kit/bodyguard.py, in front of both routes).
    for request in (
        {"json": good},
        {"json": good, "headers": {"Authorization": f"Basic {staff.token}"}},
        {"json": good, "headers": {"Authorization": "Bearer nonsense"}},
        {"json": good, "headers": {"Authorization": "Bearer fpk_nonsense.nonsense"}},
        {"content": b'{"kind": ', "headers": json_type},
    ):
        got, content_type, body, challenge = await _both(pair, served, guarded=True, **request)
        assert (got, content_type, challenge) == (401, "application/problem+json", "Bearer")
        assert body["status"] == 401 and body["detail"], body
    cases: list[tuple[int, dict[str, Any]]] = [
        (401, {"content": b"", "headers": {"Authorization": "Bearer nonsense"}}),  # no body
        (403, {"json": good, "headers": {"Authorization": f"Bearer {reader['key']}"}}),
        (403, {"json": good, "headers": {"Authorization": f"Bearer {key['key']}"}}),
        (422, {"content": b'{"kind": ', "headers": {**json_type, **bearer}}),
        (400, {"content": b'{"k": "\xff"}', "headers": {**json_type, **bearer}}),
        (422, {"content": b"", "headers": bearer}),
        (422, {"content": b"{}", "headers": {"Content-Type": "text/plain", **bearer}}),
        (422, {"content": b"{}", "headers": bearer}),  # no content type: not read as JSON
        (422, {"json": {"kind": "clock_in"}, "headers": bearer}),
        (422, {"json": [good], "headers": bearer}),
        (422, {"json": good | {"location": {"lat": 91}}, "headers": bearer}),
        (422, {"json": good, "headers": bearer, "params": {"crs": "mars"}}),
        (422, {"json": {"kind": 1}, "headers": bearer, "params": {"crs": "mars"}}),
        (422, {"json": punch(kind="visit_in", customer_id="cus_nope"), "headers": bearer}),
        (
            422,
            {
                "content": b'{"a": 1}',
                "headers": {"Content-Type": "application/vnd.x+json; charset=utf-8", **bearer},
            },
        ),
    ]
    for status, request in cases:
        got, content_type, body, _ = await _both(pair, served, **request)
        assert got == status, (request, body)
        assert content_type == "application/problem+json", request
        assert body["status"] == status and body["detail"], body
    # The one with broken JSON names where it broke; the one with a bad crs names both.
    _, _, body, _ = await _both(pair, served, **cases[3][1])
    assert body["errors"][0]["loc"] == ["body", 9]
    _, _, body, _ = await _both(pair, served, **cases[12][1])
    assert ["query", "crs"] in [e["loc"] for e in body["errors"]]
    assert any(e["loc"][0] == "body" for e in body["errors"])


async def test_punches_replays_and_conflicts_are_the_same(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], org: OrgKit, served: list[str]
) -> None:
    fast, plain = pair
    staff = await org.person("staff")
    private, public = new_p256()
    device = await staff.ok(
        "post", "/devices", 201, json={"public_key": public, "platform": "android"}
    )
    bearer = {"Authorization": f"Bearer {staff.token}"}
    for first, second in ((fast, plain), (plain, fast)):
        body = sign(private, punch(), device["id"])
        made = await first.post(PATH, json=body, headers=bearer, params={"crs": "gcj02"})
        assert made.status_code == 201 and made.headers["content-type"] == "application/json"
        answer = made.json()
        assert answer["location"]["crs"] == "gcj02" and answer["client_id"] == body["client_id"]
        assert answer["signature_ok"] is True and answer["device_id"] == device["id"]
        # Sent again through the other route: the stored punch, byte for byte the same JSON.
        again = await second.post(PATH, json=body, headers=bearer, params={"crs": "gcj02"})
        assert again.status_code == 200 and again.json() == answer
        # The same client_id with other content: 409 from both.
        other = body | {"kind": "clock_out"}
        assert (await _both(pair, served, json=other, headers=bearer))[0] == 409
        listed = await staff.ok("get", f"/punches/{answer['id']}", params={"crs": "gcj02"})
        assert listed["id"] == answer["id"] and listed["location"] == answer["location"]


async def test_nesting_too_deep_is_400_on_both(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
    org: OrgKit,
    served: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """100,000 levels of arrays: the JSON reader's RecursionError is the client's fault (400, as
    FastAPI answers it), not a 500 with a traceback."""
    fast, _ = pair
    staff = Api(fast, (await org.person("staff")).token)
    json_type = {"Content-Type": "application/json", "Authorization": f"Bearer {staff.token}"}
    deep = b"[" * 100_000 + b"]" * 100_000
    for content in (deep, b'{"client_id": ' + deep + b"}"):
        got, content_type, body, _ = await _both(pair, served, content=content, headers=json_type)
        assert (got, content_type) == (400, "application/problem+json"), body
    # Without a token the body is not even read.
    got, _, _, _ = await _both(pair, served, guarded=True, content=deep)
    assert got == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def _leaving(app: FastAPI, token: str) -> list[Message]:
    """What `app` sends to a client that leaves after part of its punch's body."""
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"client_id": "abc', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [
        (b"host", b"t"),
        (b"content-type", b"application/json"),
        (b"content-length", b"300"),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("t", 80),
    }
    await app(scope, receive, send)
    return sent


async def test_a_client_that_leaves_mid_body_is_no_server_error(
    apps: tuple[FastAPI, FastAPI],
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
    org: OrgKit,
    served: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fast_client, _ = pair
    staff = Api(fast_client, (await org.person("staff")).token)
    with caplog.at_level(logging.INFO):
        for app in apps:
            sent = await _leaving(app, staff.token)
            statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
            assert statuses == [400], sent  # nobody reads it; the access log says 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("left" in r.getMessage() for r in caplog.records)
    assert served == []  # left before the punch route was reached
