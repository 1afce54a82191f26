"""Burn a watermark into a photo (pure): a translucent band along the bottom with the lines
a reviewer checks (server-trusted time in the org's zone, customer or place, person,
coordinates, the punch's id), as Fxiaoke's 水印相机 does.

It draws on the stored, re-encoded copy (upright already, no EXIF) and writes a fresh JPEG,
so the watermarked copy carries no EXIF either (no GPS beyond what the band shows); the
upload's own bytes stay untouched in the storage.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from fieldpunch.photos import fonts
from fieldpunch.photos.imaging import JPEG_QUALITY

BAND_ALPHA = 150  # of 255: the photo stays visible under the band, the text stays legible
MIN_FONT_PX = 12


def _fit(draw: ImageDraw.ImageDraw, text: str, font: fonts.Font, width: float) -> str:
    """`text` cut with an ellipsis to fit `width` pixels (a long customer name must not run off)."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render(data: bytes, lines: Sequence[str]) -> bytes:
    """A JPEG of the photo `data` with `lines` in a band at its bottom."""
    with Image.open(io.BytesIO(data)) as opened:
        base = opened.convert("RGB")
    width, height = base.size
    size = max(MIN_FONT_PX, round(min(width, height * 1.5) / 32))
    font = fonts.load(size)
    pad, line_h = max(4, size // 2), round(size * 1.3)  # room for descenders and CJK glyphs
    band_h = min(height, pad * 2 + len(lines) * line_h)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, height - band_h, width, height), fill=(0, 0, 0, BAND_ALPHA))
    y = height - band_h + pad
    for line in lines:
        text = _fit(draw, line, font, width - 2 * pad)
        draw.text((pad, y), text, font=font, fill=(255, 255, 255, 255))
        y += line_h
    stamped = Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    stamped.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
