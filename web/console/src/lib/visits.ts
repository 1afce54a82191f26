/**
 * Pure helpers of the visits pages (plans, routes, heat map, performance): dates in the
 * organization's zone, a week of plans, distances and durations in words, heat colours.
 */
import { zoneOffsetMin } from './day'

/** `YYYY-MM-DD` plus `n` days (calendar arithmetic, no time zone involved). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + n)
  return d.toISOString().slice(0, 10)
}

/** The local date (`YYYY-MM-DD`) an instant falls on in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  return new Date(instant.getTime() + zoneOffsetMin(instant, timeZone) * 60_000).toISOString().slice(0, 10)
}

/** Monday to Sunday of the week holding `day`. */
export function weekOf(day: string): string[] {
  const weekday = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7 // Monday 0
  const monday = addDays(day, -weekday)
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i))
}

/** `+08:00` for a zone's offset (minutes ahead of UTC). */
export function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** A wall time on a local date in `timeZone` as ISO 8601 with its offset (what the API takes). */
export function wallTime(day: string, hhmm: string, timeZone: string): string {
  const wall = Date.parse(`${day}T${hhmm}:00Z`)
  let offset = zoneOffsetMin(new Date(wall), timeZone)
  offset = zoneOffsetMin(new Date(wall - offset * 60_000), timeZone) // a DST day: corrected once
  return `${day}T${hhmm}:00${offsetText(offset)}`
}

export interface PlanBody {
  customer_id: string
  user_id: string
  planned_start: string
  planned_end: string
  purpose: string
}

/**
 * A plan on each chosen day of a week (a rep's round of customers): one body per day, the same
 * window each day. The end must follow the start on the same day.
 */
export function weekPlans(
  base: { customer_id: string; user_id: string; purpose: string },
  days: string[],
  start: string,
  end: string,
  timeZone: string,
): PlanBody[] {
  if (end <= start) throw new RangeError('end before start')
  return [...days].sort().map((day) => ({
    ...base,
    planned_start: wallTime(day, start, timeZone),
    planned_end: wallTime(day, end, timeZone),
  }))
}

/** Visits grouped by their local `day` (undated plans under ''). */
export function byDay<T extends { day: string | null }>(items: T[]): Record<string, T[]> {
  const out: Record<string, T[]> = {}
  for (const v of items) (out[v.day ?? ''] ??= []).push(v)
  return out
}

/** Metres as people read them: `850 m`, `1.2 km`, `12 km`. */
export function distanceText(m: number): string {
  if (m < 1000) return `${Math.round(m)} m`
  const km = m / 1000
  return `${km < 10 ? km.toFixed(1) : Math.round(km)} km`
}

/** Minutes as `45 min`, `1 h 05 min`; null (never checked out) as `—`. */
export function durationText(min: number | null | undefined, h = 'h', m = 'min'): string {
  if (min == null) return '—'
  const total = Math.round(min)
  if (total < 60) return `${total} ${m}`
  return `${Math.floor(total / 60)} ${h} ${String(total % 60).padStart(2, '0')} ${m}`
}

/**
 * A heat colour for `count` out of `max`: pale yellow to deep red on a square-root scale (a few
 * busy cells should not wash out the rest). Returns a hex colour.
 */
export function heatColour(count: number, max: number): string {
  const low = [255, 237, 160]
  const high = [189, 0, 38]
  const f = max > 0 ? Math.min(1, Math.sqrt(Math.max(0, count) / max)) : 0
  const c = low.map((l, i) => Math.round(l + (high[i]! - l) * f))
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`
}

/** The columns of a report the charts show, as numbers per row label. */
export function series(
  items: Record<string, unknown>[],
  label: string,
  keys: string[],
): { labels: string[]; values: Record<string, number[]> } {
  const labels = items.map((r) => String(r[label] ?? ''))
  const values: Record<string, number[]> = {}
  for (const k of keys) values[k] = items.map((r) => (typeof r[k] === 'number' ? (r[k] as number) : 0))
  return { labels, values }
}
