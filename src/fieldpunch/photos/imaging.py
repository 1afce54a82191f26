"""Re-encode an uploaded image: only JPEG, PNG or WebP in, JPEG out, no metadata (pure)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 50_000_000  # a 50 MP camera photo; more is a decompression bomb, not a visit photo
MAX_EDGE = 2560  # stored photos are evidence for a reviewer, not prints
JPEG_QUALITY = 85


class NotAnImage(ValueError):
    """The bytes are not a JPEG, PNG or WebP image we can read."""


@dataclass(frozen=True, slots=True)
class Encoded:
    data: bytes
    content_type: str
    width: int
    height: int


def reencode(data: bytes) -> Encoded:
    """Decode, apply the EXIF orientation, shrink to MAX_EDGE and write a fresh JPEG.

    Nothing of the original file is copied: EXIF (GPS, camera serial, time), XMP, IPTC and
    comments are dropped because only the pixels are re-encoded.
    """
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise NotAnImage(f"only JPEG, PNG or WebP images are accepted, not {fmt}")
            if probe.width * probe.height > MAX_PIXELS:
                raise NotAnImage(f"the image is larger than {MAX_PIXELS // 1_000_000} megapixels")
            probe.load()
            image = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise NotAnImage("not a readable JPEG, PNG or WebP image") from exc
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return Encoded(out.getvalue(), "image/jpeg", image.width, image.height)
