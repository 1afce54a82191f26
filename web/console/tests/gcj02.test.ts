import { describe, expect, it } from 'vitest'
import { gcj02ToWgs84, outOfChina, wgs84ToGcj02 } from '../src/lib/gcj02'

/** Metres between two positions (equirectangular: enough at these distances). */
function metres(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const k = (Math.PI / 180) * 6371008.8
  const x = (b.lng - a.lng) * Math.cos(((a.lat + b.lat) / 2) * (Math.PI / 180))
  return k * Math.hypot(x, b.lat - a.lat)
}

describe('WGS-84 → GCJ-02', () => {
  it('shifts known points as the backend (src/fieldpunch/geo/crs.py) does', () => {
    // Tiananmen
    const t = wgs84ToGcj02(39.9087, 116.3975)
    expect(t.lat).toBeCloseTo(39.9101035, 6)
    expect(t.lng).toBeCloseTo(116.4037436, 6)
    // People's Square, Shanghai; Shenzhen
    expect(wgs84ToGcj02(31.2304, 121.4737).lat).toBeCloseTo(31.2284577, 6)
    expect(wgs84ToGcj02(31.2304, 121.4737).lng).toBeCloseTo(121.4782231, 6)
    expect(wgs84ToGcj02(22.5, 113.9).lng).toBeCloseTo(113.9048639, 6)
    // 300–600 m, as seen on AMap
    const d = metres({ lat: 39.9087, lng: 116.3975 }, t)
    expect(d).toBeGreaterThan(300)
    expect(d).toBeLessThan(700)
  })

  it('leaves points outside China unchanged', () => {
    expect(outOfChina(51.5007, -0.1246)).toBe(true)
    expect(wgs84ToGcj02(51.5007, -0.1246)).toEqual({ lat: 51.5007, lng: -0.1246 })
    expect(wgs84ToGcj02(1.2834, 103.8607)).toEqual({ lat: 1.2834, lng: 103.8607 }) // Singapore
    expect(gcj02ToWgs84(35.6812, 139.7671)).toEqual({ lat: 35.6812, lng: 139.7671 }) // Tokyo
  })
})

describe('GCJ-02 → WGS-84', () => {
  it('round-trips within 0.5 m across China', () => {
    for (const [lat, lng] of [
      [39.9087, 116.3975],
      [31.2304, 121.4737],
      [22.5431, 114.0579],
      [43.8256, 87.6168],
      [29.6525, 91.1721],
      [45.8038, 126.535],
    ]) {
      const g = wgs84ToGcj02(lat!, lng!)
      const back = gcj02ToWgs84(g.lat, g.lng)
      expect(metres({ lat: lat!, lng: lng! }, back)).toBeLessThan(0.5)
      expect(metres({ lat: lat!, lng: lng! }, g)).toBeGreaterThan(50) // it did convert
    }
  })

  it('inverts a point drawn on the map: its forward conversion lands on it', () => {
    const drawn = { lat: 39.9101, lng: 116.4037 }
    const wgs = gcj02ToWgs84(drawn.lat, drawn.lng)
    expect(metres(drawn, wgs84ToGcj02(wgs.lat, wgs.lng))).toBeLessThan(0.01)
  })
})
