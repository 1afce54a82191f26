from __future__ import annotations

from datetime import datetime

from fieldpunch.kit.schemas import Out


class PhotoOut(Out):
    id: str
    user_id: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    created_at: datetime
    url: str
