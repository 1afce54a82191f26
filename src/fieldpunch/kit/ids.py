"""Time-ordered, prefixed string ids (ULID layout: 48-bit ms time + 80 random bits).

Time order lets lists paginate by id alone; the prefix tells a reader what an id names.
"""

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_lock = threading.Lock()
_last = 0


def new_id(prefix: str) -> str:
    """Monotonic within this process: ids made in the same millisecond still sort by creation."""
    global _last
    fresh = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    with _lock:
        value = _last = fresh if fresh > _last else _last + 1
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
