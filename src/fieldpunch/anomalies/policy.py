"""Anomaly policy: which rules run, how loud, and their thresholds; layered org → team → person.

Overrides are stored as partial dicts so a team changes one threshold without freezing the rest;
`resolve` merges them over the defaults into one fully specified, immutable `Policy`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Severity = Literal["info", "warning", "critical"]

RULES: tuple[str, ...] = (
    "outside_geofence",
    "low_accuracy",
    "impossible_speed",
    "clock_skew",
    "stale_offline",
    "mock_location",
    "unknown_device",
    "shared_device",
    "wifi_mismatch",
    "duplicate",
    "off_schedule",
    "too_perfect",
    "sequence",
    "chosen_location",
    "visit_out_far",
    "visit_too_short",
    "visit_unpaired",
    "photo_reused",
    "photo_exif_mismatch",
    "field_evidence_missing",
)

# Critical = near-proof of cheating; warning = a manager should look; info = context for the record.
_DEFAULT_RULES: dict[str, tuple[bool, Severity]] = {
    "outside_geofence": (True, "warning"),
    "low_accuracy": (True, "info"),
    "impossible_speed": (True, "critical"),
    "clock_skew": (True, "warning"),
    "stale_offline": (True, "warning"),
    "mock_location": (True, "critical"),
    # Off by default: orgs whose people punch from the web or unenrolled phones would drown in it.
    "unknown_device": (False, "warning"),
    "shared_device": (True, "warning"),
    "wifi_mismatch": (True, "warning"),
    "duplicate": (True, "info"),
    "off_schedule": (True, "info"),
    "too_perfect": (True, "warning"),
    "sequence": (True, "warning"),
    # Lands on a stored centre or vertex to the centimetre: picked on a map, not measured.
    "chosen_location": (True, "warning"),
    # Customer visits: left before checking out, too short to be a visit, or not paired.
    "visit_out_far": (True, "warning"),
    "visit_too_short": (True, "warning"),
    "visit_unpaired": (True, "warning"),
    # Photo evidence: a picture close to one already stored in the org, or whose own EXIF time
    # or position contradicts its punch.
    "photo_reused": (True, "warning"),
    "photo_exif_mismatch": (True, "warning"),
    # A field punch without the note or photo the org asks for: the app asks before sending,
    # another client may not. Accepted (never lost), and said.
    "field_evidence_missing": (True, "warning"),
}
assert tuple(_DEFAULT_RULES) == RULES


class RuleSetting(BaseModel):
    """Whether one rule runs and the severity its findings carry."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    enabled: bool = True
    severity: Severity


def _default_rules() -> dict[str, RuleSetting]:
    return {
        name: RuleSetting(enabled=enabled, severity=severity)
        for name, (enabled, severity) in _DEFAULT_RULES.items()
    }


