/** Distances and geofences on the client, for the live readout (the server decides for real). */

const R = 6371008.8 // mean Earth radius, metres (the server's haversine uses the same)

export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180
  const dLat = (lat2 - lat1) * rad
  const dLon = (lon2 - lon1) * rad
  const a =
    Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)))
}

/** Bearing in degrees clockwise from north, from point 1 to point 2. */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180
  const y = Math.sin((lon2 - lon1) * rad) * Math.cos(lat2 * rad)
  const x =
    Math.cos(lat1 * rad) * Math.sin(lat2 * rad) -
    Math.sin(lat1 * rad) * Math.cos(lat2 * rad) * Math.cos((lon2 - lon1) * rad)
  return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360
}

type Ring = number[][]

/** Ray casting on GeoJSON [lon, lat] rings: inside the outer ring and outside every hole. */
export function inPolygon(lat: number, lon: number, rings: Ring[]): boolean {
  const inRing = (ring: Ring) => {
    let inside = false
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]
      const [xj, yj] = ring[j]
      if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside
    }
    return inside
  }
  return rings.length > 0 && inRing(rings[0]) && !rings.slice(1).some(inRing)
}

/**
 * Metres from a point to the nearest edge of GeoJSON [lon, lat] rings: how far outside a polygon
 * fence it is, the number the server's verdict gives (not the distance to the centre). Local
 * flat projection around the point: well under 1 % off at the few kilometres that matter here.
 */
export function toRingsM(lat: number, lon: number, rings: Ring[]): number {
  const rad = Math.PI / 180
  const kx = R * rad * Math.cos(lat * rad)
  const ky = R * rad
  let best = Infinity
  for (const ring of rings) {
    for (let i = 1; i < ring.length; i++) {
      const ax = (ring[i - 1][0] - lon) * kx
      const ay = (ring[i - 1][1] - lat) * ky
      const bx = (ring[i][0] - lon) * kx
      const by = (ring[i][1] - lat) * ky
      const dx = bx - ax
      const dy = by - ay
      const len = dx * dx + dy * dy
      const t = len === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len))
      best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy))
    }
  }
  return best
}

export interface Fence {
  id: string
  name: string
  kind: 'place' | 'customer'
  lat: number
  lon: number
  radius_m: number
  polygon?: { coordinates: Ring[] } | null
}

export interface Nearby<T extends Fence = Fence> {
  fence: T
  /** From the position to the fence's centre. */
  distance_m: number
  /** How far outside the fence (0 inside), to its edge (a circle's or a polygon's). */
  outside_m: number
  inside: boolean
  /** Inside once the position's accuracy is allowed for (what the server does, capped). */
  within_accuracy: boolean
}

const MAX_TOLERANCE_M = 150 // the server's MAX_MATCH_TOLERANCE_M

export function measure<T extends Fence>(
  fence: T,
  lat: number,
  lon: number,
  accuracy: number,
): Nearby<T> {
  const distance = haversineM(lat, lon, fence.lat, fence.lon)
  let inside: boolean
  let outside: number
  if (fence.polygon?.coordinates?.length) {
    inside = inPolygon(lat, lon, fence.polygon.coordinates)
    outside = inside ? 0 : toRingsM(lat, lon, fence.polygon.coordinates)
  } else {
    outside = Math.max(0, distance - fence.radius_m)
    inside = outside === 0
  }
  return {
    fence,
    distance_m: distance,
    outside_m: outside,
    inside,
    within_accuracy: outside <= Math.min(accuracy, MAX_TOLERANCE_M),
  }
}

export function byDistance<T extends Fence>(
  fences: T[],
  lat: number,
  lon: number,
  accuracy: number,
): Nearby<T>[] {
  return fences
    .map((f) => measure(f, lat, lon, accuracy))
    .sort((a, b) => a.outside_m - b.outside_m || a.distance_m - b.distance_m)
}

/**
 * A distance as people say it: metres under 1 km, else km with one decimal ("850 米",
 * "1.2 公里"; "850 m", "1.2 km"), in the same units as the accuracy ("±15 米").
 */
export function formatDistance(m: number, locale: string): string {
  const zh = locale.toLowerCase().startsWith('zh')
  if (Math.round(m) < 1000) return `${Math.round(m)} ${zh ? '米' : 'm'}`
  const km = (m / 1000).toLocaleString(locale, { maximumFractionDigits: m < 10_000 ? 1 : 0 })
  return `${km} ${zh ? '公里' : 'km'}`
}

/** What the readout may honestly say about a fence. */
export type FenceClaim = 'inside' | 'uncertain' | 'outside'

/**
 * "inside" only when the accuracy circle fits in the fence and the fix is good enough for the
 * server (`maxAccuracy`, the policy's `max_accuracy_m`); a fix that might be inside but is too
 * coarse to tell is "uncertain".
 */
export function claim(n: Nearby, accuracy: number, maxAccuracy = DEFAULT_MAX_ACCURACY_M): FenceClaim {
  if (!n.within_accuracy) return 'outside'
  return accuracy > n.fence.radius_m || accuracy > maxAccuracy ? 'uncertain' : 'inside'
}

/** The server's default `max_accuracy_m` (policy): a worse fix is flagged `low_accuracy`. */
export const DEFAULT_MAX_ACCURACY_M = 200
