"""Web Push: RFC 8291 payload encryption (aes128gcm, RFC 8188) and VAPID (RFC 8292).

`cryptography` and PyJWT, which the project has already, do all the cryptography; the push
libraries on PyPI would add `requests`, `http_ece` and `py-vapid` for about this much code.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

RECORD_SIZE = 4096
HEADER_LEN = 16 + 4 + 1 + 65  # salt, record size, key id length, sender public key
TAG_LEN = 16
# One record holds the message, its delimiter and the tag; push services cap the body at 4096.
MAX_PLAINTEXT = RECORD_SIZE - HEADER_LEN - TAG_LEN - 1
VAPID_TTL_S = 12 * 3600  # RFC 8292 allows up to 24 h; some services refuse more than 12


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def new_private_key() -> str:
    """A new VAPID key: base64url of the raw 32-byte private scalar (as web-push tools print)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def load_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    raw = unb64url(text.strip())
    if len(raw) != 32:
        raise ValueError("must be base64url of a 32-byte P-256 private key")
    try:
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        raise ValueError("not a valid P-256 private key") from None


def public_key_of(private: ec.EllipticCurvePrivateKey) -> str:
    """The `applicationServerKey` a browser subscribes with: base64url uncompressed point."""
    return b64url(_public_bytes(private.public_key()))


def load_subscription_key(p256dh: str) -> bytes:
    """Check a subscription's `keys.p256dh`: an uncompressed point on P-256; returns its bytes."""
    raw = unb64url(p256dh)
    if len(raw) != 65 or raw[0] != 4:
        raise ValueError("must be base64url of a 65-byte uncompressed P-256 point")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise ValueError("not a point on P-256") from None
    return raw


def load_auth_secret(auth: str) -> bytes:
    raw = unb64url(auth)
    if len(raw) != 16:
        raise ValueError("must be base64url of 16 bytes")
    return raw


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def encrypt(
    plaintext: bytes,
    ua_public: bytes,
    auth_secret: bytes,
    *,
    salt: bytes | None = None,
    sender: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """The aes128gcm body for one subscription (RFC 8291 §3.4, one record).

    `salt` and `sender` are fresh per message; tests pass RFC 8291 Appendix A's to reproduce it.
    """
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValueError(f"push payload is {len(plaintext)} bytes, at most {MAX_PLAINTEXT}")
    salt = salt if salt is not None else os.urandom(16)
    sender = sender or ec.generate_private_key(ec.SECP256R1())
    as_public = _public_bytes(sender.public_key())
    ua_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ua_public)
    shared = sender.exchange(ec.ECDH(), ua_key)
    ikm = _hkdf(auth_secret, shared, b"WebPush: info\x00" + ua_public + as_public, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    # The last (only) record ends with the 0x02 delimiter and no padding.
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + RECORD_SIZE.to_bytes(4, "big") + bytes([len(as_public)]) + as_public
    return header + ciphertext


def audience(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def vapid_authorization(
    endpoint: str, private: ec.EllipticCurvePrivateKey, subject: str, now: float | None = None
) -> str:
    """`Authorization: vapid t=<JWT>, k=<public key>` for a push to `endpoint` (RFC 8292 §3)."""
    claims = {
        "aud": audience(endpoint),
        "exp": int((now if now is not None else time.time()) + VAPID_TTL_S),
        "sub": subject,
    }
    token = jwt.encode(claims, private, algorithm="ES256", headers={"typ": "JWT"})
    return f"vapid t={token}, k={public_key_of(private)}"


@dataclass(frozen=True, slots=True)
class PushRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def build_request(
    endpoint: str,
    p256dh: str,
    auth: str,
    payload: bytes,
    private: ec.EllipticCurvePrivateKey,
    subject: str,
    *,
    topic: str | None = None,
    ttl_s: int = 24 * 3600,
    urgency: str = "normal",
) -> PushRequest:
    """The HTTP request a push service takes (RFC 8030): encrypted body, VAPID, TTL, Topic."""
    body = encrypt(payload, load_subscription_key(p256dh), load_auth_secret(auth))
    headers = {
        "Authorization": vapid_authorization(endpoint, private, subject),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(ttl_s),
        "Urgency": urgency,
    }
    if topic:
        # A repeat with the same Topic replaces an undelivered one at the push service.
        headers["Topic"] = topic
    return PushRequest(endpoint, headers, body)
