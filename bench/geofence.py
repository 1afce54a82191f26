"""Geofence matching among a million fences: build time, match latency, brute-force baseline.

    .venv/bin/python -m bench.geofence [n] [queries]

Fences are scattered around 30 mainland-China cities (normal spread of ~10 km), 90% circles of
50–300 m and 10% small star-shaped polygons. Queries are points near a random fence (up to its
size plus 150 m away) with a tolerance of 5–100 m, as a punch's accuracy would give.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from fieldpunch.geo.distance import EARTH_RADIUS_M
from fieldpunch.geo.geofence_index import M_PER_DEG, Fence, GeofenceIndex, edge_distance_m

FloatArray = npt.NDArray[np.float64]

CITIES = [  # (lat, lon)
    (39.9042, 116.4074), (31.2304, 121.4737), (23.1291, 113.2644), (22.5431, 114.0579),
    (30.5728, 104.0668), (29.5630, 106.5516), (30.2741, 120.1551), (30.5928, 114.3055),
    (34.3416, 108.9398), (32.0603, 118.7969), (39.3434, 117.3616), (31.2990, 120.5853),
    (34.7466, 113.6254), (28.2282, 112.9388), (41.8057, 123.4315), (36.0671, 120.3826),
    (23.0207, 113.7518), (24.4798, 118.0894), (25.0389, 102.7183), (45.8038, 126.5350),
    (36.6512, 117.1201), (31.8206, 117.2272), (26.0745, 119.2965), (22.8170, 108.3665),
    (38.0428, 114.5149), (37.8706, 112.5489), (43.8256, 87.6168), (36.0611, 103.8343),
    (26.6470, 106.6302), (28.6820, 115.8579),
]  # fmt: skip


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def _polygon(rng: np.random.Generator, lat: float, lon: float) -> tuple[dict[str, Any], float]:
    """A star-shaped polygon of 5–8 vertices, 30–150 m from its centre, and that circumradius."""
    k = int(rng.integers(5, 9))
    # Jittered but evenly spread angles: gaps < 180° keep the ring simple (valid).
    angles = (np.arange(k) + rng.uniform(0.0, 0.8, k)) * (2 * math.pi / k)
    radii = rng.uniform(30.0, 150.0, k)
    ring = []
    for a, r in zip(angles.tolist(), radii.tolist(), strict=True):
        vlat, vlon = _offset(lat, lon, r * math.sin(a), r * math.cos(a))
        ring.append([vlon, vlat])
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, float(radii.max())


def _haversine(lat: FloatArray, lon: FloatArray, qlat: float, qlon: float) -> FloatArray:
    p1, p2 = np.radians(lat), math.radians(qlat)
    dlon = np.radians(lon - qlon)
    h = np.sin((p1 - p2) / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def run(n: int = 1_000_000, queries: int = 20_000, seed: int = 1) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    city = np.asarray(CITIES)[rng.integers(len(CITIES), size=n)]
    lat = city[:, 0] + rng.normal(0.0, 0.09, n)
    lon = city[:, 1] + rng.normal(0.0, 0.09, n) / np.cos(np.radians(city[:, 0]))
    radius = rng.uniform(50.0, 300.0, n)
    is_poly = rng.random(n) < 0.10
    kinds = np.where(rng.random(n) < 0.8, "customer", "place")

    t = time.perf_counter()
    reach = radius.copy()  # how far the fence extends from its centre
    polygons: dict[int, dict[str, Any]] = {}
    for i in np.flatnonzero(is_poly).tolist():
        polygons[i], reach[i] = _polygon(rng, float(lat[i]), float(lon[i]))
    lat_l, lon_l, radius_l, kinds_l = lat.tolist(), lon.tolist(), radius.tolist(), kinds.tolist()
    fences = [
        Fence(f"{i:032x}", kinds_l[i], lat_l[i], lon_l[i], radius_l[i], polygons.get(i))
        for i in range(n)
    ]
    fences_s = time.perf_counter() - t

    t = time.perf_counter()
    index = GeofenceIndex(fences)
    build_s = time.perf_counter() - t

    # Points near a random fence, at up to its size + 150 m, tolerance 5–100 m.
    target = rng.integers(n, size=queries)
    bearing = rng.uniform(0.0, 2 * math.pi, queries)
    dist = rng.uniform(0.0, 1.0, queries) * (reach[target] + 150.0)
    qlat = lat[target] + dist * np.cos(bearing) / M_PER_DEG
    qlon = lon[target] + dist * np.sin(bearing) / (M_PER_DEG * np.cos(np.radians(lat[target])))
    tol = rng.uniform(5.0, 100.0, queries)
    points = list(zip(qlat.tolist(), qlon.tolist(), tol.tolist(), strict=True))

    for q in points[:1000]:  # warm-up: caches, branch predictors, lazy imports
        index.match(*q)
    times: list[int] = []
    answers: list[str | None] = []
    clock = time.perf_counter_ns
    for q in points:
        t0 = clock()
        m = index.match(*q)
        times.append(clock() - t0)
        answers.append(None if m is None else m.fence.id)
    times.sort()

    # Brute force: numpy over every fence, exact distances only for polygons that could reach.
    ids = np.array([f.id for f in fences])
    brute: list[int] = []
    agree = 0
    sample = min(1000, queries)
    for k in range(sample):
        qa, qo, tl = points[k]
        t0 = clock()
        dc = _haversine(lat, lon, qa, qo)
        d = np.where(is_poly, np.inf, np.maximum(0.0, dc - radius))
        for i in np.flatnonzero(is_poly & (dc - reach <= tl)).tolist():
            d[i] = edge_distance_m(fences[i], qa, qo)
        hit = np.flatnonzero(d <= tl)
        best = None
        if hit.size:
            order = np.lexsort((ids[hit], dc[hit], d[hit]))
            best = str(ids[hit[order[0]]])
        brute.append(clock() - t0)
        agree += best == answers[k]

    median_us = statistics.median(times) / 1000
    brute_us = statistics.median(brute) / 1000
    return {
        "fences": float(n),
        "polygons": float(is_poly.sum()),
        "queries": float(queries),
        "make_fences_s": round(fences_s, 3),
        "build_s": round(build_s, 3),
        "match_median_us": round(median_us, 2),
        "match_p99_us": round(times[min(len(times) - 1, int(0.99 * len(times)))] / 1000, 2),
        "match_max_us": round(times[-1] / 1000, 2),
        "hit_rate": round(sum(a is not None for a in answers) / queries, 4),
        "brute_force_median_us": round(brute_us, 1),
        "speedup": round(brute_us / median_us, 1),
        "brute_force_agreement": agree / sample,
    }


def main(argv: list[str]) -> int:
    """`fieldpunch bench geofence [FENCES [QUERIES]]`: prints the figures as JSON."""
    args = [int(a) for a in argv[:2]]
    print(json.dumps(run(*args), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
