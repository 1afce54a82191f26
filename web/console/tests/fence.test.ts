import { describe, expect, it } from 'vitest'
import { centreOf, fenceFields, fenceOf, fromGeoPolygon, parseBssids, toGeoPolygon } from '../src/lib/fence'

const square = [
  { lat: 31.2, lng: 121.5 },
  { lat: 31.2, lng: 121.501 },
  { lat: 31.201, lng: 121.501 },
  { lat: 31.201, lng: 121.5 },
]

describe('polygon ↔ GeoJSON', () => {
  it('writes [lon, lat] positions and closes each ring', () => {
    const p = toGeoPolygon([square])
    expect(p.type).toBe('Polygon')
    expect(p.coordinates[0]).toEqual([
      [121.5, 31.2],
      [121.501, 31.2],
      [121.501, 31.201],
      [121.5, 31.201],
      [121.5, 31.2],
    ])
  })

  it('does not close a ring twice', () => {
    const p = toGeoPolygon([[...square, { ...square[0] }]])
    expect(p.coordinates[0]).toHaveLength(5)
  })

  it('refuses fewer than three corners', () => {
    expect(() => toGeoPolygon([square.slice(0, 2)])).toThrow()
  })

  it('reads back what it wrote, holes included', () => {
    const hole = [
      { lat: 31.2004, lng: 121.5004 },
      { lat: 31.2004, lng: 121.5006 },
      { lat: 31.2006, lng: 121.5006 },
    ]
    expect(fromGeoPolygon(toGeoPolygon([square, hole]))).toEqual([square, hole])
  })

  it('reads nothing from what is not a polygon', () => {
    expect(fromGeoPolygon(null)).toEqual([])
    expect(fromGeoPolygon({ type: 'Point', coordinates: [1, 2] })).toEqual([])
  })
})

describe('fence ↔ API fields', () => {
  it('a circle: its centre and radius, and no polygon', () => {
    expect(fenceFields({ shape: 'circle', centre: { lat: 31.23, lng: 121.47 }, radius: 120.04 })).toEqual({
      location: { lat: 31.23, lon: 121.47, crs: 'wgs84' },
      radius_m: 120,
      polygon: null,
    })
  })

  it('a polygon: its corners’ centre as the reference point', () => {
    const f = fenceFields({ shape: 'polygon', rings: [square] })
    expect(f.location).toEqual({ lat: 31.2005, lon: 121.5005, crs: 'wgs84' })
    expect(f.polygon?.coordinates[0]).toHaveLength(5)
    expect(f.radius_m).toBeUndefined()
    expect(centreOf([square])).toEqual({ lat: 31.2005, lng: 121.5005 })
  })

  it('reads a record back: a polygon wins over the circle; no location, no fence', () => {
    const polygon = toGeoPolygon([square])
    expect(fenceOf({ location: { lat: 31.2, lon: 121.5 }, radius_m: 100, polygon })).toEqual({
      shape: 'polygon',
      rings: [square],
    })
    expect(fenceOf({ location: { lat: 31.2, lon: 121.5 }, radius_m: 100, polygon: null })).toEqual({
      shape: 'circle',
      centre: { lat: 31.2, lng: 121.5 },
      radius: 100,
    })
    expect(fenceOf({ location: null, radius_m: 150, polygon: null })).toBeNull()
  })
})

describe('Wi-Fi BSSIDs', () => {
  it('splits on lines, commas and spaces; lower case with colons; no duplicates', () => {
    expect(parseBssids('A4-5E-60-C1-22-01\n a4:5e:60:c1:22:01, 00:11:22:33:44:55 ')).toEqual([
      'a4:5e:60:c1:22:01',
      '00:11:22:33:44:55',
    ])
  })
})
