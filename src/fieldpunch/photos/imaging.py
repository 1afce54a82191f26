"""Re-encode an uploaded image: only JPEG, PNG or WebP in, JPEG out, no metadata (pure).

On the way it reads what the EXIF says (photos/exif.py) and the picture's pHash
(photos/perceptual.py), both for the photo detectors; the upload's own bytes are kept apart,
untouched, by the service.

Decoding is where an upload costs memory: a 190 KB PNG can declare 7000×7000 RGBA pixels and
take 200 MB to decode and several times that to convert. So the header's size is checked
before anything is decoded (Pillow reads it without decoding), a camera JPEG is decoded at
1/2 to 1/8 scale straight from its DCT coefficients (`draft`), and the picture is shrunk before
it is flattened or turned upright, so that at most one full-size buffer lives at a time.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from fieldpunch.photos import exif, perceptual

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# A baseline JPEG (what phone cameras write) is decoded at a fraction of its size (≤ ~16 MP,
# ~50 MB for a 50 MP photo), so it may be as large as a 50 MP camera's full-resolution photo.
MAX_CAMERA_JPEG_PIXELS = 50_000_000
# Anything else is decoded whole: PNG and WebP (24 MP RGBA: 96 MB), and progressive JPEG,
# whose decoder keeps every coefficient whatever the scale (24 MP: ~160 MB; 50 MP: ~340 MB).
# A phone's own camera photo is 12 MP by default (24 MP on recent iPhones); the field app
# shrinks photos to 2560 px before it uploads them anyway.
MAX_PIXELS = 24_000_000
MAX_EDGE = 2560  # stored photos are evidence for a reviewer, not prints
JPEG_QUALITY = 85
_ORIENTATION = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class NotAnImage(ValueError):
    """The bytes are not a JPEG, PNG or WebP image we can read (or one too large to decode)."""


@dataclass(frozen=True, slots=True)
class Encoded:
    data: bytes
    content_type: str
    width: int
    height: int
    phash: int | None = None
    exif: dict[str, Any] | None = None  # photos/exif.facts of the upload
    original_type: str | None = None  # the upload's own type (image/jpeg, image/png, ...)


def pixel_limit(fmt: str | None, progressive: bool) -> int:
    """The most pixels an image of this kind may declare."""
    return MAX_CAMERA_JPEG_PIXELS if fmt == "JPEG" and not progressive else MAX_PIXELS


def _target(width: int, height: int) -> tuple[int, int]:
    """The stored size: the longer edge at most MAX_EDGE, the aspect kept."""
    scale = min(1.0, MAX_EDGE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _check_size(probe: Image.Image) -> None:
    fmt = probe.format
    progressive = bool(probe.info.get("progressive") or probe.info.get("progression"))
    limit = pixel_limit(fmt, progressive)
    width, height = probe.size
    if width * height > limit:
        kind = f"a progressive {fmt}" if progressive else f"a {fmt}"
        raise NotAnImage(
            f"the image is {width}×{height} pixels ({width * height / 1e6:.0f} MP); "
            f"{kind} may have at most {limit // 1_000_000} MP"
        )


def _decode(data: bytes) -> tuple[Image.Image, int, dict[str, Any], str]:
    """The decoded picture (as small as the format allows), its EXIF orientation and facts,
    and its format."""
    with warnings.catch_warnings():
        # Pillow warns above its limit and refuses above twice that (DecompressionBombError);
        # the caps below, checked next, are lower and say more than its warning would.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        probe = Image.open(io.BytesIO(data))
    keep = False
    try:
        if probe.format not in ALLOWED_FORMATS:
            raise NotAnImage(f"only JPEG, PNG or WebP images are accepted, not {probe.format}")
        _check_size(probe)
        if probe.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 scale while staying at least the stored size.
            probe.draft("RGB", _target(*probe.size))
        probe.load()
        tags = probe.getexif()
        orientation = tags.get(_ORIENTATION, 1)
        said, fmt = exif.facts(tags), str(probe.format)
        if probe.mode in ("RGBA", "LA", "PA") or (
            probe.mode == "P" and "transparency" in probe.info
        ):
            return probe.convert("RGBA"), orientation, said, fmt
        if probe.mode != "RGB":
            return probe.convert("RGB"), orientation, said, fmt
        keep = True  # already RGB: no copy
        return probe, orientation, said, fmt
    finally:
        if not keep:
            probe.close()


def reencode(data: bytes) -> Encoded:
    """Decode, shrink to MAX_EDGE, flatten, apply the EXIF orientation, write a fresh JPEG.

    Nothing of the original file is copied: EXIF (GPS, camera serial, time), XMP, IPTC and
    comments are dropped because only the pixels are re-encoded.
    """
    try:
        image, orientation, said, fmt = _decode(data)
    except NotAnImage:
        raise
    except Image.DecompressionBombError as exc:
        raise NotAnImage(f"the image has too many pixels to decode ({exc})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImage("not a readable JPEG, PNG or WebP image") from exc
    try:
        image.thumbnail(_target(*image.size), Image.Resampling.LANCZOS)  # before any copy
        if image.mode == "RGBA":
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image.close()
            image = flat
        if orientation in _TRANSPOSE:
            turned = image.transpose(_TRANSPOSE[orientation])
            image.close()
            image = turned
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        return Encoded(
            out.getvalue(),
            "image/jpeg",
            image.width,
            image.height,
            phash=perceptual.phash(image),  # of the upright picture, as a reviewer sees it
            exif=said,
            original_type=f"image/{fmt.lower()}",
        )
    finally:
        image.close()
