import { describe, expect, it } from 'vitest'
import { claim, measure, type Fence } from '../src/lib/geo'
import { limitsOf } from '../src/lib/policy'
import { COOLDOWN_MS, needsConfirm, TapGuard } from '../src/lib/tapguard'

describe('double taps', () => {
  it('ignores taps while a punch is in flight and during the cool-down after it', () => {
    const g = new TapGuard()
    expect(g.begin(0)).toBe(true)
    expect(g.begin(100)).toBe(false) // in flight
    g.end(100) // answered after 0.1 s
    expect(g.begin(300)).toBe(false) // the second tap of a double tap, 300 ms after the first
    expect(g.begin(100 + COOLDOWN_MS - 1)).toBe(false)
    expect(g.begin(100 + COOLDOWN_MS)).toBe(true)
  })

  it('opens at once after a cancelled confirmation', () => {
    const g = new TapGuard()
    expect(g.begin(0)).toBe(true)
    g.reset()
    expect(g.begin(1)).toBe(true)
  })

  it('asks before the opposite kind within a minute of the last punch', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 2, 2, 1, 0, s)).toISOString()
    const t0 = Date.parse(at(0))
    const last = { kind: 'clock_in' as const, captured_at: at(0) }
    expect(needsConfirm('clock_out', last, t0 + 3_000)).toBe(3)
    expect(needsConfirm('clock_out', last, t0 + 60_000)).toBeNull()
    expect(needsConfirm('clock_in', last, t0 + 3_000)).toBeNull() // same kind: the server's duplicate rule
    expect(needsConfirm('clock_out', null, t0)).toBeNull()
    expect(needsConfirm('visit_out', { kind: 'visit_in', captured_at: at(0) }, t0 + 500)).toBe(1)
  })
})

describe('honest accuracy', () => {
  const office: Fence = { id: 'p', name: '云途总部', kind: 'place', lat: 31.2397, lon: 121.4998, radius_m: 150 }

  it('claims inside only when the accuracy circle fits in the fence and is good enough', () => {
    expect(claim(measure(office, 31.2397, 121.4998, 15), 15)).toBe('inside')
    expect(claim(measure(office, 31.2397, 121.4998, 900), 900)).toBe('uncertain') // ±900 m
    expect(claim(measure(office, 31.2397, 121.4998, 180), 180)).toBe('uncertain') // > radius
    expect(claim(measure({ ...office, radius_m: 500 }, 31.2397, 121.4998, 300), 300, 200)).toBe('uncertain')
    expect(claim(measure({ ...office, radius_m: 500 }, 31.2397, 121.4998, 300), 300, 400)).toBe('inside')
    expect(claim(measure(office, 31.26, 121.53, 20), 20)).toBe('outside')
  })

  it('reads the limit from the effective policy', () => {
    expect(limitsOf({ max_accuracy_m: 100, rules: { low_accuracy: { enabled: true } } })).toEqual({
      max_accuracy_m: 100,
      low_accuracy_on: true,
    })
    expect(limitsOf({ rules: { low_accuracy: { enabled: false } } })).toEqual({ max_accuracy_m: 200, low_accuracy_on: false })
    expect(limitsOf(null)).toEqual({ max_accuracy_m: 200, low_accuracy_on: true })
  })
})
