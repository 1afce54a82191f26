"""The font the watermark is written in: a CJK-capable one (customer and person names are
often Chinese), found through fontconfig or at Debian's paths (`make fonts` installs
fonts-noto-cjk), else Pillow's built-in font with one log line. A missing font never fails an
upload or a download: the watermark is then written in a font without Chinese glyphs.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

KNOWN = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _fontconfig() -> str | None:
    """A font file fontconfig knows for Chinese (fc-list :lang=zh), Sans first."""
    fc = shutil.which("fc-list")
    if fc is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments, no user input
            [fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(
        (line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip()),
        key=lambda f: ("Sans" not in f, "Regular" not in f, f),
    )
    return next((f for f in files if Path(f).is_file()), None)


@functools.cache
def cjk_path() -> str | None:
    """The CJK font file to use, or None when this machine has none."""
    found = next((p for p in KNOWN if Path(p).is_file()), None) or _fontconfig()
    if found is None:
        log.warning(
            "no CJK font found (install fonts-noto-cjk: make fonts); photo watermarks use "
            "Pillow's default font and show Chinese names as boxes"
        )
    return found


def load(size: int) -> Font:
    """The watermark font at `size` pixels."""
    path = cjk_path()
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            log.warning("could not open the font %s; photo watermarks use the default", path)
    return ImageFont.load_default(size)
