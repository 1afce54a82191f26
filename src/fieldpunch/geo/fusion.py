"""Fuse several location fixes into one position with an honest accuracy.

A phone gives us several opinions about where it is: a GPS fix, the OS's network or "fused"
fix, a position derived from Wi-Fi BSSIDs or cell towers registered on our side. Each comes with
an accuracy radius, which Android and iOS define as roughly one standard deviation (68%).

How they are combined, and why:

- **Local tangent plane.** Fixes are projected to metres (equirectangular around the most accurate
  fix). Over the few kilometres that matter the error is negligible, and averaging in metres keeps
  a degree of longitude from weighing more than a degree of latitude.
- **Inverse-variance weights.** The textbook optimal combination of independent estimates. No
  accuracy better than `ACCURACY_FLOOR_M` is believed: mock-location apps love to claim 0 or 1 m,
  and such a claim must not grant one fix absolute power over the others.
- **Iterative outlier rejection.** IP- and cell-based fixes are regularly kilometres off while
  claiming 50 m. A weighted mean would be dragged towards them, so the fix least consistent with
  the *others* is dropped while its normalised residual exceeds `OUTLIER_SIGMAS`. The residual is
  leave-one-out (distance to the weighted mean of the remaining fixes, over the standard deviation
  of that difference): with the fix in its own reference mean, a confident outlier pulls the mean
  onto itself and makes the honest fixes look wrong. With two fixes that disagree nobody can
  outvote anybody, so the more accurate one is kept.
- **Honest accuracy.** `sqrt(1 / Σw)` assumes independent errors, which phone sources are not
  (the fused provider already contains GPS; Wi-Fi and network positions come from the same
  databases; all suffer the same multipath in a street canyon). The reported accuracy is therefore
  never better than any of: that formal value, the weighted RMS spread of the fixes actually used
  (if they disagree more than they claim, the spread is the evidence), 0.7 × the best single
  accuracy (correlated sources cannot shrink the error much), and a 3 m floor.

Pure functions, no I/O. Deterministic and independent of the order of the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from fieldpunch.geo.distance import EARTH_RADIUS_M

ACCURACY_FLOOR_M = 3.0
"""No fused position is claimed (or any single fix believed) to be better than this."""
POOR_ACCURACY_M = 10_000.0
"""Accuracy assumed for a fix whose reported accuracy is missing, zero, negative or not finite."""
MAX_ACCURACY_M = 10_000_000.0
"""Larger accuracies mean "somewhere on Earth" and are treated as this."""
OUTLIER_SIGMAS = 3.0
"""A fix further than this many standard deviations from the others is rejected."""
CORRELATION_FACTOR = 0.7
"""Combining correlated phone sources improves on the best one by at most ~30%."""

# Ties (equal accuracy) are broken by how direct a measurement the source is, then by content,
# so that the result never depends on the order in which the client listed its fixes.
_SOURCE_RANK = {"gps": 0, "fused": 1, "wifi": 2, "network": 3, "cell": 4}


@dataclass(frozen=True, slots=True)
class Fix:
    """One position estimate: WGS-84 degrees and a 1-sigma accuracy radius in metres."""

    lat: float
    lon: float
    accuracy_m: float
    source: str  # "gps", "network", "fused", "wifi", "cell", ...


@dataclass(frozen=True, slots=True)
class Fused:
    """The combined position, its honest accuracy, and which sources it rests on."""

    lat: float
    lon: float
    accuracy_m: float
    used: tuple[str, ...]  # sources of the fixes combined, input order
    rejected: tuple[str, ...]  # sources rejected as outliers, input order


def _sigma(accuracy_m: float) -> float:
    if not math.isfinite(accuracy_m) or accuracy_m <= 0:
        return POOR_ACCURACY_M
    # Capped at Earth scale so that the weights stay representable.
    return float(min(max(accuracy_m, ACCURACY_FLOOR_M), MAX_ACCURACY_M))


def _wrap_deg(d: float) -> float:
    """A longitude difference or value in [-180, 180); unchanged (bit for bit) when already so."""
    return d if -180.0 <= d < 180.0 else (d + 180.0) % 360.0 - 180.0


def _project(
    fixes: Sequence[Fix], idx: Sequence[int]
) -> tuple[dict[int, tuple[float, float]], float, float]:
    """Metres east and north of `fixes[idx[0]]` (equirectangular), and the two scales used."""
    origin = fixes[idx[0]]
    ky = math.radians(1.0) * EARTH_RADIUS_M
    kx = ky * max(math.cos(math.radians(origin.lat)), 1e-9)
    xy = {
        i: (_wrap_deg(fixes[i].lon - origin.lon) * kx, (fixes[i].lat - origin.lat) * ky)
        for i in idx
    }
    return xy, kx, ky


def fuse(fixes: Sequence[Fix]) -> Fused:
    """Combine `fixes` into one position; ValueError when there is nothing to combine."""
    if not fixes:
        raise ValueError("no location fix to fuse")
    # A fix without finite coordinates carries no information; it is reported as rejected.
    valid = [i for i, f in enumerate(fixes) if math.isfinite(f.lat) and math.isfinite(f.lon)]
    if not valid:
        raise ValueError("no location fix with finite coordinates")
    sigma = {i: _sigma(fixes[i].accuracy_m) for i in valid}
    # Canonical order: most accurate first. All arithmetic runs in this order, so permuting the
    # input cannot change a single bit of the result.
    order = sorted(
        valid,
        key=lambda i: (
            sigma[i],
            _SOURCE_RANK.get(fixes[i].source, len(_SOURCE_RANK)),
            fixes[i].source,
            fixes[i].lat,
            fixes[i].lon,
        ),
    )
    w = {i: 1.0 / sigma[i] ** 2 for i in order}
    active = list(order)
    while len(active) > 1:
        # Re-centred on the most credible fix still in: a rejected far-away fix must not
        # distort the plane the survivors are compared in.
        xy, _, _ = _project(fixes, active)
        sw = sum(w[i] for i in active)
        sx = sum(w[i] * xy[i][0] for i in active)
        sy = sum(w[i] * xy[i][1] for i in active)
        worst, worst_z = -1, OUTLIER_SIGMAS
        for i in active:  # later in canonical order = less credible, so `>=` rejects it on ties
            rest = sw - w[i]
            mx, my = (sx - w[i] * xy[i][0]) / rest, (sy - w[i] * xy[i][1]) / rest
            z = math.hypot(xy[i][0] - mx, xy[i][1] - my) / math.sqrt(sigma[i] ** 2 + 1.0 / rest)
            if z > OUTLIER_SIGMAS and z >= worst_z:
                worst, worst_z = i, z
        if worst < 0:
            break
        # Two fixes that disagree get the same residual: keep the more credible one.
        active.remove(active[-1] if len(active) == 2 else worst)

    kept = set(active)
    used = tuple(fixes[i].source for i in range(len(fixes)) if i in kept)
    rejected = tuple(fixes[i].source for i in range(len(fixes)) if i not in kept)
    best_sigma = sigma[active[0]]
    if len(active) == 1:
        only = fixes[active[0]]
        return Fused(only.lat, _wrap_deg(only.lon), best_sigma, used, rejected)

    xy, kx, ky = _project(fixes, active)
    origin = fixes[active[0]]
    sw = sum(w[i] for i in active)
    mx = sum(w[i] * xy[i][0] for i in active) / sw
    my = sum(w[i] * xy[i][1] for i in active) / sw
    spread = math.sqrt(
        sum(w[i] * ((xy[i][0] - mx) ** 2 + (xy[i][1] - my) ** 2) for i in active) / sw
    )
    accuracy = max(math.sqrt(1.0 / sw), spread, CORRELATION_FACTOR * best_sigma, ACCURACY_FLOOR_M)
    return Fused(
        lat=origin.lat + my / ky,
        lon=_wrap_deg(origin.lon + mx / kx),
        accuracy_m=accuracy,
        used=used,
        rejected=rejected,
    )
