"""The registry and its fold: every rule on, off and at any severity; rules independent of
each other; findings independent of arrival order and of anything older than MEMORY.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldpunch.anomalies.detectors import (
    DETECTORS,
    MEMORY,
    REGISTRY,
    PersonState,
    assess,
    step,
)
from fieldpunch.anomalies.detectors.sequence import duplicate, sequence
from fieldpunch.anomalies.detectors.visits import visit_out_far, visit_too_short, visit_unpaired
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import RULES, resolve
from tests.unit.anomalies.tracks import (
    BEIJING,
    CENTRE_HIT,
    OFFICE_WIFI,
    REPLAYED,
    SH,
    SHIFT,
    a_day,
    findings,
    flagged,
    in_order,
    local,
    policy_of,
    punch,
    tracks,
)
from tests.unit.photos.facts import OLD_PHOTO, SIMILAR_PHOTO

# every rule: on, off, severity -----------------------------------------------------------------

# A track that trips each rule on its last punch, with the layer the rule needs (if any).
TRIGGERS: dict[str, tuple[list[PunchFacts], dict[str, Any]]] = {
    "outside_geofence": ([punch("x", fence_distance_m=900.0)], {}),
    "low_accuracy": ([punch("x", acc=800)], {}),
    "impossible_speed": ([punch("a"), punch("x", "visit_in", "09:08", BEIJING)], {}),
    "clock_skew": ([punch("x", captured_at=local("09:12"))], {}),
    "stale_offline": ([punch("x", time_source="proof", received_at=local("09:00", 2))], {}),
    "mock_location": ([punch("x", mock=True)], {}),
    "unknown_device": ([punch("x", device_id=None)], {"unknown_device": {"enabled": True}}),
    "shared_device": ([punch("x", device_other_users=("u-han",))], {}),
    "wifi_mismatch": (
        [punch("x", wifi_registered=OFFICE_WIFI, wifi_seen=("f0:9f:c2:10:aa:01",))],
        {},
    ),
    "duplicate": ([punch("a"), punch("x", at="09:01")], {}),
    "off_schedule": ([punch("x", at="10:00", shift=SHIFT)], {}),
    "too_perfect": (
        [punch("x", raw_lat=REPLAYED[0], raw_lon=REPLAYED[1], identical_coords_elsewhere=2)],
        {},
    ),
    "sequence": ([punch("x", "clock_out", "18:00")], {}),
    "chosen_location": (
        [punch("x", raw_lat=31.2417123, raw_lon=121.4953456, stored_point=dict(CENTRE_HIT))],
        {},
    ),
    "visit_out_far": ([punch("x", "visit_out", "10:00", fence_distance_m=2000.0)], {}),
    "visit_too_short": ([punch("a", "visit_in", "10:00"), punch("x", "visit_out", "10:02")], {}),
    "visit_unpaired": ([punch("x", "visit_out", "10:40")], {}),
    "photo_reused": ([punch("x", photo=SIMILAR_PHOTO)], {}),
    "photo_exif_mismatch": ([punch("x", photo=OLD_PHOTO)], {}),
    "field_evidence_missing": (
        [punch("x", fence_distance_m=900.0, missing_required=("photo",))],
        {},
    ),
}


def test_every_rule_has_a_detector_and_a_trigger() -> None:
    assert sorted(d.__name__ for d in DETECTORS) == sorted(RULES) == sorted(TRIGGERS)


def test_the_registry_names_each_detector_by_its_rule_in_run_order() -> None:
    assert [d.__name__ for d in REGISTRY.values()] == list(REGISTRY)
    assert tuple(REGISTRY.values()) == DETECTORS


@pytest.mark.parametrize("rule", RULES)
def test_rule_fires_only_when_enabled(rule: str) -> None:
    track, rules = TRIGGERS[rule]
    assert "x" in flagged(track, rule, {"rules": rules})
    off = {**rules, rule: {"enabled": False}}
    assert flagged(track, rule, {"rules": off}) == {}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("severity", ["info", "warning", "critical"])
def test_severity_override_applies(rule: str, severity: str) -> None:
    track, rules = TRIGGERS[rule]
    team = {"rules": {**rules, rule: {**rules.get(rule, {}), "severity": severity}}}
    assert flagged(track, rule, {}, team)["x"] == severity


def _everything() -> list[PunchFacts]:
    """Every trigger, days apart so they do not interact, plus an honest day."""
    return [
        replace(
            p,
            id=f"{rule}-{p.id}",
            trusted_time=p.trusted_time + timedelta(days=3 + n),
            captured_at=p.captured_at + timedelta(days=3 + n),
            received_at=p.received_at + timedelta(days=3 + n),
        )
        for n, (rule, (t, _)) in enumerate(TRIGGERS.items())
        for p in t
    ] + a_day()


def test_disabling_a_rule_changes_no_other_rule() -> None:
    track = _everything()
    everything = {"rules": {"unknown_device": {"enabled": True}}}
    base = findings(track, everything)
    for rule in RULES:
        off = findings(track, everything, {"rules": {rule: {"enabled": False}}})
        expect = {pid: [f for f in fs if f.rule != rule] for pid, fs in base.items()}
        assert off == expect, rule


# the registry, a whole day, and the engine's guarantees ------------------------------------


def test_an_honest_day_has_no_findings_beyond_the_basement() -> None:
    found = {pid: [f.rule for f in fs] for pid, fs in findings(a_day()).items()}
    assert found == {f"d{i}": (["low_accuracy"] if i == 3 else []) for i in range(8)}


def test_evidence_is_plain_json() -> None:
    for found in findings(_everything()).values():
        for f in found:
            json.dumps(f.evidence, allow_nan=False)
            assert f.detail and f.detail[0].isupper()


def test_detectors_only_read_state_from_before_the_punch() -> None:
    """Threading state through DETECTORS equals giving each the state from before the punch."""
    track = sorted(
        [
            *a_day(),
            punch("z1", at="09:00", day=1),
            punch("z2", at="09:02", day=1),
            punch("z3", "clock_out", "18:00", day=2),
            punch("z4", "visit_out", "10:00", day=2),
        ],
        key=lambda p: p.trusted_time,
    )
    policy = resolve()
    state = PersonState()
    for p in track:
        after, found = step(state, p, policy, SH)
        alone = [f for d in DETECTORS for f in d(state, p, policy, SH)[1]]
        assert alone == found
        state = after


def test_sequence_runs_before_duplicate() -> None:
    assert DETECTORS.index(sequence) < DETECTORS.index(duplicate)


def test_visit_rules_read_the_visit_in_before_it_is_closed() -> None:
    closer = DETECTORS.index(visit_unpaired)
    assert DETECTORS.index(visit_out_far) < closer < DETECTORS.index(duplicate)
    assert DETECTORS.index(visit_too_short) < closer


def test_assess_refuses_mixed_people_and_repeated_ids() -> None:
    policy = resolve()
    with pytest.raises(ValueError, match="unique"):
        assess([punch("a"), punch("a", at="10:00")], lambda _: policy, SH)
    with pytest.raises(ValueError, match="one person"):
        assess([punch("a"), punch("b", user_id="u-han")], lambda _: policy, SH)


def test_assess_continues_from_a_start_state() -> None:
    policy = resolve()
    opened, _ = step(PersonState(), punch("in", at="09:00"), policy, SH)
    out = assess([punch("out", "clock_out", "18:00")], lambda _: policy, SH, start=opened)
    assert out == {"out": []}


# out-of-order arrival ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(tracks(), st.data())
def test_any_arrival_order_gives_the_same_findings(
    track: list[PunchFacts], data: st.DataObject
) -> None:
    arrival = data.draw(st.permutations(track))
    assert assess(arrival, policy_of, SH) == in_order(track)


@settings(max_examples=40, deadline=None)
@given(tracks(), st.data())
def test_incremental_recompute_ends_like_in_order_arrival(
    track: list[PunchFacts], data: st.DataObject
) -> None:
    """The service re-runs assess as each punch lands; the last word must match in-order arrival."""
    arrival = data.draw(st.permutations(track))
    stored: dict[str, list[Finding]] = {}
    known: list[PunchFacts] = []
    for p in arrival:
        known.append(p)
        stored.update(assess(known, policy_of, SH))
    assert stored == in_order(track)


@settings(max_examples=40, deadline=None)
@given(tracks(), st.data())
def test_recomputing_only_from_the_late_punch_on_is_enough(
    track: list[PunchFacts], data: st.DataObject
) -> None:
    """Punches before a late arrival keep their findings: recompute from it, starting from state."""
    arrival = data.draw(st.permutations(track))
    stored: dict[str, list[Finding]] = {}
    known: list[PunchFacts] = []
    for p in arrival:
        known = sorted([*known, p], key=lambda q: (q.trusted_time, q.id))
        cut = known.index(p)
        state = PersonState()
        for q in known[:cut]:
            state, _ = step(state, q, policy_of(q), SH)
        stored.update(assess(known[cut:], policy_of, SH, start=state))
    assert stored == in_order(track)


@settings(max_examples=60, deadline=None)
@given(tracks(days=7))
def test_a_window_of_memory_judges_like_the_whole_history(track: list[PunchFacts]) -> None:
    """No detector looks back further than MEMORY: a fold started that far back is enough."""
    whole = in_order(track)
    for p in track:
        since = [q for q in track if q.trusted_time >= p.trusted_time - MEMORY]
        assert assess(since, policy_of, SH)[p.id] == whole[p.id]
