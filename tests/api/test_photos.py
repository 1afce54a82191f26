"""Photos: only real images, size-limited, re-encoded without EXIF, visible like punches."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

from PIL import Image

from fieldpunch.app import create_app
from fieldpunch.config import Settings
from fieldpunch.photos import decoding, imaging
from tests.factories import OrgKit
from tests.punching import punch

GPS_IFD = 0x8825


def _jpeg_with_gps(size: tuple[int, int] = (640, 480), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Acme phone"  # Make
    exif[0x0110] = "Model X"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (31.0, 14.0, 23.0)
    gps[3], gps[4] = "E", (121.0, 29.0, 59.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "fixture carries GPS"
    return data


def _image(fmt: str, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (32, 32), (10, 200, 10, 128) if mode == "RGBA" else (10, 200, 10)).save(
        out, fmt
    )
    return out.getvalue()


def _files(data: bytes, name: str = "p.jpg", ctype: str = "image/jpeg") -> dict[str, object]:
    return {"files": {"file": (name, data, ctype)}}


async def test_upload_strips_exif_and_gps(org: OrgKit) -> None:
    staff = await org.person("staff")
    made = await staff.ok("post", "/photos", 201, **_files(_jpeg_with_gps()))
    assert made["id"].startswith("pho_")
    assert (made["content_type"], made["width"], made["height"]) == ("image/jpeg", 640, 480)
    assert made["url"] == f"/api/v1/photos/{made['id']}/content"
    assert made["user_id"] == staff.user_id

    r = await staff.get(f"/photos/{made['id']}/content")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert len(r.content) == made["size_bytes"]
    stored = Image.open(io.BytesIO(r.content))
    assert stored.format == "JPEG"
    exif = stored.getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert len(exif) == 0
    assert b"Exif" not in r.content[:4096]
    assert b"Acme phone" not in r.content

    again = await staff.ok("get", f"/photos/{made['id']}")
    assert again == made


async def test_orientation_is_applied_before_exif_is_dropped(org: OrgKit) -> None:
    staff = await org.person("staff")
    # Orientation 6: the camera held sideways; the stored pixels are turned upright instead.
    made = await staff.ok(
        "post", "/photos", 201, **_files(_jpeg_with_gps((300, 100), orientation=6))
    )
    assert (made["width"], made["height"]) == (100, 300)


async def test_png_and_webp_are_accepted_and_become_jpeg(org: OrgKit) -> None:
    staff = await org.person("staff")
    for fmt, mode in (("PNG", "RGBA"), ("WEBP", "RGB"), ("PNG", "P")):
        made = await staff.ok(
            "post", "/photos", 201, **_files(_image(fmt, mode), "x." + fmt.lower(), "image/png")
        )
        assert made["content_type"] == "image/jpeg", fmt


async def test_non_images_are_refused(org: OrgKit) -> None:
    staff = await org.person("staff")
    cases = [
        (b"%PDF-1.4 not a photo", "x.pdf", "application/pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg", "image/svg+xml"),
        (_image("GIF"), "x.gif", "image/gif"),
        (_image("BMP"), "x.jpg", "image/jpeg"),  # the declared type is not trusted
        (_jpeg_with_gps()[:200], "cut.jpg", "image/jpeg"),  # truncated
        (b"", "empty.jpg", "image/jpeg"),
    ]
    for data, name, ctype in cases:
        r = await staff.post("/photos", **_files(data, name, ctype))
        assert r.status_code == 422, (name, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = await staff.post("/photos", data={"nofile": "1"})
    assert r.status_code == 422


async def test_size_limit(org: OrgKit) -> None:
    staff = await org.person("staff")
    big = _jpeg_with_gps() + b"\0" * (10 * 1024 * 1024)
    r = await staff.post("/photos", **_files(big))
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_visibility_follows_the_taker(org: OrgKit) -> None:
    team = await org.team("North")
    other_team = await org.team("South")
    taker = await org.person("staff", team_id=team)
    colleague = await org.person("staff", team_id=team)
    manager = await org.person("manager", managed_team_ids=[team])
    stranger_manager = await org.person("manager", managed_team_ids=[other_team])
    made = await taker.ok("post", "/photos", 201, **_files(_jpeg_with_gps()))
    for who, status in (
        (taker, 200),
        (manager, 200),
        (org.admin, 200),
        (colleague, 404),
        (stranger_manager, 404),
    ):
        assert (await who.get(f"/photos/{made['id']}")).status_code == status
        assert (await who.get(f"/photos/{made['id']}/content")).status_code == status


async def test_api_keys_cannot_upload(org: OrgKit) -> None:
    from tests.factories import Api

    created = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "k", "scopes": ["punches:write", "punches:read"]}
    )
    key = Api(org.client, created["key"])
    r = await key.post("/photos", **_files(_jpeg_with_gps()))
    assert r.status_code == 403


async def test_a_visit_punch_carries_the_photo(org: OrgKit) -> None:
    staff = await org.person("staff")
    customer = await org.admin.ok(
        "post", "/customers", 201, json={"name": "Client", "location": {"lat": 31.2, "lon": 121.4}}
    )
    photo = await staff.ok("post", "/photos", 201, **_files(_jpeg_with_gps()))
    made = await staff.ok(
        "post",
        "/punches",
        201,
        json=punch(31.2, 121.4, kind="visit_in", customer_id=customer["id"], photo_id=photo["id"]),
    )
    assert made["photo_id"] == photo["id"]


# decoding: pixel caps, a bounded pool, the event loop free -----------------------------------


def _png(width: int, height: int, mode: str = "RGBA") -> bytes:
    """A real PNG of one colour: 7000×7000 RGBA compresses to a few hundred KB."""
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 120, 200, 255)[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def _jpeg(width: int, height: int, progressive: bool = False) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(
        out, "JPEG", progressive=progressive, quality=80
    )
    return out.getvalue()


def _refused_for_pixels(r: Any, says: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    (error,) = r.json()["errors"]
    assert error["loc"] == ["body", "file"] and says in error["msg"], error


async def test_too_many_pixels_is_refused_before_decoding(org: OrgKit) -> None:
    staff = await org.person("staff")
    bomb = _png(7000, 7000)  # the report's image: 49 MP of RGBA in a small file
    assert len(bomb) < 1024 * 1024
    r = await staff.post("/photos", **_files(bomb, "bomb.png", "image/png"))
    _refused_for_pixels(r, "7000×7000 pixels (49 MP); a PNG may have at most 24 MP")
    # Beyond Pillow's own guard (2 × 89 MP) the answer is the same kind, not a 500.
    r = await staff.post("/photos", **_files(_png(14000, 14000, "L"), "huge.png", "image/png"))
    _refused_for_pixels(r, "too many pixels")
    # A progressive JPEG is decoded whole whatever the scale: the same cap as PNG.
    r = await staff.post("/photos", **_files(_jpeg(5000, 5000, progressive=True)))
    _refused_for_pixels(r, "a progressive JPEG may have at most 24 MP")
    # A camera's baseline JPEG above that is fine: decoded at a fraction of its size.
    made = await staff.ok("post", "/photos", 201, **_files(_jpeg(6000, 4500)))
    assert (made["width"], made["height"]) == (2560, 1920)
    r = await staff.post("/photos", **_files(_jpeg(8200, 6200)))
    _refused_for_pixels(r, "a JPEG may have at most 50 MP")


# The gate a test decoder waits at in its child process (set there by `_install_gate`).
_GATE: dict[str, Any] = {}


def _install_gate(started: Any, release: Any, entered: Any) -> None:
    _GATE.update(started=started, release=release, entered=entered)


def _gated_reencode(data: bytes) -> imaging.Encoded:
    with _GATE["entered"].get_lock():
        _GATE["entered"].value += 1
    _GATE["started"].set()
    assert _GATE["release"].wait(120), "the test never released the decoder"
    return imaging.reencode(data)


async def _until(condition: Any, what: str) -> None:
    """Let the requests run until `condition()` holds (a bounded readiness check)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


