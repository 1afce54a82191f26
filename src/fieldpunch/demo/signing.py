"""What a demo phone does as the field app does: make a key, write times, sign punches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldpunch.devices.keys import b64url_encode


def new_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A P-256 key and its public half as enrolment sends it (SPKI, base64url)."""
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return key, b64url_encode(spki)


def stamp(t: datetime, tz: ZoneInfo | None = None) -> str:
    """ISO 8601 with milliseconds, in `tz` (an offset) or UTC (Z), as the app writes times."""
    text = t.astimezone(tz or UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def sign(key: ec.EllipticCurvePrivateKey, body: dict[str, Any]) -> dict[str, Any]:
    """IEEE P1363 r‖s over RFC 8785 JSON of the punch, as WebCrypto signs."""
    der = key.sign(rfc8785.dumps(body), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return body | {"signature": b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}
