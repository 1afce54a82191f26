"""Photos: only real images, size-limited, re-encoded without EXIF, visible like punches."""

from __future__ import annotations

import io

from PIL import Image

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
