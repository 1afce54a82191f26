"""Real JPEGs for the photo tests: a scene of shapes per seed, with EXIF written by Pillow."""

from __future__ import annotations

import io
import random
from datetime import datetime

from PIL import ExifTags, Image, ImageDraw, ImageFilter


def scene(seed: int, size: tuple[int, int] = (960, 720)) -> Image.Image:
    """A picture with structure (pHash needs more than one colour): shapes placed by `seed`."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(14):
        x, y = rng.randrange(w), rng.randrange(h)
        box = (x, y, x + rng.randrange(40, w // 2), y + rng.randrange(40, h // 2))
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle(box, fill=colour)  # type: ignore[arg-type]
        else:
            draw.ellipse(box, fill=colour)  # type: ignore[arg-type]
    return image.filter(ImageFilter.GaussianBlur(2))


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    return float(d), float(m), round((value - d - m / 60) * 3600, 4)


def jpeg(
    image: Image.Image,
    *,
    taken: datetime | None = None,
    offset: bool = True,
    gps: tuple[float, float] | None = None,
    quality: int = 90,
    orientation: int | None = None,
) -> bytes:
    """`image` as a camera JPEG: DateTimeOriginal (+ OffsetTimeOriginal), GPS, orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Acme phone"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if taken is not None:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        ifd[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if offset:
            z = taken.strftime("%z")
            ifd[ExifTags.Base.OffsetTimeOriginal] = f"{z[:3]}:{z[3:]}"
    if gps is not None:
        g = exif.get_ifd(ExifTags.IFD.GPSInfo)
        g[ExifTags.GPS.GPSLatitudeRef] = "N" if gps[0] >= 0 else "S"
        g[ExifTags.GPS.GPSLatitude] = _dms(gps[0])
        g[ExifTags.GPS.GPSLongitudeRef] = "E" if gps[1] >= 0 else "W"
        g[ExifTags.GPS.GPSLongitude] = _dms(gps[1])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def bare(image: Image.Image, fmt: str = "JPEG") -> bytes:
    """No EXIF at all: what a browser's canvas hands over."""
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def files(data: bytes, name: str = "p.jpg", ctype: str = "image/jpeg") -> dict[str, object]:
    return {"files": {"file": (name, data, ctype)}}
