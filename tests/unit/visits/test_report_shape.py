"""The visit reports' pure parts: rates, travel time, team totals, the route, H3 cells, and when
a visit never checked out is closed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import h3

from fieldpunch.visits.reports import route as shapes
from fieldpunch.visits.reports.shape import (
    DaySpan,
    Performance,
    Tally,
    TeamFolder,
    counts,
    pct,
    travel_s,
)
from fieldpunch.visits.stale import close_after

TZ = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 11, 30, 2, tzinfo=UTC)  # 10:00 in Shanghai


def test_rates_and_averages() -> None:
    t = Tally(total=5, planned=4, done=3, planned_done=2, unplanned=1, missed=1, cancelled=1,
              on_time=1, on_time_of=2, duration_s=3600, durations=2)  # fmt: skip
    row = counts(t)
    assert row["completion_rate_pct"] == 66.67  # 2 of the 3 plans not cancelled
    assert row["on_time_rate_pct"] == 50.0
    assert (row["total_duration_min"], row["avg_duration_min"]) == (60, 30.0)
    empty = counts(Tally())
    assert empty["completion_rate_pct"] is None and empty["avg_duration_min"] is None
    assert pct(1, 0) is None and pct(1, 3) == 33.33


def test_travel_is_the_days_span_less_time_at_customers() -> None:
    days = [
        DaySpan(date(2026, 11, 30), T, T + timedelta(hours=3), 7200),  # 1 h between
        DaySpan(date(2026, 12, 1), T, T + timedelta(minutes=30), 1800),  # one visit: none
        DaySpan(date(2026, 12, 2), T, T + timedelta(hours=1), 4000),  # overlapping: not < 0
    ]
    assert travel_s(days) == 3600


def test_team_totals_sum_people_and_recompute_rates() -> None:
    folder = TeamFolder("No team")
    a = Performance(Tally(planned=2, planned_done=2, done=2), customers=2, punches=4, flagged=1)
    b = Performance(Tally(planned=2, planned_done=0, done=0), punches=4)
    folder.feed("tm1", "华东", a)
    folder.feed("tm1", "华东", b)
    folder.feed(None, None, b)
    east, none = folder.rows()
    assert east["team"] == "华东" and east["people"] == 2 and east["completion_rate_pct"] == 50.0
    assert east["anomaly_rate_pct"] == 12.5 and east["customers"] == 2
    assert none["team"] == "No team" and none["team_id"] is None


def _punch(n: int, kind: str, north_m: float, status: str = "accepted") -> shapes.RoutePunch:
    return shapes.RoutePunch(f"p{n}", kind, status, T + timedelta(minutes=10 * n),
                             31.23 + north_m / 111_320, 121.47, 10.0, "c1", "华为")  # fmt: skip


def test_route_leaves_rejected_punches_out_of_the_line() -> None:
    punches = [_punch(0, "visit_in", 0), _punch(1, "visit_out", 5000, "rejected"),
               _punch(2, "visit_out", 1000)]  # fmt: skip
    day = shapes.route("u1", "2026-11-30", punches, [], TZ)
    line, *points = day["features"]
    assert len(line["geometry"]["coordinates"]) == 2 and len(points) == 3
    assert 995 < day["distance_m"] < 1005  # 1 km north (haversine on the mean sphere)
    assert points[0]["properties"]["time"] == "2026-11-30T10:00:00+08:00"
    one = shapes.route("u1", "2026-11-30", punches[:1], [], TZ)
    assert [f["geometry"]["type"] for f in one["features"]] == ["Point"]  # no 1-point line


def test_cells_count_weights_per_h3_cell() -> None:
    counts_ = shapes.cells([(31.23, 121.47, 2), (31.2301, 121.4701, 3), (31.5, 121.9, 1)], 8)
    assert counts_ == {h3.latlng_to_cell(31.23, 121.47, 8): 5, h3.latlng_to_cell(31.5, 121.9, 8): 1}
    fc = shapes.cell_features(counts_)
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7 and fc["features"][0]["properties"]["count"] == 5


def test_a_visit_is_closed_two_hours_after_its_local_day() -> None:
    assert close_after(date(2026, 11, 30), TZ) == datetime(2026, 11, 30, 18, tzinfo=UTC)
