"""Draw the app icons (committed under web/public/icons): a white map pin with a check mark.

.venv/bin/python web/scripts/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (21, 97, 212, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "public" / "icons"


def icon(size: int, maskable: bool) -> Image.Image:
    s = 4  # supersample, then downscale for smooth edges
    n = size * s
    img = Image.new("RGBA", (n, n), BLUE if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if not maskable:
        d.rounded_rectangle((0, 0, n - 1, n - 1), radius=n // 5, fill=BLUE)
    scale = 0.62 if maskable else 0.74  # maskable icons keep a safe zone (80% circle)
    pin_w = n * scale * 0.62
    cx, top = n / 2, n * (1 - scale) / 2 + n * 0.02
    r = pin_w / 2
    cy = top + r
    tip = top + n * scale * 0.95
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=WHITE)
    d.polygon([(cx - r * 0.86, cy + r * 0.5), (cx + r * 0.86, cy + r * 0.5), (cx, tip)], fill=WHITE)
    w = max(3, int(r * 0.22))
    d.line(
        [
            (cx - r * 0.45, cy + r * 0.02),
            (cx - r * 0.1, cy + r * 0.38),
            (cx + r * 0.5, cy - r * 0.35),
        ],
        fill=BLUE,
        width=w,
        joint="curve",
    )
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192, False).save(OUT / "icon-192.png", optimize=True)
    icon(512, False).save(OUT / "icon-512.png", optimize=True)
    icon(512, True).save(OUT / "maskable-512.png", optimize=True)
    icon(180, True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
