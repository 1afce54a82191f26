import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/api/client'
import {
  applyChanges,
  breaksOf,
  duration,
  errorAt,
  fieldErrors,
  refusal,
  monthWeeks,
  periodsText,
  timeline,
  weekdaysText,
  workMinutes,
} from '../src/lib/rules'

const zh = { nextDay: '次日' }

describe('shift periods', () => {
  it('read two periods in order, a second one later the same day', () => {
    const p = [
      { start: '09:00', end: '12:00' },
      { start: '13:30', end: '18:00' },
    ]
    expect(timeline(p)).toEqual([
      [540, 720],
      [810, 1080],
    ])
    expect(periodsText(p, zh)).toBe('09:00–12:00 / 13:30–18:00')
    expect(workMinutes(p)).toBe(7.5 * 60)
  })

  it('mark a time after midnight as the next day, as the API counts a night shift', () => {
    expect(periodsText([{ start: '22:00', end: '06:00' }], zh)).toBe('22:00–次日06:00')
    expect(periodsText([{ start: '18:00', end: '23:00' }, { start: '00:30', end: '03:00' }], zh)).toBe('18:00–23:00 / 次日00:30–次日03:00')
    expect(workMinutes([{ start: '22:00', end: '06:00' }])).toBe(8 * 60)
  })

  it('take unpaid breaks off the minutes worked', () => {
    expect(workMinutes([{ start: '09:00', end: '18:00' }], [{ start: '12:00', end: '13:00' }])).toBe(8 * 60)
  })

  it('say minutes as hours and minutes', () => {
    const units = { h: '小时', min: '分钟' }
    expect(duration(480, units)).toBe('8 小时')
    expect(duration(510, units)).toBe('8 小时 30 分钟')
    expect(duration(45, units)).toBe('45 分钟')
  })
})

describe('weekdays', () => {
  const names = ['周一', '周二', '周三', '周四', '周五', '周六', '周日']
  const words = { to: '至', sep: '、', none: '无' }
  it('say a run of three or more as a range and others one by one', () => {
    expect(weekdaysText([1, 2, 3, 4, 5], names, words)).toBe('周一至周五')
    expect(weekdaysText([6, 1, 3], names, words)).toBe('周一、周三、周六')
    expect(weekdaysText([1, 2, 4, 5, 6, 7], names, words)).toBe('周一、周二、周四至周日')
    expect(weekdaysText([], names, words)).toBe('无')
  })
})

describe('field errors of a 422', () => {
  it('are keyed by the field without "body", the pydantic prefix dropped', () => {
    const e = new ApiError(422, 'invalid', {
      errors: [
        { loc: ['body', 'periods', 0, 'end'], msg: 'Value error, a period ends at another time than it starts' },
        { loc: ['body', 'serious_late_min'], msg: 'Value error, serious late is more than the late grace' },
        { loc: [], msg: 'the whole request' },
      ],
    })
    const errors = fieldErrors(e)
    expect(errors['periods.0.end']).toBe('a period ends at another time than it starts')
    expect(errors.serious_late_min).toBe('serious late is more than the late grace')
    expect(errors['']).toBe('the whole request')
    expect(errorAt(errors, 'periods')).toBe('a period ends at another time than it starts')
    expect(errorAt(errors, 'grace_late_min')).toBe('')
  })

  it('read the detail list of FastAPI too, and are none for failures without a list', () => {
    expect(fieldErrors(new ApiError(422, 'x', { detail: [{ loc: ['query', 'limit'], msg: 'too big' }] }))).toEqual({ 'query.limit': 'too big' })
    expect(fieldErrors(new ApiError(409, 'in use', { detail: 'in use' }))).toEqual({})
    expect(fieldErrors(new Error('x'))).toEqual({})
  })
})

describe('a refused save', () => {
  const t = (key: string, values?: Record<string, unknown>): string => `${key}${values ? JSON.stringify(values) : ''}`
  it('leaves above the buttons only what no field of the form shows', () => {
    const e = new ApiError(422, 'invalid', {
      errors: [
        { loc: ['body', 'periods', 1, 'start'], msg: 'bad start' },
        { loc: ['body', 'other'], msg: 'not a field here' },
      ],
    })
    const r = refusal(e, ['name', 'periods'], t)
    expect(r.errors['periods.1.start']).toBe('bad start')
    expect(r.message).toBe('not a field here')
    expect(refusal(e, ['periods', 'other'], t).message).toBe('')
  })

  it('says a refusal naming no field in words (a 409: in use)', () => {
    const r = refusal(new ApiError(409, 'the shift is in use'), ['name'], t)
    expect(r.errors).toEqual({})
    expect(r.message).toBe('common.error{"detail":"the shift is in use"}')
  })
})

describe('the holiday calendar', () => {
  it('lays a month out in weeks from Monday', () => {
    const weeks = monthWeeks(2024, 10) // 1 October 2024 was a Tuesday
    expect(weeks[0]).toEqual([null, '2024-10-01', '2024-10-02', '2024-10-03', '2024-10-04', '2024-10-05', '2024-10-06'])
    expect(weeks.every((w) => w.length === 7)).toBe(true)
    expect(weeks.flat().filter(Boolean)).toHaveLength(31)
    expect(weeks[weeks.length - 1].slice(3)).toEqual(['2024-10-31', null, null, null])
  })

  it('groups the entries into breaks with their make-up workdays', () => {
    const b = breaksOf([
      { date: '2024-10-02', kind: 'holiday', name: '国庆节' },
      { date: '2024-09-29', kind: 'workday', name: '国庆节' },
      { date: '2024-10-01', kind: 'holiday', name: '国庆节' },
      { date: '2024-10-04', kind: 'rest', name: '国庆节' },
      { date: '2024-05-01', kind: 'holiday', name: '劳动节' },
    ])
    expect(b.map((x) => x.name)).toEqual(['劳动节', '国庆节'])
    expect(b[1]).toEqual({ name: '国庆节', off: ['2024-10-01', '2024-10-02', '2024-10-04'], workdays: ['2024-09-29'] })
  })

  it('applies changes: set, replace, back to the plain week', () => {
    const out = applyChanges(
      [
        { date: '2024-10-01', kind: 'holiday', name: '国庆节' },
        { date: '2024-10-12', kind: 'workday', name: '国庆节' },
      ],
      { '2024-10-12': null, '2024-03-08': { date: '2024-03-08', kind: 'rest', name: '妇女节' } },
    )
    expect(out).toEqual([
      { date: '2024-03-08', kind: 'rest', name: '妇女节' },
      { date: '2024-10-01', kind: 'holiday', name: '国庆节' },
    ])
  })
})
