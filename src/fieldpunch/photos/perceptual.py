"""Perceptual hashes of photos (pHash, the `imagehash` library) and their distance (pure).

pHash keeps the low frequencies of a 32×32 grey picture: re-encoding, shrinking, mild colour
or brightness changes move a few of its 64 bits; a different scene moves about half. The hash
is stored as a signed 64-bit integer (a BIGINT on both databases), compared by Hamming
distance, the number of differing bits.
"""

from __future__ import annotations

import imagehash
from PIL import Image

BITS = 64
_SIGN = 1 << (BITS - 1)
_MASK = (1 << BITS) - 1


def phash(image: Image.Image) -> int:
    """The image's pHash as a signed 64-bit integer."""
    value = int(str(imagehash.phash(image)), 16)
    return value - (1 << BITS) if value & _SIGN else value


def distance(a: int, b: int) -> int:
    """Hamming distance of two stored hashes (signed or not: the same 64 bits)."""
    return ((a ^ b) & _MASK).bit_count()


def nearest(target: int, candidates: list[tuple[str, int]], limit: int) -> tuple[str, int] | None:
    """The candidate (id, hash) nearest `target` within `limit` bits; ties go to the first."""
    best: tuple[str, int] | None = None
    for cid, h in candidates:
        d = ((target ^ h) & _MASK).bit_count()
        if d <= limit and (best is None or d < best[1]):
            best = (cid, d)
            if d == 0:
                break
    return best
