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
