"""Device public keys: ECDSA P-256 in SPKI DER, base64url without padding (WebCrypto's export)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def load_p256(spki_b64url: str) -> tuple[ec.EllipticCurvePublicKey, str]:
    """The key and its SHA-256 fingerprint; ValueError when it is not a P-256 SPKI key."""
    try:
        der = b64url_decode(spki_b64url.strip())
        key = load_der_public_key(der)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("not a base64url SPKI public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("must be an ECDSA P-256 key")
    return key, hashlib.sha256(der).hexdigest()
