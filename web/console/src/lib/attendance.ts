/**
 * Attendance helpers for the console's attendance and roster pages: the colour of a day status
 * (the month grid's cells and legend), the dates of a month, this month in the org's zone, and
 * filling days by a repeating roster pattern (早-早-晚-晚-休-休).
 */

/** The day statuses of GET /attendance/days, most serious first (docs/api.md, attendance days). */
export const DAY_STATUSES = [
  'absent',
  'missing_clock_in',
  'missing_clock_out',
  'serious_late',
  'late',
  'early_leave',
  'leave',
  'trip',
  'normal',
  'holiday',
  'rest',
] as const

export type DayStatus = (typeof DAY_STATUSES)[number]

/** Not computed yet, or in progress with nothing known (`status: null`). */
export const UNKNOWN = 'unknown'

const COLOURS: Record<DayStatus | typeof UNKNOWN, string> = {
  normal: '#0a7d3b', // green: on time
  late: '#e58a00', // orange
  serious_late: '#d4380d', // red-orange
  early_leave: '#c99a00', // amber
  absent: '#c4231c', // red
  missing_clock_in: '#8e44ad', // purple: a punch is missing
  missing_clock_out: '#8e44ad',
  leave: '#1561d4', // blue: excused
  trip: '#0e8a8a', // teal: away on business
  holiday: '#d6336c', // rose: a statutory holiday
  rest: '#b3b9c4', // grey: a day off
  unknown: '#e4e7ec', // pale: nothing computed
}

export function isDayStatus(s: unknown): s is DayStatus {
  return typeof s === 'string' && (DAY_STATUSES as readonly string[]).includes(s)
}

/** The colour of a day's status (its one-word status, the most serious one). */
export function dayColour(status: string | null | undefined): string {
  return isDayStatus(status) ? COLOURS[status] : COLOURS.unknown
}

/** Text on a coloured cell: white on the strong colours, dark on the pale ones. */
export function dayInk(status: string | null | undefined): string {
  return status === 'rest' || !isDayStatus(status) ? '#3d4450' : '#ffffff'
}

/** `YYYY-MM` of `now` in `timeZone` (the org's month by default). */
export function monthIn(now: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(now)
  const n = (type: string): string => parts.find((p) => p.type === type)?.value ?? ''
  return `${n('year')}-${n('month')}`
}

/** Every date of a `YYYY-MM` month, as `YYYY-MM-DD`. */
export function monthDates(month: string): string[] {
  const m = /^(\d{4})-(\d{2})$/.exec(month)
  if (!m) throw new Error(`not a month: ${month}`)
  const year = Number(m[1])
  const index = Number(m[2]) - 1
  const days = new Date(Date.UTC(year, index + 1, 0)).getUTCDate()
  return Array.from({ length: days }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`)
}

/** ISO weekday of a `YYYY-MM-DD` date: 1 Monday … 7 Sunday. */
export function isoWeekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay()
  return d === 0 ? 7 : d
}

/** Every date from `from` to `to`, both included (empty when `to` is before `from`). */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = []
  const end = Date.parse(`${to}T00:00:00Z`)
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

/**
 * The pattern repeated over the dates from `from` to `to`, for each person: what PUT /rosters's
 * `fill` does, as cells to show before saving. The pattern starts again on `from`.
 */
export function fillPattern<T>(userIds: string[], from: string, to: string, pattern: readonly T[]): { user_id: string; date: string; value: T }[] {
  if (!pattern.length) return []
  const dates = datesBetween(from, to)
  return userIds.flatMap((user_id) => dates.map((date, i) => ({ user_id, date, value: pattern[i % pattern.length] })))
}

/** One character for a shift in a roster cell: the name's first, 早 for 早班. */
export function shiftMark(name: string): string {
  return [...name.trim()][0] ?? '?'
}
