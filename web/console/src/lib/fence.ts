/**
 * Geofences between the map and the API. Leaflet speaks `[lat, lng]`; the API's polygon is a
 * GeoJSON Polygon (RFC 7946) of `[lon, lat]` rings, each closed (first position = last). A place
 * or customer has a circle (`location`, `radius_m`) or a polygon, whose `location` is the
 * reference point the API asks for: the centre of its outer ring's vertices.
 */

export interface LatLng {
  lat: number
  lng: number
}

export interface GeoPolygon {
  type: 'Polygon'
  coordinates: number[][][]
}

/** The fence a form edits: a circle or a polygon (outer ring first, holes after). */
export type Fence =
  | { shape: 'circle'; centre: LatLng; radius: number }
  | { shape: 'polygon'; rings: LatLng[][] }

const EPS = 1e-12
const round = (x: number): number => Math.round(x * 1e7) / 1e7 // ~1 cm: what a form needs

function same(a: number[], b: number[]): boolean {
  return Math.abs(a[0] - b[0]) < EPS && Math.abs(a[1] - b[1]) < EPS
}

/** Leaflet rings (open, as Leaflet keeps them) → a GeoJSON Polygon, each ring closed. */
export function toGeoPolygon(rings: LatLng[][]): GeoPolygon {
  const coordinates = rings
    .map((ring) => {
      const open = ring.map((p) => [round(p.lng), round(p.lat)])
      while (open.length > 1 && same(open[0], open[open.length - 1])) open.pop()
      return open.length ? [...open, [...open[0]]] : []
    })
    .filter((ring) => ring.length >= 4)
  if (!coordinates.length) throw new Error('a polygon needs at least three corners')
  return { type: 'Polygon', coordinates }
}

/** A GeoJSON Polygon → Leaflet rings, open (the closing position dropped). */
export function fromGeoPolygon(polygon: unknown): LatLng[][] {
  if (!isGeoPolygon(polygon)) return []
  return polygon.coordinates.map((ring) => {
    const open = ring.length > 1 && same(ring[0], ring[ring.length - 1]) ? ring.slice(0, -1) : ring
    return open.map(([lon, lat]) => ({ lat, lng: lon }))
  })
}

export function isGeoPolygon(value: unknown): value is GeoPolygon {
  const v = value as GeoPolygon | null
  return (
    !!v &&
    v.type === 'Polygon' &&
    Array.isArray(v.coordinates) &&
    v.coordinates.every((r) => Array.isArray(r) && r.every((p) => Array.isArray(p) && p.length >= 2))
  )
}

/** The reference point of a polygon: the mean of its outer ring's corners. */
export function centreOf(rings: LatLng[][]): LatLng {
  const outer = rings[0] ?? []
  if (!outer.length) throw new Error('empty polygon')
  const sum = outer.reduce((s, p) => ({ lat: s.lat + p.lat, lng: s.lng + p.lng }), { lat: 0, lng: 0 })
  return { lat: round(sum.lat / outer.length), lng: round(sum.lng / outer.length) }
}

/** The API fields for a fence: `location` and `radius_m` or `polygon` (`null` clears it). */
export function fenceFields(
  fence: Fence,
): { location: { lat: number; lon: number; crs: 'wgs84' }; radius_m?: number; polygon: GeoPolygon | null } {
  if (fence.shape === 'circle') {
    return {
      location: { lat: round(fence.centre.lat), lon: round(fence.centre.lng), crs: 'wgs84' },
      radius_m: Math.max(1, Math.round(fence.radius)), // whole metres, as the form shows them
      polygon: null,
    }
  }
  const c = centreOf(fence.rings)
  return { location: { lat: c.lat, lon: c.lng, crs: 'wgs84' }, polygon: toGeoPolygon(fence.rings) }
}

/** The fence of a place or customer as the API returns it (WGS-84); `null` without a location. */
export function fenceOf(record: {
  location: { lat: number; lon: number } | null
  radius_m: number
  polygon: unknown
}): Fence | null {
  const rings = fromGeoPolygon(record.polygon)
  if (rings.length && rings[0].length >= 3) return { shape: 'polygon', rings }
  if (!record.location) return null
  return { shape: 'circle', centre: { lat: record.location.lat, lng: record.location.lon }, radius: record.radius_m }
}

/** Wi-Fi BSSIDs typed one per line or separated by commas/spaces: trimmed, deduplicated. */
export function parseBssids(text: string): string[] {
  const seen = new Set<string>()
  for (const part of text.split(/[\s,;]+/)) {
    const b = part.trim().toLowerCase().replace(/-/g, ':')
    if (b) seen.add(b)
  }
  return [...seen]
}
