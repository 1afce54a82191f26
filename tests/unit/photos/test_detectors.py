"""photo_reused and photo_exif_mismatch on plain facts: thresholds, reasons, absent EXIF."""

from __future__ import annotations

from typing import Any

from tests.unit.anomalies.tracks import OFFICE, XUJIAHUI, findings, punch
from tests.unit.photos.facts import exif, near, photo


def _found(
    photo_facts: dict[str, Any] | None, *layers: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    """rule → evidence of the findings on one punch at 09:00 at the office citing the photo."""
    fs = findings([punch("x", photo=photo_facts, **kw)], *layers)["x"]
    return {f.rule: {"detail": f.detail, **f.evidence} for f in fs if f.rule.startswith("photo")}


def test_no_photo_and_an_unknown_photo_are_nothing() -> None:
    assert _found(None) == {}
    assert _found({"id": "pho-x", "found": False}) == {}


def test_reuse_is_judged_against_the_policys_threshold() -> None:
    assert "photo_reused" in _found(photo(reuse=near(6)))
    assert _found(photo(reuse=near(7))) == {}
    assert "photo_reused" in _found(photo(reuse=near(7)), {"photo_reuse_max_distance": 7})
    assert (
        _found(photo(reuse=near(0)), {"photo_reuse_max_distance": 0})["photo_reused"][
            "distance_bits"
        ]
        == 0
    )
    ev = _found(photo(reuse=near(3)))["photo_reused"]
    assert ev["reason"] == "similar_photo"
    assert (ev["earlier_photo_id"], ev["earlier_punch_id"], ev["earlier_visit_id"]) == (
        "pho-0",
        "p-old",
        "v-old",
    )
    assert "3 of 64 bits differ" in ev["detail"]


def test_a_photo_already_cited_or_taken_by_someone_else_is_reused() -> None:
    cited = {"punch_id": "p-1", "user_id": "u-li-lei", "visit_id": None, "customer_id": None}
    ev = _found(photo(cited_by=cited))["photo_reused"]
    assert (ev["reason"], ev["earlier_punch_id"], ev["earlier_photo_id"]) == (
        "same_photo",
        "p-1",
        "pho-1",
    )
    assert _found(photo(user_id="u-han-mei"))["photo_reused"]["reason"] == "another_persons_photo"


def test_exif_time_with_offset_against_the_trusted_time() -> None:
    assert _found(photo(exif=exif("2026-03-02T08:40:00+08:00"))) == {}  # 20 min: within 30
    ev = _found(photo(exif=exif("2026-03-02T08:20:00+08:00")))["photo_exif_mismatch"]
    assert (ev["skew_s"], ev["exif_offset_known"], ev["exif_position"]) == (-2400, True, "absent")
    assert ev["detail"] == "The photo's own EXIF says it was taken 40 min before the punch."
    assert (
        _found(photo(exif=exif("2026-03-02T08:20:00+08:00")), {"photo_exif_max_skew_min": 45}) == {}
    )


def test_exif_time_without_offset_is_the_orgs_wall_clock() -> None:
    assert _found(photo(exif=exif("2026-03-02T09:05:00"))) == {}
    ev = _found(photo(exif=exif("2026-03-02T01:00:00")))["photo_exif_mismatch"]  # UTC's clock
    assert (ev["skew_s"], ev["exif_offset_known"]) == (-8 * 3600, False)


def test_exif_position_against_the_punch_with_its_accuracy() -> None:
    assert _found(photo(exif=exif(where=OFFICE))) == {}
    ev = _found(photo(exif=exif(where=XUJIAHUI)))["photo_exif_mismatch"]
    assert ev["distance_m"] > 5000 and ev["exif_time"] == "absent"
    assert "km from where the punch was made" in ev["detail"]
    # 600 m off: beyond 500 m + a 15 m fix, within 500 m + a 150 m (capped) fix.
    off = (OFFICE[0] + 600 / 111_195, OFFICE[1])
    assert "photo_exif_mismatch" in _found(photo(exif=exif(where=off)))
    assert _found(photo(exif=exif(where=off)), acc=400) == {}


def test_time_and_place_both_wrong_make_one_finding() -> None:
    ev = _found(photo(exif=exif("2026-03-01T09:00:00+08:00", XUJIAHUI)))["photo_exif_mismatch"]
    assert " and taken " in ev["detail"] and ev["skew_s"] == -86400


def test_no_exif_or_a_correction_is_no_finding() -> None:
    assert _found(photo()) == {}
    old = photo(exif=exif("2026-03-01T09:00:00+08:00", XUJIAHUI))
    assert "photo_exif_mismatch" not in _found(old, source="correction")
