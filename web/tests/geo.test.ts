import { describe, expect, it } from 'vitest'
import { byDistance, haversineM, inPolygon, measure, type Fence } from '../src/lib/geo'

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