async def test_decoding_is_bounded_and_punches_go_on_meanwhile(app: Any, org: OrgKit) -> None:
    ctx = decoding._context()
    started, release, entered = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    decoder = decoding.Decoder(
        1,
        max_waiting=1,
        fn=_gated_reencode,
        initializer=_install_gate,
        initargs=(started, release, entered),
    )
    app.state.photo_decoder = decoder
    uploader, second, third, puncher = [await org.person("staff") for _ in range(4)]
    big = _png(4800, 4800)  # 23 MP of RGBA: allowed, a second of work
    try:
        first_up = asyncio.create_task(uploader.post("/photos", **_files(big, "a.png")))
        assert await asyncio.to_thread(started.wait, 60), "the decode never started"
        second_up = asyncio.create_task(second.post("/photos", **_files(big, "b.png")))
        await _until(lambda: decoder.waiting == 1, "the second upload never queued")
        # The pool is full and one waits: a third is told to come back, not queued.
        r = await third.post("/photos", **_files(big, "c.png"))
        assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
        assert r.headers["content-type"] == "application/problem+json"
        # Someone else's punch is served while the big decode is still running.
        await puncher.ok("post", "/punches", 201, json=punch())
        assert not first_up.done() and not second_up.done()
        assert (decoder.running, decoder.waiting, entered.value) == (1, 1, 1)
        release.set()
        first, second_made = await first_up, await second_up
        assert first.status_code == 201 and second_made.status_code == 201, second_made.text
        assert first.json()["width"] == 2560 and entered.value == 2
        assert (decoder.running, decoder.waiting) == (0, 0)
    finally:
        release.set()
        decoder.shutdown()


async def test_the_photo_decoder_stops_with_the_app(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        decoder = app.state.photo_decoder
        await decoder.reencode(_jpeg(64, 48))  # starts its child processes
        children = list(decoder._executor()._processes.values())
        assert children and all(p.is_alive() for p in children)
    assert decoder._pool is None
    assert not any(p.is_alive() for p in children)
