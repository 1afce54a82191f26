import { describe, expect, it } from 'vitest'
import {
  addDays,
  byDay,
  distanceText,
  durationText,
  heatColour,
  localDate,
  series,
  wallTime,
  weekOf,
  weekPlans,
} from '../src/lib/visits'

describe('dates', () => {
  it('adds days across months and years', () => {
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
  })
  it('finds the Monday-to-Sunday week of a day', () => {
    expect(weekOf('2026-12-06')).toEqual([
      '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06',
    ])
    expect(weekOf('2026-11-30')[0]).toBe('2026-11-30')
  })
  it('reads the local date in the org zone, not UTC', () => {
    expect(localDate(new Date('2026-12-05T17:30:00Z'), 'Asia/Shanghai')).toBe('2026-12-06')
    expect(localDate(new Date('2026-12-05T17:30:00Z'), 'America/New_York')).toBe('2026-12-05')
  })
  it('writes wall times with the zone offset of that day (DST included)', () => {
    expect(wallTime('2026-12-07', '10:00', 'Asia/Shanghai')).toBe('2026-12-07T10:00:00+08:00')
    expect(wallTime('2026-07-01', '09:30', 'Europe/Berlin')).toBe('2026-07-01T09:30:00+02:00')
    expect(wallTime('2026-01-01', '09:30', 'Europe/Berlin')).toBe('2026-01-01T09:30:00+01:00')
  })
})

describe('plans', () => {
  it('plans a week: one window per chosen day, in order', () => {
    const plans = weekPlans(
      { customer_id: 'cus_1', user_id: 'usr_1', purpose: '巡店' },
      ['2026-12-09', '2026-12-07'],
      '10:00',
      '11:30',
      'Asia/Shanghai',
    )
    expect(plans.map((p) => p.planned_start)).toEqual(['2026-12-07T10:00:00+08:00', '2026-12-09T10:00:00+08:00'])
    expect(plans[1]!.planned_end).toBe('2026-12-09T11:30:00+08:00')
  })
  it('refuses a window that ends before it starts', () => {
    expect(() => weekPlans({ customer_id: 'c', user_id: 'u', purpose: '' }, ['2026-12-07'], '11:00', '10:00', 'UTC')).toThrow()
  })
  it('groups visits by day, undated ones apart', () => {
    const g = byDay([{ day: '2026-12-07', id: 1 }, { day: null, id: 2 }, { day: '2026-12-07', id: 3 }])
    expect(g['2026-12-07']!.map((v) => v.id)).toEqual([1, 3])
    expect(g['']!.length).toBe(1)
  })
})

describe('words and colours', () => {
  it('says distances and durations as people read them', () => {
    expect(distanceText(849.6)).toBe('850 m')
    expect(distanceText(1234)).toBe('1.2 km')
    expect(distanceText(15_600)).toBe('16 km')
    expect(durationText(45.4)).toBe('45 min')
    expect(durationText(65, '小时', '分钟')).toBe('1 小时 05 分钟')
    expect(durationText(null)).toBe('—')
  })
  it('colours heat from pale to deep, the busiest cell deepest', () => {
    expect(heatColour(0, 10)).toBe('#ffeda0')
    expect(heatColour(10, 10)).toBe('#bd0026')
    expect(heatColour(50, 10)).toBe('#bd0026')
    expect(heatColour(1, 0)).toBe('#ffeda0')
    const mid = parseInt(heatColour(3, 10).slice(3, 5), 16)
    expect(mid).toBeLessThan(237)
    expect(mid).toBeGreaterThan(0)
  })
  it('takes chart series from report rows, non-numbers as zero', () => {
    const s = series([{ name: '王伟', done: 3, planned: 4 }, { name: '李娜', done: null, planned: 2 }], 'name', ['done', 'planned'])
    expect(s.labels).toEqual(['王伟', '李娜'])
    expect(s.values).toEqual({ done: [3, 0], planned: [4, 2] })
  })
})