class Policy(BaseModel):
    """A fully resolved policy: every rule and threshold present, so detectors never guess.

    Strict types (no "150" for 150, no true for 1) and bounded ranges, because overrides come
    from admins over HTTP and a typo must be refused, not silently coerced.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    rules: dict[str, RuleSetting] = Field(default_factory=_default_rules)
    # The fix's accuracy counts as tolerance at a geofence edge, but only up to this.
    geofence_tolerance_max_m: float = Field(default=150, ge=0, le=5_000)
    max_accuracy_m: float = Field(default=200, gt=0, le=100_000)
    # China's high-speed trains run at 350 km/h: a rep on a G-train is not teleporting.
    max_speed_kmh: float = Field(default=350, gt=0, le=5_000)
    max_clock_skew_s: int = Field(default=300, ge=0, le=7 * 86_400)
    stale_offline_h: float = Field(default=24, gt=0, le=24 * 366)
    duplicate_window_min: int = Field(default=5, ge=0, le=24 * 60)
    shared_device_days: int = Field(default=7, ge=1, le=366)
    too_perfect_days: int = Field(default=30, ge=1, le=366)
    too_perfect_min_decimals: int = Field(default=5, ge=1, le=15)
    # Network (Wi-Fi/cell) positioning snaps everyone in a building to one database point, with a
    # modest accuracy; a replayed or spoofed fix claims GPS-grade accuracy. Only those count.
    too_perfect_max_accuracy_m: float = Field(default=20, gt=0, le=100_000)
    # A customer visit shorter than this (visit_in to visit_out) is `visit_too_short`; 0: any.
    visit_min_minutes: int = Field(default=5, ge=0, le=24 * 60)
    # photo_reused: at most this many of the 64 pHash bits differ (re-encoded or rescaled copies
    # differ by 0-4; two photos of one shop front taken on different days by ~10 or more).
    photo_reuse_max_distance: int = Field(default=6, ge=0, le=16)
    # How far back an upload is compared with the org's photos (bounds the cost of the search).
    photo_reuse_days: int = Field(default=90, ge=1, le=366)
    # photo_exif_mismatch: the EXIF time this far from the punch's trusted time, or its GPS this
    # far from the punch's position (plus the punch's accuracy, capped like at a geofence edge).
    photo_exif_max_skew_min: int = Field(default=30, ge=1, le=7 * 24 * 60)
    photo_exif_max_distance_m: float = Field(default=500, gt=0, le=100_000)
    reject_critical: bool = False  # critical findings reject the punch instead of flagging it
    correction_monthly_quota: int = Field(default=3, ge=0, le=1_000)
    correction_max_age_days: int = Field(default=7, ge=0, le=366)

    @field_validator("rules")
    @classmethod
    def _every_rule(cls, rules: dict[str, RuleSetting]) -> dict[str, RuleSetting]:
        missing = [name for name in RULES if name not in rules]
        unknown = [name for name in rules if name not in _DEFAULT_RULES]
        if unknown:
            raise ValueError(f"unknown rule {unknown[0]!r}")
        if missing:
            raise ValueError(f"rule {missing[0]!r} missing")
        return {name: rules[name] for name in RULES}


_SETTINGS = frozenset(Policy.model_fields)
_RULE_SETTINGS = frozenset(RuleSetting.model_fields)
_DEFAULT_DUMP: dict[str, Any] = Policy().model_dump()


def defaults() -> Policy:
    """The built-in policy (a fresh instance: `rules` is a dict and must not be shared)."""
    return Policy()


Loc = tuple[str | int, ...]


def _say(loc: Loc, msg: str) -> str:
    return f"{'.'.join(str(p) for p in loc)}: {msg}" if loc else msg


class PolicyError(ValueError):
    """A bad override: every problem found, each with its key path (`("rules", "teleport")`).

    str() is the problems joined by "; ", each starting with its path.
    """

    def __init__(self, errors: list[tuple[Loc, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(_say(loc, msg) for loc, msg in errors))


def _check_shape(data: Any) -> None:
    """Unknown keys fail with their path: pydantic would only say `rules` for an unknown rule."""
    if not isinstance(data, dict):
        raise PolicyError([((), "policy override: must be an object")])
    errors: list[tuple[Loc, str]] = [
        ((key,), "unknown policy setting") for key in data if key not in _SETTINGS
    ]
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        errors.append((("rules",), "must be an object of rule name → setting"))
        rules = {}
    for name, setting in rules.items():
        if name not in _DEFAULT_RULES:
            errors.append((("rules", name), f"unknown rule (known: {', '.join(RULES)})"))
        elif not isinstance(setting, dict):
            errors.append((("rules", name), "must be an object with enabled and/or severity"))
        else:
            errors += [
                (("rules", name, key), "unknown rule setting")
                for key in setting
                if key not in _RULE_SETTINGS
            ]
    if errors:
        raise PolicyError(errors)


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Scalars replace; rules merge per rule and per field, so layers can touch one knob."""
    out = dict(base)
    for key, value in layer.items():
        if key == "rules":
            rules = dict(out["rules"])
            for name, setting in value.items():
                rules[name] = {**rules[name], **setting}
            out["rules"] = rules
        else:
            out[key] = value
    return out


def _validated(merged: dict[str, Any]) -> Policy:
    try:
        return Policy.model_validate(merged)
    except ValidationError as exc:
        raise PolicyError([(tuple(e["loc"]), e["msg"]) for e in exc.errors()]) from None


def resolve(*layers: dict[str, Any] | None) -> Policy:
    """Merge partial overrides, most general first (org, teams root → leaf, person), over defaults.

    A broken stored layer raises rather than being skipped: silently dropping it could switch
    rules on or off that an admin set.
    """
    merged = _DEFAULT_DUMP
    for layer in layers:
        if not layer:
            continue
        _check_shape(layer)
        merged = _merge(merged, layer)
    return _validated(merged)


def validate_override(data: dict[str, Any]) -> dict[str, Any]:
    """Check one partial override (as PUT by an admin) and return it with canonical values.

    Errors are PolicyErrors listing every problem, each with its key path (`rules.teleport`).
    Empty rule entries are dropped; numbers come back as the type the policy holds.
    """
    _check_shape(data)
    policy = _validated(_merge(_DEFAULT_DUMP, data))
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key != "rules":
            out[key] = getattr(policy, key)
            continue
        rules = {
            name: {field: getattr(policy.rules[name], field) for field in setting}
            for name, setting in value.items()
            if setting
        }
        if rules:
            out["rules"] = rules
    return out
