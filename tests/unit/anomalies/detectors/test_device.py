"""Device rules: a simulated location, no enrolled device, a shared phone, the Wi-Fi scan."""

from __future__ import annotations

from typing import Any

import pytest

from fieldpunch.anomalies.facts import PunchFacts
from tests.unit.anomalies.tracks import OFFICE_WIFI, flagged, punch, the

# mock_location, unknown_device, shared_device ----------------------------------------------------

DEVICE = [
    pytest.param([punch("a", mock=True)], "mock_location", {}, {"a": "critical"}, id="mock"),
    pytest.param([punch("a")], "mock_location", {}, {}, id="real fix"),
    pytest.param(
        [punch("a", mock=True, source="correction")], "mock_location", {}, {}, id="mock correction"
    ),
    pytest.param(
        [punch("a", device_id=None)], "unknown_device", {}, {}, id="unknown device off by default"
    ),
    pytest.param(
        [punch("a", device_id=None)],
        "unknown_device",
        {"rules": {"unknown_device": {"enabled": True}}},
        {"a": "warning"},
        id="unknown device when enabled",
    ),
    pytest.param(
        [punch("a")],
        "unknown_device",
        {"rules": {"unknown_device": {"enabled": True}}},
        {},
        id="enrolled device",
    ),
    pytest.param(
        [punch("a", device_other_users=("u-han-meimei",))],
        "shared_device",
        {},
        {"a": "warning"},
        id="buddy punching from a colleague's phone",
    ),
    pytest.param([punch("a")], "shared_device", {}, {}, id="own phone"),
    pytest.param(
        [punch("a", device_other_users=("u-li-lei",))],
        "shared_device",
        {},
        {},
        id="only this person on the device",
    ),
]


@pytest.mark.parametrize(("track", "rule", "layer", "expected"), DEVICE)
def test_device_rules(
    track: list[PunchFacts], rule: str, layer: dict[str, Any], expected: dict[str, str]
) -> None:
    assert flagged(track, rule, layer) == expected


def test_shared_device_names_the_others() -> None:
    p = punch("a", device_other_users=("u-wang", "u-han", "u-wang"))
    f = the([p], "shared_device", "a")
    assert f.evidence["other_user_ids"] == ["u-han", "u-wang"]
    assert "2 other people" in f.detail


# wifi_mismatch -----------------------------------------------------------------------------------

WIFI = [
    pytest.param(
        [
            punch(
                "a",
                wifi_registered=OFFICE_WIFI,
                wifi_seen=("a4:5e:60:c1:22:02", "00:11:22:33:44:55"),
            )
        ],
        {},
        id="office AP seen",
    ),
    pytest.param(
        [punch("a", wifi_registered=OFFICE_WIFI, wifi_seen=("A4-5E-60-C1-22-01",))],
        {},
        id="same AP written differently",
    ),
    pytest.param(
        [punch("a", wifi_registered=OFFICE_WIFI, wifi_seen=("f0:9f:c2:10:aa:01",))],
        {"a": "warning"},
        id="scanned at home",
    ),
    pytest.param([punch("a", wifi_registered=OFFICE_WIFI)], {}, id="iPhone: no scan at all"),
    pytest.param([punch("a", wifi_seen=("f0:9f:c2:10:aa:01",))], {}, id="place has no Wi-Fi"),
    pytest.param(
        [
            punch(
                "a",
                source="correction",
                wifi_registered=OFFICE_WIFI,
                wifi_seen=("f0:9f:c2:10:aa:01",),
            )
        ],
        {},
        id="correction",
    ),
]


@pytest.mark.parametrize(("track", "expected"), WIFI)
def test_wifi_mismatch(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "wifi_mismatch") == expected
