"""The field app's static serving: hashed assets cached for good, the shell always revalidated."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fieldpunch.web import apidocs, static


def _dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "icons").mkdir()
    (dist / "index.html").write_text("<!doctype html><title>shell</title>")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (dist / "manifest.webmanifest").write_text('{"name": "x"}')
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "icons" / "icon-192.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "secret.txt").write_text("outside")
    return dist


async def _client(dist: Path) -> httpx.AsyncClient:
    app = FastAPI()
    static.mount(app, dist)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_assets_are_immutable_and_the_shell_revalidates(tmp_path: Path) -> None:
    async with await _client(_dist(tmp_path)) as c:
        asset = await c.get("/app/assets/index-abc123.js")
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-type"].startswith("text/javascript")
        for path in ("/app/", "/app/index.html", "/app/sw.js", "/app/manifest.webmanifest"):
            r = await c.get(path)
            assert r.status_code == 200, path
            assert r.headers["cache-control"] == "no-cache", path
        shell = await c.get("/app/")
        assert "shell" in shell.text
        assert "default-src 'self'" in shell.headers["content-security-policy"]
        assert (await c.get("/app/sw.js")).headers["service-worker-allowed"] == "/app/"
        manifest = await c.get("/app/manifest.webmanifest")
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        assert (await c.get("/app", follow_redirects=False)).headers["location"] == "/app/"


async def test_client_routes_fall_back_to_the_shell_and_files_do_not(tmp_path: Path) -> None:
    async with await _client(_dist(tmp_path)) as c:
        for route in ("/app/login", "/app/customers/cus_123", "/app/me"):
            r = await c.get(route)
            assert r.status_code == 200 and "shell" in r.text, route
            assert r.headers["cache-control"] == "no-cache"
        assert (await c.get("/app/assets/missing-123.js")).status_code == 404
        assert (await c.get("/app/icons/nope.png")).status_code == 404


async def test_conditional_requests_answer_304(tmp_path: Path) -> None:
    async with await _client(_dist(tmp_path)) as c:
        first = await c.get("/app/assets/index-abc123.js")
        again = await c.get(
            "/app/assets/index-abc123.js", headers={"If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "path", ["/app/../secret.txt", "/app/%2e%2e/secret.txt", "/app/assets/../../secret.txt"]
)
async def test_nothing_outside_the_build_is_served(tmp_path: Path, path: str) -> None:
    async with await _client(_dist(tmp_path)) as c:
        r = await c.get(path)
        assert "outside" not in r.text


async def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    async with await _client(tmp_path / "nothing") as c:
        r = await c.get("/app/")
        assert r.status_code == 503
        assert "make web" in r.text


def _docs_app(dist: Path) -> httpx.AsyncClient:
    app = FastAPI(docs_url=None, redoc_url=None)
    apidocs.mount(app, dist)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_api_docs_use_the_built_swagger_ui_not_a_cdn(tmp_path: Path) -> None:
    dist = _dist(tmp_path)
    (dist / "docs").mkdir()
    (dist / "docs" / "swagger-ui-bundle.js").write_text("/* swagger */")
    async with _docs_app(dist) as c:
        page = (await c.get("/docs")).text
    assert "/app/docs/swagger-ui-bundle.js" in page and "/app/docs/swagger-ui.css" in page
    assert "cdn." not in page and "/openapi.json" in page


async def test_api_docs_without_a_build_fall_back_to_the_cdn(tmp_path: Path) -> None:
    async with _docs_app(_dist(tmp_path)) as c:
        page = (await c.get("/docs")).text
    assert "cdn.jsdelivr.net" in page


def _precompressed(dist: Path) -> bytes:
    """A built asset with its `.br` and `.gz` siblings, as `make web` writes them."""
    import gzip

    raw = b"console.log('fieldpunch');" * 200
    asset = dist / "assets" / "index-abc123.js"
    asset.write_bytes(raw)
    asset.with_name(asset.name + ".gz").write_bytes(gzip.compress(raw))
    asset.with_name(asset.name + ".br").write_bytes(b"BROTLI-BYTES")  # served as stored
    (dist / "index.html.gz").write_bytes(gzip.compress((dist / "index.html").read_bytes()))
    return raw


async def test_precompressed_files_are_negotiated_by_accept_encoding(tmp_path: Path) -> None:
    dist = _dist(tmp_path)
    raw = _precompressed(dist)
    path = "/app/assets/index-abc123.js"
    async with await _client(dist) as c:
        br = await c.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert br.headers["content-encoding"] == "br"
        assert br.headers["vary"] == "Accept-Encoding"
        assert br.headers["content-type"].startswith("text/javascript")
        assert br.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert br.content == b"BROTLI-BYTES"  # httpx cannot decode brotli here: the raw bytes

        gz = await c.get(path, headers={"Accept-Encoding": "gzip"})
        assert gz.headers["content-encoding"] == "gzip"
        assert gz.content == raw  # httpx decoded it
        assert gz.headers["etag"] != br.headers["etag"]  # each variant its own validator

        plain = await c.get(path, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.headers["vary"] == "Accept-Encoding" and plain.content == raw

        refused = await c.get(path, headers={"Accept-Encoding": "br;q=0, gzip;q=0.5"})
        assert refused.headers["content-encoding"] == "gzip"

        shell = await c.get("/app/", headers={"Accept-Encoding": "gzip, br"})
        assert shell.headers["content-encoding"] == "gzip"  # only .gz was written for it
        assert shell.headers["cache-control"] == "no-cache" and "shell" in shell.text
        spa = await c.get("/app/me", headers={"Accept-Encoding": "gzip"})
        assert spa.headers["content-encoding"] == "gzip" and "shell" in spa.text

        again = await c.get(
            path, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["etag"]}
        )
        assert again.status_code == 304 and again.headers["vary"] == "Accept-Encoding"

        # The siblings are not files of the app in their own right.
        assert (await c.get(path + ".br")).status_code == 404


async def test_head_answers_as_get_does_without_a_body(tmp_path: Path) -> None:
    dist = _dist(tmp_path)
    _precompressed(dist)
    async with await _client(dist) as c:
        for path in ("/app/", "/app/login", "/app/assets/index-abc123.js", "/app/sw.js"):
            got = await c.get(path, headers={"Accept-Encoding": "br"})
            head = await c.head(path, headers={"Accept-Encoding": "br"})
            assert head.status_code == 200, path
            assert head.content == b""
            for name in ("content-type", "content-length", "cache-control", "etag"):
                assert head.headers.get(name) == got.headers.get(name), (path, name)
        assert (await c.head("/app", follow_redirects=False)).status_code == 307


def test_accept_encoding_parsing() -> None:
    assert static.accepted("gzip, deflate, br") == {"gzip", "deflate", "br"}
    assert static.accepted("br;q=0, gzip;q=0.8") == {"gzip"}
    assert static.accepted("*") >= {"br", "gzip"}
    assert static.accepted("*, br;q=0") == {"*", "gzip"}
    assert static.accepted(None) == set()
    assert static.accepted("gzip;q=bogus") == set()
