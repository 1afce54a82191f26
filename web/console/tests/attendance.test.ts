import { describe, expect, it } from 'vitest'
import {
  DAY_STATUSES,
  datesBetween,
  dayColour,
  dayInk,
  fillPattern,
  isoWeekday,
  monthDates,
  monthIn,
  shiftMark,
} from '../src/lib/attendance'

describe('day colours', () => {
  it('give late orange, absent red, normal green and rest grey, each status its own meaning', () => {
    expect(dayColour('normal')).toBe('#0a7d3b')
    expect(dayColour('late')).toBe('#e58a00')
    expect(dayColour('absent')).toBe('#c4231c')
    expect(dayColour('rest')).toBe('#b3b9c4')
    expect(dayColour('late')).not.toBe(dayColour('serious_late'))
    expect(dayColour('missing_clock_in')).toBe(dayColour('missing_clock_out'))
  })

  it('show an unknown or uncomputed status pale, not as any real status', () => {
    const real = new Set(DAY_STATUSES.map(dayColour))
    expect(real.has(dayColour(null))).toBe(false)
    expect(dayColour('something_new')).toBe(dayColour(undefined))
    expect(dayInk('late')).toBe('#ffffff')
    expect(dayInk('rest')).not.toBe('#ffffff')
    expect(dayInk(null)).not.toBe('#ffffff')
  })
})

describe('months and dates', () => {
  it('name this month in the org zone, not the browser one', () => {
    const lateOnNov30Utc = new Date('2026-11-30T18:30:00Z') // already 1 December in Shanghai
    expect(monthIn(lateOnNov30Utc, 'Asia/Shanghai')).toBe('2026-12')
    expect(monthIn(lateOnNov30Utc, 'America/New_York')).toBe('2026-11')
  })

  it('list every date of a month, leap years included', () => {
    expect(monthDates('2026-12')).toHaveLength(31)
    expect(monthDates('2028-02').at(-1)).toBe('2028-02-29')
    expect(monthDates('2026-02').at(-1)).toBe('2026-02-28')
    expect(monthDates('2026-12')[0]).toBe('2026-12-01')
    expect(() => monthDates('2026-1')).toThrow()
  })

  it('count weekdays from Monday and ranges inclusively', () => {
    expect(isoWeekday('2026-12-07')).toBe(1)
    expect(isoWeekday('2026-12-06')).toBe(7)
    expect(datesBetween('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02'])
    expect(datesBetween('2026-12-02', '2026-12-01')).toEqual([])
  })
})

describe('roster patterns', () => {
  const pattern = ['早', '早', '晚', '晚', 'rest', 'rest']

  it('repeat 早-早-晚-晚-休-休 from the first day, for every person', () => {
    const cells = fillPattern(['a', 'b'], '2026-12-07', '2026-12-14', pattern)
    expect(cells).toHaveLength(16)
    const a = cells.filter((c) => c.user_id === 'a').map((c) => c.value)
    expect(a).toEqual(['早', '早', '晚', '晚', 'rest', 'rest', '早', '早'])
    expect(cells.filter((c) => c.user_id === 'b').map((c) => c.date)[7]).toBe('2026-12-14')
  })

  it('fill nothing without a pattern or with the range backwards', () => {
    expect(fillPattern(['a'], '2026-12-07', '2026-12-09', [])).toEqual([])
    expect(fillPattern(['a'], '2026-12-09', '2026-12-07', pattern)).toEqual([])
  })

  it('mark a shift by the first character of its name', () => {
    expect(shiftMark('早班')).toBe('早')
    expect(shiftMark(' Night')).toBe('N')
    expect(shiftMark('')).toBe('?')
  })
})

describe('report downloads', () => {
  it('save under the name the server gave, the UTF-8 one first', async () => {
    const { downloadUrl, fileName } = await import('../src/pages/attendance/data')
    const zh = `attachment; filename="attendance-monthly-2026-11.xlsx"; filename*=UTF-8''${encodeURIComponent('云途 月度汇总 2026-11.xlsx')}`
    expect(fileName(zh, 'x.xlsx')).toBe('云途 月度汇总 2026-11.xlsx')
    expect(fileName('attachment; filename="monthly.csv"', 'x.csv')).toBe('monthly.csv')
    expect(fileName(null, 'x.csv')).toBe('x.csv')
    expect(fileName("attachment; filename*=UTF-8''%E0%A4%A", 'x.csv')).toBe('x.csv')
    expect(downloadUrl('monthly', 'xlsx', '2026-11', null, 'zh')).toBe('/api/v1/reports/attendance?view=monthly&format=xlsx&month=2026-11&lang=zh')
    expect(downloadUrl('daily', 'csv', '2026-11', 'team_1', 'en')).toContain('&team_id=team_1')
  })
})
