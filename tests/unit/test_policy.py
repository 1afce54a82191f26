"""Anomaly policy: defaults, resolution (person > team leaf > team root > org), validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from fieldpunch.anomalies.policy import (
    RULES,
    Policy,
    PolicyError,
    defaults,
    resolve,
    validate_override,
)


def test_defaults_cover_every_rule_with_sensible_severities() -> None:
    p = defaults()
    assert tuple(p.rules) == RULES
    assert p.rules["mock_location"].severity == "critical"
    assert p.rules["impossible_speed"].severity == "critical"
    assert p.rules["outside_geofence"].severity == "warning"
    assert p.rules["low_accuracy"].severity == "info"
    assert not p.rules["unknown_device"].enabled
    assert all(p.rules[r].enabled for r in RULES if r != "unknown_device")
    assert (p.max_speed_kmh, p.max_accuracy_m, p.geofence_tolerance_max_m) == (350, 200, 150)
    assert p.reject_critical is False


def test_policy_is_frozen_and_complete() -> None:
    p = defaults()
    with pytest.raises(ValidationError):
        p.max_speed_kmh = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="missing"):
        Policy(rules={"mock_location": p.rules["mock_location"]})


ORG = {
    "max_speed_kmh": 150,
    "duplicate_window_min": 3,
    "rules": {"outside_geofence": {"severity": "critical"}},
}
ROOT = {
    "max_speed_kmh": 120,
    "stale_offline_h": 12,
    "rules": {"outside_geofence": {"enabled": False}},
}
LEAF = {"max_speed_kmh": 100, "rules": {"low_accuracy": {"severity": "warning"}}}
PERSON = {"max_speed_kmh": 90, "rules": {"outside_geofence": {"enabled": True}}}

RESOLUTION = [
    # (layers, field, expected)
    ((), "max_speed_kmh", 350.0),
    ((ORG,), "max_speed_kmh", 150.0),
    ((ORG, ROOT), "max_speed_kmh", 120.0),
    ((ORG, ROOT, LEAF), "max_speed_kmh", 100.0),
    ((ORG, ROOT, LEAF, PERSON), "max_speed_kmh", 90.0),
    ((ORG, ROOT, LEAF, None), "max_speed_kmh", 100.0),
    ((ORG, {}, LEAF, {}), "max_speed_kmh", 100.0),
    ((None, ROOT, LEAF), "duplicate_window_min", 5),  # no org layer: default
    ((ORG, ROOT, LEAF, PERSON), "duplicate_window_min", 3),  # org value survives below
    ((ORG, ROOT, LEAF, PERSON), "stale_offline_h", 12.0),  # root value survives leaf and person
]


@pytest.mark.parametrize(("layers", "field", "expected"), RESOLUTION)
def test_resolution_most_specific_wins(layers: tuple[Any, ...], field: str, expected: Any) -> None:
    assert getattr(resolve(*layers), field) == expected


RULE_MERGE = [
    # (layers, rule, enabled, severity)
    ((ORG,), "outside_geofence", True, "critical"),
    ((ORG, ROOT), "outside_geofence", False, "critical"),  # root switches off, keeps org severity
    ((ORG, ROOT, LEAF), "outside_geofence", False, "critical"),
    ((ORG, ROOT, LEAF, PERSON), "outside_geofence", True, "critical"),  # person switches back on
    ((ORG, ROOT, LEAF, PERSON), "low_accuracy", True, "warning"),
    ((ORG, ROOT, LEAF, PERSON), "mock_location", True, "critical"),  # untouched: default
    (({"rules": {"unknown_device": {"enabled": True}}},), "unknown_device", True, "warning"),
]


@pytest.mark.parametrize(("layers", "rule", "enabled", "severity"), RULE_MERGE)
def test_rule_settings_merge_per_field(
    layers: tuple[Any, ...], rule: str, enabled: bool, severity: str
) -> None:
    setting = resolve(*layers).rules[rule]
    assert (setting.enabled, setting.severity) == (enabled, severity)


def test_leaf_team_beats_root_team() -> None:
    root, leaf = {"max_clock_skew_s": 600}, {"max_clock_skew_s": 60}
    assert resolve(None, root, leaf).max_clock_skew_s == 60
    assert resolve(None, leaf, root).max_clock_skew_s == 600


def test_resolve_does_not_mutate_layers_or_defaults() -> None:
    layer = {"rules": {"duplicate": {"enabled": False}}}
    resolve(layer)
    assert layer == {"rules": {"duplicate": {"enabled": False}}}
    assert defaults().rules["duplicate"].enabled


def test_resolve_rejects_a_broken_stored_layer() -> None:
    with pytest.raises(ValueError, match=r"rules\.teleport"):
        resolve({"max_speed_kmh": 100}, {"rules": {"teleport": {"enabled": True}}})


BAD_OVERRIDES = [
    ({"teleport": 1}, r"^teleport"),
    ({"rules": {"teleport": {"enabled": True}}}, r"^rules\.teleport"),
    ({"rules": {"outside_geofence": {"radius_m": 3}}}, r"^rules\.outside_geofence\.radius_m"),
    ({"rules": {"outside_geofence": {"severity": "fatal"}}}, r"^rules\.outside_geofence\.severity"),
    ({"rules": {"outside_geofence": {"enabled": "no"}}}, r"^rules\.outside_geofence\.enabled"),
    ({"rules": {"mock_location": True}}, r"^rules\.mock_location"),
    ({"rules": ["mock_location"]}, r"^rules"),
    ({"max_speed_kmh": -1}, r"^max_speed_kmh"),
    ({"max_speed_kmh": 0}, r"^max_speed_kmh"),
    ({"max_speed_kmh": "fast"}, r"^max_speed_kmh"),
    ({"max_speed_kmh": "150"}, r"^max_speed_kmh"),  # strings are not quietly coerced
    ({"max_speed_kmh": float("inf")}, r"^max_speed_kmh"),
    ({"max_speed_kmh": None}, r"^max_speed_kmh"),
    ({"max_accuracy_m": True}, r"^max_accuracy_m"),
    ({"duplicate_window_min": 2.5}, r"^duplicate_window_min"),
    ({"too_perfect_min_decimals": 0}, r"^too_perfect_min_decimals"),
    ({"shared_device_days": 0}, r"^shared_device_days"),
    ({"correction_monthly_quota": -1}, r"^correction_monthly_quota"),
    ({"reject_critical": "yes"}, r"^reject_critical"),
]


@pytest.mark.parametrize(("data", "path"), BAD_OVERRIDES)
def test_validate_override_names_the_path(data: dict[str, Any], path: str) -> None:
    with pytest.raises(ValueError, match=path):
        validate_override(data)


def test_validate_override_reports_every_problem_at_once() -> None:
    with pytest.raises(PolicyError) as shape:
        validate_override({"teleport": 1, "rules": {"x": {}, "duplicate": {"radius_m": 3}}})
    assert [loc for loc, _ in shape.value.errors] == [
        ("teleport",),
        ("rules", "x"),
        ("rules", "duplicate", "radius_m"),
    ]
    with pytest.raises(PolicyError) as values:
        validate_override({"max_speed_kmh": -1, "rules": {"sequence": {"severity": "fatal"}}})
    assert {loc for loc, _ in values.value.errors} == {
        ("max_speed_kmh",),
        ("rules", "sequence", "severity"),
    }


def test_validate_override_rejects_non_objects() -> None:
    with pytest.raises(ValueError, match="object"):
        validate_override([])  # type: ignore[arg-type]


GOOD_OVERRIDES = [
    ({}, {}),
    ({"max_speed_kmh": 150}, {"max_speed_kmh": 150.0}),
    (
        {"max_clock_skew_s": 60, "reject_critical": True},
        {"max_clock_skew_s": 60, "reject_critical": True},
    ),
    (
        {"rules": {"outside_geofence": {"enabled": False}, "duplicate": {}}},
        {"rules": {"outside_geofence": {"enabled": False}}},
    ),
    (
        {"rules": {"low_accuracy": {"severity": "warning", "enabled": True}}},
        {"rules": {"low_accuracy": {"severity": "warning", "enabled": True}}},
    ),
]


@pytest.mark.parametrize(("data", "normalised"), GOOD_OVERRIDES)
def test_validate_override_normalises(data: dict[str, Any], normalised: dict[str, Any]) -> None:
    out = validate_override(data)
    assert out == normalised
    assert {k: type(v) for k, v in out.items()} == {k: type(v) for k, v in normalised.items()}
    assert resolve(out) == resolve(data)
