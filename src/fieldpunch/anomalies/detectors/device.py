"""What the phone says about itself: a simulated location, no enrolled device, a phone shared by
several people, and a Wi-Fi scan that saw none of the place's registered networks.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors.shared import PersonState, enabled, found, measured
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy


def mock_location(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The OS itself says the position was simulated."""
    rule = "mock_location"
    if not enabled(policy, rule) or not measured(punch) or not punch.mock:
        return state, []
    return state, found(
        policy,
        rule,
        "The phone reported a simulated location (a mock-location app or developer setting).",
        mock=True,
        device_id=punch.device_id,
        lat=punch.lat,
        lon=punch.lon,
    )


def unknown_device(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """No enrolled device: nothing ties the punch to this person's phone."""
    rule = "unknown_device"
    if not enabled(policy, rule) or not measured(punch) or punch.device_id is not None:
        return state, []
    return state, found(
        policy,
        rule,
        "The punch came from no enrolled device, so nothing ties it to this person's phone.",
        device_id=None,
    )


def shared_device(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """One phone, several people: the classic buddy punch (a colleague punches for you)."""
    rule = "shared_device"
    if (
        not enabled(policy, rule)
        or not measured(punch)
        or punch.device_id is None
        or not punch.device_other_users
    ):
        return state, []
    others = sorted(set(punch.device_other_users) - {punch.user_id})
    if not others:
        return state, []
    who = "1 other person" if len(others) == 1 else f"{len(others)} other people"
    return state, found(
        policy,
        rule,
        f"This phone was also used by {who} in the last {policy.shared_device_days} days: "
        "possible buddy punching.",
        device_id=punch.device_id,
        other_user_ids=others,
        days=policy.shared_device_days,
    )


def wifi_mismatch(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The place's Wi-Fi is registered and the phone scanned, yet saw none of it.

    An empty scan is no evidence: iOS gives apps no scan at all.
    """
    rule = "wifi_mismatch"
    if (
        not enabled(policy, rule)
        or not measured(punch)
        or not punch.wifi_registered
        or not punch.wifi_seen
    ):
        return state, []
    registered = {_bssid(b) for b in punch.wifi_registered}
    seen = {_bssid(b) for b in punch.wifi_seen}
    if registered & seen:
        return state, []
    return state, found(
        policy,
        rule,
        f"The phone saw {len(seen)} Wi-Fi network(s) but none of the {len(registered)} "
        "registered at this place.",
        fence_id=punch.fence_id,
        registered_bssids=sorted(registered),
        seen_bssids=sorted(seen),
    )


def _bssid(b: str) -> str:
    return b.strip().lower().replace("-", ":")
