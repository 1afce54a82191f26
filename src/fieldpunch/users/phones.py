"""Phone numbers as sign-in names: one stored form for every way people type them.

Chinese mobiles are stored as their 11 digits (`13800138000`), whether typed with spaces,
dashes, brackets or a `+86` / `0086` / `86` prefix; other international numbers keep `+` and
their digits (`+14155550100`); anything else, its digits. Sign-in normalises the typed name
the same way, so "+86 138-0013-8000" finds the person stored as 13800138000.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().·]")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_CN_PREFIX = re.compile(r"^(?:\+86|0086|86)(1[3-9]\d{9})$")


def normalize_phone(raw: str | None) -> str | None:
    """The stored form of `raw`; None for an empty value (no phone)."""
    if raw is None:
        return None
    compact = _SEPARATORS.sub("", raw.strip())
    if not compact:
        return None
    if _CN_MOBILE.match(compact):
        return compact
    if m := _CN_PREFIX.match(compact):
        return m.group(1)
    if compact.startswith("00"):  # the international prefix, dialled the old way
        compact = "+" + compact[2:]
    return compact


def looks_like_phone(name: str) -> bool:
    """A sign-in name that is a phone number rather than an email: no `@`, mostly digits."""
    compact = _SEPARATORS.sub("", name.strip())
    return "@" not in name and bool(re.fullmatch(r"\+?\d{5,20}", compact))
