"""Fusion of location fixes: outliers rejected, accuracy never better than the evidence."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldpunch.geo.distance import haversine_m
from fieldpunch.geo.fusion import ACCURACY_FLOOR_M, POOR_ACCURACY_M, Fix, Fused, fuse

# People's Square, Shanghai.
LAT, LON = 31.2304, 121.4737
M_PER_DEG = math.radians(1.0) * 6371008.8


def at(north_m: float, east_m: float, accuracy_m: float, source: str) -> Fix:
    """A fix `north_m` / `east_m` metres from the reference point."""
    return Fix(
        LAT + north_m / M_PER_DEG,
        LON + east_m / (M_PER_DEG * math.cos(math.radians(LAT))),
        accuracy_m,
        source,
    )


def test_a_wrong_network_fix_is_rejected_and_the_accuracy_stays_honest() -> None:
    gps = at(0, 0, 10, "gps")
    fused = fuse([gps, at(12, -9, 25, "wifi"), at(2000, 300, 50, "network")])
    assert fused.used == ("gps", "wifi")
    assert fused.rejected == ("network",)
    assert haversine_m(fused.lat, fused.lon, gps.lat, gps.lon) < 5
    # Two phone sources cannot make the answer much better than GPS alone.
    assert 7 <= fused.accuracy_m <= 10


def test_two_agreeing_fixes_are_combined_towards_the_more_accurate() -> None:
    gps, network = at(0, 0, 10, "gps"), at(8, 0, 20, "network")
    fused = fuse([network, gps])
    assert fused.used == ("network", "gps")
    assert fused.rejected == ()
    to_gps = haversine_m(fused.lat, fused.lon, gps.lat, gps.lon)
    to_network = haversine_m(fused.lat, fused.lon, network.lat, network.lon)
    assert 0 < to_gps < to_network
    assert to_gps == pytest.approx(8 * 0.2, rel=1e-3)  # weights 1/100 : 1/400
    assert 7 <= fused.accuracy_m <= 10


@pytest.mark.parametrize("gps_first", [True, False])
def test_two_disagreeing_fixes_keep_the_more_accurate(gps_first: bool) -> None:
    gps, network = at(0, 0, 10, "gps"), at(500, 0, 30, "network")
    fused = fuse([gps, network] if gps_first else [network, gps])
    assert fused.used == ("gps",)
    assert fused.rejected == ("network",)
    assert (fused.lat, fused.lon, fused.accuracy_m) == (gps.lat, gps.lon, 10)


def test_fixes_that_disagree_more_than_they_claim_widen_the_accuracy() -> None:
    # 40 m apart with 10 m each: consistent enough to keep (2.8 sigma), but the fused
    # position cannot be claimed to 7 m when the evidence is spread over 40 m.
    fused = fuse([at(0, 0, 10, "gps"), at(40, 0, 10, "wifi")])
    assert fused.rejected == ()
    assert fused.accuracy_m == pytest.approx(20, rel=1e-3)


def test_a_basement_fix_alone_is_returned_as_it_is() -> None:
    fix = at(0, 0, 800, "network")
    assert fuse([fix]) == Fused(fix.lat, fix.lon, 800.0, ("network",), ())


def test_accuracy_never_below_the_floor() -> None:
    assert fuse([at(0, 0, 0.5, "gps")]).accuracy_m == ACCURACY_FLOOR_M
    many = fuse([at(0, 0, 1, "gps"), at(0.5, 0, 1, "fused"), at(0, 0.5, 2, "wifi")])
    assert many.accuracy_m >= ACCURACY_FLOOR_M


@pytest.mark.parametrize("bad", [0.0, -5.0, math.nan, math.inf])
def test_a_nonsense_accuracy_is_treated_as_very_poor(bad: float) -> None:
    alone = fuse([at(0, 0, bad, "cell")])
    assert alone.accuracy_m == POOR_ACCURACY_M
    gps = at(0, 0, 10, "gps")
    fused = fuse([gps, at(300, 0, bad, "cell")])
    assert fused.used == ("gps", "cell")
    assert haversine_m(fused.lat, fused.lon, gps.lat, gps.lon) < 0.01


def test_a_fix_without_coordinates_is_rejected() -> None:
    fused = fuse([Fix(math.nan, LON, 5, "network"), at(0, 0, 10, "gps")])
    assert fused.used == ("gps",)
    assert fused.rejected == ("network",)
    with pytest.raises(ValueError):
        fuse([Fix(LAT, math.inf, 5, "gps")])


def test_empty_is_an_error() -> None:
    with pytest.raises(ValueError):
        fuse([])


def test_fixes_across_the_antimeridian() -> None:
    fused = fuse([Fix(0.0, 179.9999, 10, "gps"), Fix(0.0, -179.9999, 10, "wifi")])
    assert fused.rejected == ()
    assert -180 <= fused.lon < 180
    assert haversine_m(fused.lat, fused.lon, 0.0, 180.0) < 0.01


def test_a_confident_outlier_does_not_outvote_the_others() -> None:
    # Leave-one-out residuals: a 5 m fix 600 m away from three agreeing fixes is the outlier,
    # even though it would pull a mean that included it onto itself.
    fused = fuse(
        [
            at(600, 0, 5, "gps"),
            at(0, 0, 60, "wifi"),
            at(10, 5, 80, "network"),
            at(-5, 5, 70, "cell"),
        ]
    )
    assert fused.rejected == ("gps",)
    assert fused.used == ("wifi", "network", "cell")


SOURCES = st.sampled_from(["gps", "network", "fused", "wifi", "cell"])
FIXES = st.lists(
    st.builds(
        at,
        st.floats(-3000, 3000),
        st.floats(-3000, 3000),
        st.one_of(st.floats(0.1, 5000), st.sampled_from([0.0, -1.0, math.nan])),
        SOURCES,
    ),
    min_size=1,
    max_size=7,
)


@given(FIXES, st.data())
def test_order_does_not_matter(fixes: list[Fix], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(fixes))
    a, b = fuse(fixes), fuse(shuffled)
    assert (a.lat, a.lon, a.accuracy_m) == (b.lat, b.lon, b.accuracy_m)
    assert sorted(a.used) == sorted(b.used)
    assert sorted(a.rejected) == sorted(b.rejected)


@given(FIXES)
def test_accuracy_is_never_better_than_the_evidence(fixes: list[Fix]) -> None:
    fused = fuse(fixes)
    assert len(fused.used) >= 1
    assert len(fused.used) + len(fused.rejected) == len(fixes)
    assert fused.accuracy_m >= ACCURACY_FLOOR_M
    best = min(
        (f.accuracy_m for f in fixes if math.isfinite(f.accuracy_m) and f.accuracy_m > 0),
        default=POOR_ACCURACY_M,
    )
    assert fused.accuracy_m >= 0.7 * best - 1e-9
    # The answer lies within the cloud of fixes it was made from.
    assert min(haversine_m(fused.lat, fused.lon, f.lat, f.lon) for f in fixes) < 8500
