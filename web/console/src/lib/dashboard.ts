/**
 * The dashboard's counts of today from the attendance days (`GET /attendance/days` for one
 * date) and the visits of the day. A person counts once per heading; headings overlap (a late
 * person is also present), as a manager reads them.
 */

export interface DayLike {
  status: string | null
  statuses: string[]
  first_in: string | null
  field_day: boolean
  out_min?: number
  trip_min?: number
}

export interface TodayCounts {
  people: number
  present: number
  late: number
  absent: number
  onLeave: number
  inField: number
  notYet: number
}

const LATE = new Set(['late', 'serious_late'])

export function todayCounts(days: DayLike[]): TodayCounts {
  const c: TodayCounts = { people: 0, present: 0, late: 0, absent: 0, onLeave: 0, inField: 0, notYet: 0 }
  for (const d of days) {
    if (d.status === 'rest' || d.status === 'holiday') continue // not expected at work today
    c.people++
    const all = new Set([...(d.statuses ?? []), ...(d.status ? [d.status] : [])])
    const leave = all.has('leave')
    if (d.first_in) c.present++
    if ([...all].some((s) => LATE.has(s))) c.late++
    if (all.has('absent')) c.absent++
    if (leave) c.onLeave++
    if (d.field_day || all.has('trip') || (d.out_min ?? 0) > 0 || (d.trip_min ?? 0) > 0) c.inField++
    if (!d.first_in && !leave && !all.has('absent') && !all.has('trip')) c.notYet++
  }
  return c
}

/** Visits of the day: done against all planned (cancelled ones left out). */
export function visitProgress(visits: { state: string }[]): { done: number; planned: number } {
  const counted = visits.filter((v) => v.state !== 'cancelled')
  return { done: counted.filter((v) => v.state === 'done').length, planned: counted.length }
}

/** The local date (YYYY-MM-DD) of `now` in `timeZone`. */
export function localDate(now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now)
  const n = (type: string): string => parts.find((p) => p.type === type)?.value ?? ''
  return `${n('year')}-${n('month')}-${n('day')}`
}
