import { describe, expect, it } from 'vitest'
import { byStart, requestDuration, requestSpan } from '../src/lib/requests'

const halves = { am: '上午', pm: '下午' }
const SH = 'Asia/Shanghai'

describe('requestDuration', () => {
  it('counts days and half days in halves', () => {
    expect(requestDuration({ unit: 'day', start: '2026-12-13T16:00:00Z', end: '2026-12-15T16:00:00Z' })).toEqual({ unit: 'days', n: 2 })
    expect(requestDuration({ unit: 'half_day', start: '2026-12-13T16:00:00Z', end: '2026-12-14T04:00:00Z' })).toEqual({ unit: 'days', n: 0.5 })
    expect(requestDuration({ unit: 'half_day', start: '2026-12-14T04:00:00Z', end: '2026-12-15T04:00:00Z' })).toEqual({ unit: 'days', n: 1 })
  })
  it('a day of 23 hours (a DST change) is still one day', () => {
    expect(requestDuration({ unit: 'day', start: '2026-03-29T00:00:00+01:00', end: '2026-03-30T00:00:00+02:00' })).toEqual({ unit: 'days', n: 1 })
  })
  it('counts hours for going out and overtime', () => {
    expect(requestDuration({ unit: 'hour', start: '2026-12-14T10:00:00Z', end: '2026-12-14T12:30:00Z' })).toEqual({ unit: 'hours', n: 2.5 })
  })
})

describe('requestSpan', () => {
  it('shows whole days in the org time zone, the exclusive end as the last day', () => {
    const one = requestSpan({ unit: 'day', start: '2026-12-13T16:00:00Z', end: '2026-12-14T16:00:00Z' }, 'zh-CN', SH, halves)
    expect(one).toBe('12月14日周一')
    const two = requestSpan({ unit: 'day', start: '2026-12-13T16:00:00Z', end: '2026-12-15T16:00:00Z' }, 'zh-CN', SH, halves)
    expect(two).toBe('12月14日周一 – 12月15日周二')
  })
  it('names the halves of a half-day request', () => {
    expect(requestSpan({ unit: 'half_day', start: '2026-12-13T16:00:00Z', end: '2026-12-14T04:00:00Z' }, 'zh-CN', SH, halves)).toBe('12月14日周一 上午')
    expect(requestSpan({ unit: 'half_day', start: '2026-12-14T04:00:00Z', end: '2026-12-15T04:00:00Z' }, 'zh-CN', SH, halves)).toBe(
      '12月14日周一 下午 – 12月15日周二 上午',
    )
  })
  it('shows hours as local times, in English too', () => {
    const span = { unit: 'hour' as const, start: '2026-12-14T06:00:00Z', end: '2026-12-14T08:30:00Z' }
    expect(requestSpan(span, 'zh-CN', SH, halves)).toBe('12月14日周一 14:00–16:30')
    expect(requestSpan(span, 'en', SH, { am: 'morning', pm: 'afternoon' })).toBe('Mon, Dec 14 14:00–16:30')
    expect(requestSpan(span, 'en', 'UTC', { am: 'morning', pm: 'afternoon' })).toBe('Mon, Dec 14 06:00–08:30')
  })
})

describe('byStart', () => {
  it('puts what starts soonest first', () => {
    const a = { id: 'a', start: '2026-12-20T00:00:00Z', created_at: '2026-12-01T00:00:00Z' }
    const b = { id: 'b', start: '2026-12-10T00:00:00Z', created_at: '2026-12-02T00:00:00Z' }
    expect(byStart([a, b]).map((x) => x.id)).toEqual(['b', 'a'])
  })
})
