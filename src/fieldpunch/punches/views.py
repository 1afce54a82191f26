"""Stored punch → API answer, in the CRS the caller asked for."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fieldpunch.geo.crs import CRS, from_wgs84
from fieldpunch.punches.schemas import FusedLocationOut, LedgerOut, MatchOut, PunchOut


def _match(ref: str | None, distance: float | None, names: dict[str, str]) -> MatchOut | None:
    if ref is None:
        return None
    return MatchOut(
        id=ref, name=names.get(ref) or "", distance_m=distance if distance is not None else -1.0
    )


def in_crs(out: PunchOut, crs: CRS) -> PunchOut:
    """The same answer with its location expressed in `crs` (answers are built in WGS-84)."""
    if crs is CRS.wgs84 or out.location.crs is not CRS.wgs84:
        return out
    lon, lat = from_wgs84(out.location.lon, out.location.lat, crs)
    location = out.location.model_copy(
        update={"lat": round(lat, 7), "lon": round(lon, 7), "crs": crs}
    )
    return out.model_copy(update={"location": location})


def to_out(row: Any, crs: CRS, names: dict[str, str]) -> PunchOut:
    """`row` is a Punch or anything with its attributes."""
    lon, lat = from_wgs84(row.lon, row.lat, crs)
    place = _match(row.place_id, row.distance_m, names)
    customer = _match(row.customer_id, row.distance_m if row.place_id is None else None, names)
    return PunchOut(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        kind=row.kind,
        status=row.status,
        source=row.source,
        captured_at=row.captured_at.astimezone(UTC),  # one form, first answer or replay
        received_at=row.received_at,
        trusted_time=row.trusted_time,
        time_source=row.time_source,
        location=FusedLocationOut(
            lat=round(lat, 7),
            lon=round(lon, 7),
            crs=crs,
            accuracy_m=round(row.accuracy_m, 1),
            sources=row.fusion.get("used", []),
            rejected=row.fusion.get("rejected", []),
        ),
        place=place,
        customer=customer,
        visit_id=row.visit_id,
        note=row.note,
        photo_id=row.photo_id,
        offline=row.offline,
        device_id=row.device_id,
        signature_ok=row.signature_ok,
        anomalies=row.anomalies,
        ledger=LedgerOut(seq=row.seq, hash=row.hash),
    )
