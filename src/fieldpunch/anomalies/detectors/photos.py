"""Photo evidence: a photo reused from earlier (`photo_reused`) and a photo whose own EXIF
contradicts its punch (`photo_exif_mismatch`). Stateless: each judges the punch's photo alone.

Where the facts come from (photos/evidence.py): a punch cites its photo by id, and that id is
the server's answer to the upload, so the photo is always stored before its punch arrives, an
offline queue included (the field app uploads a queued photo, then signs and sends its punch).
The upload reads the EXIF and the pHash and finds the nearest earlier photo of the org; the
punch's intake reads that photo row into `PunchFacts.photo`. Both findings are judged here
against the punch's trusted time and position, and re-judged from the stored facts whenever
the person's window is folded again, like every other rule.

Judgement calls:

* "Earlier" is earlier upload: a photo is compared with the org's photos uploaded before it,
  over `photo_reuse_days`; the nearest within `photo_reuse_max_distance` bits is named. A
  photo cited by an earlier punch, or uploaded by someone else, is reused outright.
* A photo without EXIF is ordinary (browsers drop it when the field app shrinks the photo):
  no finding, and the evidence of a finding says which part was absent.
* An EXIF time without an offset is the camera's wall clock: read in the org's zone.
* Corrections carry an approved time, not a measured one: their EXIF is not compared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors.shared import PersonState, duration, enabled, found, measured
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy
from fieldpunch.geo.distance import haversine_m


def _reuse(photo: dict[str, Any], punch: PunchFacts, policy: Policy) -> tuple[str, str] | None:
    """(reason, detail) when the punch's photo was used before, else None."""
    cited = photo.get("cited_by")
    if cited:
        return "same_photo", f"The same photo was already sent with punch {cited['punch_id']}."
    taker = photo.get("user_id")
    if taker and taker != punch.user_id:
        return "another_persons_photo", "The photo was uploaded by another person."
    near = photo.get("reuse")
    if near and near.get("photo_id") and near["distance"] <= policy.photo_reuse_max_distance:
        same = "the same picture" if near["distance"] == 0 else "nearly the same picture"
        return "similar_photo", (
            f"The photo is {same} as photo {near['photo_id']} uploaded on "
            f"{near['created_at'][:10]} ({near['distance']} of 64 bits differ; at most "
            f"{policy.photo_reuse_max_distance} count as reused)."
        )
    return None


def photo_reused(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The punch's photo is close to one already stored in the org, or was used before."""
    rule = "photo_reused"
    photo = punch.photo
    if not photo or not photo.get("found") or not enabled(policy, rule):
        return state, []
    judged = _reuse(photo, punch, policy)
    if judged is None:
        return state, []
    reason, detail = judged
    near = photo.get("reuse") or {}
    cited = photo.get("cited_by") or {}
    return state, found(
        policy,
        rule,
        detail,
        reason=reason,
        photo_id=photo["id"],
        uploaded_by=photo.get("user_id"),
        earlier_photo_id=near.get("photo_id") if reason == "similar_photo" else photo["id"],
        distance_bits=near.get("distance") if reason == "similar_photo" else None,
        max_distance_bits=policy.photo_reuse_max_distance,
        earlier_punch_id=cited.get("punch_id") or near.get("punch_id"),
        earlier_visit_id=cited.get("visit_id") or near.get("visit_id"),
        earlier_user_id=cited.get("user_id") or near.get("user_id"),
    )


def _taken(text: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    """The EXIF time, aware, and whether the camera wrote its offset (else read in `tz`)."""
    t = datetime.fromisoformat(text)
    return (t, True) if t.tzinfo is not None else (t.replace(tzinfo=tz), False)


def photo_exif_mismatch(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The photo's EXIF time or GPS position far from the punch's trusted time or position."""
    rule = "photo_exif_mismatch"
    photo = punch.photo
    exif = (photo or {}).get("exif")
    if not exif or not exif.get("present") or not measured(punch) or not enabled(policy, rule):
        return state, []
    problems: list[str] = []
    evidence: dict[str, Any] = {"photo_id": photo["id"] if photo else None}
    if exif.get("taken_at"):
        taken, offset_known = _taken(exif["taken_at"], tz)
        skew = (taken - punch.trusted_time).total_seconds()
        evidence.update(
            exif_time=exif["taken_at"],
            exif_offset_known=offset_known,
            trusted_time=punch.trusted_time.isoformat(),
            skew_s=round(skew),
            max_skew_min=policy.photo_exif_max_skew_min,
        )
        if abs(skew) > policy.photo_exif_max_skew_min * 60:
            when = "before" if skew < 0 else "after"
            problems.append(f"taken {duration(skew)} {when} the punch")
    else:
        evidence["exif_time"] = "absent"
    if exif.get("lat") is not None and exif.get("lon") is not None:
        apart = haversine_m(exif["lat"], exif["lon"], punch.lat, punch.lon)
        tolerance = policy.photo_exif_max_distance_m + min(
            punch.accuracy_m, policy.geofence_tolerance_max_m
        )
        evidence.update(
            exif_lat=exif["lat"],
            exif_lon=exif["lon"],
            distance_m=round(apart, 1),
            tolerance_m=round(tolerance, 1),
        )
        if apart > tolerance:
            far = f"{apart / 1000:.1f} km" if apart >= 1000 else f"{apart:.0f} m"
            problems.append(f"taken {far} from where the punch was made")
    else:
        evidence["exif_position"] = "absent"
    if not problems:
        return state, []
    detail = "The photo's own EXIF says it was " + " and ".join(problems) + "."
    return state, found(policy, rule, detail, **evidence)
