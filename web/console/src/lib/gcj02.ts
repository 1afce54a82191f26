/**
 * WGS-84 ↔ GCJ-02, the datum AMap (高德) and Tencent (腾讯) draw their tiles in: mainland China
 * is shifted by 300–600 m, points outside it are left unchanged (as phones do). The forward
 * formulas are the public ones (as src/fieldpunch/geo/crs.py); the inverse is solved by fixed-point
 * iteration on the forward function, far below a metre, unlike the one-step inverse (up to ~2 m).
 */

import type { LatLng } from './fence'

const A = 6378245.0 // Krasovsky 1940 semi-major axis used by GCJ-02
const EE = 0.00669342162296594323 // its first eccentricity squared
const TOLERANCE_DEG = 1e-10 // ~1 cm
const MAX_ITER = 30

export function outOfChina(lat: number, lng: number): boolean {
  return !(lng > 73.66 && lng < 135.05 && lat > 3.86 && lat < 53.55)
}

function dLat(x: number, y: number): number {
  const { PI, sin, sqrt, abs } = Math
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
  r += ((20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0) / 3.0
  r += ((20.0 * sin(y * PI) + 40.0 * sin((y / 3.0) * PI)) * 2.0) / 3.0
  r += ((160.0 * sin((y / 12.0) * PI) + 320.0 * sin((y * PI) / 30.0)) * 2.0) / 3.0
  return r
}

function dLng(x: number, y: number): number {
  const { PI, sin, sqrt, abs } = Math
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
  r += ((20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0) / 3.0
  r += ((20.0 * sin(x * PI) + 40.0 * sin((x / 3.0) * PI)) * 2.0) / 3.0
  r += ((150.0 * sin((x / 12.0) * PI) + 300.0 * sin((x / 30.0) * PI)) * 2.0) / 3.0
  return r
}

/** A WGS-84 position (GPS, what the API stores) where GCJ-02 tiles draw it. */
export function wgs84ToGcj02(lat: number, lng: number): LatLng {
  if (outOfChina(lat, lng)) return { lat, lng }
  const rad = (lat / 180.0) * Math.PI
  const magic = 1 - EE * Math.sin(rad) ** 2
  const sqrtMagic = Math.sqrt(magic)
  const dy = (dLat(lng - 105.0, lat - 35.0) * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI)
  const dx = (dLng(lng - 105.0, lat - 35.0) * 180.0) / ((A / sqrtMagic) * Math.cos(rad) * Math.PI)
  return { lat: lat + dy, lng: lng + dx }
}

/** A GCJ-02 position (drawn on AMap or Tencent tiles) in WGS-84, the inverse of wgs84ToGcj02. */
export function gcj02ToWgs84(lat: number, lng: number): LatLng {
  if (outOfChina(lat, lng)) return { lat, lng }
  let g = { lat, lng }
  for (let i = 0; i < MAX_ITER; i++) {
    const f = wgs84ToGcj02(g.lat, g.lng)
    const e = { lat: f.lat - lat, lng: f.lng - lng }
    g = { lat: g.lat - e.lat, lng: g.lng - e.lng }
    if (Math.abs(e.lat) < TOLERANCE_DEG && Math.abs(e.lng) < TOLERANCE_DEG) break
  }
  return g
}
