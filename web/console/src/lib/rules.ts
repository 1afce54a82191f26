/**
 * Attendance rules in words for the console's shift, attendance group and holiday calendar pages:
 * a shift's periods as "09:00–12:00 / 13:30–18:00" (次日 when one crosses midnight, as the API's
 * timeline reads them), weekdays as 周一至周五, minutes as hours, a 422's field errors by field,
 * and the weeks of a month for the year view of the calendar.
 */
import { ApiError } from '../../../src/api/client'
import { isoWeekday, monthDates } from './attendance'
import { errorText } from './errors'

const DAY = 24 * 60

export interface Period {
  start: string
  end: string
}

/** "HH:MM" as minutes after midnight. */
export function minuteOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + m
}

/**
 * The periods on one timeline, as the API reads them (schemas.py `timeline`): an end at or
 * before its start is the next day; a second period starts after the first ends.
 */
export function timeline(periods: readonly Period[]): [number, number][] {
  const out: [number, number][] = []
  for (const p of periods) {
    let start = minuteOf(p.start)
    const end = minuteOf(p.end)
    if (out.length) while (start < out[out.length - 1][1]) start += DAY
    const length = (((end - start) % DAY) + DAY) % DAY
    out.push([start, start + length])
  }
  return out
}

/** Words a summary uses: the next-day mark (次日 / next day). */
export interface SummaryWords {
  nextDay: string
}

/** "09:00–12:00 / 13:30–18:00"; a time on the next day is marked: "22:00–次日06:00". */
export function periodsText(periods: readonly Period[], words: SummaryWords): string {
  const spans = timeline(periods)
  const at = (hhmm: string, minute: number): string => (minute >= DAY ? `${words.nextDay}${hhmm}` : hhmm)
  return periods.map((p, i) => `${at(p.start, spans[i][0])}–${at(p.end, spans[i][1])}`).join(' / ')
}

/** Minutes of work in the periods, breaks taken off. */
export function workMinutes(periods: readonly Period[], breaks: readonly Period[] = []): number {
  const worked = timeline(periods).reduce((sum, [s, e]) => sum + e - s, 0)
  const rested = breaks.reduce((sum, b) => sum + ((((minuteOf(b.end) - minuteOf(b.start)) % DAY) + DAY) % DAY), 0)
  return Math.max(0, worked - rested)
}

/** Minutes as "8 小时 30 分钟" / "8 h 30 min" with the page's units. */
export function duration(minutes: number, units: { h: string; min: string }): string {
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  if (!h) return `${m} ${units.min}`
  return m ? `${h} ${units.h} ${m} ${units.min}` : `${h} ${units.h}`
}

/**
 * ISO weekdays (1 Monday … 7 Sunday) in words: runs of three or more as a range (周一至周五),
 * others one by one (周一、周三、周六). `names[0]` is Monday.
 */
export function weekdaysText(days: readonly number[], names: readonly string[], words: { to: string; sep: string; none: string }): string {
  const sorted = [...new Set(days)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b)
  if (!sorted.length) return words.none
  const runs: number[][] = []
  for (const d of sorted) {
    const last = runs[runs.length - 1]
    if (last && d === last[last.length - 1] + 1) last.push(d)
    else runs.push([d])
  }
  return runs
    .flatMap((run) => (run.length >= 3 ? [`${names[run[0] - 1]}${words.to}${names[run[run.length - 1] - 1]}`] : run.map((d) => names[d - 1])))
    .join(words.sep)
}

/**
 * A refused request's errors by field (problem+json `errors`, or FastAPI's `detail` list): `loc`
 * without its leading "body", joined with dots (`periods.0.end`, `serious_late_min`), pydantic's
 * "Value error, " prefix dropped. Errors with no field are under "".
 */
export function fieldErrors(e: unknown): Record<string, string> {
  if (!(e instanceof ApiError)) return {}
  const body = e.body as { errors?: unknown; detail?: unknown } | null
  const list = Array.isArray(body?.errors) ? body.errors : Array.isArray(body?.detail) ? body.detail : []
  const out: Record<string, string> = {}
  for (const item of list as { loc?: unknown[]; msg?: unknown }[]) {
    const loc = Array.isArray(item.loc) ? item.loc.map(String) : []
    const key = (loc[0] === 'body' ? loc.slice(1) : loc).join('.')
    const msg = (typeof item.msg === 'string' ? item.msg : '').replace(/^Value error, /, '')
    out[key] = out[key] ? `${out[key]}; ${msg}` : msg
  }
  return out
}

/**
 * A form's refused save: the errors by field, and in words what none of the form's `fields`
 * shows (or the whole refusal, offline or a 409, when it names no field), for above the buttons.
 */
export function refusal(e: unknown, fields: readonly string[], t: (key: string, values?: Record<string, unknown>) => string): { errors: Record<string, string>; message: string } {
  const errors = fieldErrors(e)
  if (!Object.keys(errors).length) return { errors, message: errorText(e, t) }
  const rest = Object.entries(errors).filter(([k]) => !fields.some((f) => k === f || k.startsWith(`${f}.`)))
  return { errors, message: rest.map(([, m]) => m).join('; ') }
}

/** The first error at or under `field` (`periods` also shows `periods.1.start`'s). */
export function errorAt(errors: Record<string, string>, field: string): string {
  if (errors[field]) return errors[field]
  const under = Object.keys(errors).find((k) => k.startsWith(`${field}.`))
  return under ? errors[under] : ''
}

/** A month as weeks Monday to Sunday for a small calendar: dates, null where the month is not. */
export function monthWeeks(year: number, month: number): (string | null)[][] {
  const dates = monthDates(`${year}-${String(month).padStart(2, '0')}`)
  const cells: (string | null)[] = [...Array<null>(isoWeekday(dates[0]) - 1).fill(null), ...dates]
  while (cells.length % 7) cells.push(null)
  return Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7))
}

/** A calendar entry (GET /calendar/{year}): a holiday, a rest day of a break, a make-up workday. */
export interface CalendarEntry {
  date: string
  kind: 'holiday' | 'rest' | 'workday'
  name: string
}

/**
 * The year's holiday breaks by name, in date order: the days off (holiday and rest) and the
 * make-up workdays of each name ("国庆节": 10-01…10-08, workdays 09-28, 10-11).
 */
export function breaksOf(entries: readonly CalendarEntry[]): { name: string; off: string[]; workdays: string[] }[] {
  const byName = new Map<string, { name: string; off: string[]; workdays: string[] }>()
  for (const e of [...entries].sort((a, b) => a.date.localeCompare(b.date))) {
    const name = e.name.trim()
    if (!byName.has(name)) byName.set(name, { name, off: [], workdays: [] })
    const b = byName.get(name)!
    ;(e.kind === 'workday' ? b.workdays : b.off).push(e.date)
  }
  return [...byName.values()]
}

/** The calendar to send: the loaded entries with the changes applied (null: back to the week). */
export function applyChanges(entries: readonly CalendarEntry[], changes: Record<string, CalendarEntry | null>): CalendarEntry[] {
  const byDate = new Map(entries.map((e) => [e.date, e]))
  for (const [date, change] of Object.entries(changes)) {
    if (change) byDate.set(date, change)
    else byDate.delete(date)
  }
  return [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date))
}
