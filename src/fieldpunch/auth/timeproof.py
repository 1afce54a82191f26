"""Time anchors: the server vouches for "now" so a phone's later claims can be dated.

`GET /time` gives `{now, token}`; the token is an HMAC over the org, the person and `now`.
A punch made later (even offline) carries the anchor plus the phone's monotonic clock then and
at capture; trusted time = anchor + elapsed, which changing the phone's wall clock cannot move.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

_PURPOSE = b"fieldpunch/time-anchor/v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _message(org_id: str, user_id: str, at: datetime) -> bytes:
    return f"{org_id}|{user_id}|{at.isoformat(timespec='milliseconds')}".encode()


def make(secret: str, org_id: str, user_id: str, at: datetime) -> str:
    mac = hmac.new(_key(secret), _message(org_id, user_id, at), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def valid(secret: str, org_id: str, user_id: str, at: datetime, token: str) -> bool:
    return hmac.compare_digest(make(secret, org_id, user_id, at).encode(), token.encode())
