"""The pure photo parts on real images: EXIF facts, pHash distances, the watermark's band,
the font fallback."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta, timezone

import pytest
from PIL import ExifTags, Image, ImageChops, ImageStat

from fieldpunch.photos import exif, fonts, imaging, perceptual, watermark
from tests.api.photos.pictures import bare, jpeg, scene

CST = timezone(timedelta(hours=8))


def test_exif_time_offset_and_gps_are_read() -> None:
    taken = datetime(2026, 12, 4, 12, 0, 5, tzinfo=CST)
    said = imaging.reencode(jpeg(scene(1), taken=taken, gps=(31.2304, -121.4737))).exif
    assert said == {
        "present": True,
        "taken_at": "2026-12-04T12:00:05+08:00",
        "lat": pytest.approx(31.2304, abs=1e-6),
        "lon": pytest.approx(-121.4737, abs=1e-6),
    }
    naive = imaging.reencode(jpeg(scene(1), taken=taken, offset=False)).exif
    assert naive is not None and naive["taken_at"] == "2026-12-04T12:00:05"


def test_no_exif_and_broken_exif_are_absent_not_errors() -> None:
    assert imaging.reencode(bare(scene(2))).exif == {
        "present": False,
        "taken_at": None,
        "lat": None,
        "lon": None,
    }
    assert exif.taken_at("0000:00:00 00:00:00", None) is None
    assert exif.taken_at("2026:13:40 25:00:00", "+08:00") is None
    assert exif.taken_at(b"2026:12:04 12:00:05\x00", "junk") == "2026-12-04T12:00:05"
    assert exif.position({2: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0)}) is None  # unset block
    assert exif.position({2: (91.0, 0.0, 0.0), 4: (1.0, 0.0, 0.0)}) is None
    assert exif.position({2: ("x",), 4: (1.0, 0.0, 0.0)}) is None


def test_exif_orientation_is_applied_before_hashing() -> None:
    """A sideways camera photo hashes as the upright picture a reviewer sees."""
    upright = scene(3, (480, 640))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # stored as the sensor saw it
    turned = imaging.reencode(jpeg(sideways, orientation=6))
    assert (turned.width, turned.height) == (480, 640)
    plain = imaging.reencode(bare(upright))
    assert turned.phash is not None and plain.phash is not None
    assert perceptual.distance(turned.phash, plain.phash) <= 2


def test_phash_near_for_copies_far_for_other_scenes() -> None:
    a = perceptual.phash(scene(10))
    copy = Image.open(io.BytesIO(bare(scene(10).resize((600, 450)))))
    assert perceptual.distance(a, perceptual.phash(copy)) <= 4
    assert all(perceptual.distance(a, perceptual.phash(scene(s))) > 16 for s in range(11, 21))
    assert -(2**63) <= a < 2**63  # fits a signed BIGINT
    assert perceptual.distance(-1, 0) == 64


def test_nearest_takes_the_closest_within_the_limit_and_the_first_of_ties() -> None:
    assert perceptual.nearest(0, [("a", 0b111), ("b", 0b1), ("c", 0b10)], 2) == ("b", 1)
    assert perceptual.nearest(0, [("a", 0b111)], 2) is None
    assert perceptual.nearest(0, [], 16) is None


def _band_and_rest(stamped: bytes, clean: bytes) -> tuple[float, float]:
    a = Image.open(io.BytesIO(clean)).convert("L")
    b = Image.open(io.BytesIO(stamped)).convert("L")
    w, h = a.size
    diff = ImageChops.difference(a, b)
    band = ImageStat.Stat(diff.crop((0, int(h * 0.88), w, h))).mean[0]
    rest = ImageStat.Stat(diff.crop((0, 0, w, int(h * 0.5)))).mean[0]
    return band, rest


def test_the_watermark_band_is_drawn_and_the_rest_untouched() -> None:
    clean = imaging.reencode(bare(scene(4, (1200, 900)))).data
    lines = ["2026-12-04 12:00:05+08:00 Asia/Shanghai · 拜访签到 Visit in", "上海徐家汇", "李雷"]
    stamped = watermark.render(clean, lines)
    out = Image.open(io.BytesIO(stamped))
    assert (out.format, out.size, len(out.getexif())) == ("JPEG", (1200, 900), 0)
    band, rest = _band_and_rest(stamped, clean)
    assert band > 25 and rest < 3


def test_a_long_name_is_cut_to_fit() -> None:
    clean = imaging.reencode(bare(scene(5, (320, 240)))).data
    stamped = watermark.render(clean, ["客户" * 200, "x" * 500])  # no error, nothing off-picture
    assert Image.open(io.BytesIO(stamped)).size == (320, 240)


def test_without_a_cjk_font_the_default_is_used_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fonts.cjk_path.cache_clear()
    monkeypatch.setattr(fonts, "KNOWN", ())
    monkeypatch.setattr(fonts.shutil, "which", lambda _: None)
    try:
        with caplog.at_level(logging.WARNING, logger="fieldpunch.photos.fonts"):
            clean = imaging.reencode(bare(scene(6))).data
            stamped = watermark.render(clean, ["2026-12-04 12:00:05", "上海", "Li Lei"])
        assert "no CJK font found" in caplog.text
        band, _ = _band_and_rest(stamped, clean)
        assert band > 10
    finally:
        fonts.cjk_path.cache_clear()


def test_a_cjk_font_is_found_here() -> None:
    """`make fonts` installs fonts-noto-cjk on Debian; CI runs it before the tests."""
    path = fonts.cjk_path()
    if path is None:
        pytest.skip("no CJK font on this machine (make fonts)")
    assert fonts.load(20).getbbox("李")[2] > 10


def test_exif_tags_are_the_standard_ones() -> None:
    assert (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal) == (0x9003, 0x9011)
