"""RFC 8785 canonical JSON: the exact bytes that are signed and hashed.

`canonical` writes the common shapes itself, several times faster than `rfc8785` (pure Python,
one write per token), and hands anything else to `rfc8785`: a type that is not exactly
None/bool/int/float/str/list/tuple/dict (subclasses such as enums), an integer outside the
safe range, a float that Python prints with an exponent, an object key that is not ASCII (keys
sort by UTF-16 code units), a string that is not valid UTF-8. Its output is rfc8785's, byte for
byte, or rfc8785's exception (tests/unit/test_canonical.py compares them on random values).
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

import rfc8785

# I-JSON's exact integer range: RFC 8785 (and JavaScript, which signs on the phones) stops there.
SAFE_INT = 2**53 - 1
_ESCAPE = re.compile(r'[\x00-\x1f\\"]')
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
for _i in range(0x20):
    _ESCAPES.setdefault(chr(_i), f"\\u{_i:04x}")


class _Other(Exception):
    """Not one of the shapes written here: rfc8785 does the whole value."""


def _str(s: str) -> str:
    if _ESCAPE.search(s) is None:
        return f'"{s}"'
    return '"' + _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], s) + '"'


def _float(f: float) -> str:
    if f == 0:
        return "0"  # and -0.0
    if math.isnan(f) or math.isinf(f):
        raise _Other
    r = repr(f)
    if "e" in r:  # outside [1e-4, 1e16): ECMAScript's exponent rules differ from Python's
        raise _Other
    return r[:-2] if r.endswith(".0") else r  # ECMAScript prints integral values bare


def _write(obj: Any, out: list[str]) -> None:
    t = type(obj)
    if t is str:
        out.append(_str(obj))
    elif t is float:
        out.append(_float(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif t is int:
        if -SAFE_INT <= obj <= SAFE_INT:
            out.append(str(obj))
        else:
            raise _Other
    elif t is dict:
        if not all(type(k) is str and k.isascii() for k in obj):
            raise _Other
        out.append("{")
        for i, key in enumerate(sorted(obj)):
            if i:
                out.append(",")
            out.append(_str(key))
            out.append(":")
            _write(obj[key], out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise _Other


def canonical(value: Any) -> bytes:
    out: list[str] = []
    try:
        _write(value, out)
        return "".join(out).encode("utf-8")
    except (_Other, UnicodeEncodeError, RecursionError):
        return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    return sha256_hex(canonical(value))


def unsafe_number(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where `value` holds an integer RFC 8785 cannot represent exactly (None: nowhere)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return path if abs(value) > SAFE_INT else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found = unsafe_number(item, (*path, key))
        if found is not None:
            return found
    return None
