"""Photo evidence through the API, on real JPEGs: the watermark in the pixels beside the
untouched original, a reused photo found (and a different one not), EXIF that contradicts
its punch, and a photo without EXIF that is no finding."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageChops, ImageStat

from tests.api.photos.pictures import bare, files, jpeg, scene
from tests.factories import Api, OrgKit
from tests.punching import punch

SHOP = (31.2304, 121.4737)  # the customer, WGS-84
SH = ZoneInfo("Asia/Shanghai")


async def _customer(org: OrgKit, name: str = "上海徐家汇数码广场") -> str:
    made = await org.admin.ok(
        "post",
        "/customers",
        201,
        json={"name": name, "location": {"lat": SHOP[0], "lon": SHOP[1]}, "radius_m": 150},
    )
    return str(made["id"])


async def _visit(staff: Api, customer: str, photo_id: str, kind: str = "visit_in") -> Any:
    return await staff.ok(
        "post",
        "/punches",
        201,
        json=punch(*SHOP, kind=kind, customer_id=customer, photo_id=photo_id),
    )


def _path(url: str) -> str:
    """A url the API answered, as the test client's path (it adds the /api/v1 prefix)."""
    assert url.startswith("/api/v1/")
    return url.removeprefix("/api/v1")


def _rules(made: Any) -> dict[str, dict[str, Any]]:
    return {a["rule"]: a for a in made["anomalies"]}


async def _seen(staff: Api, punch_id: str) -> dict[str, dict[str, Any]]:
    """The punch's findings as GET /punches/{id} shows them."""
    return _rules(await staff.ok("get", f"/punches/{punch_id}"))


