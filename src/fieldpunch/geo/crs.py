"""WGS-84 ↔ GCJ-02 ↔ BD-09.

GCJ-02 (the obfuscated datum of AMap, Tencent, WeCom, DingTalk) shifts points by 300-500 m in
mainland China; BD-09 (Baidu) adds another shift on top. The forward formulas are the public
ones; the inverses are solved iteratively (fixed point on the forward function), which brings
the error far below a metre, unlike the one-step "subtract the offset" inverse most libraries
ship (up to ~2 m). Points outside China are left unchanged, as phones do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE_DEG = 1e-10  # ~1 cm
_MAX_ITER = 30

LonLat = tuple[float, float]


class CRS(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


def out_of_china(lon: float, lat: float) -> bool:
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _d_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _d_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> LonLat:
    if out_of_china(lon, lat):
        return lon, lat
    d_lat = _d_lat(lon - 105.0, lat - 35.0)
    d_lon = _d_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_bd09(lon: float, lat: float) -> LonLat:
    if out_of_china(lon, lat):
        return lon, lat
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _invert(forward: Callable[[float, float], LonLat], lon: float, lat: float) -> LonLat:
    """Find p with forward(p) == (lon, lat) by fixed-point iteration."""
    if out_of_china(lon, lat):
        return lon, lat
    g_lon, g_lat = lon, lat
    for _ in range(_MAX_ITER):
        f_lon, f_lat = forward(g_lon, g_lat)
        e_lon, e_lat = f_lon - lon, f_lat - lat
        g_lon, g_lat = g_lon - e_lon, g_lat - e_lat
        if abs(e_lon) < _TOLERANCE_DEG and abs(e_lat) < _TOLERANCE_DEG:
            break
    return g_lon, g_lat


def gcj02_to_wgs84(lon: float, lat: float) -> LonLat:
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> LonLat:
    return _invert(gcj02_to_bd09, lon, lat)


def to_wgs84(lon: float, lat: float, crs: CRS) -> LonLat:
    if crs is CRS.gcj02:
        return gcj02_to_wgs84(lon, lat)
    if crs is CRS.bd09:
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return lon, lat


def from_wgs84(lon: float, lat: float, crs: CRS) -> LonLat:
    if crs is CRS.gcj02:
        return wgs84_to_gcj02(lon, lat)
    if crs is CRS.bd09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    return lon, lat
