"""Signed bearer tokens (JWT, HS256) for people.

Both kinds die with the user's token_version. A refresh token also names its sign-in (`fam`)
and is good for one use: `auth/rotation.py` keeps the ledger of which ids were used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import jwt

from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.ids import new_id

ALGORITHM = "HS256"
Kind = Literal["access", "refresh"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    org_id: str
    kind: Kind
    version: int
    jti: str = field(default_factory=lambda: new_id("jti"))
    # The refresh family; None on access tokens and on refresh tokens issued before rotation.
    family: str | None = None


def issue(secret: str, claims: TokenClaims, ttl_s: int) -> str:
    now = utcnow()
    payload: dict[str, object] = {
        "sub": claims.user_id,
        "org": claims.org_id,
        "typ": claims.kind,
        "ver": claims.version,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
        "jti": claims.jti,
    }
    if claims.family is not None:
        payload["fam"] = claims.family
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


# Verified tokens, until they expire: a token's signature and claims never change, and every
# request of a phone carries the same one. (Whether its person may still act is the principal's
# business: token_version is checked there; a refresh token's single use is rotation's.) Only
# good tokens are kept, so junk cannot fill it.
_verified: dict[tuple[str, str, Kind], tuple[int, TokenClaims]] = {}


def read(secret: str, token: str, kind: Kind) -> TokenClaims | None:
    """The claims of a valid, unexpired token of this kind, else None."""
    key = (secret, token, kind)
    hit = _verified.get(key)
    if hit is not None:
        if hit[0] > time.time():  # PyJWT's test: expired once `exp <= now`
            return hit[1]
        del _verified[key]
    try:
        data = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "typ"]}
        )
    except jwt.PyJWTError:
        return None
    if data.get("typ") != kind or not isinstance(data.get("ver"), int):
        return None
    jti, family = data.get("jti"), data.get("fam")
    if not isinstance(jti, str) or not isinstance(family, str | None):
        return None
    claims = TokenClaims(
        user_id=str(data["sub"]),
        org_id=str(data.get("org")),
        kind=kind,
        version=data["ver"],
        jti=jti,
        family=family,
    )
    if isinstance(data["exp"], int):
        if len(_verified) >= 50_000:  # bounded: forget all rather than grow without limit
            _verified.clear()
        _verified[key] = (data["exp"], claims)
    return claims