def _picture(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("L")


def _mean_diff(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(ImageStat.Stat(ImageChops.difference(a.crop(box), b.crop(box))).mean[0])


# the watermark and the original ------------------------------------------------------------


async def test_the_watermark_is_in_the_pixels_and_the_original_untouched(org: OrgKit) -> None:
    staff = await org.person("staff", name="李雷")
    customer = await _customer(org)
    upload = jpeg(scene(1), taken=datetime.now(SH), gps=SHOP)
    photo = await staff.ok("post", "/photos", 201, **files(upload))
    assert photo["original_sha256"] == hashlib.sha256(upload).hexdigest()
    assert photo["exif"]["present"] is True and photo["exif"]["lat"] == SHOP[0]
    made = await _visit(staff, customer, photo["id"])
    assert not {"photo_reused", "photo_exif_mismatch"} & set(_rules(made))

    original = await staff.get(_path(photo["original_url"]))
    assert original.status_code == 200 and original.headers["content-type"] == "image/jpeg"
    assert original.content == upload  # byte for byte, EXIF and GPS included
    assert Image.open(io.BytesIO(original.content)).getexif().get_ifd(0x8825)

    clean = (await staff.get(_path(photo["url"]))).content
    r = await staff.get(_path(photo["watermarked_url"]))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert "immutable" in r.headers["cache-control"]
    stamped = Image.open(io.BytesIO(r.content))
    assert len(stamped.getexif()) == 0 and b"Acme phone" not in r.content  # no EXIF, no GPS
    a, b = _picture(clean), _picture(r.content)
    assert a.size == b.size == (photo["width"], photo["height"])
    w, h = a.size
    assert _mean_diff(a, b, (0, int(h * 0.85), w, h)) > 25  # the band at the bottom
    assert _mean_diff(a, b, (0, 0, w, int(h * 0.5))) < 3  # the picture above it untouched
    # Drawn once, then kept: the same bytes again; the clean copy and the original unchanged.
    assert (await staff.get(_path(photo["watermarked_url"]))).content == r.content
    assert (await staff.get(_path(photo["url"]))).content == clean
    assert (await staff.get(_path(photo["original_url"]))).content == upload


async def test_before_its_punch_the_watermark_is_the_uploads_and_not_cached(
    org: OrgKit,
) -> None:
    staff = await org.person("staff")
    customer = await _customer(org)
    photo = await staff.ok("post", "/photos", 201, **files(bare(scene(2))))
    early = await staff.get(_path(photo["watermarked_url"]))
    assert early.status_code == 200 and early.headers["cache-control"] == "private, no-cache"
    await _visit(staff, customer, photo["id"])
    late = await staff.get(_path(photo["watermarked_url"]))
    assert "immutable" in late.headers["cache-control"]
    assert late.headers["etag"] != early.headers["etag"] and late.content != early.content


async def test_variants_follow_visibility_and_refuse_nonsense(
    org: OrgKit, other_org: OrgKit
) -> None:
    staff = await org.person("staff")
    photo = await staff.ok("post", "/photos", 201, **files(bare(scene(3))))
    stranger = await other_org.person("admin")
    for variant in ("clean", "watermarked", "original"):
        r = await stranger.get(f"/photos/{photo['id']}/content?variant={variant}")
        assert r.status_code == 404, variant
    r = await staff.get(f"/photos/{photo['id']}/content?variant=sepia")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == ["query", "variant"]


# reuse -----------------------------------------------------------------------------------------


def _reencoded(image: Image.Image, scale: float, quality: int) -> bytes:
    """The same picture, slightly smaller and re-encoded: what a screenshot or a resend gives."""
    small = image.resize((round(image.width * scale), round(image.height * scale)))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=quality)
    return out.getvalue()


async def test_a_reused_photo_is_found_and_a_different_one_is_not(org: OrgKit) -> None:
    staff = await org.person("staff")
    customer = await _customer(org)
    first = await staff.ok("post", "/photos", 201, **files(bare(scene(10))))
    earlier = await _visit(staff, customer, first["id"])
    assert "photo_reused" not in _rules(earlier)
    await _visit(staff, customer, first["id"], "visit_out")  # done there (same photo id: below)

    again = await staff.ok("post", "/photos", 201, **files(_reencoded(scene(10), 0.8, 70)))
    made = await _visit(staff, customer, again["id"])
    found = (await _seen(staff, made["id"]))["photo_reused"]
    ev = found["evidence"]
    assert ev["reason"] == "similar_photo" and ev["earlier_photo_id"] == first["id"]
    assert ev["earlier_punch_id"] == earlier["id"] and ev["photo_id"] == again["id"]
    assert 0 <= ev["distance_bits"] <= ev["max_distance_bits"]
    assert made["status"] == "flagged"

    other = await staff.ok("post", "/photos", 201, **files(bare(scene(11))))
    fresh = await _visit(staff, customer, other["id"], "visit_out")
    assert "photo_reused" not in await _seen(staff, fresh["id"])


async def test_the_same_photo_sent_twice_or_by_someone_else_is_reused(org: OrgKit) -> None:
    staff = await org.person("staff")
    colleague = await org.person("staff")
    customer = await _customer(org)
    photo = await staff.ok("post", "/photos", 201, **files(bare(scene(20))))
    first = await _visit(staff, customer, photo["id"])
    second = await _visit(staff, customer, photo["id"], "visit_out")
    ev = _rules(second)["photo_reused"]["evidence"]
    assert (ev["reason"], ev["earlier_punch_id"]) == ("same_photo", first["id"])
    theirs = await _visit(colleague, customer, photo["id"])
    assert _rules(theirs)["photo_reused"]["evidence"]["reason"] in {
        "same_photo",
        "another_persons_photo",
    }


async def test_one_photo_cited_twice_in_one_batch_is_reused(org: OrgKit) -> None:
    # Neither punch is stored when the other's facts are read: the later one (by its time, not
    # its place in the batch) is the reuse.
    staff = await org.person("staff")
    customer = await _customer(org)
    photo = await staff.ok("post", "/photos", 201, **files(bare(scene(21))))
    now = datetime.now(UTC)
    visit = {"customer_id": customer, "photo_id": photo["id"], "offline": True}
    later = punch(*SHOP, kind="visit_out", captured_at=now - timedelta(minutes=5), **visit)
    earlier = punch(*SHOP, kind="visit_in", captured_at=now - timedelta(minutes=40), **visit)
    body = await staff.ok("post", "/punches/batch", json={"punches": [later, earlier]})
    out, into = (r["punch"] for r in body["results"])
    assert "photo_reused" not in _rules(into)
    ev = _rules(out)["photo_reused"]["evidence"]
    assert (ev["reason"], ev["earlier_punch_id"]) == ("same_photo", into["id"])
    assert (await _seen(staff, out["id"]))["photo_reused"]["evidence"] == ev


async def test_the_threshold_is_policy_and_other_orgs_photos_do_not_count(
    org: OrgKit, other_org: OrgKit
) -> None:
    outsider = await other_org.person("staff")
    await outsider.ok("post", "/photos", 201, **files(bare(scene(30))))
    staff = await org.person("staff")
    customer = await _customer(org)
    mine = await staff.ok("post", "/photos", 201, **files(_reencoded(scene(30), 0.9, 80)))
    assert "photo_reused" not in _rules(await _visit(staff, customer, mine["id"]))

    await org.admin.ok("put", "/policy", json={"photo_reuse_max_distance": 16})
    near = await staff.ok("post", "/photos", 201, **files(_reencoded(scene(30), 0.7, 60)))
    ev = _rules(await _visit(staff, customer, near["id"], "visit_out"))["photo_reused"]["evidence"]
    assert ev["earlier_photo_id"] == mine["id"] and ev["max_distance_bits"] == 16
    await org.admin.ok("put", "/policy", json={"rules": {"photo_reused": {"enabled": False}}})
    off = await staff.ok("post", "/photos", 201, **files(_reencoded(scene(30), 0.75, 65)))
    assert "photo_reused" not in _rules(await _visit(staff, customer, off["id"]))


# EXIF against the punch ------------------------------------------------------------------------


async def test_an_exif_time_far_from_the_punch_is_a_finding(org: OrgKit) -> None:
    staff = await org.person("staff")
    customer = await _customer(org)
    old = datetime.now(SH) - timedelta(hours=3)
    photo = await staff.ok("post", "/photos", 201, **files(jpeg(scene(40), taken=old)))
    made = await _visit(staff, customer, photo["id"])
    found = (await _seen(staff, made["id"]))["photo_exif_mismatch"]
    ev = found["evidence"]
    assert ev["exif_offset_known"] is True and ev["exif_position"] == "absent"
    assert -3 * 3600 - 120 < ev["skew_s"] < -3 * 3600 + 120
    assert "3.0 h before the punch" in found["detail"]


async def test_an_exif_time_without_offset_is_read_in_the_orgs_zone(org: OrgKit) -> None:
    staff = await org.person("staff")
    customer = await _customer(org)
    # Shanghai's wall clock, no offset: right. UTC's wall clock, no offset: 8 h off.
    right = jpeg(scene(41), taken=datetime.now(SH).replace(tzinfo=None), offset=False)
    wrong = jpeg(scene(42), taken=datetime.now(UTC).replace(tzinfo=None), offset=False)
    ok = await staff.ok("post", "/photos", 201, **files(right))
    assert "photo_exif_mismatch" not in _rules(await _visit(staff, customer, ok["id"]))
    bad = await staff.ok("post", "/photos", 201, **files(wrong))
    made = await _visit(staff, customer, bad["id"], "visit_out")
    ev = _rules(made)["photo_exif_mismatch"]["evidence"]
    assert ev["exif_offset_known"] is False and abs(abs(ev["skew_s"]) - 8 * 3600) < 120


async def test_an_exif_position_far_from_the_punch_is_a_finding(org: OrgKit) -> None:
    staff = await org.person("staff")
    customer = await _customer(org)
    now = datetime.now(SH)
    far = await staff.ok(
        "post", "/photos", 201, **files(jpeg(scene(50), taken=now, gps=(31.2, 121.5)))
    )
    made = await _visit(staff, customer, far["id"])
    found = _rules(made)["photo_exif_mismatch"]
    assert found["evidence"]["distance_m"] > 3000 and "km from where" in found["detail"]
    near_spot = (SHOP[0] + 0.0005, SHOP[1])  # ~55 m
    near = await staff.ok(
        "post", "/photos", 201, **files(jpeg(scene(51), taken=now, gps=near_spot))
    )
    assert "photo_exif_mismatch" not in _rules(
        await _visit(staff, customer, near["id"], "visit_out")
    )


async def test_a_photo_without_exif_is_no_finding_but_says_so(org: OrgKit) -> None:
    staff = await org.person("staff")
    customer = await _customer(org)
    photo = await staff.ok(
        "post", "/photos", 201, **files(bare(scene(60), "PNG"), "p.png", "image/png")
    )
    assert photo["exif"] == {"present": False, "taken_at": None, "lat": None, "lon": None}
    made = await _visit(staff, customer, photo["id"])
    assert not {"photo_exif_mismatch", "photo_reused"} & set(_rules(made))
    original = await staff.get(_path(photo["original_url"]))
    assert original.headers["content-type"] == "image/png"


async def test_an_offline_punch_is_judged_at_its_own_time_not_its_arrival(org: OrgKit) -> None:
    """The offline queue sends photo and punch hours later: EXIF is compared with when the
    punch happened (its trusted time), not with when it arrived."""
    staff = await org.person("staff")
    customer = await _customer(org)
    then = datetime.now(SH) - timedelta(hours=2)
    photo = await staff.ok("post", "/photos", 201, **files(jpeg(scene(70), taken=then, gps=SHOP)))
    body = punch(
        *SHOP,
        kind="visit_in",
        customer_id=customer,
        photo_id=photo["id"],
        captured_at=then + timedelta(minutes=1),
        offline=True,
    )
    made = await staff.ok("post", "/punches", 201, json=body)
    trusted = datetime.fromisoformat(made["trusted_time"])
    assert abs((trusted - then).total_seconds()) < 300, made["trusted_time"]
    assert "photo_exif_mismatch" not in await _seen(staff, made["id"])
