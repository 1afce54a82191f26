"""A shift placed on a date in the org's time zone, and the interval arithmetic of the day.

Everything here is UTC instants; local wall-clock times become instants only through `at_local`,
so a 09:00–18:00 shift on a daylight-saving day still starts at 09:00 and ends at 18:00 local time
(and lasts 8 or 10 real hours for a night shift across the change).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from fieldpunch.attendance.values import Shift

Iv = tuple[datetime, datetime]  # [start, end), UTC
DAY = timedelta(days=1)


def at_local(d: date, t: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local `t` on `d`. A time skipped by a spring-forward change (02:30)
    resolves as zoneinfo does with fold=0: to the instant an hour later on the new clock."""
    return datetime.combine(d, t, tzinfo=tz).astimezone(UTC)


def local_day(d: date, tz: ZoneInfo) -> Iv:
    """The local calendar day [00:00, next 00:00) in UTC: 23, 24 or 25 hours long."""
    return at_local(d, time(0), tz), at_local(d + DAY, time(0), tz)


def minute(t: datetime) -> datetime:
    """Seconds dropped: punches are judged to the minute, as a sheet shows them."""
    return t.replace(second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Slot:
    """One period placed on the day, with its punch windows: in [lo, hi), out (lo, hi]."""

    start: datetime
    end: datetime
    in_window: Iv
    out_window: Iv
    breaks: tuple[Iv, ...]


def _after(d: date, t: time, tz: ZoneInfo, floor: datetime) -> datetime:
    """Local `t` on the first date from `d` on whose instant is after `floor`."""
    at = at_local(d, t, tz)
    while at <= floor:
        d += DAY
        at = at_local(d, t, tz)
    return at


def window_start(shift: Shift, d: date, tz: ZoneInfo) -> datetime:
    """When the day's first clock-in window opens: pass the next day's as `next_day_start`."""
    return at_local(d, shift.periods[0].start, tz) - timedelta(minutes=shift.earliest_in_min)


@lru_cache(maxsize=4096)  # a shift's day is the same for everyone on it: place it once
def place(shift: Shift, d: date, tz: ZoneInfo, next_day_start: datetime | None) -> tuple[Slot, ...]:
    """The shift's periods on date `d` (the day a night shift starts), each with its windows.

    The day's windows span at most 24 hours from the first window's opening, and end at
    `next_day_start` when the caller knows the next day's first window: so a clock-out the person
    forgot is never filled in by the next day's punches.
    """
    day_lo = window_start(shift, d, tz)
    day_hi = day_lo + DAY
    if next_day_start is not None:
        day_hi = min(day_hi, next_day_start)
    spans: list[Iv] = []
    floor = day_lo
    for p in shift.periods:
        start = _after(d, p.start, tz, floor - timedelta(seconds=1))
        end = _after(d, p.end, tz, start)
        spans.append((start, end))
        floor = end
    slots: list[Slot] = []
    last = len(spans) - 1
    for i, (start, end) in enumerate(spans):
        in_lo = start - timedelta(minutes=shift.earliest_in_min)
        if i > 0:
            in_lo = max(in_lo, spans[i - 1][1])
        in_hi = end
        if shift.latest_in_min is not None:
            in_hi = min(end, start + timedelta(minutes=shift.latest_in_min))
        out_lo = start
        if shift.earliest_out_min is not None:
            out_lo = max(start, end - timedelta(minutes=shift.earliest_out_min))
        out_hi = end + timedelta(minutes=shift.latest_out_min)
        if i == last:
            out_hi += timedelta(minutes=shift.flex_min)
        else:
            out_hi = min(out_hi, spans[i + 1][0])
        breaks = tuple(
            clip((b0, b1), (start, end))
            for b in shift.breaks
            for b0 in [_after(d, b.start, tz, start - timedelta(seconds=1))]
            for b1 in [_after(d, b.end, tz, b0)]
        )
        slots.append(
            Slot(
                start=start,
                end=end,
                in_window=clip((in_lo, in_hi), (day_lo, day_hi)),
                out_window=clip((out_lo, out_hi), (day_lo, day_hi)),
                breaks=tuple(b for b in breaks if b[0] < b[1]),
            )
        )
    return tuple(slots)


def halves(shift: Shift, d: date, tz: ZoneInfo) -> tuple[Iv, Iv]:
    """The morning and afternoon of a shift's day, for a half-day leave (半天假) given by date.

    With two periods, each period is a half; with a break, the halves meet across it; otherwise
    they meet at the middle. Each half takes in the gap between them, so a morning's leave runs
    until work is due again and an afternoon's starts when work stops.
    """
    slots = place(shift, d, tz, None)
    if len(slots) == 2:
        return (slots[0].start, slots[1].start), (slots[0].end, slots[1].end)
    s = slots[0]
    if s.breaks:
        b0, b1 = s.breaks[0]
        return (s.start, b1), (b0, s.end)
    middle = s.start + (s.end - s.start) / 2
    return (s.start, middle), (middle, s.end)


def clip(iv: Iv, bounds: Iv) -> Iv:
    lo, hi = max(iv[0], bounds[0]), min(iv[1], bounds[1])
    return (lo, max(lo, hi))


def merge(ivs: Iterable[Iv]) -> list[Iv]:
    out: list[Iv] = []
    for lo, hi in sorted(iv for iv in ivs if iv[0] < iv[1]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def intersect(a: Sequence[Iv], b: Sequence[Iv]) -> list[Iv]:
    return merge(
        (max(x[0], y[0]), min(x[1], y[1]))
        for x in merge(a)
        for y in merge(b)
        if max(x[0], y[0]) < min(x[1], y[1])
    )


def subtract(a: Sequence[Iv], b: Sequence[Iv]) -> list[Iv]:
    out: list[Iv] = []
    cut = merge(b)
    for lo, hi in merge(a):
        cur = lo
        for c0, c1 in cut:
            if c1 <= cur or c0 >= hi:
                continue
            if c0 > cur:
                out.append((cur, c0))
            cur = max(cur, c1)
        if cur < hi:
            out.append((cur, hi))
    return out


def minutes(ivs: Iterable[Iv]) -> int:
    return int(sum((hi - lo).total_seconds() for lo, hi in merge(ivs)) // 60)
