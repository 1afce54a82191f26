import { describe, expect, it } from 'vitest'
import { localDate, todayCounts, visitProgress } from '../src/lib/dashboard'

const day = (status: string | null, extra: object = {}) => ({
  status,
  statuses: status ? [status] : [],
  first_in: null as string | null,
  field_day: false,
  ...extra,
})

describe('today’s attendance counts', () => {
  it('counts present, late, absent, on leave, in the field, and not yet in', () => {
    const c = todayCounts([
      day('normal', { first_in: '2026-12-07T00:58:00Z' }),
      day('late', { first_in: '2026-12-07T01:20:00Z', statuses: ['late', 'missing_clock_out'] }),
      day('serious_late', { first_in: '2026-12-07T02:00:00Z', field_day: true }),
      day('absent'),
      day('leave'),
      day('trip'),
      day(null),
      day('rest'),
      day('holiday'),
    ])
    expect(c).toEqual({ people: 7, present: 3, late: 2, absent: 1, onLeave: 1, inField: 2, notYet: 1 })
  })

  it('counts nothing for nobody', () => {
    expect(todayCounts([]).people).toBe(0)
  })
})

describe('visits of the day', () => {
  it('done against planned, cancelled ones left out', () => {
    expect(visitProgress([{ state: 'done' }, { state: 'planned' }, { state: 'in_progress' }, { state: 'cancelled' }])).toEqual({
      done: 1,
      planned: 3,
    })
  })
})

describe('the local date', () => {
  it('is the organization’s, not UTC’s', () => {
    expect(localDate(new Date('2026-12-06T17:30:00Z'), 'Asia/Shanghai')).toBe('2026-12-07')
    expect(localDate(new Date('2026-12-06T17:30:00Z'), 'UTC')).toBe('2026-12-06')
  })
})
