/**
 * Leave, trip, out and overtime requests (请假/出差/外出/加班) as a person reads them: the span in
 * the organization's time zone (a `day` request's end is the next local midnight, so the last
 * day shown is the day before it) and how long it is (days for leave and trips, hours for going
 * out and overtime). Pure: the view gives the words for morning and afternoon.
 */
import type { RequestOut } from '../api/types'

type Span = Pick<RequestOut, 'unit' | 'start' | 'end'>

export interface Duration {
  unit: 'days' | 'hours'
  n: number
}

/** Days in halves for `day` and `half_day` requests (a 23- or 25-hour day is still a day), else hours. */
export function requestDuration(r: Span): Duration {
  const ms = Date.parse(r.end) - Date.parse(r.start)
  if (r.unit === 'hour') return { unit: 'hours', n: Math.round((ms / 3_600_000) * 10) / 10 }
  return { unit: 'days', n: Math.round(ms / 43_200_000) / 2 }
}

function localHour(ms: number, timeZone: string): number {
  const h = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(ms)
  return Number(h)
}

/**
 * "12月14日周一 – 12月15日周二", "12月14日周一 上午", "12月14日周一 14:00–16:00" (and in English
 * "Mon, Dec 14 – Tue, Dec 15"…): from–to as local dates and times of `timeZone`.
 */
export function requestSpan(
  r: Span,
  locale: string,
  timeZone: string,
  halves: { am: string; pm: string },
): string {
  const start = Date.parse(r.start)
  const end = Date.parse(r.end)
  const date = (ms: number) =>
    new Date(ms).toLocaleDateString(locale, { timeZone, month: 'short', day: 'numeric', weekday: 'short' })
  const time = (ms: number) =>
    new Date(ms).toLocaleTimeString(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  if (r.unit === 'hour') {
    return date(start) === date(end)
      ? `${date(start)} ${time(start)}–${time(end)}`
      : `${date(start)} ${time(start)} – ${date(end)} ${time(end)}`
  }
  const last = end - 1 // the end is exclusive: a day ends at the next midnight
  if (r.unit === 'day') return date(start) === date(last) ? date(start) : `${date(start)} – ${date(last)}`
  const half = (ms: number) => (localHour(ms, timeZone) < 12 ? halves.am : halves.pm)
  const from = `${date(start)} ${half(start)}`
  const to = `${date(last)} ${half(last)}`
  return from === to ? from : `${from} – ${to}`
}

/** The queue's order: what starts soonest first, then what was filed first. */
export function byStart<T extends Pick<RequestOut, 'start' | 'created_at'>>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.start.localeCompare(b.start) || a.created_at.localeCompare(b.created_at))
}

/** What a person fills in to file a request (dates `YYYY-MM-DD`, times `HH:MM`, local to the org). */
export interface RequestForm {
  kind: RequestOut['kind']
  leaveType: NonNullable<RequestOut['leave_type']>
  /** For leave and trips: whole days or halves; going out and overtime are always in hours. */
  unit: 'day' | 'half_day'
  from: string
  to: string
  fromHalf: 'am' | 'pm'
  toHalf: 'am' | 'pm'
  startTime: string
  endTime: string
  reason: string
}

function offsetMs(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(ms)
  const n = (type: string) => Number(parts.find((p) => p.type === type)!.value)
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - (ms - (ms % 1000))
}

/** A local date and time of `timeZone` as ISO 8601 with its UTC offset ("2026-12-14T00:00:00+08:00"). */
export function zonedIso(day: string, time: string, timeZone: string, addDays = 0): string {
  const [y, m, d] = day.split('-').map(Number)
  const [h, mi] = time.split(':').map(Number)
  const wall = Date.UTC(y, m - 1, d + addDays, h, mi)
  let offset = offsetMs(wall, timeZone)
  offset = offsetMs(wall - offset, timeZone) // across a DST change, the offset at the instant itself
  const local = new Date(wall).toISOString().slice(0, 19)
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset) / 60_000
  const hh = String(Math.floor(abs / 60)).padStart(2, '0')
  const mm = String(abs % 60).padStart(2, '0')
  return `${local}${sign}${hh}:${mm}`
}

/**
 * `POST /requests`'s body from the form: a day request runs from the first day's midnight to the
 * midnight after the last; a half-day one from midnight or noon to noon or the next midnight; an
 * hour request on one date, past midnight when it ends earlier than it starts (overtime at night).
 */
export function requestBody(f: RequestForm, timeZone: string) {
  const hours = f.kind === 'out' || f.kind === 'overtime'
  const unit = hours ? ('hour' as const) : f.unit
  let start: string
  let end: string
  if (unit === 'hour') {
    start = zonedIso(f.from, f.startTime, timeZone)
    end = zonedIso(f.from, f.endTime, timeZone, f.endTime <= f.startTime ? 1 : 0)
  } else if (unit === 'day') {
    start = zonedIso(f.from, '00:00', timeZone)
    end = zonedIso(f.to, '00:00', timeZone, 1)
  } else {
    start = zonedIso(f.from, f.fromHalf === 'am' ? '00:00' : '12:00', timeZone)
    end = f.toHalf === 'am' ? zonedIso(f.to, '12:00', timeZone) : zonedIso(f.to, '00:00', timeZone, 1)
  }
  return {
    kind: f.kind,
    ...(f.kind === 'leave' ? { leave_type: f.leaveType } : {}),
    unit,
    start,
    end,
    reason: f.reason.trim(),
  }
}
