"""POST /punches answers the same through the plain ASGI route as through FastAPI's route.

Two apps on one database: one as served (punches/asgi_route.py in front), one with POST
/punches left to the FastAPI route that documents it. Every request goes to both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fieldpunch.app import create_app
from fieldpunch.config import Settings
from fieldpunch.punches import asgi_route
from tests.factories import Api, OrgKit
from tests.keys import new_p256
from tests.punching import punch, sign

PATH = "/api/v1/punches"


@pytest.fixture
async def pair(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    fast, plain = create_app(settings), create_app(settings, asgi_punch_route=False)
    async with (
        fast.router.lifespan_context(fast),
        plain.router.lifespan_context(plain),
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
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], calls: list[str], **request: Any
) -> tuple[int, str, Any, str | None]:
    fast, plain = pair
    seen = len(calls)
    a = await fast.post(PATH, **request)
    assert len(calls) == seen + 1, "the plain ASGI route did not answer"
    b = await plain.post(PATH, **request)
    assert len(calls) == seen + 1, "the app without it still used it"
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
    cases: list[tuple[int, dict[str, Any]]] = [
        (401, {"json": good}),
        (401, {"json": good, "headers": {"Authorization": f"Basic {staff.token}"}}),
        (401, {"json": good, "headers": {"Authorization": "Bearer nonsense"}}),
        (403, {"json": good, "headers": {"Authorization": f"Bearer {reader['key']}"}}),
        (403, {"json": good, "headers": {"Authorization": f"Bearer {key['key']}"}}),
        # The body is read first: broken JSON is 422 before the caller is known.
        (422, {"content": b'{"kind": ', "headers": {"Content-Type": "application/json"}}),
        (400, {"content": b'{"k": "\xff"}', "headers": {"Content-Type": "application/json"}}),
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
    _, _, body, _ = await _both(pair, served, **cases[5][1])
    assert body["errors"][0]["loc"] == ["body", 9]
    _, _, body, _ = await _both(pair, served, **cases[14][1])
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
