import { describe, expect, it } from 'vitest'
import { dayOf, type DayRow } from '../src/lib/day'

const row = (kind: DayRow['kind'], hhmm: string, status: string | null = 'accepted'): DayRow => ({
  kind,
  captured_at: `2026-12-05T${hhmm}:00.000Z`,
  punch: status ? { status } : null,
})

describe('the day leads the button', () => {
  it('clock in, then clock out, then done', () => {
    expect(dayOf([])).toMatchObject({ phase: 'before', next: 'clock_in' })
    expect(dayOf([row('clock_in', '01:00')])).toMatchObject({ phase: 'working', next: 'clock_out' })
    const done = dayOf([row('clock_in', '01:00'), row('clock_out', '10:00')])
    expect(done).toMatchObject({ phase: 'done', next: 'clock_out' })
    expect(done.clockIn?.captured_at).toContain('01:00')
    expect(done.clockOut?.captured_at).toContain('10:00')
  })

  it('an updated clock-out keeps the day done and counts the last one', () => {
    const day = dayOf([row('clock_out', '11:00'), row('clock_in', '01:00'), row('clock_out', '10:00')])
    expect(day.phase).toBe('done')
    expect(day.clockOut?.captured_at).toContain('11:00')
  })

  it('queued punches count; refused ones and visits do not', () => {
    expect(dayOf([row('clock_in', '01:00', null)]).phase).toBe('working')
    expect(dayOf([row('clock_in', '01:00', 'rejected')]).phase).toBe('before')
    expect(dayOf([row('visit_in', '02:00'), row('visit_out', '03:00')]).phase).toBe('before')
    expect(dayOf([row('clock_in', '01:00'), row('clock_out', '10:00', 'rejected')]).phase).toBe('working')
  })

  it('a flagged punch still counts (it is recorded, a manager reviews it)', () => {
    expect(dayOf([row('clock_in', '01:00', 'flagged'), row('clock_out', '10:00', 'flagged')]).phase).toBe('done')
  })

  it('a clock-out before any clock-in still ends the day', () => {
    expect(dayOf([row('clock_out', '10:00')]).phase).toBe('done')
  })
})
