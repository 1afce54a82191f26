import { describe, expect, it } from 'vitest'
import { byStart, requestBody, requestDuration, requestSpan, zonedIso } from '../src/lib/requests'

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

describe('zonedIso and requestBody', () => {
  const form = {
    kind: 'leave' as const,
    leaveType: 'annual' as const,
    unit: 'day' as const,
    from: '2026-12-14',
    to: '2026-12-15',
    fromHalf: 'am' as const,
    toHalf: 'pm' as const,
    startTime: '18:00',
    endTime: '21:30',
    reason: ' 回老家 ',
  }
  it('writes local wall times with the zone offset', () => {
    expect(zonedIso('2026-12-14', '00:00', SH)).toBe('2026-12-14T00:00:00+08:00')
    expect(zonedIso('2026-12-31', '00:00', SH, 1)).toBe('2027-01-01T00:00:00+08:00')
    expect(zonedIso('2026-07-01', '09:30', 'Europe/Berlin')).toBe('2026-07-01T09:30:00+02:00')
    expect(zonedIso('2026-12-01', '09:30', 'America/New_York')).toBe('2026-12-01T09:30:00-05:00')
  })
  it('runs days from the first midnight to the midnight after the last day', () => {
    expect(requestBody(form, SH)).toEqual({
      kind: 'leave',
      leave_type: 'annual',
      unit: 'day',
      start: '2026-12-14T00:00:00+08:00',
      end: '2026-12-16T00:00:00+08:00',
      reason: '回老家',
    })
  })
  it('starts and ends half days at midnight or noon', () => {
    const b = requestBody({ ...form, unit: 'half_day', fromHalf: 'pm', toHalf: 'am' }, SH)
    expect([b.start, b.end]).toEqual(['2026-12-14T12:00:00+08:00', '2026-12-15T12:00:00+08:00'])
  })
  it('counts overtime in hours, past midnight when it ends earlier, with no leave type', () => {
    const b = requestBody({ ...form, kind: 'overtime', startTime: '20:00', endTime: '01:00' }, SH)
    expect(b).toEqual({
      kind: 'overtime',
      unit: 'hour',
      start: '2026-12-14T20:00:00+08:00',
      end: '2026-12-15T01:00:00+08:00',
      reason: '回老家',
    })
  })
})
