import { describe, expect, it } from 'vitest'
import { byDistance, formatDistance, haversineM, inPolygon, measure, type Fence } from '../src/lib/geo'

const office: Fence = { id: 'p1', name: 'Office', kind: 'place', lat: 31.2397, lon: 121.4998, radius_m: 100 }

describe('geo', () => {
  it('measures distances like the server (haversine)', () => {
    expect(haversineM(31.2397, 121.4998, 31.2397, 121.4998)).toBe(0)
    expect(haversineM(31.2304, 121.4737, 31.2397, 121.4998)).toBeCloseTo(2688.3616011, 6) // fieldpunch.geo.distance.haversine_m
  })

  it('matches circles with the accuracy as tolerance, capped like the server', () => {
    const near = measure(office, 31.2397 + 0.0012, 121.4998, 30) // ~133 m north
    expect(near.inside).toBe(false)
    expect(near.outside_m).toBeCloseTo(33, 0)
    expect(near.within_accuracy).toBe(false)
    expect(measure(office, 31.2397 + 0.0012, 121.4998, 40).within_accuracy).toBe(true)
    expect(measure(office, 31.2397 + 0.003, 121.4998, 5000).within_accuracy).toBe(false) // > 150 m
  })

  it('knows polygons with holes and sorts by distance outside', () => {
    const ring = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    const hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    expect(inPolygon(1, 1, [ring])).toBe(true)
    expect(inPolygon(5, 5, [ring, hole])).toBe(false)
    expect(inPolygon(11, 1, [ring])).toBe(false)
    const far: Fence = { ...office, id: 'p2', name: 'Far', lat: 31.3 }
    expect(byDistance([far, office], 31.24, 121.5, 10).map((n) => n.fence.id)).toEqual(['p1', 'p2'])
  })
})

describe('formatDistance', () => {
  it('says metres and kilometres in the reader\'s words', () => {
    expect(formatDistance(143.4, 'zh-CN')).toBe('143 米')
    expect(formatDistance(143.4, 'en')).toBe('143 m')
    expect(formatDistance(999.6, 'zh-CN')).toBe('1 公里')
    expect(formatDistance(1149, 'zh-CN')).toBe('1.1 公里')
    expect(formatDistance(4742, 'en')).toBe('4.7 km')
    expect(formatDistance(23_456, 'en')).toBe('23 km')
  })
})

describe('polygon fences', () => {
  // The demo's head office: the tower footprint (GeoJSON [lon, lat]).
  const tower: Fence = {
    id: 'hq', name: 'HQ', kind: 'place', lat: 31.2396, lon: 121.4983, radius_m: 80,
    polygon: {
      coordinates: [[
        [121.499049, 31.239699], [121.498694, 31.239043], [121.497551, 31.239501],
        [121.497906, 31.240157], [121.499049, 31.239699],
      ]],
    },
  }

  it('measures how far outside from the nearest edge, as the server does', () => {
    const out = measure(tower, 31.2397, 121.4998, 15)
    expect(out.inside).toBe(false)
    expect(out.outside_m).toBeGreaterThan(65)
    expect(out.outside_m).toBeLessThan(78) // the server says 71 m; the centre is 143 m away
    expect(out.distance_m).toBeGreaterThan(140)
    expect(measure(tower, 31.2396, 121.4983, 15).outside_m).toBe(0)
  })
})
